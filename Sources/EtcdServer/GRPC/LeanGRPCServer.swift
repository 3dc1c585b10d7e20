import Foundation
import NIOCore
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
/// (`messageBytesMax`), and a connection that is not HTTP/2 is closed.
final class LeanGRPCServer: Sendable {
    /// How long a graceful stop waits for calls in flight before closing connections anyway.
    static let drainTimeout: Duration = .seconds(10)
    /// Streams one connection may have open at once. etcd's Go server allows 2^32 - 1; this bound
    /// keeps one client from holding unbounded server state, yet is far above what clients open.
    static let concurrentStreamsMax = 16_384

    private let group: MultiThreadedEventLoopGroup
    private let methods: [String: GRPCMethod]
    private let messageBytesMax: Int
    private let tracker = GRPCStreamTracker()
    private let state = Mutex<(listener: Channel?, connections: [ObjectIdentifier: Channel])>((nil, [:]))

    init(methods: [String: GRPCMethod], messageBytesMax: Int, threads: Int = System.coreCount) {
        self.methods = methods
        self.messageBytesMax = messageBytesMax
        group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    }

    func start(host: String, port: Int) async throws {
        var connection = NIOHTTP2Handler.ConnectionConfiguration()
        connection.initialSettings = [
            HTTP2Setting(parameter: .maxConcurrentStreams, value: Self.concurrentStreamsMax),
            HTTP2Setting(parameter: .maxHeaderListSize, value: 16 << 10),
            HTTP2Setting(parameter: .initialWindowSize, value: 1 << 20),
        ]
        connection.targetWindowSize = 8 << 20
        // Go's gRPC clients (etcdctl, etcd's own) send a PING to estimate bandwidth after most
        // requests; the default limit would take that for a flood and drop them.
        connection.controlFrameRateLimit.maximumCount = 1_000_000
        var stream = NIOHTTP2Handler.StreamConfiguration()
        stream.targetWindowSize = 1 << 20
        let methods = methods, messageBytesMax = messageBytesMax, tracker = tracker
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { [self] channel in
                track(channel)
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(FlushCoalescingHandler())
                    _ = try channel.pipeline.syncOperations.configureHTTP2Pipeline(
                        mode: .server, connectionConfiguration: connection, streamConfiguration: stream
                    ) { streamChannel in
                        streamChannel.eventLoop.makeCompletedFuture {
                            try streamChannel.pipeline.syncOperations.addHandler(
                                GRPCStreamHandler(methods: methods, messageBytesMax: messageBytesMax, tracker: tracker)
                            )
                        }
                    }
                    try channel.pipeline.syncOperations.addHandler(ConnectionErrorHandler())
                }
            }
            .bind(host: host, port: port)
            .get()
        state.withLock { $0.listener = listener }
    }

    /// Stops taking connections, lets calls in flight finish (bounded by `drainTimeout`), then
    /// closes every connection.
    func stopGracefully() async {
        let listener = state.withLock { $0.listener }
        try? await listener?.close()
        await tracker.waitUntilIdle(timeout: Self.drainTimeout)
        let connections = state.withLock { Array($0.connections.values) }
        for connection in connections { try? await connection.close() }
        try? await group.shutdownGracefully()
    }

    private func track(_ channel: Channel) {
        let key = ObjectIdentifier(channel)
        state.withLock { $0.connections[key] = channel }
        channel.closeFuture.whenComplete { [self] _ in _ = state.withLock { $0.connections.removeValue(forKey: key) } }
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

/// Closes a connection whose bytes are not HTTP/2 (a bad preface, a protocol error), instead of
/// letting the error travel to the end of the pipeline.
private final class ConnectionErrorHandler: ChannelInboundHandler {
    typealias InboundIn = HTTP2Frame

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        context.close(promise: nil)
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
