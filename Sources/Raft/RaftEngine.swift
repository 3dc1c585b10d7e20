import ConsensusCore

/// A Raft replica as a pure value type, after the extended Raft paper (Ongaro & Ousterhout, 2014) and
/// Ongaro's dissertation.
///
/// It never reads a clock, touches a disk or socket, or uses global randomness: time arrives as
/// `.tick` events and election jitter comes from the injected `SeededRandom`. Each `step` returns the
/// actions the shell must perform, in the order `EngineAction` documents (persist, then send, then
/// apply and answer).
public struct RaftEngine: ConsensusEngine {
    public typealias Message = RaftMessage
    public typealias HardState = RaftHardState

    public let configuration: RaftConfiguration
    let quorum: MajorityQuorum
    /// Every voter except this node.
    let peers: [NodeID]
    var random: SeededRandom

    public internal(set) var role: RaftRole = .follower
    public internal(set) var term: Term
    public internal(set) var vote: NodeID?
    public internal(set) var leader: NodeID?
    public internal(set) var log: RaftLog
    public internal(set) var commitIndex: LogIndex
    /// The highest index handed to the shell in an `apply` action.
    public internal(set) var appliedIndex: LogIndex = 0

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

    // Follower state: reads forwarded to the leader and not yet answered, with the tick they were sent.
    var forwardedReads: [RequestID: UInt64] = [:]

    // Output gathered during one step, turned into actions by `takeActions`.
    var lastPersistedHardState: RaftHardState
    var firstUnpersistedIndex: LogIndex?
    var outbox: [RaftMessage] = []
    var answers: [RaftAction] = []

    /// Starts a replica from its durable state: empty for a new node, or what survived a crash.
    public init(configuration: RaftConfiguration, random: SeededRandom, restoring durable: DurableState<RaftHardState>? = nil) {
        self.configuration = configuration.validated()
        self.quorum = MajorityQuorum(voters: configuration.voters)
        self.peers = quorum.voters.filter { $0 != configuration.id }
        self.random = random
        let hardState = durable?.hardState ?? RaftHardState()
        self.term = hardState.term
        self.vote = hardState.vote
        self.log = RaftLog(entries: durable?.entries ?? [])
        precondition(hardState.commit <= log.lastIndex, "durable commit \(hardState.commit) beyond durable log end \(log.lastIndex)")
        self.commitIndex = hardState.commit
        self.lastPersistedHardState = hardState
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
        }
        return takeActions()
    }

    /// Starts an election now, as if the election timer had fired (etcd-io/raft's MsgHup). Tests use
    /// it to set up scenarios; a leader ignores it.
    public mutating func campaignNow() -> [RaftAction] {
        if role != .leader { campaign() }
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

    /// Builds the step's actions in contract order: one persist, then sends, then apply and answers.
    mutating func takeActions() -> [RaftAction] {
        var actions: [RaftAction] = []
        actions.reserveCapacity(outbox.count + answers.count + 2)
        let current = hardState
        let hardStateChanged = current != lastPersistedHardState
        if hardStateChanged || firstUnpersistedIndex != nil {
            let entries = firstUnpersistedIndex.map { log.entries(from: $0) } ?? []
            actions.append(.persist(PersistRequest(hardState: hardStateChanged ? current : nil, entries: entries)))
            lastPersistedHardState = current
            firstUnpersistedIndex = nil
        }
        for message in outbox { actions.append(.send(message)) }
        outbox.removeAll(keepingCapacity: true)
        if commitIndex > appliedIndex {
            actions.append(.apply(log.entries(in: appliedIndex + 1...commitIndex)))
            appliedIndex = commitIndex
        }
        actions.append(contentsOf: answers)
        answers.removeAll(keepingCapacity: true)
        return actions
    }
}
