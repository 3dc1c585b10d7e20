import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import Synchronization

/// A lean gRPC server on swift-nio-http2: one HTTP/2 connection handler, one `GRPCStreamHandler`
/// per call, and a table of methods. It replaces grpc-swift's server for the etcd API because the
/// node was CPU-bound in it: per call, grpc-swift set up an async task, request and response async
/// sequences and interceptor plumbing, and that took more CPU than Raft, the log and the store
/// together. Here a unary call is a stream channel and a callback from the replica loop.
///
/// It serves plaintext gRPC with identity encoding, as etcd does without TLS. Requests are bounded
/// (`messageBytesMax`). A connection whose first bytes are not HTTP/2's preface is served plain
/// HTTP/1.1 by `plainHTTP` when given (etcd's endpoints beside gRPC), and closed otherwise.
final class LeanGRPCServer: Sendable {
    /// How long a graceful stop waits for calls in flight before closing connections anyway.
    static let drainTimeout: Duration = .seconds(10)
    /// Streams one connection may have open at once. etcd's Go server allows 2^32 - 1; this bound
    /// keeps one client from holding unbounded server state, yet is far above what clients open
    /// (clientv3 multiplexes every watch of a context onto one stream).
    static let concurrentStreamsMax = 4096
    /// Client connections at once; past it a new connection is closed at once, with a log line.
    /// Each costs a file descriptor, and the node raises its descriptor limit at start.
    static let connectionsMax = 10_000
    /// How long a new connection may take to send the HTTP/2 preface before it is closed.
    static let prefaceTimeout: Duration = .seconds(10)
    /// Inbound PING, SETTINGS and PRIORITY frames allowed per connection in `controlFrameWindow`.
    /// Go's gRPC client (etcdctl, clientv3) sends a bandwidth-estimation PING each time data arrives
    /// with none in flight, so a busy client pings about once per round trip: thousands a second on
    /// loopback (`synod bench etcd` against etcd saw ENHANCE_YOUR_CALM every ~200 calls with NIO's
    /// default of 200 per 30 s). This allows 20,000 a second, well above what a client sends, and
    /// still closes a connection that floods.
    static let controlFramesPerWindowMax = 200_000
    static let controlFrameWindow: TimeAmount = .seconds(10)
    /// Per connection: HTTP/2 flow control holds each stream's unread request bytes to
    /// `streamWindowBytes` and the connection's to `connectionWindowBytes`; a streaming call's
    /// handler stops reading past `GRPCStreamHandler.queuedRequestBytesMax`, so the client's
    /// window closes. Responses are written one at a time per stream and wait for the socket.
    static let streamWindowBytes = 1 << 20
    static let connectionWindowBytes = 8 << 20

    private let group: MultiThreadedEventLoopGroup
    private let methods: [String: GRPCMethod]
    private let logger: Logger
    private let messageBytesMax: Int
    /// Answers HTTP/1.x requests on the same port (etcd's `/health`, `/version`, ...); nil serves
    /// gRPC only.
    private let plainHTTP: (@Sendable (_ method: String, _ uri: String) async -> HTTPEndpointResponse)?
    private let tracker = GRPCStreamTracker()
    /// Told of every call as it ends: path, status code, duration.
    private let observer: GRPCStreamHandler.Observer?
    private let state = Mutex<(listeners: [Channel], connections: [ObjectIdentifier: Channel])>(([], [:]))

    init(
        methods: [String: GRPCMethod], messageBytesMax: Int, threads: Int = System.coreCount, logger: Logger,
        plainHTTP: (@Sendable (_ method: String, _ uri: String) async -> HTTPEndpointResponse)? = nil,
        observer: GRPCStreamHandler.Observer? = nil
    ) {
        self.observer = observer
        self.methods = methods
        self.messageBytesMax = messageBytesMax
        self.plainHTTP = plainHTTP
        self.logger = logger
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    /// Listens on every address, as etcd binds every URL of --listen-client-urls.
    func start(addresses: [(host: String, port: Int)]) async throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: Self.concurrentStreamsMax),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 16 << 10),
            HTTP2Setting(parameter: .initialWindowSize, value: Self.streamWindowBytes),
        ]
        connection.targetWindowSize = Self.connectionWindowBytes
        connection.controlFrameRateLimit.maximumCount = Self.controlFramesPerWindowMax
        connection.controlFrameRateLimit.windowLength = Self.controlFrameWindow
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = Self.streamWindowBytes
        let methods = methods, messageBytesMax = messageBytesMax, tracker = tracker, plainHTTP = plainHTTP, observer = observer
        let connectionSettings = connection, streamSettings = stream
        for (host, port) in addresses {
            let listener = try await ServerBootstrap(group: group)
                .serverChannelOption(.backlog, value: 1024)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
                .childChannelInitializer { [self] channel in
                    guard track(channel) else {
                        return channel.eventLoop.makeFailedFuture(ConnectionRefused.tooManyConnections)
                    }
                    let connectionBytes = ConnectionQueuedBytes(eventLoop: channel.eventLoop)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(PrefaceTimeoutHandler(timeout: Self.prefaceTimeout))
                        try channel.pipeline.syncOperations.addHandler(FlushCoalescingHandler())
                        let configureGRPC: (Channel) throws -> Void = { channel in
                            _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                                mode: .server, connectionConfiguration: connectionSettings, streamConfiguration: streamSettings
                            ) { streamChannel in
                                streamChannel.eventLoop.makeCompletedFuture {
                                    try streamChannel.pipeline.syncOperations.addHandler(
                                        GRPCStreamHandler(methods: methods, messageBytesMax: messageBytesMax, tracker: tracker, connectionBytes: connectionBytes, observer: observer)
                                    )
                                }
                            }
                            try channel.pipeline.syncOperations.addHandler(ConnectionErrorHandler(server: self))
                        }
                        guard let plainHTTP else { return try configureGRPC(channel) }
                        try channel.pipeline.syncOperations.addHandler(ClientProtocolSniffer(configureHTTP2: configureGRPC) { channel in
                            try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                            try channel.pipeline.syncOperations.addHandler(HTTPEndpointHandler(respond: plainHTTP))
                        })
                    }
                }
                .bind(host: host, port: port)
                .get()
            state.withLock { $0.listeners.append(listener) }
        }
    }

    /// Stops taking connections, lets calls in flight finish (bounded by `drainTimeout`), then
    /// closes every connection.
    func stopGracefully() async {
        let listeners = state.withLock { $0.listeners }
        for listener in listeners { try? await listener.close() }
        await tracker.waitUntilIdle(timeout: Self.drainTimeout)
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections { try? await connection.close() }
        try? await group.shutdownGracefully()
    }

    /// Counts a new connection; false (and the connection is refused) past `connectionsMax`.
    private func track(_ channel: Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let admitted = state.withLock { state in
            guard state.connections.count < Self.connectionsMax else { return false }
            state.connections[key] = channel
            return true
        }
        guard admitted else {
            refusedConnections.add(1, ordering: .relaxed)
            logRefusal("client connection from \(channel.remoteAddress.map { "\($0)" } ?? "?") refused: \(Self.connectionsMax) connections are open (LeanGRPCServer.connectionsMax)")
            return false
        }
        channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.connections.removeValue(forKey: key) } }
        return true
    }

    enum ConnectionRefused: Error {
        case tooManyConnections
    }

    /// Refused connections so far, for logs and tests.
    let refusedConnections = Atomic<Int>(0)

    /// Logs a refusal at powers of two of the count, so a flood of them costs a few lines.
    private func logRefusal(_ text: String) {
        let count = refusedConnections.load(ordering: .relaxed)
        if count & (count - 1) == 0 { logger.warning("\(text) (\(count) refused so far)") }
    }

    /// Connections closed for breaking the HTTP/2 rules or a bound, logged at powers of two of the
    /// count, so a client that keeps doing it costs a few lines.
    let closedConnections = Atomic<Int>(0)

    fileprivate func logClosed(_ address: SocketAddress?, reason: Error) {
        let count = closedConnections.add(1, ordering: .relaxed).newValue
        if count & (count - 1) == 0 {
            logger.warning("closing client connection from \(address.map { "\($0)" } ?? "?"): \(reason) (\(count) closed so far)")
        }
    }
}

/// Turns the flushes of one event-loop pass into one: answers reach a connection one call at a
/// time (each completion hops onto the loop on its own), and flushing each would cost a socket write
/// per response. The flush runs once the tasks queued now have run, so it waits for no timer.
private final class FlushCoalescingHandler: ChannelOutboundHandler {
    typealias OutboundIn = NIOAny

    private var flushScheduled = false

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        context.eventLoop.execute {
            let (handler, context) = loopBound.value
            handler.flushScheduled = false
            context.flush()
        }
    }
}

/// Closes a connection that has not sent the 24-byte HTTP/2 client preface within `timeout`, then
/// steps out of the pipeline: an idle socket that never speaks must not hold a slot for ever.
private final class PrefaceTimeoutHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    static let prefaceBytes = 24
    let timeout: Duration
    private var received = 0
    private var timer: Scheduled<Void>?

    init(timeout: Duration) { self.timeout = timeout }

    func handlerAdded(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(in: TimeAmount(timeout)) {
            loopBound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        received += unwrapInboundIn(data).readableBytes
        context.fireChannelRead(data)
        if received >= Self.prefaceBytes {
            timer?.cancel()
            timer = nil
            context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        timer?.cancel()
    }
}

/// Closes a connection whose bytes are not HTTP/2 (a bad preface, a protocol error), instead of
/// letting the error travel to the end of the pipeline.
private final class ConnectionErrorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    let server: LeanGRPCServer
    private var closing = false

    init(server: LeanGRPCServer) { self.server = server }

    /// Closes the connection, with the reason logged, once what HTTP/2 wrote about the error has
    /// left: the GOAWAY (ENHANCE_YOUR_CALM for a flood, PROTOCOL_ERROR past the stream bound) or
    /// RST_STREAM was flushed through `FlushCoalescingHandler`, which defers flushes to a task on
    /// this loop, so the close is queued behind it. Closing at once threw the GOAWAY away, and the
    /// client saw a bare reset with no reason to back off.
    func errorCaught(context: ChannelHandlerContext, error: Error) {
        guard !closing else { return }
        closing = true
        // A client that reset or dropped its socket is not a client breaking the rules.
        if !(error is IOError) { server.logClosed(context.remoteAddress, reason: error) }
        context.flush()
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.eventLoop.execute { loopBound.value.close(promise: nil) }
    }
}

/// Counts calls in flight, so a graceful stop can wait for them.
final class GRPCStreamTracker: Sendable {
    private let open = Atomic<Int>(0)

    func opened() { open.add(1, ordering: .relaxed) }
    func closed() { open.subtract(1, ordering: .relaxed) }

    func waitUntilIdle(timeout: Duration) async {
        let deadline = ContinuousClock.now + timeout
        while open.load(ordering: .relaxed) > 0 && ContinuousClock.now < deadline {
            try? await Task.sleep(for: .milliseconds(20))
        }
    }
}
