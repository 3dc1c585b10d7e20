import ConsensusCore
import Replica

/// A hand-driven cluster for rule tests and golden scripts, for any engine: messages wait in a
/// queue until a test delivers them, each node's disk is a `SimulatedStorage` synced at once, and
/// every action is logged as text. Each node runs the `ReplicaHost` that `synod serve` and the
/// simulator run, so what a test shows about an engine holds for the shell that performs it.
///
/// A class: a test holds it in a `var` and drives it step by step.
public final class ScriptedCluster<Engine: SimulatableEngine> {
    public typealias Event = EngineEvent<Engine.Message>
    public typealias Action = EngineAction<Engine.Message, Engine.HardState>
    /// Makes a node's engine: new (nil) or restarted from its disk.
    public typealias Start = (_ random: SeededRandom, _ restoring: DurableState<Engine.HardState>?) -> Engine

    public final class Node {
        /// The running process; nil while crashed.
        public fileprivate(set) var host: ReplicaHost<Engine>?
        public fileprivate(set) var storage: SimulatedStorage<Engine.HardState>
        public fileprivate(set) var application = ScriptedApplication()
        fileprivate let start: Start

        fileprivate init(start: @escaping Start) {
            self.start = start
            storage = SimulatedStorage(hardState: Engine.emptyHardState)
        }

        public var engine: Engine? { host?.engine }
        public var applied: [Entry] { application.applied }
        public var readsReady: [RequestID: LogIndex] { application.readsReady }
        public var rejections: [RequestID: RequestRejection] { application.rejections }
        public var durableHardState: Engine.HardState { storage.hardState }
    }

    public private(set) var nodes: [NodeID: Node] = [:]
    /// Messages sent and not yet delivered, in order.
    public var pending: [Engine.Message] = []
    /// Directed links that drop messages.
    public var blocked: Set<[UInt64]> = []
    /// What happened, one line per event and action; a golden script's output.
    public var log: [String] = []
    private var random = SeededRandom(seed: 1)

    public var ids: [NodeID] { nodes.keys.sorted() }

    public init() {}

    /// Adds a node; `start` makes its engine now and at every restart.
    public func addNode(_ id: NodeID, start: @escaping Start) {
        let node = Node(start: start)
        nodes[id] = node
        launch(id, node, restoring: nil)
    }

    private func launch(_ id: NodeID, _ node: Node, restoring durable: DurableState<Engine.HardState>?) {
        let host = ReplicaHost(engine: node.start(random.fork(), durable))
        node.application = ScriptedApplication()
        if let snapshot = durable?.snapshot { node.application.restore(snapshot) }
        host.application = node.application
        host.stepObserver = { [unowned self] _, actions, _, _ in self.logActions(actions, of: id) }
        node.host = host
    }

    public func engine(_ id: UInt64) -> Engine { nodes[NodeID(id)]!.engine! }
    public func node(_ id: UInt64) -> Node { nodes[NodeID(id)]! }

    // MARK: Driving

    public func step(_ id: UInt64, _ event: Event) {
        run(NodeID(id)) { host, effects in try host.run([event], effects: &effects) }
    }

    /// Performs what a call on the engine's own API returns (Raft's `campaignNow`, say).
    public func call(_ id: UInt64, _ body: (inout Engine) -> [Action]) {
        run(NodeID(id)) { host, effects in
            try host.run(engineCall: { engine in
                let actions = body(&engine)
                logActions(actions, of: NodeID(id))
                return actions
            }, effects: &effects)
        }
    }

    private func run(_ id: NodeID, _ body: (ReplicaHost<Engine>, inout ScriptedEffects<Engine>) throws -> [Event]) {
        guard let host = nodes[id]?.host else { return }
        var effects = ScriptedEffects(cluster: self, node: id)
        // Nothing here interrupts a step: the storage never crashes in the middle of one.
        guard let followUps = try? body(host, &effects) else { return }
        for event in followUps {
            if case .snapshotCreated(let snapshot) = event { log.append("\(id) snapshot-created at \(snapshot.metadata.index)") }
            step(id.rawValue, event)
        }
    }

    private func logActions(_ actions: [Action], of id: NodeID) {
        for action in actions {
            log.append("  \(id) \(action)")
            if case .send(let message) = action, isBlocked(message) { log.append("  dropped by partition") }
        }
    }

    func isBlocked(_ message: Engine.Message) -> Bool { blocked.contains([message.from.rawValue, message.to.rawValue]) }

    fileprivate func enqueue(_ message: Engine.Message) {
        if !isBlocked(message) { pending.append(message) }
    }

    public func changeMembership(_ id: UInt64, _ change: MembershipChange, request: UInt64 = 0) {
        step(id, .changeMembership(RequestID(request), change))
    }

    public func transferLeadership(_ id: UInt64, to target: UInt64, request: UInt64 = 0) {
        step(id, .transferLeadership(RequestID(request), to: NodeID(target)))
    }

    public func tick(_ id: UInt64, times: Int = 1) {
        for _ in 0..<times { step(id, .tick) }
    }

    public func propose(_ id: UInt64, _ text: String, request: UInt64 = 0) {
        step(id, .propose(RequestID(request), Array(text.utf8)))
    }

    public func read(_ id: UInt64, request: UInt64) {
        step(id, .read(RequestID(request)))
    }

    /// Delivers every message queued now (not those sent while delivering); returns how many.
    @discardableResult
    public func deliverRound(from: UInt64? = nil, to: UInt64? = nil) -> Int {
        let batch = pending
        pending = []
        var delivered = 0
        for message in batch {
            if let from, message.from.rawValue != from { pending.append(message); continue }
            if let to, message.to.rawValue != to { pending.append(message); continue }
            guard nodes[message.to]?.host != nil else { continue }
            delivered += 1
            log.append("\(message.to) recv \(message)")
            step(message.to.rawValue, .receive(message))
        }
        return delivered
    }

    /// Delivers until no messages remain. Returns false when `roundsMax` rounds did not get there
    /// (a livelock), after dropping what is left, so a test fails instead of hanging.
    @discardableResult
    public func stabilize(roundsMax: Int = 100) -> Bool {
        var rounds = 0
        while !pending.isEmpty {
            guard rounds < roundsMax else {
                log.append("did not stabilize in \(roundsMax) rounds")
                dropPending()
                return false
            }
            deliverRound()
            rounds += 1
        }
        return true
    }

    public func dropPending() {
        for message in pending { log.append("dropped \(message)") }
        pending = []
    }

    // MARK: Faults

    public func isolate(_ id: UInt64) {
        for other in ids.map(\.rawValue) where other != id {
            blocked.insert([id, other])
            blocked.insert([other, id])
        }
    }

    public func partition(_ groups: [[UInt64]]) {
        heal()
        for (first, group) in groups.enumerated() {
            for (second, other) in groups.enumerated() where first != second {
                for a in group { for b in other { blocked.insert([a, b]) } }
            }
        }
    }

    public func heal() { blocked = [] }

    /// Kills the process: what was not synced is lost (nothing here is left unsynced).
    public func crash(_ id: UInt64) {
        let node = nodes[NodeID(id)]!
        node.host = nil
        node.application = ScriptedApplication()
        log.append("n\(id) crashed")
    }

    public func restart(_ id: UInt64) {
        let node = nodes[NodeID(id)]!
        launch(NodeID(id), node, restoring: node.storage.durableState)
        log.append("n\(id) restarted at \(node.storage.hardState)")
    }

    /// The leaders among running nodes.
    public var leaders: [NodeID] { ids.filter { nodes[$0]!.host?.status.isLeader == true } }

    public func appliedCommands(_ id: UInt64) -> [String] {
        node(id).applied.filter { $0.kind == .command }.map { String(decoding: $0.data, as: UTF8.self) }
    }
}

/// The scripted cluster's disk and network: persists go to the node's storage and are synced at
/// once, and messages join the cluster's queue unless a partition drops them. An overlapping write
/// is durable at once, but the engine hears so only when the test steps `persisted` itself.
struct ScriptedEffects<Engine: SimulatableEngine>: ReplicaEffects {
    unowned let cluster: ScriptedCluster<Engine>
    let node: NodeID

    func write(_ request: PersistRequest<Engine.HardState>) { cluster.nodes[node]!.storage.write(request) }
    func sync() { cluster.nodes[node]!.storage.sync() }

    func syncAfterSends(through index: LogIndex, term: Term) -> Bool {
        sync()
        return false
    }

    func send(_ messages: [Engine.Message]) {
        for message in messages { cluster.enqueue(message) }
    }

    func saveSnapshot(_ metadata: SnapshotMetadata, writer: @escaping @Sendable () -> [UInt8]) -> Snapshot? {
        Snapshot(metadata: metadata, data: writer())
    }
}

/// A scripted node's state machine: the list of entries applied. Its snapshot is the applied
/// commands' text, one per line.
public final class ScriptedApplication: ReplicaApplication {
    public private(set) var applied: [Entry] = []
    public private(set) var readsReady: [RequestID: LogIndex] = [:]
    public private(set) var rejections: [RequestID: RequestRejection] = [:]

    public func apply(_ entries: [Entry], status: EngineStatus) { applied += entries }
    public func readReady(_ id: RequestID, index: LogIndex) { readsReady[id] = index }
    public func rejected(_ id: RequestID, _ reason: RequestRejection) { rejections[id] = reason }

    public func snapshotWriter() -> @Sendable () -> [UInt8] {
        let commands = applied.filter { $0.kind == .command }.map { String(decoding: $0.data, as: UTF8.self) }
        return { Array(commands.joined(separator: "\n").utf8) }
    }

    public func restore(_ snapshot: Snapshot) {
        applied = String(decoding: snapshot.data, as: UTF8.self).split(separator: "\n").map { Entry(index: 0, term: 0, data: Array($0.utf8)) }
    }

    public func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {}
    public func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? { nil }
    public func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {}
    public func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { true }
    public func storageSpace(exhausted: Bool) {}
}
