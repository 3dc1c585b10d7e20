import ConsensusCore

/// How a leader proves it is still the leader before serving a read (Raft dissertation §6.4).
public enum RaftReadMode: Sendable, Equatable {
    /// Confirm leadership with a heartbeat round acknowledged by a quorum. Safe without clock assumptions.
    case readIndex
    /// Serve from the leader while its lease holds. Requires `checkQuorum` (the lease is what stops
    /// followers from electing someone else) and bounded clock drift, expressed as `leaseDriftTicks`.
    case lease
}

/// The settings of one Raft engine. Every bound is named and checked where its queue is filled.
public struct RaftConfiguration: Sendable {
    public var id: NodeID
    /// The voters the group starts with (bootstrap). Once the log or a snapshot records a membership,
    /// that one is in force. Empty for a node that joins an existing group and learns its membership
    /// from the leader.
    public var voters: [NodeID]
    /// Non-voting members the group starts with.
    public var learners: [NodeID] = []

    /// A follower that hears nothing from a leader for a randomised time in
    /// [electionTimeoutTicks, 2 × electionTimeoutTicks) starts an election.
    public var electionTimeoutTicks: Int = 10
    public var heartbeatIntervalTicks: Int = 1

    /// Pre-vote (dissertation §9.6): a node first asks whether it could win before bumping its term,
    /// so a partitioned node cannot disrupt the cluster when it comes back.
    public var preVote: Bool = true
    /// A leader that has not heard from a quorum within an election timeout steps down, and a follower
    /// that has heard from a leader within one ignores vote requests (dissertation §6.2, §9.6).
    public var checkQuorum: Bool = true
    /// etcd's `--strict-reconfig-check`: a change of voters is refused unless enough voters of the
    /// new configuration answered the leader within the last election timeout to form its quorum.
    public var strictReconfigurationCheck: Bool = false

    public var readMode: RaftReadMode = .readIndex
    /// How many ticks a lease is shortened by, to absorb clock-rate differences between nodes.
    public var leaseDriftTicks: Int = 2

    /// A follower forwards proposals to the leader; when false it rejects them, naming the leader.
    public var forwardProposals: Bool = true
    /// The leader lets its shell replicate new entries while its own disk is still syncing them
    /// (`PersistRequest.overlapsSends`), and counts its own copy towards a quorum only once the shell
    /// reports it durable with `EngineEvent.persisted`. Off, every persist completes before any send.
    public var overlapWritesWithSends: Bool = false

    /// Bounds of the replication pipeline to one follower: messages and bytes sent but not acknowledged.
    public var inflightMessagesMax: Int = 256
    public var inflightBytesMax: Int = 8 << 20
    /// Bounds of one AppendEntries message. A message carries at least one entry even if it is larger.
    public var entriesPerMessageMax: Int = 512
    public var messageBytesMax: Int = 1 << 20
    /// etcd's default request limit.
    public var proposalBytesMax: Int = 1_572_864
    /// Appended but uncommitted bytes a leader accepts before it refuses proposals.
    public var uncommittedBytesMax: Int = 64 << 20
    /// Reads waiting for a leadership confirmation, on a leader or forwarded from a follower.
    public var pendingReadsMax: Int = 4096
    /// A read forwarded to a leader that gets no answer within this many ticks is rejected.
    public var forwardedReadTimeoutTicks: Int = 30

    /// Take a snapshot once this many entries have been applied since the last one...
    public var snapshotEntriesThreshold: Int = 10_000
    /// ...or once the entries applied since the last one hold this many bytes, whichever comes first.
    public var snapshotBytesThreshold: Int = 64 << 20
    /// Entries kept behind a snapshot, so that a follower slightly behind catches up from the log
    /// instead of needing the whole snapshot.
    public var compactionRetainEntries: Int = 1_000
    /// Bound of one InstallSnapshot chunk.
    public var snapshotChunkBytesMax: Int = 1 << 20
    /// The largest snapshot a follower accepts from a leader: it holds the whole snapshot in memory
    /// while receiving it, so a sender claiming more is dropped.
    public var snapshotBytesMax: Int = 8 << 30
    /// A learner is caught up, and may be promoted, when it lags the leader's log by at most this many entries.
    public var learnerPromotionLagEntriesMax: Int = 64

    public init(id: NodeID, voters: [NodeID]) {
        self.id = id
        self.voters = voters
    }

    func validated() -> RaftConfiguration {
        precondition(voters.isEmpty || voters.contains(id) || learners.contains(id), "node \(id) is neither among the voters \(voters) nor the learners \(learners)")
        precondition(snapshotEntriesThreshold >= 1 && snapshotBytesThreshold >= 1 && compactionRetainEntries >= 0 && snapshotChunkBytesMax >= 1, "snapshot bounds must be positive")
        precondition(electionTimeoutTicks > heartbeatIntervalTicks, "election timeout \(electionTimeoutTicks) must exceed heartbeat \(heartbeatIntervalTicks)")
        precondition(heartbeatIntervalTicks >= 1, "heartbeat interval must be at least one tick")
        precondition(readMode != .lease || checkQuorum, "lease reads are only safe with checkQuorum")
        precondition(readMode != .lease || leaseDriftTicks < electionTimeoutTicks, "lease drift must be shorter than the election timeout")
        precondition(inflightMessagesMax >= 1 && entriesPerMessageMax >= 1, "pipeline bounds must be positive")
        return self
    }
}
