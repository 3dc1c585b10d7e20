import ConsensusCore
import EtcdAPI
import Foundation
import Logging
import MVCC
import Node
import Replica
import Synchronization

/// The etcd front end on one node: it owns the replicated state machine (`EtcdStateMachine`, the
/// MVCC store the log is applied to) and everything clients see of it: the requests waiting for
/// it, lease timers, watches, the member list the transport dials, metrics. It is the `ReplicaApplication` of the node's replica (the
/// node's `ReplicaLoop`, or a simulated node), which it reaches through `ReplicaHandle`; time,
/// background work and randomness come from its `ReplicaEnvironment`, so the simulator runs this
/// very service in virtual time.
///
/// Threads: everything named "loop state" is touched only on the replica's thread; gRPC handlers
/// reach it through `PendingRequests` (a lock) and `ReplicaHandle.perform`.
public final class EtcdService: HostedService, @unchecked Sendable {
    public struct Limits: Sendable {
        /// etcd's --max-request-bytes: the largest request accepted (1.5 MiB).
        public var requestBytesMax = 1_572_864
        /// How long a request may wait for its answer: etcd's request timeout (5 s) plus two
        /// election timeouts, after which the client is told it timed out.
        public var requestTimeout: Duration = .seconds(7)
        /// Requests in flight per kind.
        public var pendingRequestsMax = 65_536
        /// etcd's --quota-backend-bytes: the store's size (`MVCCStore.sizeBytes`) past which writes
        /// that add data are refused and a NOSPACE alarm is raised.
        public var quotaBytes = 2 << 30
        public init() {}
    }

    enum ReadWork {
        case range(RangeRequest)
        case txn(TxnRequest)
    }

    enum ReadOutcome {
        case range(RangeResult)
        case txn(TxnResult)
    }

    typealias WriteAnswer = Result<(outcome: CommandOutcome, revision: Int64), EtcdError>
    typealias ReadAnswer = Result<(outcome: ReadOutcome, revision: Int64), EtcdError>

    public let identity: EtcdMember
    /// The cluster's id; 0 for a member joining an existing cluster until a peer's hello names it.
    let clusterIdentity: Atomic<UInt64>
    public var clusterID: UInt64 { clusterIdentity.load(ordering: .relaxed) }
    /// etcd's --initial-cluster-token, from which member ids derive.
    let clusterToken: String
    let limits: Limits
    let logger: Logger
    /// etcd's minimum lease TTL: one and a half election timeouts, rounded up to whole seconds, so
    /// a lease cannot expire before a new leader could have been elected to renew it.
    let minimumLeaseTTLSeconds: Int64
    let electionTimeout: Duration
    /// The replica hosting this service.
    let replica: any ReplicaHandle
    let environment: ReplicaEnvironment
    private let requestCounter: Atomic<UInt64>

    let pendingWrites: PendingRequests<Void, WriteAnswer>
    let pendingReads: PendingRequests<ReadWork, ReadAnswer>
    let pendingCalls: PendingRequests<Void, [UInt8]?>

    /// The members as `--initial-cluster` names them, listed until the store has a member table;
    /// peers' client URLs are learned from their hellos until they publish them.
    let membersLock = NSLock()
    let membersByID: [NodeID: EtcdMember]
    var learnedClientURLs: [NodeID: [String]] = [:]
    /// The store's member table as of the last change (see `membersChanged`).
    var replicatedMembers: [Member] = []
    /// Tells the transport where every member listens, and which members to keep a link to even
    /// when their address is not among them (set by the node).
    var peersChanged: (([PeerAddress], Set<NodeID>) -> Void)?
    /// Loop state: member changes followers forwarded to this leader, by request id.
    var forwardedMemberChanges: [RequestID: NodeID] = [:]
    var lastPublishAttempt: ContinuousClock.Instant

    // Loop state.
    /// What the replicas agree on; everything else here is this member's own.
    var machine = EtcdStateMachine()
    var store: MVCCStore { machine.store }
    var appliedIndex: LogIndex { machine.appliedIndex }
    /// The term of the last entry applied (a leader serves lease calls once it is its own).
    var appliedTerm: Term { machine.appliedTerm }
    var readsAwaitingApply: [(index: LogIndex, id: RequestID)] = []
    var lessor = Lessor()
    let watches: WatchHub
    /// Told of each command that applied, with the revision after it and its events, on the loop:
    /// the simulator's watch and lease checkers learn the committed history from it. Nil on a node.
    public var appliedCommandObserver: ((Command, Int64, [Event]) -> Void)?
    /// Fired when the node begins to stop; streaming handlers end on it.
    let shutdown = ShutdownSignal()
    var wasLeader = false
    /// The leader as of the last iteration.
    var knownLeader: NodeID?
    /// etcd's metrics, served at `/metrics`.
    let metrics: EtcdMetrics
    /// What the dashboard reads (`Dashboard/`): its listeners' URLs, leader changes and applied
    /// writes counted, request and WAL fsync latencies in buckets, and its open event streams.
    public var dashboardURLs: [String] = []
    let leaderChangesCount = Atomic<Int>(0)
    let appliedWrites = Atomic<Int>(0)
    let requestLatency = LatencyBuckets.requests()
    let walFsyncLatency = LatencyBuckets.walFsync()
    let dashboardStreams = Atomic<Int>(0)
    /// Maintenance.Snapshot streams open (bounded by `MaintenanceService.snapshotStreamsMax`).
    let snapshotStreams = Atomic<Int>(0)
    /// The transport's dropped-frame count, for `/metrics` (set by the node).
    var droppedPeerFrames: DroppedFrames?
    /// etcd's `warnApplyDuration`: an entry taking longer to apply counts as a slow apply.
    static let slowApplyDuration: Duration = .milliseconds(100)
    /// The leader's own compactions (`--auto-compaction-*`); nil when off.
    public var autoCompaction: AutoCompaction?
    /// `--experimental-corrupt-check-time`; nil when off. See `EtcdService+CorruptCheck`.
    public var corruptCheckInterval: Duration?
    var lastCorruptCheck: ContinuousClock.Instant
    let corruptCheckRunning = Atomic<Bool>(false)
    /// A HashKV for a peer's corruption check is being computed (see `hashKVCall`).
    let hashKVAnswering = Atomic<Bool>(false)
    /// Deliberate defects, for the checkers' mutation tests; empty in production.
    let faults: EtcdServiceFaults
    /// Loop state of the peer round-trip probe (`EtcdService+PeerProbe`).
    var lastPingRound: ContinuousClock.Instant
    var pingsInFlight: [UInt64: (peer: NodeID, sentAt: ContinuousClock.Instant)] = [:]
    var lastSweep: ContinuousClock.Instant
    var lastAlarmRetry: ContinuousClock.Instant
    /// How long a NOSPACE proposal may go unapplied before it may be proposed again.
    static let alarmRetryInterval: Duration = .seconds(5)
    /// Published for handlers on other threads: the store's revision after the last apply.
    let publishedRevision = Atomic<Int64>(1)
    /// Published likewise: the store's size, and whether a NOSPACE alarm is raised.
    let publishedSizeBytes = Atomic<Int>(0)
    let publishedNoSpaceAlarm = Atomic<Bool>(false)
    /// The disk has no room for the log's next segment or a snapshot (set by the replica loop).
    let storageExhausted = Atomic<Bool>(false)
    /// A NOSPACE alarm was proposed and has not applied yet, so it is not proposed again.
    let noSpaceAlarmProposed = Atomic<Bool>(false)

    public init(identity: EtcdMember, members: [EtcdMember], clusterID: UInt64, clusterToken: String, replica: any ReplicaHandle, environment: ReplicaEnvironment = .live, limits: Limits, electionTimeout: Duration, logger: Logger, faults: EtcdServiceFaults? = nil) {
        let (seconds, attoseconds) = (electionTimeout * 3 / 2).components
        minimumLeaseTTLSeconds = max(1, seconds + (attoseconds > 0 ? 1 : 0))
        self.electionTimeout = electionTimeout
        self.identity = identity
        clusterIdentity = Atomic(clusterID)
        self.clusterToken = clusterToken
        self.replica = replica
        self.environment = environment
        self.limits = limits
        self.logger = logger
        membersByID = Dictionary(uniqueKeysWithValues: members.map { ($0.id, $0) })
        if let faults {
            self.faults = faults
        } else {
            let configured = EtcdServiceFaults.fromEnvironment()
            for name in configured.unknown { logger.warning("ignoring \(name): no such fault") }
            self.faults = configured.faults
        }
        if let fault = self.faults.watch { logger.warning("\(WatchFault.environmentVariable)=\(fault.rawValue): watches are deliberately broken, for testing the checkers") }
        watches = WatchHub(fault: self.faults.watch, clock: environment.now)
        machine.altersPuts = self.faults.alterPuts
        if self.faults.alterPuts { logger.warning("SYNOD_STORE_FAULT=alter-puts: this member's store deliberately diverges, for testing the corruption check") }
        if self.faults.staleReads { logger.warning("SYNOD_STORE_FAULT=stale-reads: this member answers linearizable reads from its own store, for testing the checkers") }
        // Request ids start at a random point, so a restarted node never reuses an id that an
        // entry still in the log carries.
        requestCounter = Atomic(environment.random() >> 1 | 1)
        let now = environment.now()
        lastPublishAttempt = now - .seconds(60)
        lastCorruptCheck = now
        lastPingRound = now
        lastSweep = now
        lastAlarmRetry = now
        pendingWrites = PendingRequests(capacity: limits.pendingRequestsMax)
        pendingReads = PendingRequests(capacity: limits.pendingRequestsMax)
        pendingCalls = PendingRequests(capacity: limits.pendingRequestsMax)
        metrics = EtcdMetrics(memberID: identity.id.rawValue, serverVersion: MaintenanceService.apiVersion)
    }

    /// Request and call ids carry the etcd tag in their top byte, for the host's `ServiceRouter`.
    func nextRequestID() -> RequestID {
        ServiceTag.etcd.requestID(requestCounter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// Now, as the environment tells it.
    var now: ContinuousClock.Instant { environment.now() }

    var deadline: ContinuousClock.Instant { now + limits.requestTimeout }

    /// The header every response carries.
    func header(revision: Int64? = nil) -> Etcdserverpb_ResponseHeader {
        var header = Etcdserverpb_ResponseHeader()
        header.clusterID = clusterID
        header.memberID = identity.id.rawValue
        header.revision = revision ?? publishedRevision.load(ordering: .relaxed)
        header.raftTerm = replica.status.term
        return header
    }

    // MARK: HostedService (loop thread)

    public var tag: ServiceTag { .etcd }

    public func acceptsSnapshotPart(_ part: [UInt8]) -> Bool { Self.acceptsSnapshotPart(part) }

    /// Whether a snapshot part restores into a store (a sendable check, for the engine).
    public static func acceptsSnapshotPart(_ part: [UInt8]) -> Bool { part.isEmpty || (try? MVCCStore(snapshot: part)) != nil }

    public func apply(_ entries: [Entry], status: EngineStatus) {
        for entry in entries {
            let started = ContinuousClock.now
            switch machine.apply(entry) {
            case .noEffect:
                continue
            case .skipped(let reason):
                // Every replica meets the same bytes and skips them alike, so the stores stay equal;
                // a trap here would stop every member at every restart.
                logger.error("skipping committed entry \(entry.index): it does not decode (\(reason))")
            case .configuration(let configuration):
                appliedConfiguration(configuration)
            case .command(let proposal, let result, let events):
                if ContinuousClock.now - started > Self.slowApplyDuration { metrics.slowApplies.increment() }
                if case .success = result { appliedWrites.wrappingAdd(1, ordering: .relaxed) }
                applied(proposal.command, result)
                if let appliedCommandObserver, case .success = result { appliedCommandObserver(proposal.command, store.revision, events) }
                watches.dispatch(events, revision: store.revision)
                if proposal.requestID.rawValue != 0 {
                    pendingWrites.resolve(proposal.requestID, result.map { ($0, store.revision) }.mapError { .store($0) })
                }
            }
        }
        publish()
        serveReadsAwaitingApply()
    }

    public func readReady(_ id: RequestID, index: LogIndex) {
        if index <= appliedIndex {
            serveRead(id)
        } else {
            readsAwaitingApply.append((index, id))
        }
    }

    public func rejected(_ id: RequestID, _ reason: RequestRejection) {
        if pendingWrites.resolve(id, .failure(EtcdError(reason))) {
            metrics.proposalsFailed.increment()
            return
        }
        if let read = pendingReads.take(id) { read.resume(.failure(EtcdError(reason))) }
        // A membership change a follower forwarded: tell it, so its client hears the reason.
        if let follower = forwardedMemberChanges.removeValue(forKey: id) { refuseForwardedChange(id, to: follower, reason) }
    }

    public func snapshotWriter() -> @Sendable () -> [UInt8] {
        let copy = machine  // Copy-on-write: later applies do not touch this copy.
        return { copy.snapshot() }
    }

    public func restore(_ snapshot: Snapshot) {
        do {
            try machine.restore(snapshot)
        } catch {
            // The router checked the part before the engine took the snapshot (`acceptsSnapshotPart`).
            preconditionFailure("snapshot \(snapshot.metadata) does not decode: \(error)")
        }
        // A snapshot from before the store kept members (format 2) has none: the flags' table stands.
        if store.members.isEmpty, !membersByID.isEmpty { machine.bootstrapMembers(voters: Set(membersByID.keys.map(\.rawValue))) }
        membersChanged()
        lessor.restore(from: store, now: now)
        watches.storeReplaced()
        publish()
    }

    public func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {
        if status.isLeader && !wasLeader {
            // As etcd's lessor.Promote: a new leader cannot know how long clients went without
            // renewing, so every lease gets its full TTL again rather than expiring early. The
            // compactor starts its window afresh, as etcd resumes its own on promotion.
            lessor.extendAll(now: now)
            autoCompaction?.reset()
        }
        wasLeader = status.isLeader
        if status.leader != knownLeader {
            // Calls on their way to the old leader will get no answer: tell their callers now,
            // so a keep-alive is retried with the new leader instead of waiting out its deadline.
            if knownLeader != nil { pendingCalls.drain(with: Self.notLeaderPayload) }
            // As etcd counts: each time a (new) leader is seen, the first one included.
            if status.leader != nil {
                metrics.leaderChangesSeen.increment()
                leaderChangesCount.wrappingAdd(1, ordering: .relaxed)
            }
            knownLeader = status.leader
        }
        publishAttributesIfNeeded(status: status, now: now)
        pingPeersIfDue(now: now)
        if status.isLeader {
            corruptCheckIfDue(now: now)
            revokeExpiredLeases(now: now)
            compactIfDue(now: now)
        }
        watches.catchUp(store: store)
        if now - lastSweep >= .milliseconds(100) {
            lastSweep = now
            let timedOut = pendingWrites.expire(now: now, with: .failure(.timeout))
            if timedOut > 0 { metrics.proposalsFailed.increment(by: Int64(timedOut)) }
            pendingReads.expire(now: now, with: .failure(.timeout))
            pendingCalls.expire(now: now, with: nil)
            if now - lastAlarmRetry >= Self.alarmRetryInterval {
                lastAlarmRetry = now
                retryStuckAlarmProposal()
            }
            watches.sendProgress(now: now, revision: store.revision)
        }
    }

    // MARK: Reads

    func serveReadsAwaitingApply() {
        guard !readsAwaitingApply.isEmpty else { return }
        var waiting: [(index: LogIndex, id: RequestID)] = []
        for read in readsAwaitingApply {
            if read.index <= appliedIndex { serveRead(read.id) } else { waiting.append(read) }
        }
        readsAwaitingApply = waiting
    }

    func serveRead(_ id: RequestID) {
        guard let waiter = pendingReads.take(id) else { return }
        evaluateOffLoop(waiter.context, completion: waiter.resume)
    }

    /// Answers a read from the store as it is now, in the background: the loop only copies the
    /// store (copy-on-write: O(1) now, and its next write copies a B-tree path and one log chunk,
    /// not the store), so a range over a million keys, and the encoding of its response, never
    /// hold up heartbeats and fsyncs. Loop thread only.
    func evaluateOffLoop(_ work: ReadWork, completion: @escaping @Sendable (ReadAnswer) -> Void) {
        let view = store
        environment.runInBackground { completion(Self.evaluate(work, on: view)) }
    }

    /// Answers a read from `store`.
    static func evaluate(_ work: ReadWork, on store: MVCCStore) -> ReadAnswer {
        switch work {
        case .range(let request):
            do throws(MVCCError) {
                return .success((.range(try store.range(request)), store.revision))
            } catch {
                return .failure(.store(error))
            }
        case .txn(let request):
            // A read-only transaction changes nothing; evaluating it on a copy keeps that obvious.
            var copy = store
            switch copy.apply(.txn(request)) {
            case .success(.txn(let result)): return .success((.txn(result), store.revision))
            case .success(let other): preconditionFailure("a txn answered \(other)")
            case .failure(let error): return .failure(.store(error))
            }
        }
    }

    // MARK: Peers

    public func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? {
        var reader = ByteReader(payload)
        if let kind = reader.readByte(), let call = MemberCall(rawValue: kind) {
            memberCall(call, &reader, from: from)
            return nil
        }
        if payload.first == Self.hashKVCallKind { return hashKVCall(payload, from: from, callID: callID) }
        if payload == [Self.pingCallKind] { return [] }
        return leaseCall(payload)
    }

    /// A forwarded proposal must decode to a command that passes the same validation a client's
    /// request does here; anything else would be refused by every replica when applied.
    public func acceptsForwardedProposal(_ data: [UInt8]) -> Bool {
        guard data.count <= limits.requestBytesMax, let proposal = try? EtcdProposal(decoding: data) else { return false }
        do throws(MVCCError) {
            try MVCCStore.validator.validate(proposal.command)
            return true
        } catch {
            return false
        }
    }

    public func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {
        if pingAnswered(id) { return }
        pendingCalls.resolve(RequestID(id), payload)
    }

    /// A peer's hello told us its client URLs, and the cluster's id if this node did not know it.
    public func learned(clientURLs: [String], of member: NodeID, clusterID: UInt64) {
        _ = clusterIdentity.compareExchange(expected: 0, desired: clusterID, ordering: .relaxed)
        membersLock.lock()
        learnedClientURLs[member] = clientURLs
        membersLock.unlock()
    }

    /// The members as `MemberList` reports them: the store's table once it has one, else the
    /// flags'. A founding member that has not published its attributes yet is shown as the flags
    /// name it, and client URLs not yet published are taken from the member's hello.
    var members: [Member] {
        membersLock.lock()
        defer { membersLock.unlock() }
        let listed = replicatedMembers.isEmpty ? bootstrapMembers : replicatedMembers
        return listed.map { member in
            var member = member
            if member.attributes.peerURLs.isEmpty, let founder = membersByID[NodeID(member.id)] {
                member.attributes.name = founder.name
                member.attributes.peerURLs = founder.peerURLs
            }
            if member.attributes.clientURLs.isEmpty, let learned = learnedClientURLs[NodeID(member.id)] {
                member.attributes.clientURLs = learned
            }
            return member
        }
    }

    /// The members `--initial-cluster` names (empty for a member joining an existing cluster).
    var bootstrapMembers: [Member] {
        membersByID.values.sorted { $0.id < $1.id }.map { member in
            Member(attributes: MemberAttributes(id: member.id.rawValue, name: member.name, peerURLs: member.peerURLs, clientURLs: member.clientURLs), isLearner: false)
        }
    }

    /// A new cluster's first configuration, from the flags (no log entry records it).
    public func bootstrap() {
        machine.bootstrapMembers(voters: Set(membersByID.keys.map(\.rawValue)))
        membersChanged()
    }

    /// Fails every waiting request, at shutdown.
    public func drain() {
        pendingWrites.drain(with: .failure(.stopped))
        pendingReads.drain(with: .failure(.stopped))
        pendingCalls.drain(with: nil)
        watches.closeAll()
    }
}
