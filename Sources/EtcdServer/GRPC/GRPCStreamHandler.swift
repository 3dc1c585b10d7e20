import GRPCCore
import NIOCore
import NIOHPACK
import NIOHTTP2
import Synchronization

/// One gRPC call on its own HTTP/2 stream: reads the request headers and messages, runs the
/// method, writes the response headers, messages and trailers. Lives on the stream channel's event
/// loop; answers computed elsewhere hop back onto it.
///
/// ### Legal transitions
/// `awaitingHeaders` → `unary` → `finished`; `awaitingHeaders` → `streaming` → `finished`;
/// `awaitingHeaders` → `finished` (unknown method, bad request). A stream reset or closed by the
/// peer goes to `finished` from anywhere; a late answer then writes nothing.
final class GRPCStreamHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTP2Frame.FramePayload
    typealias OutboundIn = HTTP2Frame.FramePayload
    typealias OutboundOut = HTTP2Frame.FramePayload

    /// Request bytes a streaming call may have queued and not yet taken. Past it the handler
    /// stops reading the stream, so HTTP/2 flow control stops the client instead of the server
    /// queueing without bound (a keep-alive stream whose method is busy, say).
    static let queuedRequestBytesMax = 1 << 20
    /// What one queued request costs besides its payload (its buffer and its place in the queue),
    /// counted with it, so tiny messages reach the bound too.
    static let queuedMessageOverheadBytes = 96

    private enum State {
        case awaitingHeaders
        case unary(@Sendable (ByteBuffer, @escaping GRPCMethod.Respond) -> Void, answered: Bool)
        case streaming(AsyncThrowingStream<ByteBuffer, any Error>.Continuation, Task<Void, Never>)
        case finished
    }

    private let methods: [String: GRPCMethod]
    private let messageBytesMax: Int
    private let tracker: GRPCStreamTracker
    /// The connection's share of queued request bytes, bounded across all its streams.
    private let connectionBytes: ConnectionQueuedBytes?
    private var state = State.awaitingHeaders
    private var inbound = ByteBuffer()
    private var sentHeaders = false
    private var context: ChannelHandlerContext?
    /// Request bytes handed to a streaming call and not yet taken by it.
    private let queuedRequestBytes: QueuedBytes
    /// A read the channel asked for while the queue was full, to issue once it drains.
    private var readHeld = false

    /// Told of each call as it ends: its path, status code and how long it took from its headers.
    typealias Observer = @Sendable (_ path: String, _ code: Int, _ duration: Duration) -> Void
    private let observer: Observer?
    private var path = ""
    private var startedAt = ContinuousClock.now

    init(methods: [String: GRPCMethod], messageBytesMax: Int, tracker: GRPCStreamTracker, connectionBytes: ConnectionQueuedBytes? = nil, observer: Observer? = nil) {
        self.observer = observer
        self.methods = methods
        self.messageBytesMax = messageBytesMax
        self.tracker = tracker
        self.connectionBytes = connectionBytes
        queuedRequestBytes = QueuedBytes(connection: connectionBytes)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        tracker.opened()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        abandon()
        queuedRequestBytes.close()
        connectionBytes?.release(self)
        self.context = nil
        tracker.closed()
    }

    func channelInactive(context: ChannelHandlerContext) {
        abandon()
        context.fireChannelInactive()
    }

    /// The peer reset or closed the stream: a streaming call is cancelled, and nothing more is written.
    private func abandon() {
        endInbound(cancelled: true)
        state = .finished
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .headers(let headers):
            if case .awaitingHeaders = state {
                start(headers.headers, context: context)
            }
            if headers.endStream { endInbound(cancelled: false) }
        case .data(let frame):
            // After the call ended (an oversized request refused, say), what still comes is dropped
            // rather than buffered.
            if !isFinished, case .byteBuffer(var bytes) = frame.data {
                inbound.writeBuffer(&bytes)
                deliverMessages()
            }
            if frame.endStream { endInbound(cancelled: false) }
        case .rstStream:
            abandon()
        default:
            break
        }
    }

    private func start(_ headers: HPACKHeaders, context: ChannelHandlerContext) {
        if observer != nil {
            path = headers.first(name: ":path") ?? ""
            startedAt = .now
        }
        guard let path = headers.first(name: ":path"), let method = methods[path] else {
            return finish(.failure(RPCError(code: .unimplemented, message: "unknown method \(headers.first(name: ":path") ?? "")")))
        }
        guard headers.first(name: "content-type")?.hasPrefix("application/grpc") == true else {
            return finish(.failure(RPCError(code: .invalidArgument, message: "content-type is not application/grpc")))
        }
        switch method {
        case .unary(let body):
            state = .unary(body, answered: false)
        case .bidirectionalStreaming(let body):
            let (requests, continuation) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let writer = GRPCResponseWriter(handler: loopBound)
            let queued = queuedRequestBytes
            let consumed: @Sendable (Int) -> Void = { bytes in
                if queued.take(messageOf: bytes) { loopBound.eventLoop.execute { loopBound.value.resumeReading() } }
            }
            // The task's outcome hops back onto this event loop, so it cannot arrive before `state`
            // is set below.
            let task = Task {
                let outcome = await GRPCMethod.result { try await body(requests, writer, consumed) }
                writer.finish(outcome)
            }
            state = .streaming(continuation, task)
        }
    }

    /// Hands every whole message that has arrived to the method.
    private func deliverMessages() {
        while true {
            let message: ByteBuffer?
            do throws(GRPCMessageFraming.DeframingError) {
                message = try GRPCMessageFraming.nextMessage(from: &inbound, messageBytesMax: messageBytesMax)
            } catch {
                switch error {
                case .compressed:
                    return finish(.failure(RPCError(code: .unimplemented, message: "compressed messages are not supported")))
                case .tooLarge(let length, let limit):
                    return finish(.failure(RPCError(code: .resourceExhausted, message: "grpc: received message larger than max (\(length) vs. \(limit))")))
                }
            }
            guard let message else { break }
            switch state {
            case .unary(let body, answered: false):
                state = .unary(body, answered: true)
                let handler = NIOLoopBound(self, eventLoop: context!.eventLoop)
                body(message) { result in
                    handler.eventLoop.execute { handler.value.finish(result.map { [$0] }) }
                }
            case .streaming(let continuation, _):
                queuedRequestBytes.add(messageOf: message.readableBytes)
                continuation.yield(message)
            case .unary, .awaitingHeaders, .finished:
                break  // A second message on a unary call, or bytes after the call ended: ignored.
            }
        }
        inbound.discardReadBytes()
    }

    // MARK: Backpressure on requests

    func read(context: ChannelHandlerContext) {
        if queuedRequestBytes.isOverBound {
            readHeld = true
        } else if let connectionBytes, connectionBytes.isOverBound {
            readHeld = true
            connectionBytes.hold(self)
        } else {
            context.read()
        }
    }

    /// The call, or the connection's other calls, took enough requests to be under the bounds:
    /// read on (or wait for the connection again).
    func resumeReading() {
        guard readHeld, let context, !queuedRequestBytes.isOverBound else { return }
        if let connectionBytes, connectionBytes.isOverBound { return connectionBytes.hold(self) }
        readHeld = false
        context.read()
    }

    /// The client half-closed (or the stream went away): no more requests.
    private func endInbound(cancelled: Bool) {
        switch state {
        case .streaming(let continuation, let task):
            if cancelled {
                continuation.finish(throwing: CancellationError())
                task.cancel()
            } else {
                continuation.finish()
            }
        case .unary(_, answered: false) where !cancelled:
            finish(.failure(RPCError(code: .internalError, message: "grpc: the client sent no request message")))
        case .unary, .awaitingHeaders, .finished:
            break
        }
    }

    // MARK: Writing (event loop)

    /// Writes one response message; the future completes once it is handed to the connection.
    func write(_ message: [UInt8], on eventLoop: EventLoop) -> EventLoopFuture<Void> {
        guard let context, !isFinished else {
            return eventLoop.makeFailedFuture(RPCError(code: .cancelled, message: "the stream is closed"))
        }
        writeHeadersIfNeeded(context)
        let data = HTTP2Frame.FramePayload.data(.init(data: .byteBuffer(GRPCMessageFraming.frame(message, allocator: context.channel.allocator))))
        return context.writeAndFlush(wrapOutboundOut(data))
    }

    /// Writes the response messages, if any, then the trailers that end the call.
    func finish(_ outcome: Result<[[UInt8]], RPCError>) {
        guard let context, !isFinished else { return }
        if case .streaming(let continuation, _) = state { continuation.finish() }
        state = .finished
        if case .success(let messages) = outcome {
            for message in messages {
                writeHeadersIfNeeded(context)
                context.write(wrapOutboundOut(.data(.init(data: .byteBuffer(GRPCMessageFraming.frame(message, allocator: context.channel.allocator))))), promise: nil)
            }
        }
        let trailers: HPACKHeaders
        switch outcome {
        case .success where sentHeaders:
            trailers = Self.okTrailers
        case .success:
            // Trailers-only: one HEADERS frame carries the response headers and the status.
            trailers = Self.okTrailersOnly
        case .failure(let error):
            let status = [("grpc-status", String(error.code.rawValue)), ("grpc-message", GRPCMessageFraming.percentEncoded(error.message))]
            trailers = HPACKHeaders((sentHeaders ? [] : [(":status", "200"), ("content-type", "application/grpc")]) + status)
        }
        sentHeaders = true
        context.writeAndFlush(wrapOutboundOut(.headers(.init(headers: trailers, endStream: true))), promise: nil)
        if let observer {
            let code: Int
            switch outcome {
            case .success: code = 0
            case .failure(let error): code = error.code.rawValue
            }
            observer(path, code, .now - startedAt)
        }
    }

    // Built once: every call sends them.
    private static let responseHeaders: HPACKHeaders = [":status": "200", "content-type": "application/grpc"]
    private static let okTrailers: HPACKHeaders = ["grpc-status": "0"]
    private static let okTrailersOnly: HPACKHeaders = [":status": "200", "content-type": "application/grpc", "grpc-status": "0"]

    private var isFinished: Bool {
        if case .finished = state { return true }
        return false
    }

    private func writeHeadersIfNeeded(_ context: ChannelHandlerContext) {
        guard !sentHeaders else { return }
        sentHeaders = true
        context.write(wrapOutboundOut(.headers(.init(headers: Self.responseHeaders))), promise: nil)
    }
}

/// What a streaming method's task writes through: each write hops onto the stream's event loop and
/// waits until the message is handed to the connection, so a slow client slows its writer.
final class GRPCResponseWriter: Sendable {
    private let handler: NIOLoopBound<GRPCStreamHandler>

    init(handler: NIOLoopBound<GRPCStreamHandler>) { self.handler = handler }

    func write(_ message: [UInt8]) async throws {
        let handler = handler
        try await handler.eventLoop.flatSubmit { handler.value.write(message, on: handler.eventLoop) }.get()
    }

    func finish(_ outcome: Result<Void, RPCError>) {
        let handler = handler
        handler.eventLoop.execute { handler.value.finish(outcome.map { [] }) }
    }
}
