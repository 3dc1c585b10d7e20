import ConsensusCore
import HeapModule
import Linearizability
import Replica

/// The deterministic simulator: one seed drives cluster size, message delays, loss, duplication,
/// reordering, partitions, crashes and the client workload, for any engine. A run has a fault phase
/// and then a heal phase in which progress is required, as in TigerBeetle's VOPR. Checkers watch every
/// step; the client history is checked for linearizability at the end.
public final class Simulator<Engine: SimulatableEngine> {
    /// A node's process and disk. A class, so that stepping an engine or writing its storage happens
    /// in place rather than through copies of the whole node.
    final class Node {
        /// The running process: the same replica host a real node runs. Nil while crashed.
        var host: ReplicaHost<Engine>?
        /// What the process's service reaches its replica through.
        var handle: SimulatedReplicaHandle<Engine>?
        /// The process's service, checked (the host holds it weakly).
        var application: CheckedApplication<Engine>?
        var storage: SimulatedStorage<Engine.HardState>
        /// The node's real log and snapshot files on a faulty in-memory disk, when the run asks
        /// for them (`SimulatedDisk.wal`); `storage` then follows what they recover.
        var wal: WALDisk<Engine.HardState>?
        /// Crash this node the next time it persists, before or after syncing.
        var armedCrash: ArmedCrash?
        /// Counts this node's process lives, so a disk completion scheduled before a crash is not
        /// reported to the process started after it.
        var incarnation: UInt64 = 0
        /// When the disk finishes the overlapping writes already given to it.
        var diskBusyUntil: UInt64 = 0
        /// The disk refused to start (a bit flip found by recovery). The operator must remove the
        /// node from the group and add a replacement on a wiped disk under a new identity.
        var refusesToStart = false
        /// The power cut left the disk so full that recovery could not finish: the node stays
        /// down until the disk has room, then recovers (`SimulatedDisk.wal` only).
        var awaitsRoomToRecover = false

        init(storage: SimulatedStorage<Engine.HardState>) { self.storage = storage }

        /// The running engine, for reading its status and membership.
        var engine: Engine? { host?.engine }
    }

    enum ArmedCrash { case beforeSync, afterSync }

    let options: SimulationOptions
    /// What the nodes run and the clients use.
    let service: SimulatedService
    /// Virtual time zero as the service's clock reads it: only differences of instants matter.
    let epoch = ContinuousClock.now
    let nodeCount: Int
    /// The first configuration every node starts from, the ids of the nodes' first identities.
    let bootstrapVoters: [NodeID]
    /// The identity each node slot runs under now. A slot replaced after disk corruption gets a new
    /// id, as etcd gives a re-added member a new member id: its old votes must never be mistaken for
    /// the new process's.
    var nodeIDs: [NodeID]
    var random: SeededRandom
    var network: SimulatedNetwork
    var nodes: [Node]
    var clients: [SimulatedClient] = []
    var queue = EventQueue<Engine.Message>()
    var now: UInt64 = 0
    var nextOrder: UInt64 = 0
    var nextRequestID: UInt64 = 1
    var checker: SafetyChecker<Engine>
    var trace: Trace<Engine>
    var history: [HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>] = []
    var report: SimulationReport
    var healed = false
    /// The engine configuration profile of this seed.
    let profile: UInt64
    /// How long an overlapping write takes to sync on this seed's disks: a fast NVMe drive, an SSD,
    /// or a slow or busy disk that syncs slower than the network's round trip.
    let diskLatencyMicros: Range<Int>

    var healTime: UInt64 { UInt64(options.faultPhaseTicks) * options.tickMicros }
    var endTime: UInt64 { UInt64(options.faultPhaseTicks + options.healPhaseTicks) * options.tickMicros }
    /// Clients stop starting operations early enough that every one can finish within the bound.
    var lastIssueTime: UInt64 { endTime - UInt64(options.livenessBoundTicks) * options.tickMicros }

    /// A run of `service` (the simulator's own key-value service when nil) for `options.seed`.
    public init(options: SimulationOptions, service makeService: SimulatedServiceFactory? = nil) {
        self.options = options
        var random = SeededRandom(seed: options.seed)
        let nodeCount = options.nodeCount ?? (random.chance(0.5) ? 3 : 5)
        self.service = makeService?(nodeCount, options) ?? KeyValueService(nodeCount: nodeCount)
        precondition((1...7).contains(nodeCount), "the simulator hosts 1 to 7 nodes, not \(nodeCount)")
        precondition(options.livenessBoundTicks < options.healPhaseTicks, "the liveness bound must fit in the heal phase")
        self.nodeCount = nodeCount
        self.checker = SafetyChecker(nodeCount: nodeCount)
        self.profile = random.next()
        var diskChoice = SeededRandom(seed: profile ^ 0x6469_736b)
        self.diskLatencyMicros = [20..<200, 200..<2_000, 2_000..<20_000][diskChoice.int(in: 0..<3)]
        self.bootstrapVoters = (1...nodeCount).map { NodeID(UInt64($0)) }
        self.nodeIDs = bootstrapVoters
        self.network = SimulatedNetwork(nodeCount: nodeCount)
        self.nodes = (0..<nodeCount).map { _ in Node(storage: SimulatedStorage(hardState: Engine.emptyHardState)) }
        self.trace = Trace(tailCapacity: options.traceTailCount, recordEverything: options.recordFullTrace)
        self.report = SimulationReport(seed: options.seed, nodeCount: nodeCount)
        report.faultPhaseTicks = options.faultPhaseTicks
        report.healPhaseTicks = options.healPhaseTicks
        report.nodeCountGiven = options.nodeCount
        report.disk = options.disk
        self.random = random
        for index in 0..<nodeCount where options.disk == .wal { nodes[index].wal = makeWALDisk(node: index) }
        for index in 0..<nodeCount {
            startHost(node: index, engine: Engine.start(id: nodeIDs[index], voters: bootstrapVoters, profile: profile, random: self.random.fork(), restoring: nil), snapshot: nil)
            // Nodes tick out of phase with each other, as real clocks would.
            schedule(.tick(node: index), at: UInt64(self.random.int(in: 0..<Int(options.tickMicros))))
        }
        for index in 0..<options.clientCount {
            clients.append(SimulatedClient(index: index, preferredNode: self.random.int(in: 0..<nodeCount)))
            scheduleWake(client: index, at: UInt64(self.random.int(in: 0..<Int(options.tickMicros * 20))))
        }
        scheduleNextFault()
        schedule(.heal, at: healTime)
        if let tick = options.leadershipTransferAtTick { schedule(.scriptedTransfer, at: UInt64(tick) * options.tickMicros) }
    }

    /// Runs the seed to the end and checks the history.
    public func run() -> SimulationReport {
        while let event = queue.popMin(), event.time <= endTime, report.violations.isEmpty {
            now = event.time
            report.events += 1
            handle(event.kind)
            if !checker.violations.isEmpty { break }
        }
        finish()
        return report
    }

    func schedule(_ kind: ScheduledEvent<Engine.Message>.Kind, at time: UInt64) {
        queue.insert(ScheduledEvent(time: time, order: nextOrder, kind: kind))
        nextOrder += 1
    }

    func handle(_ kind: ScheduledEvent<Engine.Message>.Kind) {
        switch kind {
        case .tick(let node):
            schedule(.tick(node: node), at: now + options.tickMicros)
            if node == 0 && now / options.tickMicros % operatorPeriodTicks == 0 {
                if report.disksCorrupted > report.nodesReplaced { replaceRefusingNodes() }
                if report.counters["disks_filled", default: 0] > 0 && !nodes.contains(where: { $0.wal?.isFilled == true }) { service.disksHaveRoom() }
            }
            if nodes[node].host != nil { step(node: node, .tick) }
        case .deliver(let message, let node):
            // A message to a replaced identity is lost with that identity.
            if nodes[node].host != nil && nodeIDs[node] == message.to { step(node: node, .receive(message)) }
        case .diskSynced(let node, let incarnation, let index, let term):
            diskSynced(node: node, incarnation: incarnation, index: index, term: term)
        case .clientWake(let client, let generation):
            if generation == clients[client].wakeGeneration { wakeClient(client) }
        case .fault:
            injectFault()
            scheduleNextFault()
        case .heal:
            healEverything()
        case .scriptedTransfer:
            transferLeadership()
        case .host(let node, let incarnation, let input):
            guard nodes[node].host != nil, nodes[node].incarnation == incarnation else { return }
            switch input {
            case .event(let event): step(node: node, event)
            case .proposal(let proposal): step(node: node, [], proposals: [proposal])
            case .work(let work): work()
            }
        }
    }

    // MARK: Driving engines

    /// Starts a node's process: a replica host around `engine`, with a new instance of the
    /// service restored from the durable `snapshot`, and the per-step checks and trace.
    func startHost(node: Int, engine: Engine, snapshot: Snapshot?) {
        let host = ReplicaHost(engine: engine)
        let handle = SimulatedReplicaHandle(simulator: self, node: node, incarnation: nodes[node].incarnation)
        let seed = random.next()
        let clock = VirtualClock(simulator: self)
        let environment = ReplicaEnvironment.simulated(seed: seed) { clock.instant }
        let service = self.service.start(node: node, id: nodeIDs[node], replica: handle, environment: environment)
        if let snapshot { service.restore(snapshot) }
        let application = CheckedApplication(simulator: self, node: node, inner: service)
        host.application = application
        host.stepObserver = { [unowned self, unowned host] event, actions, before, after in
            // Engines' own rules are about leaders moving their commit index (Raft's Figure 8).
            if after.isLeader && after.commitIndex > before.commitIndex, checker.checksProtocolRules, let violation = host.engine.protocolViolation(since: before) {
                checker.fail(violation)
            }
            trace.record(.step(node: node, event: event, actions: actions), at: now)
        }
        nodes[node].host = host
        nodes[node].handle = handle
        nodes[node].application = application
    }

    /// Now, as an instant on the services' clock (only differences of instants matter).
    var virtualInstant: ContinuousClock.Instant { epoch.advanced(by: .microseconds(now)) }

    /// Runs `work` with `to`'s application after the network's delay from `from` (as often as the
    /// network duplicates it, or never when it is lost or `to` crashed meanwhile).
    func sendBetweenHosts(from: Int, to target: Int, _ work: @escaping (any ReplicaApplication) -> Void) {
        let incarnation = nodes[target].incarnation
        for delay in network.deliveryDelays(from: from, to: target, random: &random) {
            schedule(.host(node: target, incarnation: incarnation, .work { [unowned self] in
                if let application = nodes[target].application { work(application) }
            }), at: now + delay)
        }
    }

    /// Runs one event through the node's host, and the events its actions feed back (a snapshot
    /// made, an overlapping write's completion is scheduled on the disk instead), checking the
    /// cluster after each batch.
    func step(node: Int, _ event: EngineEvent<Engine.Message>) {
        step(node: node, [event])
    }

    func step(node: Int, _ firstEvents: [EngineEvent<Engine.Message>], proposals firstProposals: [Proposal] = []) {
        guard let host = nodes[node].host else { preconditionFailure("stepping crashed node n\(node + 1)") }
        var events = firstEvents
        var proposals = firstProposals
        while !events.isEmpty || !proposals.isEmpty {
            let previous = host.status
            var effects = SimulatedEffects(simulator: self, node: node)
            do {
                events = try host.run(events, proposals: proposals, effects: &effects)
            } catch {
                return  // The node crashed part-way; its host is gone.
            }
            proposals = []
            // What a node's loop checks after each iteration: the log could not prepare a segment.
            if let wal = nodes[node].wal { host.storageSpace(exhausted: wal.isOutOfSpace) }
            let status = host.status
            let storage = nodes[node].storage
            checker.checkStatus(node: node, status: status, applied: service.appliedIndex(node: node)) { storage }
            if status.isLeader && status.commitIndex > previous.commitIndex { checkCommitIsDurable(leader: node, status: status) }
            host.finishBatch(now: virtualInstant)
            guard nodes[node].host === host else { return }
        }
    }

    /// The slot a node id runs in, if that id is current. Ids of slot `i` are `i + 1`, then `i + 1`
    /// plus multiples of 8 for each replacement (the simulator hosts at most 7 nodes).
    func slot(of id: NodeID) -> Int? {
        let slot = Int((id.rawValue - 1) % 8)
        return slot < nodeCount && nodeIDs[slot] == id ? slot : nil
    }

    // MARK: Ending

    func finish() {
        report.simulatedMicros = now
        report.leadersElected = checker.leadersElected
        report.violations = checker.violations + report.violations
        if report.violations.isEmpty {
            for client in clients {
                guard let operation = client.operation else { continue }
                if operation.mustComplete && now >= operation.deadline {
                    report.violations.append("liveness: client \(client.index) operation \(operation.input) issued after healing did not complete")
                }
                recordAbandoned(client: client.index, operation)
            }
        }
        if report.violations.isEmpty { report.violations += service.finalViolations() }
        report.counters.merge(service.counters(), uniquingKeysWith: +)
        if report.violations.isEmpty {
            let model = KeyValueModel(groups: service.takesMultiKeyOperations ? SimulatedClient.multiKeyPartitions(keyCount: options.keyCount) : [:])
            switch Linearizability.check(model, history: history, maxSteps: options.linearizabilityStepsMax) {
            case .linearizable: break
            case .notLinearizable(let key, let explanation):
                report.violations.append("linearizability: key \(key): \(explanation)")
            case .unknown:
                report.linearizabilityUnknown = true
            }
        }
        report.traceDigest = trace.digest
        report.fullTrace = trace.fullTrace ?? []
        if !report.violations.isEmpty { report.traceTail = trace.formattedTail }
    }
}

/// The simulator's time for a service's clock, which must be `Sendable`: everything runs on the
/// simulator's one thread.
final class VirtualClock<Engine: SimulatableEngine>: @unchecked Sendable {
    unowned let simulator: Simulator<Engine>
    init(simulator: Simulator<Engine>) { self.simulator = simulator }
    var instant: ContinuousClock.Instant { simulator.virtualInstant }
}
