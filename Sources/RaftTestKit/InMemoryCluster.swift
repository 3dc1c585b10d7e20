import ConsensusCore
import Raft
import Replica
import Simulation

/// A Raft cluster with no I/O and no simulated time, for benchmarks of the engine and the fuzzer:
/// messages go through one FIFO queue and are delivered at once, persists are free, and each node
/// applies to a small key-value map that can be snapshotted. Each node is the `ReplicaHost` that
/// `synod serve` and the simulator run, so the figures include what the shell does per step.
public final class InMemoryCluster {
    let hosts: [ReplicaHost<RaftEngine>]
    let applications: [BenchmarkApplication]
    private var queue: [RaftMessage] = []
    private var queueHead = 0
    /// Nodes whose messages, in and out, are dropped.
    public var isolated: Set<Int> = [] {
        didSet { isolatedFlags = hosts.indices.map { isolated.contains($0) } }
    }
    /// `isolated` as flags, so the per-message check does not hash.
    private var isolatedFlags: [Bool]
    public private(set) var steps = 0
    public private(set) var messagesSent = 0
    /// Bytes of entries and snapshot chunks sent to each node.
    public private(set) var bytesSentTo: [Int]
    public private(set) var messagesSentTo: [Int]
    public var snapshotsInstalled: Int { applications.reduce(0) { $0 + $1.snapshotsInstalled } }
    /// Called for every command entry a node applies, with the node's index and the step count.
    public var onApply: (Int, Entry, Int) -> Void = { _, _, _ in }
    /// Off for pure engine throughput: entries are then counted but not applied to any state.
    public var appliesToStateMachines = true

    public init(nodeCount: Int = 3, configure: (inout RaftConfiguration) -> Void = { _ in }) {
        let voters = (1...nodeCount).map { NodeID(UInt64($0)) }
        hosts = voters.map { id in
            var configuration = RaftConfiguration(id: id, voters: voters)
            configuration.inflightMessagesMax = 4096
            configuration.inflightBytesMax = 256 << 20
            configure(&configuration)
            return ReplicaHost(engine: RaftEngine(configuration: configuration, random: SeededRandom(seed: id.rawValue)))
        }
        applications = (0..<nodeCount).map { BenchmarkApplication(node: $0) }
        bytesSentTo = Array(repeating: 0, count: nodeCount)
        isolatedFlags = Array(repeating: false, count: nodeCount)
        messagesSentTo = Array(repeating: 0, count: nodeCount)
        for (host, application) in zip(hosts, applications) {
            host.application = application
            application.cluster = self
        }
    }

    /// Every node's engine (copies: for inspection, not for a hot loop).
    public var engines: [RaftEngine] { hosts.map(\.engine) }

    public var leader: Int? { hosts.indices.first { hosts[$0].status.isLeader && !isolatedFlags[$0] } }

    /// Makes `node` leader and lets the cluster settle.
    public func elect(_ node: Int) {
        steps += 1
        run(node) { host, effects in try host.run(engineCall: { $0.campaignNow() }, effects: &effects) }
        drain()
        precondition(hosts[node].status.isLeader, "node \(node + 1) did not become leader")
    }

    public func step(_ node: Int, _ event: RaftEvent) {
        steps += 1
        run(node) { host, effects in try host.run([event], effects: &effects) }
    }

    private func run(_ node: Int, _ body: (ReplicaHost<RaftEngine>, inout InMemoryEffects) throws -> [RaftEvent]) {
        var effects = InMemoryEffects(cluster: self, node: node)
        // Nothing here interrupts a step: there is no disk to crash.
        guard let followUps = try? body(hosts[node], &effects) else { return }
        for event in followUps { step(node, event) }
    }

    /// Delivers every queued message, and those they cause, until the queue is empty.
    public func drain() {
        while queueHead < queue.count {
            let message = queue[queueHead]
            queueHead += 1
            step(Int(message.to.rawValue) - 1, .receive(message))
        }
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
    }

    /// `drain`, stopping after `deliveriesMax` messages (dropping the rest); returns false and the
    /// last messages delivered when it had to stop, for a driver that must not loop for ever.
    public func drain(deliveriesMax: Int) -> (finished: Bool, lastMessages: [RaftMessage]) {
        var delivered = 0
        var recent: [RaftMessage] = []
        while queueHead < queue.count {
            guard delivered < deliveriesMax else {
                queue.removeAll(keepingCapacity: true)
                queueHead = 0
                return (false, recent)
            }
            let message = queue[queueHead]
            queueHead += 1
            delivered += 1
            recent.append(message)
            if recent.count > 8 { recent.removeFirst() }
            step(Int(message.to.rawValue) - 1, .receive(message))
        }
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
        return (true, recent)
    }

    /// Like `drain`, but delivers in waves (every message sent while delivering wave k forms wave
    /// k + 1) and returns how many waves it took: the number of sequential one-way message delays
    /// a real network would add.
    public func drainCountingHops() -> Int {
        var hops = 0
        while queueHead < queue.count {
            hops += 1
            let wave = queue[queueHead...]
            queue = []
            queueHead = 0
            for message in wave { step(Int(message.to.rawValue) - 1, .receive(message)) }
        }
        return hops
    }

    public func tickAll() {
        for node in hosts.indices { step(node, .tick) }
        drain()
    }

    public func appliedIndex(_ node: Int) -> LogIndex { hosts[node].status.appliedIndex }

    fileprivate func send(_ message: RaftMessage, from node: Int) {
        let target = Int(message.to.rawValue) - 1
        // Answers to a fuzzer's made-up senders go nowhere.
        guard hosts.indices.contains(target), !isolatedFlags[node], !isolatedFlags[target] else { return }
        messagesSent += 1
        messagesSentTo[target] += 1
        bytesSentTo[target] += Self.payloadBytes(message)
        queue.append(message)
    }

    static func payloadBytes(_ message: RaftMessage) -> Int {
        switch message.kind {
        case .append(let append): return append.entries.reduce(0) { $0 + $1.sizeBytes }
        case .installSnapshot(let chunk): return chunk.data.count
        default: return 0
        }
    }
}

/// The in-memory cluster's disk and network: persists cost nothing and are durable at once, and
/// messages join the cluster's queue.
struct InMemoryEffects: ReplicaEffects {
    typealias Engine = RaftEngine

    unowned let cluster: InMemoryCluster
    let node: Int

    func write(_ request: PersistRequest<RaftHardState>) {}
    func sync() {}
    func syncAfterSends(through index: LogIndex, term: Term) -> Bool { true }

    func send(_ messages: [RaftMessage]) {
        for message in messages { cluster.send(message, from: node) }
    }

    func saveSnapshot(_ metadata: SnapshotMetadata, writer: @escaping @Sendable () -> [UInt8]) -> Snapshot? {
        Snapshot(metadata: metadata, data: writer())
    }
}

/// A benchmark node's application: the benchmark state machine, and the cluster's apply hook.
final class BenchmarkApplication: ReplicaApplication {
    let node: Int
    weak var cluster: InMemoryCluster?
    var machine = BenchmarkStateMachine()
    private(set) var snapshotsInstalled = 0

    init(node: Int) { self.node = node }

    func apply(_ entries: [Entry], status: EngineStatus) {
        guard let cluster else { return }
        for entry in entries where entry.kind == .command {
            if cluster.appliesToStateMachines { machine.apply(entry.data) }
            cluster.onApply(node, entry, cluster.steps)
        }
    }

    func snapshotWriter() -> @Sendable () -> [UInt8] {
        let machine = self.machine
        return { machine.snapshotData }
    }

    func restore(_ snapshot: Snapshot) {
        machine = BenchmarkStateMachine(restoring: snapshot.data)
        snapshotsInstalled += 1
    }

    func readReady(_ id: RequestID, index: LogIndex) {}
    func rejected(_ id: RequestID, _ reason: RequestRejection) {}
    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {}
    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? { nil }
    func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {}
    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { true }
    func storageSpace(exhausted: Bool) {}
}

/// The benchmarks' state machine: a map from a key (the first 4 bytes of each command, modulo a key
/// space) to the command's bytes. Its snapshot is every pair, so its size tracks the key space.
struct BenchmarkStateMachine: Sendable {
    static let keySpace: UInt32 = 10_000
    private var values: [UInt32: [UInt8]] = [:]

    init() {}

    mutating func apply(_ command: [UInt8]) {
        values[Self.key(of: command)] = command
    }

    static func key(of command: [UInt8]) -> UInt32 {
        command.prefix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) } % keySpace
    }

    /// Length-prefixed values in key order.
    var snapshotData: [UInt8] {
        var bytes: [UInt8] = []
        for key in values.keys.sorted() {
            let value = values[key]!
            withUnsafeBytes(of: UInt32(value.count).littleEndian) { bytes.append(contentsOf: $0) }
            bytes.append(contentsOf: value)
        }
        return bytes
    }

    init(restoring data: [UInt8]) {
        var position = 0
        while position + 4 <= data.count {
            let length = data[position..<position + 4].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            position += 4
            let value = Array(data[position..<min(data.count, position + length)])
            values[Self.key(of: value)] = value
            position += length
        }
    }
}
