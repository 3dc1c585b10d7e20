import ConsensusCore

/// The one deterministic core between an engine and the world, run by the node (`ReplicaLoop`,
/// over real threads, disks and sockets) and by the simulator (in virtual time, over simulated
/// disks and networks) alike: what a replica does with its engine's actions is written here once.
///
/// A batch steps every waiting event, then performs the resulting actions in the order the engine
/// contract requires (`EngineAction`): every persist written and one sync, then sends, applies,
/// answers and snapshots in order. When every persist of the batch may overlap the sends (a
/// leader's own new entries, or a commit index alone), the sends go first and the disk syncs
/// while followers work (Raft thesis §10.2.1); the engine then hears `persisted`. A batch whose
/// only writes are commit indexes is not synced at all: a commit index is recovered from the log
/// after a crash, so it may reach the disk with the next sync, as etcd does.
///
/// The host owns no clock, thread or file: time comes in with events, and the disk and the network
/// are the caller's `ReplicaEffects`.
///
/// Its stepping and performing are `@inlinable`, so the node and the simulator get a copy
/// specialised for their engine and effects (generic code across modules otherwise looks up type
/// metadata at every call, an eighth of the simulator's time).
public final class ReplicaHost<Engine: ConsensusEngine> {
    public typealias Event = EngineEvent<Engine.Message>
    public typealias Action = EngineAction<Engine.Message, Engine.HardState>

    /// The engine, stepped in place (a copy would copy its log). Set only by the host.
    public var engine: Engine
    /// Where committed entries, read answers, refusals and snapshots go.
    public weak var application: (any ReplicaApplication)?
    /// Told of every step with its event, its actions and the status before and after it: the
    /// simulator's trace and per-step protocol checks (which read `engine` only when the status
    /// says a rule could have been broken: reading it from outside copies it). Nil on a node.
    public var stepObserver: ((Event, [Action], _ before: EngineStatus, _ after: EngineStatus) -> Void)?

    /// The engine's status after its last step. Kept here because reading a computed property of
    /// a struct held by a class copies the struct first: the whole engine, its log included. Set
    /// only by the host (public so its inlinable steps can).
    public var status: EngineStatus

    /// Whether the disk was last reported out of space (`storageSpace(exhausted:)`).
    public private(set) var storageExhausted = false

    public init(engine: Engine) {
        self.engine = engine
        status = engine.status
    }

    /// The driver looked at its disk: the application hears of each change between having room and
    /// not (a segment that could not be prepared, a snapshot that could not be saved), once, so a
    /// front end refuses writes while the disk is full (etcd's NOSPACE alarm). Returns whether this
    /// was a change, for the driver to log.
    @discardableResult
    public func storageSpace(exhausted: Bool) -> Bool {
        guard exhausted != storageExhausted else { return false }
        storageExhausted = exhausted
        application?.storageSpace(exhausted: exhausted)
        return true
    }


    /// Steps `events`, then `proposals` as one proposal (or one batch), and performs the actions.
    /// Returns the events the actions fed back (an overlapping write made durable, a snapshot
    /// saved), for the caller to run in its next batch. Throws when `effects` reports the process
    /// died part-way; nothing after that point was performed.
    @inlinable
    public func run<Effects: ReplicaEffects>(
        _ events: [Event], proposals: [Proposal] = [], effects: inout Effects
    ) throws(ReplicaInterrupted) -> [Event] where Effects.Engine == Engine {
        var actions: [Action] = []
        for event in events { actions += step(event) }
        if !proposals.isEmpty {
            actions += step(proposals.count == 1 ? .propose(proposals[0].id, proposals[0].data) : .proposeBatch(proposals))
        }
        return try perform(actions, effects: &effects)
    }

    /// Performs what a call on the engine's own API returns (Raft's `campaignNow`) as it would a
    /// step's actions: for harnesses that drive an engine by hand. The step observer is not told.
    @inlinable
    public func run<Effects: ReplicaEffects>(
        engineCall: (inout Engine) -> [Action], effects: inout Effects
    ) throws(ReplicaInterrupted) -> [Event] where Effects.Engine == Engine {
        let actions = engineCall(&engine)
        status = engine.status
        return try perform(actions, effects: &effects)
    }

    @inlinable
    func step(_ event: Event) -> [Action] {
        let before = status
        let actions: [Action]
        (actions, status) = engine.stepReportingStatus(event)
        stepObserver?(event, actions, before, status)
        return actions
    }

    /// Tells the application the batch is over, with the engine's status and the driver's time:
    /// leadership changes, lease expiry and request deadlines are the application's to notice.
    @inlinable
    public func finishBatch(now: ContinuousClock.Instant) {
        application?.afterIteration(status: status, now: now)
    }

    @inlinable
    func perform<Effects: ReplicaEffects>(
        _ actions: [Action], effects: inout Effects
    ) throws(ReplicaInterrupted) -> [Event] where Effects.Engine == Engine {
        var mustSyncFirst = false
        var lastOverlapping: (index: LogIndex, term: Term)?
        for case .persist(let request) in actions {
            try effects.write(request)
            if request.overlapsSends {
                if let last = request.lastEntry { lastOverlapping = last }
            } else {
                mustSyncFirst = true
            }
        }
        if mustSyncFirst { try effects.sync() }
        var outgoing: [Engine.Message] = []
        var followUps: [Event] = []
        let status = self.status
        for action in actions {
            switch action {
            case .persist:
                break
            case .send(let message):
                outgoing.append(message)
            case .apply(let entries):
                // Messages go before the apply: a follower's acknowledgement need not wait for
                // this node's state machine.
                if !outgoing.isEmpty {
                    effects.send(outgoing)
                    outgoing.removeAll()
                }
                application?.apply(entries, status: status)
            case .readReady(let request, let index):
                application?.readReady(request, index: index)
            case .readRejected(let request, let reason), .proposalRejected(let request, let reason):
                application?.rejected(request, reason)
            case .createSnapshot(let metadata):
                // The writer captures the state as applied now; the effects may run it elsewhere.
                // The file is durable before the engine learns of the snapshot, so the log never
                // mentions one that is not on disk.
                if let writer = application?.snapshotWriter(), let snapshot = effects.saveSnapshot(metadata, writer: writer) {
                    followUps.append(.snapshotCreated(snapshot))
                }
            case .restoreSnapshot(let snapshot):
                application?.restore(snapshot)
            case .answerClient(let client, let index):
                application?.answerClient(client, index: index)
            }
        }
        if !outgoing.isEmpty { effects.send(outgoing) }
        if !mustSyncFirst, let last = lastOverlapping, try effects.syncAfterSends(through: last.index, term: last.term) {
            followUps.append(.persisted(last.index, term: last.term))
        }
        return followUps
    }
}

extension ConsensusEngine {
    /// Steps and reads the status in one in-place access (see `ReplicaHost.status`).
    @inlinable
    mutating func stepReportingStatus(_ event: EngineEvent<Message>) -> ([EngineAction<Message, HardState>], EngineStatus) {
        let actions = step(event)
        return (actions, status)
    }
}
