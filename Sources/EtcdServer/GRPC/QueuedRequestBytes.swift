import NIOCore
import Synchronization

/// Request bytes a streaming call has been handed and not yet taken, counted per stream and, for
/// all streams of one connection together, in `ConnectionQueuedBytes`.
///
/// Each message counts its payload plus `GRPCStreamHandler.queuedMessageOverheadBytes`, what
/// holding it costs besides its bytes: a client sending tiny messages must reach the bound as
/// surely as one sending large ones. Added on the stream's event loop, taken on the call's task;
/// once the stream ends, what it still held is given back to the connection, and later takes are
/// ignored.
final class QueuedBytes: Sendable {
    private let state = Mutex<(bytes: Int, closed: Bool)>((0, false))
    private let connection: ConnectionQueuedBytes?

    init(connection: ConnectionQueuedBytes?) { self.connection = connection }

    /// A message of `payloadBytes` was handed to the call.
    func add(messageOf payloadBytes: Int) {
        let count = payloadBytes + GRPCStreamHandler.queuedMessageOverheadBytes
        state.withLock { $0.bytes += count }
        connection?.add(count)
    }

    /// The call took a message of `payloadBytes`; true when that brought the stream from over its
    /// bound to under it, so a held read should resume.
    func take(messageOf payloadBytes: Int) -> Bool {
        let count = payloadBytes + GRPCStreamHandler.queuedMessageOverheadBytes
        let (crossed, counted) = state.withLock { state -> (Bool, Bool) in
            guard !state.closed else { return (false, false) }
            state.bytes -= count
            return (takingCrossedBelow(GRPCStreamHandler.queuedRequestBytesMax, after: state.bytes, taken: count), true)
        }
        if counted { connection?.take(count) }
        return crossed
    }

    /// The stream ended: what it still held is no longer the connection's.
    func close() {
        let remaining = state.withLock { state -> Int in
            guard !state.closed else { return 0 }
            state.closed = true
            defer { state.bytes = 0 }
            return state.bytes
        }
        if remaining != 0 { connection?.take(remaining) }
    }

    var isOverBound: Bool { state.withLock { $0.bytes } > GRPCStreamHandler.queuedRequestBytesMax }
}

/// Request bytes queued by all streaming calls of one connection, bounded by `bytesMax`, and the
/// streams that hold their reads because of it.
///
/// Why: the per-stream bound alone lets one connection queue that much on each of its 4,096
/// streams. Past this bound every stream of the connection stops reading, so HTTP/2 flow control
/// stops the client; when calls take enough to bring the connection under it, the held streams
/// read on.
final class ConnectionQueuedBytes: @unchecked Sendable {
    /// Twice the connection's flow-control window: room for the window in flight and as much queued.
    static let bytesMax = 2 * LeanGRPCServer.connectionWindowBytes

    let eventLoop: EventLoop
    private let bytes = Atomic<Int>(0)
    /// Streams waiting for the connection to drain. Touched on `eventLoop` only.
    private var held: [ObjectIdentifier: NIOLoopBound<GRPCStreamHandler>] = [:]

    init(eventLoop: EventLoop) { self.eventLoop = eventLoop }

    var isOverBound: Bool { bytes.load(ordering: .relaxed) > Self.bytesMax }

    func add(_ count: Int) { bytes.add(count, ordering: .relaxed) }

    func take(_ count: Int) {
        let after = bytes.subtract(count, ordering: .relaxed).newValue
        if takingCrossedBelow(Self.bytesMax, after: after, taken: count) {
            eventLoop.execute { [self] in resumeHeld() }
        }
    }

    /// On the event loop: `handler` holds its reads until the connection is under the bound.
    func hold(_ handler: GRPCStreamHandler) {
        held[ObjectIdentifier(handler)] = NIOLoopBound(handler, eventLoop: eventLoop)
    }

    /// On the event loop: the stream went away.
    func release(_ handler: GRPCStreamHandler) {
        held[ObjectIdentifier(handler)] = nil
    }

    private func resumeHeld() {
        let waiting = held.values
        held.removeAll()
        for handler in waiting { handler.value.resumeReading() }
    }
}

/// Whether taking `taken` bytes, leaving `after`, brought a count from over `bound` to within it.
private func takingCrossedBelow(_ bound: Int, after: Int, taken: Int) -> Bool {
    after <= bound && after + taken > bound
}
