import NIOCore

/// The client port speaks gRPC (HTTP/2) and, like etcd's, plain HTTP/1.1 for `/health`,
/// `/version` and the like. This handler waits for a connection's first bytes, picks the
/// protocol from them (an HTTP/2 connection opens with "PRI * HTTP/2.0"), builds the pipeline
/// for it behind itself, hands it the bytes, and leaves.
package final class ClientProtocolSniffer: ChannelInboundHandler, RemovableChannelHandler {
    package typealias InboundIn = ByteBuffer
    package typealias InboundOut = ByteBuffer

    /// Bytes that decide: the HTTP/2 preface's first four, "PRI ".
    package static let decidingBytes = 4
    package static let http2Start = Array("PRI ".utf8)

    package let configureHTTP2: (Channel) throws -> Void
    package let configureHTTP1: (Channel) throws -> Void
    private var buffered: ByteBuffer?

    package init(configureHTTP2: @escaping (Channel) throws -> Void, configureHTTP1: @escaping (Channel) throws -> Void) {
        self.configureHTTP2 = configureHTTP2
        self.configureHTTP1 = configureHTTP1
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if buffered == nil {
            buffered = bytes
        } else {
            buffered!.writeBuffer(&bytes)
        }
        guard let first = buffered, first.readableBytes >= Self.decidingBytes else { return }
        buffered = nil
        let isHTTP2 = first.getBytes(at: first.readerIndex, length: Self.decidingBytes) == Self.http2Start
        do {
            try (isHTTP2 ? configureHTTP2 : configureHTTP1)(context.channel)
        } catch {
            context.close(promise: nil)
            return
        }
        context.fireChannelRead(wrapInboundOut(first))
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }
}
