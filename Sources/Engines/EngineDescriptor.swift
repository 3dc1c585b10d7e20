import ConsensusCore
import EtcdServer
import Logging
import Node
import Simulation

/// One engine as the shells see it: everything `serve`, `up`, `sim` and `bench` need, so that adding
/// an engine is one registry entry and no shell names an engine.
public struct EngineDescriptor: Sendable {
    /// The name the command line uses (`--engine raft`).
    public let name: String
    /// One line for `--help`.
    public let summary: String
    /// What it offers beyond ordering commands; front ends refuse the rest with their own errors.
    public let capabilities: EngineCapabilities
    /// The safety properties it promises, checked by the simulator besides the common ones.
    public let safetyProperties: Set<SafetyProperty>
    /// The quorum kinds it can run with (the first is its default).
    public let quorumKinds: [QuorumKind]
    /// The type of its peer messages, coded by its wire module.
    public let wireMessage: any (EngineMessage & WireCodable).Type
    /// Runs one seed of the simulator: its simulator conformance.
    public let simulate: SimulationRunner
    /// The engine as a node serves it (its `ServableEngine` conformance): how the node's flags
    /// configure it, and the hard states its data directories start from.
    public let servable: any ServableEngine.Type
    /// Committed proposals through an in-memory cluster of this engine, with no I/O (`synod bench
    /// engine`): total proposals, proposals per burst, payload bytes, batching.
    public let throughput: @Sendable (_ total: Int, _ burst: Int, _ payloadBytes: Int, _ batching: Bool) -> EngineThroughput

    public init(
        name: String, summary: String, capabilities: EngineCapabilities, safetyProperties: Set<SafetyProperty>, quorumKinds: [QuorumKind],
        wireMessage: any (EngineMessage & WireCodable).Type, simulate: @escaping SimulationRunner,
        servable: any ServableEngine.Type,
        throughput: @escaping @Sendable (Int, Int, Int, Bool) -> EngineThroughput
    ) {
        self.name = name
        self.summary = summary
        self.capabilities = capabilities
        self.safetyProperties = safetyProperties
        self.quorumKinds = quorumKinds
        self.wireMessage = wireMessage
        self.simulate = simulate
        self.servable = servable
        self.throughput = throughput
    }
}

extension EngineDescriptor {
    /// A node serving the etcd API on this engine over the disk log and the peer transport.
    public func etcdNode(configuration: EtcdNodeConfiguration, logger: Logger) throws -> EtcdNode {
        try EtcdNode(configuration: configuration, engine: servable, logger: logger)
    }

    /// Makes a member's data directory for this engine from an etcd snapshot file.
    public func restoreSnapshot(file: String, configuration: EtcdNodeConfiguration, skipHashCheck: Bool) throws -> (revision: Int64, keys: Int) {
        try SnapshotRestore.restore(file: file, configuration: configuration, engine: servable, skipHashCheck: skipHashCheck)
    }
}

/// What `synod bench engine` prints for an engine.
public struct EngineThroughput: Sendable {
    public var committed: Int
    public var entryBytes: Int
    public var messages: Int
    public var steps: Int
    public var commitLatencySteps: [Int]

    public init(committed: Int, entryBytes: Int, messages: Int, steps: Int, commitLatencySteps: [Int]) {
        self.committed = committed
        self.entryBytes = entryBytes
        self.messages = messages
        self.steps = steps
        self.commitLatencySteps = commitLatencySteps
    }
}
