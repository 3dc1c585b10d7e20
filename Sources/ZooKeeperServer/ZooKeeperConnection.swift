import DequeModule
import ZooKeeperWire

/// Where a client's bytes go: the listener's channel, or a test's buffer. Called from the
/// replica's thread; implementations hand the bytes to their own thread.
public protocol ZooKeeperClientSink: AnyObject, Sendable {
    func send(_ packet: [UInt8])
    /// Closes the connection once what was sent before has been written.
    func close()
}

/// One client connection as the service sees it, on the replica's thread: its session, the
/// replies owed in xid order, requests that arrived before the session existed, its watches.
final class ZooKeeperConnection {
    let id: UInt64
    /// Names the connection in the log (`ZooKeeperTransaction.connection`): random, never 0, so
    /// it is unique across members and restarts.
    let tag: UInt64
    /// Writes (and closes) this connection has proposed: each carries its number.
    var writesSent: UInt64 = 0
    let sink: any ZooKeeperClientSink
    /// Nil until the connect is answered.
    var session: Int64?
    /// Whether the connect arrived; packets after it wait for the session.
    var connectReceived = false
    /// Whether the connect request was the 45-byte form, with readOnly (answered in kind).
    var answersReadOnly = false
    /// Requests a client pipelined behind its connect (auth, SetWatches, anything), run in order
    /// once the session exists.
    var waitingForSession: [[UInt8]] = []
    /// Replies in request order; a slot is filled when its answer is known and sent once every
    /// slot before it is. `receivedAt` is when the request came, for the latency figures. A deque:
    /// replies leave from the front as requests join at the back.
    var replies: Deque<(xid: Int32, packet: [UInt8]?, receivedAt: ContinuousClock.Instant)> = []
    var dataWatches: Set<String> = []
    var childWatches: Set<String> = []
    /// addWatch mode 0: fire on every change of the path, without being removed.
    var persistentWatches: Set<String> = []
    /// addWatch mode 1: fire on every create, delete and data change at or below the path; never
    /// on a change of children as such.
    var recursiveWatches: Set<String> = []
    var closed = false
    /// Writes, syncs and closes of this connection not yet answered. While any is, a read waits
    /// (in `held`): ZooKeeper answers a session's requests in order, so a read sees the session's
    /// earlier writes, and a read after a sync sees everything committed before the sync.
    var awaiting = 0
    /// Since when the connection has waited for the log with nothing answered (a write, sync or
    /// connect); nil while it waits for nothing.
    var waitingSince: ContinuousClock.Instant?
    /// Requests waiting for the connection's earlier writes, in order; once one waits, every later
    /// one does too, so a write is never logged before a read that came first.
    var held: Deque<(request: ZooKeeperRequest, xid: Int32, slot: Int)> = []
    /// Identities the client proved on this connection: the address it connected from ("ip"),
    /// then its `addAuth digest`s; checked against ACLs.
    var authIDs: [ZooKeeperID] = []
    /// Where the client connected from ("host:port"), when the listener knows it.
    let remote: String?
    let establishedAt: ContinuousClock.Instant
    var statistics = ZooKeeperConnectionStatistics()
    let clock: @Sendable () -> ContinuousClock.Instant
    /// The member's totals, which this connection's traffic adds to.
    let traffic: ZooKeeperTraffic

    init(id: UInt64, tag: UInt64, sink: any ZooKeeperClientSink, remote: String? = nil, clock: @escaping @Sendable () -> ContinuousClock.Instant, traffic: ZooKeeperTraffic) {
        self.id = id
        self.tag = tag
        self.sink = sink
        self.remote = remote
        self.clock = clock
        self.traffic = traffic
        establishedAt = clock()
        if let remote, let colon = remote.lastIndex(of: ":") { authIDs = [ZooKeeperID(scheme: "ip", id: String(remote[..<colon]))] }
    }

    /// Sends a packet that is no reply (the connect's answer, a watch event), counting it.
    func send(_ packet: [UInt8]) {
        statistics.sent &+= 1
        traffic.sent &+= 1
        sink.send(packet)
    }

    var watchCount: Int { dataWatches.count + childWatches.count + persistentWatches.count + recursiveWatches.count }

    /// Reserves the place of a request's reply; returns its slot.
    func reserve(xid: Int32, operation: Int32) -> Int {
        statistics.lastOperation = ZooKeeperConnectionStatistics.shortName(of: operation)
        statistics.lastCxid = xid
        replies.append((xid, nil, clock()))
        return replyBase + replies.count - 1
    }

    /// Slots already sent, so slot numbers stay valid as the queue drains.
    var replyBase = 0

    func fill(slot: Int, with packet: [UInt8]) {
        let position = slot - replyBase
        guard position >= 0, position < replies.count, !closed else { return }
        replies[position].packet = packet
        let now = clock()
        let elapsed = now - replies[position].receivedAt
        statistics.latency.record(elapsed)
        traffic.latency.record(elapsed)
        var sent = 0
        while sent < replies.count, let ready = replies[sent].packet {
            sink.send(ready)
            sent += 1
            // The framed reply header: length, xid, then the zxid.
            if ready.count >= 16 { statistics.lastZxid = ready[8..<16].reduce(0) { $0 << 8 | Int64($1) } }
        }
        if sent > 0 {
            statistics.sent &+= Int64(sent)
            statistics.lastResponseAt = now
            traffic.sent &+= Int64(sent)
            replies.removeFirst(sent)
            replyBase += sent
        }
    }

    /// A reply header alone (an error, or an operation with no body), framed.
    static func header(xid: Int32, zxid: Int64, error: ZooKeeperErrorCode) -> [UInt8] {
        var writer = JuteWriter()
        ZooKeeperReplyHeader(xid: xid, zxid: zxid, error: error.rawValue).write(to: &writer)
        return ZooKeeperFrame.encode(writer.bytes)
    }

    /// The reply to an operation that succeeded with `response` or failed with an error code.
    static func reply(xid: Int32, zxid: Int64, _ result: Result<ZooKeeperResponse, ZooKeeperErrorCode>) -> [UInt8] {
        switch result {
        case .success(let response): return reply(xid: xid, zxid: zxid, response)
        case .failure(let code): return header(xid: xid, zxid: zxid, error: code)
        }
    }

    static func reply(xid: Int32, zxid: Int64, _ response: ZooKeeperResponse) -> [UInt8] {
        var writer = JuteWriter()
        ZooKeeperReplyHeader(xid: xid, zxid: zxid, error: 0).write(to: &writer)
        response.write(to: &writer)
        return ZooKeeperFrame.encode(writer.bytes)
    }

    /// A watch event; its header's zxid is -1, as a 3.8 server sends it.
    static func event(_ event: ZooKeeperWatcherEvent) -> [UInt8] {
        var writer = JuteWriter()
        ZooKeeperReplyHeader(xid: ZooKeeperXid.notification, zxid: -1, error: 0).write(to: &writer)
        event.write(to: &writer)
        return ZooKeeperFrame.encode(writer.bytes)
    }
}
