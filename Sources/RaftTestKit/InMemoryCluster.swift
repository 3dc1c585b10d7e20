import ConsensusCore
import Raft
import Simulation

/// A Raft cluster with no I/O and no simulated time, for benchmarks of the engine itself: messages
/// go through one FIFO queue and are delivered at once, persists are free, and each node applies to a
/// small key-value map that can be snapshotted.
public struct InMemoryCluster {
    public private(set) var engines: [RaftEngine]
    var machines: [BenchmarkStateMachine]
    private var queue: [RaftMessage] = []
    private var queueHead = 0
    /// Nodes whose messages, in and out, are dropped.
    public var isolated: Set<Int> = [] {
        didSet { isolatedFlags = engines.indices.map { isolated.contains($0) } }
    }
    /// `isolated` as flags, so the per-message check does not hash.
    private var isolatedFlags: [Bool]
    public private(set) var steps = 0
    public private(set) var messagesSent = 0
    /// Bytes of entries and snapshot chunks sent to each node.
    public private(set) var bytesSentTo: [Int]
    public private(set) var messagesSentTo: [Int]
    public private(set) var snapshotsInstalled = 0
    /// Called for every command entry a node applies, with the node's index and the step count.
    public var onApply: (Int, Entry, Int) -> Void = { _, _, _ in }
    /// Off for pure engine throughput: entries are then counted but not applied to any state.
    public var appliesToStateMachines = true

    public init(nodeCount: Int = 3, configure: (inout RaftConfiguration) -> Void = { _ in }) {
        let voters = (1...nodeCount).map { NodeID(UInt64($0)) }
        engines = voters.map { id in
            var configuration = RaftConfiguration(id: id, voters: voters)
            configuration.inflightMessagesMax = 4096
            configuration.inflightBytesMax = 256 << 20
            configure(&configuration)
            return RaftEngine(configuration: configuration, random: SeededRandom(seed: id.rawValue))
        }
        machines = Array(repeating: BenchmarkStateMachine(), count: nodeCount)
        bytesSentTo = Array(repeating: 0, count: nodeCount)
        isolatedFlags = Array(repeating: false, count: nodeCount)
        messagesSentTo = Array(repeating: 0, count: nodeCount)
    }

    public var leader: Int? { engines.indices.first { engines[$0].role == .leader && !isolatedFlags[$0] } }

    /// Makes `node` leader and lets the cluster settle.
    public mutating func elect(_ node: Int) {
        steps += 1
        perform(engines[node].campaignNow(), node: node)
        drain()
        precondition(engines[node].role == .leader, "node \(node + 1) did not become leader")
    }

    public mutating func step(_ node: Int, _ event: RaftEvent) {
        steps += 1
        let actions = engines[node].step(event)
        perform(actions, node: node)
    }

    /// Delivers every queued message, and those they cause, until the queue is empty.
    public mutating func drain() {
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
    public mutating func drain(deliveriesMax: Int) -> (finished: Bool, lastMessages: [RaftMessage]) {
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
    public mutating func drainCountingHops() -> Int {
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

    public mutating func tickAll() {
        for node in engines.indices { step(node, .tick) }
        drain()
    }

    public func appliedIndex(_ node: Int) -> LogIndex { engines[node].appliedIndex }

    private mutating func perform(_ actions: [RaftAction], node: Int) {
        var created: Snapshot?
        for action in actions {
            switch action {
            case .send(let message):
                let target = Int(message.to.rawValue) - 1
                // Answers to a fuzzer's made-up senders go nowhere.
                guard engines.indices.contains(target), !isolatedFlags[node], !isolatedFlags[target] else { continue }
                messagesSent += 1
                messagesSentTo[target] += 1
                bytesSentTo[target] += Self.payloadBytes(message)
                queue.append(message)
            case .apply(let entries):
                for entry in entries where entry.kind == .command {
                    if appliesToStateMachines { machines[node].apply(entry.data) }
                    onApply(node, entry, steps)
                }
            case .createSnapshot(let metadata):
                created = Snapshot(metadata: metadata, data: machines[node].snapshotData)
            case .restoreSnapshot(let snapshot):
                machines[node] = BenchmarkStateMachine(restoring: snapshot.data)
                snapshotsInstalled += 1
            case .persist, .readReady, .readRejected, .proposalRejected, .answerClient:
                break
            }
        }
        if let created { step(node, .snapshotCreated(created)) }
    }

    static func payloadBytes(_ message: RaftMessage) -> Int {
        switch message.kind {
        case .append(let append): return append.entries.reduce(0) { $0 + $1.sizeBytes }
        case .installSnapshot(let chunk): return chunk.data.count
        default: return 0
        }
    }
}

/// The benchmarks' state machine: a map from a key (the first 4 bytes of each command, modulo a key
/// space) to the command's bytes. Its snapshot is every pair, so its size tracks the key space.
struct BenchmarkStateMachine {
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
