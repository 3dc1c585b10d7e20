import NIOCore
import NIOHTTP1

/// Serves the plain-HTTP endpoints on a client connection whose first bytes were HTTP/1.x
/// (`ClientProtocolSniffer`). One request at a time (NIO's pipelining handler holds the next);
/// request bodies are read and dropped, never buffered. The answer is computed off the event loop
/// (a health check reads through the log) and written back on it.
final class HTTPEndpointHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let respond: @Sendable (_ method: String, _ uri: String) async -> HTTPEndpointResponse
    private var request: HTTPRequestHead?

    init(respond: @escaping @Sendable (_ method: String, _ uri: String) async -> HTTPEndpointResponse) {
        self.respond = respond
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            request = head
        case .body:
            break
        case .end:
            guard let head = request else { return }
            request = nil
            let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
            let respond = respond
            let method = head.method.rawValue, uri = head.uri
            Task {
                let response = await respond(method, uri)
                loopBound.eventLoop.execute {
                    let (handler, context) = loopBound.value
                    handler.write(response, for: head, context: context)
                }
            }
        }
    }

    private func write(_ response: HTTPEndpointResponse, for request: HTTPRequestHead, context: ChannelHandlerContext) {
        var body = context.channel.allocator.buffer(capacity: response.body.utf8.count)
        body.writeString(response.body)
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        if response.status == 405 { headers.add(name: "Allow", value: "GET") }
        // The dashboard reads every member's status from its own origin.
        if response.contentType == "application/json" { headers.add(name: "Access-Control-Allow-Origin", value: "*") }
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        let head = HTTPResponseHead(version: request.version, status: HTTPResponseStatus(statusCode: response.status), headers: headers)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        if request.method != .HEAD { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        let keepAlive = request.isKeepAlive, channel = context.channel
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            if !keepAlive { channel.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
    }
}
