import ConsensusCore
import Foundation
import Logging
import NIOCore
import Replica
import Storage
import Synchronization

/// The loop's bounds that do not depend on its engine, for front ends that name no engine.
public enum ReplicaLoopLimits {
    /// Inputs waiting: past this, client requests are refused rather than queued.
    public static let inboxMax = 100_000
}

/// The node's driver of a `ReplicaHost`: feeds it events (ticks from a real clock, messages from
/// peers, requests from clients) and performs what it asks against the real disk (`DiskStorage`)
/// and network (`PeerTransport`). What is done with the engine's actions, and in which order, is
/// the host's, shared with the simulator; this class owns threads, time and files.
///
/// ### Where it runs
/// On the peer transport's event loop, not a thread of its own. A frame from a peer is stepped on
/// the thread that read it, and the engine's messages are written to their sockets on the thread
/// that made them: a write's round trip to a follower crosses no thread inside either node. With a
/// thread of its own, each of those four steps was a wake-up of another thread, about a fifth of
/// one client's put latency on the 2-core build machine (docs/PERFORMANCE.md). Client requests
/// still reach the loop through its inbox, and its answers go to the client event loops.
///
/// ### Batching
/// An iteration hands every event waiting in the inbox to the host as one batch: all their persists
/// are written in order and synced once, and only then are messages sent and entries applied, as
/// etcd's `Ready` does. Client proposals that arrive together become one `proposeBatch`, so they
/// share a log write and an append message. An iteration is scheduled when the inbox stops being
/// empty, so the frames one pass of the event loop reads land in one batch.
public final class ReplicaLoop<Engine: ConsensusEngine>: ReplicaHandle, @unchecked Sendable
where Engine.Message: WireCodable, Engine.HardState: DurableCoding {
    public typealias Transport = PeerTransport<Engine.Message>

    enum Input {
        case event(EngineEvent<Engine.Message>)
        case proposal(Proposal)
        /// Work the application schedules onto the loop.
        case call(() -> Void)
        case peerRequest(id: UInt64, from: NodeID, payload: [UInt8])
        case peerResponse(id: UInt64, payload: [UInt8])
    }

    /// Inputs taken per iteration: bounds one iteration's latency and its write.
    static var inputsPerIterationMax: Int { 4096 }
    /// Inputs waiting: past this, client requests are refused rather than queued.
    public static var inboxMax: Int { ReplicaLoopLimits.inboxMax }
    /// Ticks stepped at once after a stall, so a paused process does not fire a burst of timeouts.
    static var catchUpTicksMax: Int { 3 }
    /// How often a full disk is looked at again (segment preparation and snapshot saves retried).
    static var spaceRetryInterval: Duration { .seconds(1) }

    public let id: NodeID
    /// The clock's tick, as the event loop counts time.
    private let tickAmount: TimeAmount
    let logger: Logger
    private let host: ReplicaHost<Engine>
    fileprivate var storage: DiskStorage<Engine.HardState>
    private weak var application: ReplicaApplication?
    var transport: Transport?

    /// Guards the inbox and the scheduling state below; waited on by `stop`.
    private let inboxCondition = NSCondition()
    private var inbox: [Input] = []
    /// The loop everything runs on once started; nil before `start`, when inputs only queue.
    private var eventLoop: EventLoop?
    /// An iteration is queued on the event loop and has not yet taken the inbox.
    private var iterationScheduled = false
    private var stopping = false
    private var finished = false
    /// Loop-only state: the next tick's deadline, its timer, and events an iteration fed back.
    private var nextTick = NIODeadline.now()
    private var tickTimer: Scheduled<Void>?
    private var followUps: [EngineEvent<Engine.Message>] = []
    /// Storage reported no space (a segment or a snapshot could not be written), and when the loop
    /// last retried. `snapshotSaveFailed` is set from the snapshot thread.
    private var spaceCheckedAt = ContinuousClock.now
    private let snapshotSaveFailed = Atomic<Bool>(false)
    /// `engine.droppedMessages.count` when it was last logged, and when.
    private var droppedMessagesLogged = 0
    private var droppedMessagesLoggedAt = ContinuousClock.now
    static var droppedMessagesLogInterval: Duration { .seconds(1) }
    /// Forwarded proposals the application could not decode, dropped before the engine saw them,
    /// the last one's sender, and the count last logged (by the loop, with the boundary drops).
    public let refusedForwardedProposals = Atomic<Int>(0)
    private let lastRefusedForwarder = Atomic<UInt64>(0)
    private var refusedForwardedProposalsLogged = 0
    /// Told how long each sync of the log took (etcd's `wal_fsync_duration_seconds`); set before
    /// `start`.
    public var syncObserver: (@Sendable (Duration) -> Void)?
    /// Told how long each snapshot save took, written and synced (the nearest thing to etcd's
    /// backend commit); set before `start`.
    public var snapshotObserver: (@Sendable (Duration) -> Void)?
    /// The index of the newest snapshot the log's marker makes durable (segments behind it are
    /// released), for readers on other threads: an operator's defragmentation waits for it.
    private let durableSnapshot = Atomic<UInt64>(0)
    public var durableSnapshotIndex: UInt64 { durableSnapshot.load(ordering: .relaxed) }
    /// The status after the last iteration, for readers on other threads (gRPC headers).
    private var publishedStatus: EngineStatus

    public init(id: NodeID, engine: Engine, storage: DiskStorage<Engine.HardState>, tickInterval: Duration, logger: Logger) {
        self.id = id
        host = ReplicaHost(engine: engine)
        self.storage = storage
        tickAmount = TimeAmount(tickInterval)
        self.logger = logger
        self.publishedStatus = engine.status
        durableSnapshot.store(storage.durableState.snapshot?.metadata.index ?? 0, ordering: .relaxed)
    }

    public var status: EngineStatus {
        inboxCondition.lock()
        defer { inboxCondition.unlock() }
        return publishedStatus
    }

    /// Starts stepping on the transport's event loop, beginning with whatever queued before.
    public func start(application: ReplicaApplication, transport: Transport) {
        self.application = application
        host.application = application
        self.transport = transport
        let eventLoop = transport.eventLoop
        // The first tick is armed before any iteration can run, so the clock starts now (not at
        // init, which would fire catch-up ticks at once) and the timer knows its loop.
        eventLoop.execute { [self] in
            nextTick = .now() + tickAmount
            scheduleTickTimer(on: eventLoop)
            inboxCondition.lock()
            self.eventLoop = eventLoop
            scheduleIterationLocked()
            inboxCondition.unlock()
        }
    }

    /// Stops after the current iteration; everything already performed stays durable.
    public func stop() {
        inboxCondition.lock()
        stopping = true
        if let eventLoop, !finished {
            if eventLoop.inEventLoop {
                finishLocked()
            } else {
                scheduleIterationLocked()
                while !finished { inboxCondition.wait() }
            }
        }
        inboxCondition.unlock()
    }

    // MARK: Inputs, from any thread

    /// Returns false when the inbox is full: the caller answers its client at once.
    @discardableResult
    public func propose(_ proposal: Proposal) -> Bool { enqueue(.proposal(proposal), bounded: true) }

    @discardableResult
    public func submit(_ event: EngineEvent<Engine.Message>) -> Bool { enqueue(.event(event), bounded: true) }

    public func read(_ id: RequestID) -> Bool { submit(.read(id)) }

    public func changeMembership(_ id: RequestID, _ change: MembershipChange) -> Bool { submit(.changeMembership(id, change)) }

    public func transferLeadership(_ id: RequestID, to target: NodeID) -> Bool { submit(.transferLeadership(id, to: target)) }

    public func snapshotNow() -> Bool { submit(.snapshotNow) }

    /// Runs `work` on the loop thread, after the actions of the current batch.
    @discardableResult
    public func perform(_ work: @escaping () -> Void) -> Bool { enqueue(.call(work), bounded: true) }

    /// `perform` for clean-up that must never be refused (a closed stream's watchers); callers
    /// bound it themselves (one per stream).
    public func performAlways(_ work: @escaping () -> Void) { _ = enqueue(.call(work), bounded: false) }

    public func received(_ envelope: PeerEnvelope<Engine.Message>) {
        switch envelope {
        case .engine(let message):
            if let payload = message.forwardedProposalPayload, application?.acceptsForwardedProposal(payload) == false {
                // Logged by the loop once a second with a count, as boundary drops are: a line per
                // proposal would let a hostile peer flood the log.
                lastRefusedForwarder.store(message.from.rawValue, ordering: .relaxed)
                refusedForwardedProposals.add(1, ordering: .relaxed)
                return
            }
            enqueue(.event(.receive(message)), bounded: false)
        case .request(let callID, let from, let payload): enqueue(.peerRequest(id: callID, from: from, payload: payload), bounded: false)
        case .response(let callID, let payload): enqueue(.peerResponse(id: callID, payload: payload), bounded: false)
        case .hello: break
        }
    }

    /// Sends a node-level call to `peer`; the answer comes to `handlePeerResponse` with `callID`.
    public func call(_ peer: NodeID, callID: UInt64, payload: [UInt8]) {
        transport?.send([(peer, .request(id: callID, from: id, payload: payload))])
    }

    /// Answers a call `peer` made, later than `handlePeerRequest` returned (work done off the loop).
    public func respond(to peer: NodeID, callID: UInt64, payload: [UInt8]) {
        transport?.send([(peer, .response(id: callID, payload: payload))])
    }

    private func enqueue(_ input: Input, bounded: Bool) -> Bool {
        inboxCondition.lock()
        defer { inboxCondition.unlock() }
        // Peer traffic is never refused here (the transport bounds it); client work is.
        if bounded && inbox.count >= Self.inboxMax { return false }
        inbox.append(input)
        scheduleIterationLocked()
        return true
    }

    /// Queues an iteration on the event loop unless one is queued already (or the loop has not
    /// started, or has stopped). Called with `inboxCondition` held.
    private func scheduleIterationLocked() {
        guard let eventLoop, !iterationScheduled, !finished else { return }
        iterationScheduled = true
        eventLoop.execute { [self] in iterate() }
    }

    /// Called with `inboxCondition` held, on the event loop or with it idle.
    private func finishLocked() {
        finished = true
        tickTimer?.cancel()
        inboxCondition.broadcast()
    }

    // MARK: The loop

    /// Arms the timer for the next tick. A tick that finds its deadline already handled by an
    /// iteration (ticks are counted from the clock, not from timer firings) only re-arms.
    private func scheduleTickTimer(on eventLoop: EventLoop) {
        tickTimer = eventLoop.scheduleTask(deadline: nextTick) { [self] in
            inboxCondition.lock()
            let done = finished
            inboxCondition.unlock()
            guard !done else { return }
            if NIODeadline.now() >= nextTick { iterate(scheduled: false) }
            scheduleTickTimer(on: eventLoop)
        }
    }

    /// One iteration: takes the waiting inputs, steps them with the ticks due, performs the
    /// actions, and queues the next iteration at once when inputs remain or the actions fed events
    /// back (a durable persist, a snapshot saved).
    private func iterate(scheduled: Bool = true) {
        inboxCondition.lock()
        if scheduled { iterationScheduled = false }
        if stopping {
            if !finished { finishLocked() }
            inboxCondition.unlock()
            return
        }
        let count = min(inbox.count, Self.inputsPerIterationMax)
        let inputs = Array(inbox.prefix(count))
        inbox.removeFirst(count)
        inboxCondition.unlock()

        var events = followUps
        followUps.removeAll()
        let now = NIODeadline.now()
        var ticks = 0
        while nextTick <= now {
            nextTick = nextTick + tickAmount
            if ticks < Self.catchUpTicksMax { events.append(.tick) }
            ticks += 1
        }
        var calls: [() -> Void] = []
        var proposals: [Proposal] = []
        for input in inputs {
            switch input {
            case .event(let event): events.append(event)
            case .proposal(let proposal): proposals.append(proposal)
            case .call(let work): calls.append(work)
            case .peerRequest(let callID, let from, let payload):
                if let response = application?.handlePeerRequest(payload, from: from, callID: callID) {
                    transport?.send([(from, .response(id: callID, payload: response))])
                }
            case .peerResponse(let callID, let payload):
                application?.handlePeerResponse(id: callID, payload)
            }
        }
        var effects = LoopEffects(loop: self)
        // The node's effects never interrupt: a storage failure stops the process (storageGuard).
        followUps = (try? host.run(events, proposals: proposals, effects: &effects)) ?? []
        reportDroppedMessages()
        for work in calls { work() }
        let status = host.status
        inboxCondition.lock()
        publishedStatus = status
        if !followUps.isEmpty || !inbox.isEmpty { scheduleIterationLocked() }
        inboxCondition.unlock()
        let iterationEnd = ContinuousClock.now
        checkSpace(now: iterationEnd)
        host.finishBatch(now: iterationEnd)
    }

    /// Tells the application when the disk fills and when it has room again, and retries the
    /// segment preparation that failed. Cheap when all is well: two flag reads.
    private func checkSpace(now: ContinuousClock.Instant) {
        let problem = storage.spaceProblem != nil || snapshotSaveFailed.load(ordering: .relaxed)
        if host.storageSpace(exhausted: problem) {
            if problem {
                logger.error("storage is out of space (\(storage.spaceProblem.map { "\($0)" } ?? "a snapshot could not be saved")); refusing writes until there is room")
            } else {
                logger.notice("storage has room again")
            }
        }
        if problem && now - spaceCheckedAt >= Self.spaceRetryInterval {
            spaceCheckedAt = now
            storage.retrySpace()
        }
    }

    fileprivate func timedSync() throws {
        let started = ContinuousClock.now
        try storage.sync()
        syncObserver?(ContinuousClock.now - started)
        durableSnapshot.store(storage.durableState.snapshot?.metadata.index ?? 0, ordering: .relaxed)
    }

    /// Saves a snapshot the node made, off the loop. A full disk is not fatal here: nothing depends
    /// on this snapshot yet, so the save is retried until it fits (or the node stops), and the
    /// application is told to refuse writes meanwhile. Any other failure stops the node.
    fileprivate func saveSnapshot(_ snapshot: Snapshot, to store: SnapshotStore) {
        var attempt = 0
        while true {
            do {
                let started = ContinuousClock.now
                try store.save(snapshot, bytesPerSecond: SnapshotStore.backgroundWriteBytesPerSecond)
                snapshotObserver?(ContinuousClock.now - started)
                snapshotSaveFailed.store(false, ordering: .relaxed)
                enqueue(.event(.snapshotCreated(snapshot)), bounded: false)
                return
            } catch {
                guard case .diskFull = error else {
                    storageGuard { throw error }
                    return
                }
                attempt += 1
                if attempt == 1 { logger.error("snapshot \(snapshot.metadata) does not fit on disk (\(error)); retrying every \(Self.spaceRetryInterval)") }
                snapshotSaveFailed.store(true, ordering: .relaxed)
                inboxCondition.lock()
                let stop = stopping
                inboxCondition.unlock()
                if stop { return }
                Thread.sleep(forTimeInterval: Double(Self.spaceRetryInterval.components.seconds))
            }
        }
    }

    /// Logs the peer messages newly dropped at the engine's boundary, and the forwarded proposals
    /// refused because they do not decode: at most one line of each a second, with the count since
    /// the last line, so a flood of bad messages cannot flood the log too.
    private func reportDroppedMessages() {
        let dropped = host.engine.droppedMessages
        let refused = refusedForwardedProposals.load(ordering: .relaxed)
        guard dropped.count > droppedMessagesLogged || refused > refusedForwardedProposalsLogged else { return }
        let now = ContinuousClock.now
        let first = droppedMessagesLogged == 0 && refusedForwardedProposalsLogged == 0
        guard now - droppedMessagesLoggedAt >= Self.droppedMessagesLogInterval || first else { return }
        droppedMessagesLoggedAt = now
        if dropped.count > droppedMessagesLogged {
            logger.warning("dropped \(dropped.count - droppedMessagesLogged) peer message(s) at the engine's boundary (\(dropped.count) in all); last: \(dropped.last ?? "?")")
            droppedMessagesLogged = dropped.count
        }
        if refused > refusedForwardedProposalsLogged {
            logger.warning("dropped \(refused - refusedForwardedProposalsLogged) forwarded proposal(s) that do not decode (\(refused) in all); last from \(NodeID(lastRefusedForwarder.load(ordering: .relaxed)))")
            refusedForwardedProposalsLogged = refused
        }
    }

    /// A write or sync that failed leaves the disk in an unknown state; nothing that depends on it
    /// may be sent or acknowledged. Stop, as etcd does, rather than risk an acknowledged loss.
    fileprivate func storageGuard(_ work: () throws -> Void) {
        do {
            try work()
        } catch {
            logger.critical("storage failed: \(error); stopping the node")
            fatalError("storage failed: \(error)")
        }
    }
}

/// The node's disk and network, as the host asks for them.
private struct LoopEffects<Engine: ConsensusEngine>: ReplicaEffects
where Engine.Message: WireCodable, Engine.HardState: DurableCoding {
    unowned let loop: ReplicaLoop<Engine>

    func write(_ request: PersistRequest<Engine.HardState>) {
        loop.storageGuard { try loop.storage.write(request) }
    }

    func sync() {
        loop.storageGuard { try loop.timedSync() }
    }

    func syncAfterSends(through index: LogIndex, term: Term) -> Bool {
        loop.storageGuard { try loop.timedSync() }
        return true
    }

    func send(_ messages: [Engine.Message]) {
        loop.transport?.send(messages.map { ($0.to, .engine($0)) })
    }

    /// Serialised and saved off the loop: a large store takes seconds to write out, and the engine
    /// keeps serving until it hears `snapshotCreated` (which `saveSnapshot` queues).
    func saveSnapshot(_ metadata: SnapshotMetadata, writer: @escaping @Sendable () -> [UInt8]) -> Snapshot? {
        let store = loop.storage.snapshots
        let loop = self.loop
        DispatchQueue.global(qos: .utility).async {
            loop.saveSnapshot(Snapshot(metadata: metadata, data: writer()), to: store)
        }
        return nil
    }
}
