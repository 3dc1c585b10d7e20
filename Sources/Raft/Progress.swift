import ConsensusCore

/// What a leader knows about one follower's log, and the flow control of replicating to it.
///
/// ### Legal transitions
/// - probe → replicate: the follower acknowledged an append, so its match index is known.
/// - replicate → probe: the follower rejected an append; back off and find the match point.
/// - probe or replicate → snapshot: the entries the follower needs are compacted away.
/// - snapshot → probe: the follower acknowledged the installed snapshot.
struct Progress: Sendable {
    enum State: Sendable, Equatable {
        case probe
        case replicate
        /// Sending the snapshot at `index`; the follower holds its first `acknowledgedBytes`.
        case snapshot(index: LogIndex, acknowledgedBytes: Int)
    }

    /// The highest index known to be replicated on the follower.
    var matchIndex: LogIndex = 0
    /// The next index to send.
    var nextIndex: LogIndex
    var state: State = .probe
    /// In probe state, at most one append is outstanding; a response or heartbeat response clears this.
    var probeSent = false
    var inflights: Inflights
    /// Heard from since the last check-quorum round.
    var recentlyActive = false
    /// The leader tick at which the follower last answered; nil if it never has. Unlike
    /// `recentlyActive` it is not reset every election timeout, so "heard from lately" has the same
    /// answer just after a check-quorum round as just before.
    var lastHeardTick: UInt64?
    /// The newest read-confirmation round the follower acknowledged.
    var acknowledgedReadRound: UInt64 = 0
    /// The leader tick at which the newest heartbeat the follower acknowledged was sent.
    var acknowledgedSentAtTick: UInt64 = 0
    /// The newest commit index an append to this follower carried.
    var commitSent: LogIndex = 0

    init(nextIndex: LogIndex, inflights: Inflights) {
        self.nextIndex = nextIndex
        self.inflights = inflights
    }

    var isPaused: Bool {
        switch state {
        case .probe: return probeSent
        case .replicate: return inflights.isFull
        case .snapshot: return true
        }
    }

    mutating func becomeProbe(nextIndex: LogIndex) {
        state = .probe
        self.nextIndex = nextIndex
        probeSent = false
        inflights.removeAll()
    }

    mutating func becomeReplicate() {
        state = .replicate
        nextIndex = matchIndex + 1
        probeSent = false
        inflights.removeAll()
    }

    /// Records an acknowledgement; returns false when it tells nothing new (a stale or duplicate reply).
    mutating func acknowledge(matchIndex acknowledged: LogIndex) -> Bool {
        guard acknowledged > matchIndex else { return false }
        matchIndex = acknowledged
        nextIndex = max(nextIndex, acknowledged + 1)
        inflights.release(through: acknowledged)
        probeSent = false
        return true
    }
}

/// The window of appends sent to one follower and not yet acknowledged, bounded by count and bytes.
struct Inflights: Sendable {
    let messagesMax: Int
    let bytesMax: Int
    private var lastIndexes: [LogIndex] = []
    private var sizes: [Int] = []
    private(set) var bytes = 0

    init(messagesMax: Int, bytesMax: Int) {
        self.messagesMax = messagesMax
        self.bytesMax = bytesMax
    }

    var count: Int { lastIndexes.count }
    var isFull: Bool { lastIndexes.count >= messagesMax || bytes >= bytesMax }

    mutating func add(lastIndex: LogIndex, bytes size: Int) {
        precondition(!isFull, "in-flight window overfilled: \(count) messages, \(bytes) bytes")
        precondition(lastIndexes.last.map { lastIndex > $0 } ?? true, "in-flight appends must advance: \(lastIndex) after \(lastIndexes.last ?? 0)")
        lastIndexes.append(lastIndex)
        sizes.append(size)
        bytes += size
    }

    /// Frees every message whose entries are all acknowledged.
    mutating func release(through index: LogIndex) {
        var released = 0
        while released < lastIndexes.count, lastIndexes[released] <= index {
            bytes -= sizes[released]
            released += 1
        }
        lastIndexes.removeFirst(released)
        sizes.removeFirst(released)
    }

    mutating func releaseFirst() {
        guard !lastIndexes.isEmpty else { return }
        bytes -= sizes.removeFirst()
        lastIndexes.removeFirst()
    }

    mutating func removeAll() {
        lastIndexes.removeAll(keepingCapacity: true)
        sizes.removeAll(keepingCapacity: true)
        bytes = 0
    }
}

/// The leader's progress for every peer, kept in an array in peer order: lookups by a linear scan
/// of at most a handful of ids beat hashing, and mutating `trackers[slot]` in place never copies a
/// tracker's in-flight window.
struct ProgressSet: Sendable {
    private(set) var peers: [NodeID] = []
    var trackers: [Progress] = []

    init() {}

    init(peers: [NodeID], make: (NodeID) -> Progress) {
        self.peers = peers
        self.trackers = peers.map(make)
    }

    func slot(of peer: NodeID) -> Int? { peers.firstIndex(of: peer) }

    /// Reads one field of a peer's tracker without copying the tracker.
    func read<Value>(_ peer: NodeID, _ field: (Progress) -> Value) -> Value? {
        guard let slot = slot(of: peer) else { return nil }
        return field(trackers[slot])
    }

    mutating func removeAll() {
        peers.removeAll()
        trackers.removeAll()
    }
}
