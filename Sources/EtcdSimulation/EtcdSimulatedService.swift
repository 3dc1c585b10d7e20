import ConsensusCore
import EtcdServer
import Linearizability
import Logging
import MVCC
import Replica
import Simulation

/// The real etcd service (`EtcdService`: the MVCC store, the lessor, the watch hub, the requests
/// waiting on the log) on every simulated node, under the simulator's faults. Clients' registers
/// become etcd requests: a get is a linearizable range of one key, a put a put, and a
/// compare-and-set a txn comparing the value (or, for an absent key, the create revision 0).
///
/// Besides the history's linearizability, it checks that the revision a member answers with never
/// goes back, that running members at the same revision hold the same keyspace (HashKV), and etcd's
/// watch guarantees (`WatchChecker`) for watchers from past, present and future revisions, each
/// resumed on another member when its own dies, and lease safety (`LeaseChecker`) for leases kept
/// alive and leases left to expire, each with a key attached.
///
/// `@unchecked Sendable`: the service's completions are `Sendable`, but in the simulator they all
/// run on its one thread.
public final class EtcdSimulatedService: SimulatedService, @unchecked Sendable {
    public var name: String { "etcd" }

    static let clusterToken = "synod-simulation"
    let founders: [EtcdMember]
    let clusterID: UInt64
    /// Each node's running service; nil while crashed.
    private var services: [EtcdService?]
    /// Each live node's services on its log (the host holds its application weakly).
    private var routers: [ServiceRouter?]
    /// A second service hosted beside etcd on every node, sharing its log (tests that a service is
    /// added without touching the first). Given the node's slot, its router and its replica.
    public var companion: ((_ node: Int, _ router: ServiceRouter, _ replica: any ReplicaHandle) -> any HostedService)?
    /// The highest revision each member answered a linearizable request with, across restarts.
    private var revisionsAnswered: [Int64]
    private var violations: [String] = []
    let tickMicros: UInt64
    /// Deliberate defects by node slot, for the checkers' mutation tests.
    let faults: [Int: EtcdServiceFaults]

    /// Watchers, at most `watchersMax` per run, created as clients work; and their checker.
    private var watchers: [SimulatedWatcher] = []
    static let watchersMax = 4
    private var watchChecker = WatchChecker()
    /// The service's own choices (when to watch, what, from where), from the run's seed.
    private var random: SeededRandom
    let keyCount: Int
    /// Leases the service grants (at most `leasesMax` per run), and their checker.
    private var leases: [ManagedLease] = []
    static let leasesMax = 3
    private var leaseChecker: LeaseChecker
    /// Virtual time as the services read it, and when the heal phase begins.
    private var clock: (@Sendable () -> ContinuousClock.Instant)?
    private var healedAt: ContinuousClock.Instant?
    let faultPhase: Duration

    struct ManagedLease {
        var id: Int64
        var ttl: Duration
        var keptAlive: Bool
        var lastRenewal: ContinuousClock.Instant
    }

    public init(nodeCount: Int, tickMicros: UInt64, seed: UInt64 = 0, keyCount: Int = 3, faultPhaseTicks: Int = 0, faults: [Int: EtcdServiceFaults] = [:]) {
        self.faults = faults
        faultPhase = .microseconds(Int64(tickMicros) * Int64(faultPhaseTicks))
        leaseChecker = LeaseChecker(staleLeaderAllowance: .microseconds(Int64(tickMicros) * Self.electionTimeoutTicks))
        random = SeededRandom(seed: seed ^ 0x6574_6364)
        self.keyCount = keyCount
        founders = (1...nodeCount).map { Self.member(id: NodeID(UInt64($0)), slot: $0 - 1) }
        clusterID = EtcdMember.clusterID(members: founders.map(\.id), clusterToken: Self.clusterToken)
        services = Array(repeating: nil, count: nodeCount)
        routers = Array(repeating: nil, count: nodeCount)
        revisionsAnswered = Array(repeating: 0, count: nodeCount)
        self.tickMicros = tickMicros
    }

    static func member(id: NodeID, slot: Int) -> EtcdMember {
        EtcdMember(id: id, name: "n\(slot + 1)-\(id.rawValue)", peerURLs: ["http://n\(slot + 1)-\(id.rawValue):2380"], clientURLs: ["http://n\(slot + 1):2379"])
    }

    public var retriesWritesSafely: Bool { false }
    /// Deletes and multi-key txns (atomic puts and reads of two keys) join the workload.
    public var takesMultiKeyOperations: Bool { true }

    /// The simulated Raft's election timeout, in ticks.
    static let electionTimeoutTicks: Int64 = 10

    public func start(node: Int, id: NodeID, replica: any ReplicaHandle, environment: ReplicaEnvironment) -> any ReplicaApplication {
        let founding = founders.contains { $0.id == id }
        let router = ServiceRouter()
        var limits = EtcdService.Limits()
        // Shorter than a client's attempt (40 ticks), so a write that went unanswered is reported
        // as indeterminate by the service rather than retried by the client.
        limits.requestTimeout = .microseconds(Int64(tickMicros) * 30)
        let service = EtcdService(
            identity: founders.first { $0.id == id } ?? Self.member(id: id, slot: node),
            members: founding ? founders : [], clusterID: clusterID, clusterToken: Self.clusterToken,
            replica: router.handle(for: .etcd, over: replica), environment: environment, limits: limits,
            electionTimeout: .microseconds(Int64(tickMicros) * Self.electionTimeoutTicks), logger: Self.silent, faults: faults[node] ?? EtcdServiceFaults())
        if founding { service.bootstrap() }
        if clock == nil {
            // The first start is at virtual time zero.
            clock = environment.now
            healedAt = environment.now() + faultPhase
        }
        service.appliedCommandObserver = { [unowned self] command, revision, events in
            if !events.isEmpty { watchChecker.applied(revision: revision, events: events, node: node) }
            if case .leaseRevoke(let id) = command, let clock { leaseChecker.revoked(id, events: events, at: clock()) }
        }
        services[node] = service
        router.add(service)
        if let companion { router.add(companion(node, router, replica)) }
        routers[node] = router
        return router
    }

    /// As an operator runs `etcdctl alarm disarm` once the full disks have room: each NOSPACE alarm
    /// is disarmed through the running member that has applied the most (a removed or lagging
    /// member may not know of the alarm). A disarm lost with a leader is sent again at the
    /// operator's next look, while the alarm is still raised.
    public func disksHaveRoom() {
        guard let service = services.compactMap({ $0 }).max(by: { $0.appliedIndexOnReplica < $1.appliedIndexOnReplica }) else { return }
        for alarm in service.raisedAlarmsOnReplica where alarm.kind == .noSpace {
            service.submit(.alarm(.deactivate, alarm)) { _ in }
        }
    }

    /// For `SeedSweep` and `Simulator`.
    public static let factory: SimulatedServiceFactory = { nodeCount, options in
        EtcdSimulatedService(nodeCount: nodeCount, tickMicros: options.tickMicros, seed: options.seed, keyCount: options.keyCount, faultPhaseTicks: options.faultPhaseTicks)
    }

    /// The service with deliberate defects on some nodes (by slot; `allNodes` for every one).
    public static func factory(faults: EtcdServiceFaults, onNodes slots: Set<Int>? = nil) -> SimulatedServiceFactory {
        { nodeCount, options in
            let chosen = slots ?? Set(0..<nodeCount)
            return EtcdSimulatedService(
                nodeCount: nodeCount, tickMicros: options.tickMicros, seed: options.seed, keyCount: options.keyCount,
                faultPhaseTicks: options.faultPhaseTicks, faults: Dictionary(uniqueKeysWithValues: chosen.map { ($0, faults) }))
        }
    }

    static let silent = Logger(label: "synod.simulation") { _ in SwiftLogNoOpLogHandler() }

    /// The member's watch streams die with it; their watchers resume elsewhere.
    public func crashed(node: Int) {
        services[node] = nil
        routers[node] = nil
        for index in watchers.indices where watchers[index].node == node {
            watchers[index].node = nil
            watchers[index].stream = nil
            connect(watcher: index, preferring: node + 1)
        }
    }

    public func appliedIndex(node: Int) -> LogIndex { services[node]?.appliedIndexOnReplica ?? 0 }

    /// The digest of the node's composite snapshot, every hosted service's part: what the host's
    /// snapshots record, so applied and snapshotted states compare alike.
    public func stateDigest(node: Int) -> UInt64 {
        guard let router = routers[node] else { return 0 }
        return Digest.of(router.snapshotWriter()())
    }

    public func submit(_ input: KeyValueModel.Input, client: Int, sequence: UInt64, to node: Int, answer: @escaping (ServiceAnswer) -> Void) {
        guard let service = services[node] else { return }
        watchActivity(near: node)
        leaseActivity(near: node)
        compactionActivity(near: node)
        let reply = Reply(answer)
        switch input {
        case .get(let key):
            service.linearizableRange(RangeRequest(key: Array(key.utf8))) { [self] result in
                switch result {
                case .success(let read):
                    answered(node: node, revision: read.revision)
                    reply.send(.output(.value(read.result.kvs.first.map { String(decoding: $0.value, as: UTF8.self) })))
                case .failure(let failure):
                    reply.send(Self.answer(failure))
                }
            }
        case .put(let key, let value):
            // Now and then the put is a txn that also writes a key outside the registers, so a
            // revision holds several events (a prefix watcher must get them in one reply).
            let put = PutRequest(key: Array(key.utf8), value: Array(value.utf8))
            let command: Command = random.chance(0.2)
                ? .txn(TxnRequest(success: [.put(put), .put(PutRequest(key: Array("k-side".utf8), value: Array(value.utf8)))]))
                : .put(put)
            service.submit(command) { [self] result in
                switch result {
                case .success(let write):
                    answered(node: node, revision: write.revision)
                    reply.send(.output(.ok))
                case .failure(let failure):
                    reply.send(Self.answer(failure))
                }
            }
        case .compareAndSet(let key, let expected, let new):
            let keyBytes = Array(key.utf8)
            let compare = expected.map { Compare(key: keyBytes, result: .equal, target: .value(Array($0.utf8))) }
                ?? Compare(key: keyBytes, result: .equal, target: .createRevision(0))
            let txn = TxnRequest(compare: [compare], success: [.put(PutRequest(key: keyBytes, value: Array(new.utf8)))])
            service.submit(.txn(txn)) { [self] result in
                switch result {
                case .success(let write):
                    guard case .txn(let outcome) = write.outcome else {
                        violations.append("n\(node + 1) answered a txn with \(write.outcome)")
                        return reply.send(.unknown)
                    }
                    answered(node: node, revision: write.revision)
                    reply.send(.output(.compareAndSet(succeeded: outcome.succeeded)))
                case .failure(let failure):
                    reply.send(Self.answer(failure))
                }
            }
        case .delete, .putAll, .getAll:
            submitMultiKey(input, to: node, service: service, reply: reply)
        }
    }

    /// Deletes and multi-key txns: answered when their entry applies on `node`, like every write.
    private func submitMultiKey(_ input: KeyValueModel.Input, to node: Int, service: EtcdService, reply: Reply) {
        let command: Command
        switch input {
        case .delete(let key): command = .deleteRange(DeleteRangeRequest(key: Array(key.utf8)))
        case .putAll(let keys, let value): command = .txn(TxnRequest(success: keys.map { .put(PutRequest(key: Array($0.utf8), value: Array(value.utf8))) }))
        case .getAll(let keys): command = .txn(TxnRequest(success: keys.map { .range(RangeRequest(key: Array($0.utf8))) }))
        case .get, .put, .compareAndSet: preconditionFailure("\(input) is not a multi-key operation")
        }
        service.submit(command) { [self] result in
            switch result {
            case .success(let write):
                let output: KeyValueModel.Output
                switch (input, write.outcome) {
                case (.delete, .deleteRange(let deleted)): output = .deleted(deleted.deleted > 0)
                case (.putAll, .txn): output = .ok
                case (.getAll, .txn(let outcome)):
                    output = .values(outcome.responses.map { response in
                        guard case .range(let range) = response else { return nil }
                        return range.kvs.first.map { String(decoding: $0.value, as: UTF8.self) }
                    })
                default:
                    violations.append("n\(node + 1) answered \(input) with \(write.outcome)")
                    return reply.send(.unknown)
                }
                answered(node: node, revision: write.revision)
                reply.send(.output(output))
            case .failure(let failure):
                reply.send(Self.answer(failure))
            }
        }
    }

    static func answer(_ failure: InProcessFailure) -> ServiceAnswer {
        switch failure {
        case .refused: return .refused(nil)
        case .indeterminate: return .unknown
        }
    }

    /// A member's answers never go back in revision: each is linearizable, so each reflects at
    /// least everything the member answered before, restarts included.
    private func answered(node: Int, revision: Int64) {
        if revision < revisionsAnswered[node] {
            violations.append("revision went back: n\(node + 1) answered at revision \(revision) after \(revisionsAnswered[node])")
        }
        revisionsAnswered[node] = max(revisionsAnswered[node], revision)
    }

    // MARK: Watches

    /// Watchers come and go with the clients' work: now and then a new watcher, a progress
    /// request, or a reconnection of a watcher whose member died.
    private func watchActivity(near node: Int) {
        for index in watchers.indices where watchers[index].node == nil { connect(watcher: index, preferring: node) }
        if watchers.count < Self.watchersMax && random.chance(0.01) { addWatcher(on: node) }
        if !watchers.isEmpty && random.chance(0.02) {
            let watcher = watchers[random.int(in: 0..<watchers.count)]
            if let member = watcher.node, let stream = watcher.stream { _ = services[member]?.requestWatchProgress(on: stream) }
        }
    }

    /// A watcher of one key or of every key, from a past revision, the next one, or a future one.
    private func addWatcher(on node: Int) {
        guard let service = services[node] else { return }
        let revision = service.appliedRevisionOnReplica
        let single = random.chance(0.5)
        let key = single ? Array("k\(random.int(in: 0..<keyCount))".utf8) : Array("k".utf8)
        let start: Int64
        switch random.int(in: 0..<3) {
        case 0: start = Int64(random.int(in: 1..<Int(max(2, revision + 1))))
        case 1: start = 0
        default: start = revision + Int64(random.int(in: 1..<6))
        }
        let watcher = SimulatedWatcher(
            index: watchers.count, key: key, rangeEnd: single ? [] : Array("l".utf8), requestedStart: start,
            firstAllowed: max(start, 1), delivered: max(start, 1) - 1)
        watchers.append(watcher)
        connect(watcher: watcher.index, preferring: node)
    }

    /// Opens the watcher's stream on the first running member from `preferring` on, from its
    /// start revision or, when resuming, from the revision after the last it was given.
    private func connect(watcher index: Int, preferring first: Int) {
        let count = services.count
        guard let member = (0..<count).map({ ($0 + first) % count }).first(where: { services[$0] != nil }), let service = services[member] else { return }
        watchers[index].generation += 1
        let generation = watchers[index].generation
        if watchers[index].watchID != nil || watchers[index].requestedStart == 0 && watchers[index].delivered > 0 {
            // Resuming, as clientv3 does on another endpoint: from the revision after the last.
            watchers[index].requestedStart = watchers[index].delivered + 1
            watchers[index].firstAllowed = watchers[index].delivered + 1
        }
        watchers[index].watchID = nil
        let stream = service.openWatchStream { [unowned self] reply in
            guard watchers[index].generation == generation else { return }
            watchChecker.check(reply, watcher: &watchers[index])
            if watchers[index].node == nil, let old = watchers[index].stream {
                // Nothing more from this stream counts (a progress notification for a stream whose
                // only watch is gone says nothing about the watcher).
                watchers[index].generation += 1
                // Canceled for compaction: the stream goes; the watcher resumes at the next activity.
                watchers[index].stream = nil
                services[member]?.closeWatchStream(old)
            }
        }
        watchers[index].node = member
        watchers[index].stream = stream
        _ = service.createWatch(on: stream, key: watchers[index].key, rangeEnd: watchers[index].rangeEnd, startRevision: watchers[index].requestedStart)
    }

    public func counters() -> [String: Int] {
        ["watch_events": watchChecker.eventsChecked, "lease_expiries": leaseChecker.expiries, "compactions": compactions, "watch_compaction_cancels": watchChecker.compactionCancels]
    }

    // MARK: Compaction

    /// The revision compacted last, and how often.
    private var compactedRevision: Int64 = 0
    private var compactions = 0

    /// Now and then a compaction, keeping the last 20 revisions: watchers from older revisions are
    /// then canceled with the compacted revision and resume from it.
    private func compactionActivity(near node: Int) {
        guard random.chance(0.003), let service = services[node] else { return }
        let target = service.appliedRevisionOnReplica - 20
        guard target > compactedRevision else { return }
        compactedRevision = target
        service.submit(.compact(revision: target)) { [unowned self] result in
            if case .success = result { compactions += 1 }
        }
    }

    // MARK: Leases

    /// Now and then a lease (kept alive, or left to expire) with a key attached; renewals of the
    /// kept ones every third of their TTL, through whichever member the clients are using.
    private func leaseActivity(near node: Int) {
        guard let service = services[node], let clock else { return }
        let now = clock()
        if leases.count < Self.leasesMax && random.chance(0.005) {
            let keptAlive = random.chance(0.5)
            service.grantLease(ttlSeconds: 1) { [unowned self] result in
                guard case .success(let grant) = result else { return }
                leaseChecker.granted(grant.id, ttlSeconds: grant.ttl, keptAlive: keptAlive, invokedAt: now)
                leases.append(ManagedLease(id: grant.id, ttl: .seconds(grant.ttl), keptAlive: keptAlive, lastRenewal: now))
                let key = Array("klease/\(grant.id)".utf8)
                service.submit(.put(PutRequest(key: key, value: Array("held".utf8), lease: grant.id))) { [unowned self] put in
                    if case .success = put { leaseChecker.attached(key, to: grant.id) }
                }
            }
        }
        for index in leases.indices where leases[index].keptAlive && now - leases[index].lastRenewal >= leases[index].ttl / 3 {
            leases[index].lastRenewal = now
            let id = leases[index].id
            service.keepAliveLease(id) { [unowned self] result in
                if case .success(let ttl) = result { leaseChecker.renewed(id, ttlSeconds: ttl, invokedAt: now) }
            }
        }
    }

    /// The checks at the end: leases left alone expired, watchers caught up with their members,
    /// and running members at the same revision hold the same keyspace.
    public func finalViolations() -> [String] {
        if let clock, let healedAt { leaseChecker.checkExpired(now: clock(), healedAt: healedAt, margin: .seconds(10)) }
        for watcher in watchers {
            guard let member = watcher.node, watcher.watchID != nil, let service = services[member] else { continue }
            watchChecker.checkCaughtUp(watcher, memberRevision: service.appliedRevisionOnReplica)
        }
        violations += leaseChecker.violations + watchChecker.violations
        var hashes: [Int64: (node: Int, hash: UInt32)] = [:]
        for node in services.indices {
            guard let state = services[node]?.appliedKeyspace else { continue }
            if let other = hashes[state.revision], other.hash != state.hashKV {
                violations.append("n\(node + 1) and n\(other.node + 1) differ at revision \(state.revision): HashKV \(state.hashKV) and \(other.hash)")
            }
            hashes[state.revision] = (node, state.hashKV)
        }
        return violations
    }
}

/// A client's answer callback, carried through the service's `Sendable` completions: everything
/// runs on the simulator's one thread.
private final class Reply: @unchecked Sendable {
    let send: (ServiceAnswer) -> Void
    init(_ send: @escaping (ServiceAnswer) -> Void) { self.send = send }
}
