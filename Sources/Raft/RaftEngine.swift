import ConsensusCore

/// A Raft replica as a pure value type, after the extended Raft paper (Ongaro & Ousterhout, 2014) and
/// Ongaro's dissertation.
///
/// It never reads a clock, touches a disk or socket, or uses global randomness: time arrives as
/// `.tick` events and election jitter comes from the injected `SeededRandom`. Each `step` returns the
/// actions the shell must perform, in the order `EngineAction` documents (persist, then send, then
/// restore, apply and answer).
public struct RaftEngine: ConsensusEngine {
    public typealias Message = RaftMessage
    public typealias HardState = RaftHardState

    public let configuration: RaftConfiguration
    var random: SeededRandom
    /// Whether the application can restore a snapshot's data: a complete snapshot from a leader
    /// is checked with it before it is installed. A pure function of the bytes; the default
    /// accepts everything.
    public var acceptsSnapshot: @Sendable ([UInt8]) -> Bool = { _ in true }

    public internal(set) var role: RaftRole = .follower
    public internal(set) var term: Term
    public internal(set) var vote: NodeID?
    public internal(set) var leader: NodeID?
    public internal(set) var log: RaftLog
    public internal(set) var commitIndex: LogIndex
    /// The highest index handed to the shell in an `apply` action or covered by a restored snapshot.
    public internal(set) var appliedIndex: LogIndex = 0

    // Membership (dissertation §4): the latest configuration in the log is in force from its append.
    public internal(set) var membership: Membership
    /// The index of the entry that recorded `membership`; 0 for the bootstrap configuration.
    public internal(set) var membershipIndex: LogIndex = 0
    var quorum: JointQuorum
    /// Every member but this node, in id order: the nodes a leader replicates to.
    var peers: [NodeID] = []
    /// Every voter but this node, in id order: the nodes a candidate asks.
    var voterPeers: [NodeID] = []

    // Snapshots.
    /// The newest snapshot this node holds, sent to followers that need it.
    public internal(set) var snapshot: Snapshot?
    /// A `createSnapshot` was asked for and not yet answered.
    var snapshotRequested = false
    /// An operator asked for a snapshot now (`EngineEvent.snapshotNow`), not yet requested.
    var snapshotAsked = false
    /// Bytes of the entries applied since the newest snapshot (or since start), for the size policy.
    var appliedBytesSinceSnapshot = 0
    /// A snapshot being received from the leader, chunk by chunk.
    var incomingSnapshot: (metadata: SnapshotMetadata, data: [UInt8])?

    // Time, counted in ticks.
    /// Ticks since this incarnation started; a restarted node begins at zero.
    var ticksSinceStart: UInt64 = 0
    /// Ticks since the leader was last heard from (follower), or since the last election began.
    var electionElapsedTicks = 0
    var heartbeatElapsedTicks = 0
    var randomizedElectionTimeoutTicks = 0

    // Candidate state.
    var votesReceived: [NodeID: Bool] = [:]

    // Leader state.
    var progress = ProgressSet()
    /// Bytes of entries this leader appended that are not yet committed.
    var uncommittedBytes = 0
    var reads = ReadQueue()
    /// The node leadership is being handed to, and for how many ticks.
    public internal(set) var transferTarget: NodeID?
    var transferElapsedTicks = 0

    /// Forwarded proposals seen lately, so a duplicated message is appended once.
    var recentForwardedProposals = RecentProposals()

    // Follower state: reads forwarded to the leader and not yet answered, with the tick they were sent.
    var forwardedReads: [RequestID: UInt64] = [:]

    // Messages dropped at the boundary (RaftEngine+Validation), for the shell to count and log.
    public internal(set) var droppedMessageCount = 0
    public internal(set) var lastDroppedMessage: (reason: RaftMessageDropReason, message: String)?

    // Output gathered during one step, turned into actions by `takeActions`.
    var lastPersistedHardState: RaftHardState
    var firstUnpersistedIndex: LogIndex?
    /// With `overlapWritesWithSends`, the end of the prefix of the leader's own log that its shell
    /// has reported durable: the leader's vote in the commit quorum.
    var leaderDurableIndex: LogIndex = 0
    var pendingPersist = PendingSnapshotWrite()
    var pendingRestore: Snapshot?
    var outbox: [RaftMessage] = []
    var answers: [RaftAction] = []

    /// Starts a replica from its durable state: empty for a new node, or what survived a crash. The
    /// shell restores its state machine from `durable.snapshot` itself.
    public init(configuration: RaftConfiguration, random: SeededRandom, restoring durable: DurableState<RaftHardState>? = nil) {
        self.configuration = configuration.validated()
        self.random = random
        let hardState = durable?.hardState ?? RaftHardState()
        self.term = hardState.term
        self.vote = hardState.vote
        let snapshot = durable?.snapshot
        let offset = snapshot?.metadata.index ?? 0
        self.log = RaftLog(
            offsetIndex: offset,
            offsetTerm: snapshot?.metadata.term ?? 0,
            entries: (durable?.entries ?? []).filter { $0.index > offset }
        )
        self.snapshot = snapshot
        self.appliedIndex = offset
        self.commitIndex = max(hardState.commit, offset)
        precondition(commitIndex <= log.lastIndex, "durable commit \(commitIndex) beyond durable log end \(log.lastIndex)")
        self.lastPersistedHardState = hardState
        let bootstrap = Membership(voters: configuration.voters, learners: configuration.learners)
        self.membership = bootstrap
        self.quorum = bootstrap.quorum
        refreshMembership()
        resetElectionTimer()
    }

    public var id: NodeID { configuration.id }

    public var hardState: RaftHardState { RaftHardState(term: term, vote: vote, commit: commitIndex) }

    public var status: EngineStatus {
        EngineStatus(id: id, term: term, isLeader: role == .leader, leader: leader, commitIndex: commitIndex, appliedIndex: appliedIndex)
    }

    public mutating func step(_ event: RaftEvent) -> [RaftAction] {
        switch event {
        case .tick: tick()
        case .receive(let message): receive(message)
        case .propose(let id, let data): propose([Proposal(id: id, data: data)], origin: self.id)
        case .proposeBatch(let proposals): propose(proposals, origin: self.id)
        case .read(let id): read(id)
        case .snapshotCreated(let snapshot): snapshotCreated(snapshot)
        case .changeMembership(let id, let change): changeMembership(id, change)
        case .transferLeadership(let id, let target): transferLeadership(id, to: target)
        case .persisted(let index, let term): persisted(through: index, term: term)
        case .snapshotNow: snapshotAsked = appliedIndex > (snapshot?.metadata.index ?? 0)
        }
        return takeActions()
    }

    /// Starts an election now, as if the election timer had fired (etcd-io/raft's MsgHup). Tests use
    /// it to set up scenarios; a leader, or a node that may not vote, ignores it.
    public mutating func campaignNow() -> [RaftAction] {
        if role != .leader && mayCampaign { campaign() }
        return takeActions()
    }

    // MARK: Output

    mutating func emit(_ kind: RaftMessage.Kind, to peer: NodeID, term messageTerm: Term? = nil) {
        precondition(peer != id, "\(id) sending \(kind) to itself")
        outbox.append(RaftMessage(from: id, to: peer, term: messageTerm ?? term, kind: kind))
    }

    mutating func markUnpersisted(from index: LogIndex) {
        firstUnpersistedIndex = min(firstUnpersistedIndex ?? index, index)
    }

    /// Builds the step's actions in contract order: one persist, then sends, then restore, apply and
    /// answers.
    mutating func takeActions() -> [RaftAction] {
        var actions: [RaftAction] = []
        actions.reserveCapacity(outbox.count + answers.count + 2)
        let current = hardState
        let hardStateChanged = current != lastPersistedHardState
        if hardStateChanged || firstUnpersistedIndex != nil || !pendingPersist.isEmpty {
            // Entries at or below the log's offset were replaced by a snapshot in this step.
            let entries = firstUnpersistedIndex.map { log.entries(from: max($0, log.offsetIndex + 1)) } ?? []
            let overlaps = mayOverlapSends
            actions.append(.persist(PersistRequest(
                hardState: hardStateChanged ? current : nil,
                entries: entries,
                snapshot: pendingPersist.snapshot,
                discardEntriesThrough: pendingPersist.discardEntriesThrough,
                truncateEntriesAfter: pendingPersist.truncateEntriesAfter,
                overlapsSends: overlaps
            )))
            // A write the shell completes before the next event makes the whole log durable.
            if !overlaps && role == .leader { leaderDurableIndex = log.lastIndex }
            lastPersistedHardState = current
            firstUnpersistedIndex = nil
            pendingPersist = PendingSnapshotWrite()
        }
        for message in outbox { actions.append(.send(message)) }
        outbox.removeAll(keepingCapacity: true)
        if let restore = pendingRestore {
            actions.append(.restoreSnapshot(restore))
            pendingRestore = nil
        }
        if commitIndex > appliedIndex {
            let entries = log.entries(in: appliedIndex + 1...commitIndex)
            appliedBytesSinceSnapshot += entries.reduce(0) { $0 + $1.sizeBytes }
            actions.append(.apply(entries))
            appliedIndex = commitIndex
        }
        if let request = snapshotRequestIfDue() { actions.append(request) }
        actions.append(contentsOf: answers)
        answers.removeAll(keepingCapacity: true)
        return actions
    }
}

extension RaftEngine {
    /// The leader's own copy in the commit quorum: all of its log when this step's persist completes
    /// before the next event (as every persist does without overlapping writes), otherwise only what
    /// its shell has reported durable.
    var leaderOwnMatchIndex: LogIndex {
        guard configuration.overlapWritesWithSends else { return log.lastIndex }
        let persistsThisStep = firstUnpersistedIndex != nil || !pendingPersist.isEmpty || termOrVoteChanged
        return persistsThisStep && !mayOverlapSends ? log.lastIndex : leaderDurableIndex
    }

    var termOrVoteChanged: Bool {
        term != lastPersistedHardState.term || vote != lastPersistedHardState.vote
    }

    /// Whether this step's persist may overlap its sends. A changed term or vote must be durable
    /// before any message of the new term leaves; snapshot writes and truncations stay synchronous;
    /// and a follower's entries must be on disk before it acknowledges them. What remains is a
    /// leader's own new entries, and anyone's commit index, which no message depends on.
    var mayOverlapSends: Bool {
        configuration.overlapWritesWithSends && !termOrVoteChanged && pendingPersist.isEmpty
            && (role == .leader || firstUnpersistedIndex == nil)
    }

    /// The shell made an overlapping write durable. The report may be stale (written in an earlier
    /// term, overtaken by a truncation), so it counts only if the entry it names is still in the log:
    /// an (index, term) pair names one entry, and writes are durable in order, so its whole prefix is
    /// durable too.
    mutating func persisted(through index: LogIndex, term entryTerm: Term) {
        guard role == .leader, index > leaderDurableIndex, index <= log.lastIndex, log.term(at: index) == entryTerm else { return }
        leaderDurableIndex = index
        commitAndBroadcast()
    }
}

/// The snapshot-related parts of the next persist.
struct PendingSnapshotWrite: Sendable {
    var snapshot: Snapshot?
    var discardEntriesThrough: LogIndex?
    var truncateEntriesAfter: LogIndex?

    var isEmpty: Bool { snapshot == nil && discardEntriesThrough == nil && truncateEntriesAfter == nil }
}
