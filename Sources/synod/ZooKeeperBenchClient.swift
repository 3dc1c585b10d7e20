import NIOCore
import NIOPosix
import ZooKeeperWire

/// A ZooKeeper client session for `synod bench zk`: one connection, many requests in flight.
/// ZooKeeper answers a connection's requests in order, so replies are matched to callers first in,
/// first out; each caller gets the reply header and body bytes.
final class ZooKeeperBenchClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    let channel: Channel
    let handler: Handler

    private init(channel: Channel, handler: Handler) {
        self.channel = channel
        self.handler = handler
    }

    static func connect(host: String, port: Int, group: EventLoopGroup, timeoutMillis: Int32 = 30_000) async throws -> ZooKeeperBenchClient {
        let handler = Handler()
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(handler) } }
            .connect(host: host, port: port)
            .get()
        let client = ZooKeeperBenchClient(channel: channel, handler: handler)
        let request = ZooKeeperConnectRequest(lastZxidSeen: 0, timeoutMillis: timeoutMillis, sessionID: 0, password: [UInt8](repeating: 0, count: 16), readOnly: false)
        let reply = try await client.send(ZooKeeperFrame.encode(request.encoded))
        let response = try ZooKeeperConnectResponse(decoding: reply)
        guard response.sessionID != 0 else { throw Failure(description: "\(host):\(port) refused the session") }
        return client
    }

    /// Sends one request and waits for its reply: the header, then the body's bytes.
    func call(_ request: ZooKeeperRequest, xid: Int32) async throws -> (ZooKeeperReplyHeader, [UInt8]) {
        var writer = JuteWriter()
        ZooKeeperRequestHeader(xid: xid, operation: request.operation.rawValue).write(to: &writer)
        request.write(to: &writer)
        let payload = try await send(ZooKeeperFrame.encode(writer.bytes))
        var reader = JuteReader(payload)
        let header = try ZooKeeperReplyHeader(from: &reader)
        return (header, Array(payload[reader.position...]))
    }

    private func send(_ frame: [UInt8]) async throws -> [UInt8] {
        let channel = self.channel
        let handler = self.handler
        return try await withCheckedThrowingContinuation { continuation in
            channel.eventLoop.execute {
                // Queued and written in one turn of the loop, so the queue's order is the wire's.
                handler.waiting.append(continuation)
                channel.writeAndFlush(ByteBuffer(bytes: frame), promise: nil)
            }
        }
    }

    func close() async {
        try? await channel.close()
    }

    final class Handler: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        var waiting = CircularBuffer<CheckedContinuation<[UInt8], Error>>()
        var buffered: [UInt8] = []

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            buffered += bytes.readBytes(length: bytes.readableBytes) ?? []
            var offset = 0
            // Replies are bounded as the server's requests are (a getData reply holds at most a
            // node's data, under jute.maxbuffer, plus its Stat).
            while case .packet(let payload, let next) = ZooKeeperFrame.decode(buffered, at: offset, packetBytesMax: 2 * ZooKeeperFrame.defaultPacketBytesMax) {
                let packet = Array(buffered[payload])
                offset = next
                // Watch events (xid -1) are not replies; the benchmark sets no watches.
                if packet.count >= 4, packet.prefix(4) == [0xFF, 0xFF, 0xFF, 0xFF] { continue }
                if !waiting.isEmpty { waiting.removeFirst().resume(returning: packet) }
            }
            if offset > 0 { buffered.removeFirst(offset) }
            if case .badLength = ZooKeeperFrame.decode(buffered, at: 0, packetBytesMax: 2 * ZooKeeperFrame.defaultPacketBytesMax) { context.close(promise: nil) }
        }

        func channelInactive(context: ChannelHandlerContext) {
            while !waiting.isEmpty { waiting.removeFirst().resume(throwing: Failure(description: "connection closed")) }
        }

        func errorCaught(context: ChannelHandlerContext, error: Error) {
            context.close(promise: nil)
        }
    }
}
