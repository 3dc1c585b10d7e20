import ConsensusCore
import Raft

/// A hand-driven Raft cluster for tests: messages wait in a queue until a test delivers them, storage
/// is a plain copy of what each node persisted, and every action is logged as text.
///
/// It is the shell of the engine interface in its simplest form, so tests can put a cluster into the
/// exact situations the paper describes.
struct RaftTestCluster {
    struct Node {
        var engine: RaftEngine?
        var durableHardState = RaftHardState()
        var durableEntries: [Entry] = []
        var durableSnapshot: Snapshot?
        var applied: [Entry] = []
        var readsReady: [RequestID: LogIndex] = [:]
        var rejections: [RequestID: RequestRejection] = [:]
        var configuration: RaftConfiguration
    }

    var nodes: [NodeID: Node] = [:]
    var pending: [RaftMessage] = []
    /// Directed links that drop messages.
    var blocked: Set<[UInt64]> = []
    var log: [String] = []
    private var random = SeededRandom(seed: 1)

    var ids: [NodeID] { nodes.keys.sorted() }

    init(nodeCount: Int, configure: (inout RaftConfiguration) -> Void = { _ in }) {
        let voters = (1...nodeCount).map { NodeID(UInt64($0)) }
        for id in voters {
            var configuration = RaftConfiguration(id: id, voters: voters)
            configure(&configuration)
            nodes[id] = Node(engine: RaftEngine(configuration: configuration, random: random.fork()), configuration: configuration)
        }
    }

    func engine(_ id: UInt64) -> RaftEngine { nodes[NodeID(id)]!.engine! }
    func node(_ id: UInt64) -> Node { nodes[NodeID(id)]! }

    // MARK: Driving

    mutating func step(_ id: UInt64, _ event: RaftEvent) {
        let node = NodeID(id)
        guard nodes[node]?.engine != nil else { return }
        let actions = nodes[node]!.engine!.step(event)
        perform(actions, on: node)
    }

    /// Adds a node that joins an existing group: it knows no configuration until the leader's log
    /// or snapshot tells it.
    mutating func addJoiningNode(_ id: UInt64, configure: (inout RaftConfiguration) -> Void = { _ in }) {
        var configuration = RaftConfiguration(id: NodeID(id), voters: [])
        configure(&configuration)
        nodes[NodeID(id)] = Node(engine: RaftEngine(configuration: configuration, random: random.fork()), configuration: configuration)
        log.append("n\(id) added")
    }

    mutating func changeMembership(_ id: UInt64, _ change: MembershipChange, request: UInt64 = 0) {
        step(id, .changeMembership(RequestID(request), change))
    }

    mutating func transferLeadership(_ id: UInt64, to target: UInt64, request: UInt64 = 0) {
        step(id, .transferLeadership(RequestID(request), to: NodeID(target)))
    }

    mutating func campaign(_ id: UInt64) {
        let node = NodeID(id)
        log.append("\(node) campaign")
        let actions = nodes[node]!.engine!.campaignNow()
        perform(actions, on: node)
    }

    mutating func tick(_ id: UInt64, times: Int = 1) {
        for _ in 0..<times { step(id, .tick) }
    }

    mutating func propose(_ id: UInt64, _ text: String, request: UInt64 = 0) {
        step(id, .propose(RequestID(request), Array(text.utf8)))
    }

    mutating func read(_ id: UInt64, request: UInt64) {
        step(id, .read(RequestID(request)))
    }

    /// Delivers every message queued now (not those sent while delivering); returns how many.
    @discardableResult
    mutating func deliverRound(from: UInt64? = nil, to: UInt64? = nil) -> Int {
        let batch = pending
        pending = []
        var delivered = 0
        for message in batch {
            if let from, message.from.rawValue != from { pending.append(message); continue }
            if let to, message.to.rawValue != to { pending.append(message); continue }
            guard nodes[message.to]?.engine != nil else { continue }
            delivered += 1
            log.append("\(message.to) recv \(message)")
            step(message.to.rawValue, .receive(message))
        }
        return delivered
    }

    /// Delivers until no messages remain, within a bound so a livelock fails instead of hanging.
    mutating func stabilize(roundsMax: Int = 100) {
        var rounds = 0
        while !pending.isEmpty {
            precondition(rounds < roundsMax, "cluster did not stabilize in \(roundsMax) rounds")
            deliverRound()
            rounds += 1
        }
    }

    mutating func dropPending() {
        for message in pending { log.append("dropped \(message)") }
        pending = []
    }

    // MARK: Faults

    mutating func isolate(_ id: UInt64) {
        for other in ids.map(\.rawValue) where other != id {
            blocked.insert([id, other])
            blocked.insert([other, id])
        }
    }

    mutating func partition(_ groups: [[UInt64]]) {
        heal()
        for (first, group) in groups.enumerated() {
            for (second, other) in groups.enumerated() where first != second {
                for a in group { for b in other { blocked.insert([a, b]) } }
            }
        }
    }

    mutating func heal() { blocked = [] }

    /// Kills the process: everything not persisted is lost.
    mutating func crash(_ id: UInt64) {
        nodes[NodeID(id)]!.engine = nil
        nodes[NodeID(id)]!.applied = []
        log.append("n\(id) crashed")
    }

    mutating func restart(_ id: UInt64) {
        let node = nodes[NodeID(id)]!
        let durable = DurableState(hardState: node.durableHardState, entries: node.durableEntries, snapshot: node.durableSnapshot)
        nodes[NodeID(id)]!.engine = RaftEngine(configuration: node.configuration, random: random.fork(), restoring: durable)
        nodes[NodeID(id)]!.applied = node.durableSnapshot.map(Self.restoredEntries) ?? []
        log.append("n\(id) restarted at \(node.durableHardState)")
    }

    // MARK: Shell

    private mutating func perform(_ actions: [RaftAction], on id: NodeID) {
        var created: Snapshot?
        for action in actions {
            log.append("  \(id) \(action)")
            switch action {
            case .persist(let request):
                if let snapshot = request.snapshot { nodes[id]!.durableSnapshot = snapshot }
                if let after = request.truncateEntriesAfter { nodes[id]!.durableEntries.removeAll { $0.index > after } }
                if let through = request.discardEntriesThrough { nodes[id]!.durableEntries.removeAll { $0.index <= through } }
                if let first = request.entries.first {
                    nodes[id]!.durableEntries.removeAll { $0.index >= first.index }
                    nodes[id]!.durableEntries.append(contentsOf: request.entries)
                }
                if let hardState = request.hardState { nodes[id]!.durableHardState = hardState }
            case .send(let message):
                if blocked.contains([message.from.rawValue, message.to.rawValue]) {
                    log.append("  dropped by partition")
                } else {
                    pending.append(message)
                }
            case .apply(let entries):
                nodes[id]!.applied.append(contentsOf: entries)
            case .readReady(let request, let index):
                nodes[id]!.readsReady[request] = index
            case .readRejected(let request, let reason), .proposalRejected(let request, let reason):
                nodes[id]!.rejections[request] = reason
            case .createSnapshot(let metadata):
                // The test state machine is the list of applied commands.
                let commands = nodes[id]!.applied.filter { $0.kind == .command }.map { String(decoding: $0.data, as: UTF8.self) }
                created = Snapshot(metadata: metadata, data: Array(commands.joined(separator: "\n").utf8))
            case .restoreSnapshot(let snapshot):
                nodes[id]!.applied = Self.restoredEntries(snapshot)
            case .answerClient:
                break
            }
        }
        if let created {
            log.append("\(id) snapshot-created at \(created.metadata.index)")
            step(id.rawValue, .snapshotCreated(created))
        }
    }

    static func restoredEntries(_ snapshot: Snapshot) -> [Entry] {
        String(decoding: snapshot.data, as: UTF8.self).split(separator: "\n").map { Entry(index: 0, term: 0, data: Array($0.utf8)) }
    }

    /// The leaders among running nodes.
    var leaders: [NodeID] { ids.filter { nodes[$0]!.engine?.role == .leader } }

    func appliedCommands(_ id: UInt64) -> [String] {
        node(id).applied.filter { $0.kind == .command }.map { String(decoding: $0.data, as: UTF8.self) }
    }
}
