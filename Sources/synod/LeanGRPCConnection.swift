import NIOCore
import NIOHPACK
import NIOHTTP2
import NIOPosix

/// A minimal gRPC client for unary calls over one HTTP/2 connection, used by `synod bench etcd` so
/// that Synod and etcd are loaded by the same client.
///
/// Why not grpc-swift's client: its HTTP/2 layer (swift-nio-http2 with grpc-swift's settings) allows
/// 200 control frames per 30 s, while etcd's Go server sends a PING to estimate bandwidth after
/// nearly every request it receives. The client takes that for a flood and closes the connection
/// with ENHANCE_YOUR_CALM every couple of hundred requests, so against etcd most calls failed.
/// Here the limit is raised, and a call is just a stream: headers, one message, read to the
/// trailers. Responses are decoded only by callers that ask for them (`unaryResponse`); the rest
/// check only the gRPC status.
final class LeanGRPCConnection: Sendable {
    struct CallFailed: Error, CustomStringConvertible {
        var status: String
        var message: String
        var description: String { "grpc-status \(status): \(message)" }
    }

    private let channel: Channel
    private let multiplexer: NIOHTTP2Handler.StreamMultiplexer
    private let authority: String

    private init(channel: Channel, multiplexer: NIOHTTP2Handler.StreamMultiplexer, authority: String) {
        self.channel = channel
        self.multiplexer = multiplexer
        self.authority = authority
    }

    static func connect(host: String, port: Int, group: EventLoopGroup) async throws -> LeanGRPCConnection {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.targetWindowSize = 8 << 20
        connection.controlFrameRateLimit.maximumCount = .max
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = 8 << 20
        let (channel, multiplexer) = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let multiplexer = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .client, connectionConfiguration: connection, streamConfiguration: stream
                    ) { stream in stream.close() }
                    return (channel, multiplexer)
                }
            }
        return LeanGRPCConnection(channel: channel, multiplexer: multiplexer, authority: "\(host):\(port)")
    }

    /// Sends one request message to `path` ("/package.Service/Method") and waits for the status.
    /// Returns the response message's size.
    @discardableResult
    func unary(path: String, message: [UInt8]) async throws -> Int {
        try await call(path: path, message: message, keepingResponse: false).count
    }

    /// Like `unary`, but returns the response message itself (its gRPC length prefix removed).
    func unaryResponse(path: String, message: [UInt8]) async throws -> [UInt8] {
        try await call(path: path, message: message, keepingResponse: true).bytes
    }

    private func call(path: String, message: [UInt8], keepingResponse: Bool) async throws -> UnaryCallHandler.Response {
        let promise = channel.eventLoop.makePromise(of: UnaryCallHandler.Response.self)
        let headers: HPACKHeaders = [
            ":method": "POST", ":scheme": "http", ":path": path, ":authority": authority,
            "content-type": "application/grpc", "te": "trailers",
        ]
        multiplexer.createStreamChannel(promise: nil) { stream in
            stream.eventLoop.makeCompletedFuture {
                try stream.pipeline.syncOperations.addHandler(UnaryCallHandler(headers: headers, message: message, keepingResponse: keepingResponse, promise: promise))
            }
        }
        return try await promise.futureResult.get()
    }

    func close() async {
        try? await channel.close()
    }
}

/// One call on its own stream: writes headers and the length-prefixed message when the stream
/// becomes active, counts response bytes, and completes on the trailers.
private final class UnaryCallHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = Never
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// The response message's size, and the message itself when it was asked for.
    struct Response {
        var count: Int
        var bytes: [UInt8]
    }

    let headers: HPACKHeaders
    let message: [UInt8]
    let keepingResponse: Bool
    let promise: EventLoopPromise<Response>
    var responseBytes = 0
    var kept: [UInt8] = []
    var done = false

    init(headers: HPACKHeaders, message: [UInt8], keepingResponse: Bool, promise: EventLoopPromise<Response>) {
        self.headers = headers
        self.message = message
        self.keepingResponse = keepingResponse
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: 5 + message.count)
        body.writeInteger(UInt8(0))  // Not compressed.
        body.writeInteger(UInt32(message.count))
        body.writeBytes(message)
        context.write(wrapOutboundOut(.headers(.init(headers: headers))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.data(.init(data: .byteBuffer(body), endStream: true))), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .data(let payload):
            if case .byteBuffer(let buffer) = payload.data {
                responseBytes += buffer.readableBytes
                if keepingResponse { kept += buffer.readableBytesView }
            }
        case .headers(let payload) where payload.endStream:
            // Trailers, or a trailers-only response: the call's outcome.
            let status = payload.headers.first(name: "grpc-status") ?? "missing"
            // Both sides have now ended the stream, and NIO closes it. Closing it here, while the
            // frame is still being processed, would reset it (RST_STREAM CANCEL), and servers count
            // resets as abuse.
            let response = Response(count: max(0, responseBytes - 5), bytes: Array(kept.dropFirst(5)))
            finish(status == "0" ? .success(response) : .failure(LeanGRPCConnection.CallFailed(status: status, message: payload.headers.first(name: "grpc-message") ?? "")))
        default:
            break
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(.failure(LeanGRPCConnection.CallFailed(status: "stream closed", message: "the stream ended without trailers")))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        finish(.failure(error))
        context.close(promise: nil)
    }

    private func finish(_ outcome: Result<Response, Error>) {
        guard !done else { return }
        done = true
        promise.completeWith(outcome)
    }
}
