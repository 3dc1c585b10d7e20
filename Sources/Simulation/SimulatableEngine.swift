import ConsensusCore

/// What the simulator needs from an engine beyond `ConsensusEngine`: how to start one, and how to
/// tell whether a message it sends depends on state that is not yet durable.
/// Its hard state has a disk encoding, so a run may keep it in the node's own write-ahead log
/// (`SimulatedDisk.wal`).
public protocol SimulatableEngine: ConsensusEngine where HardState: DurableCoding {
    static var engineName: String { get }
    static var emptyHardState: HardState { get }
    /// The engine's own safety properties, which the checker checks besides the common ones
    /// (`SafetyProperty.common`); a property not promised is not checked.
    static var safetyProperties: Set<SafetyProperty> { get }

    /// The configuration this node believes in force; the fault scheduler plans changes from the leader's.
    var membership: Membership { get }

    /// Starts a node, new or rebuilt from what its storage synced before a crash. `profile` is drawn
    /// once per seed; the engine maps it onto its tunables (batch sizes, windows, read mode), so that
    /// seeds explore configurations as well as schedules.
    static func start(id: NodeID, voters: [NodeID], profile: UInt64, random: SeededRandom, restoring: DurableState<HardState>?) -> Self

    /// The commit index recorded in a hard state: a restarted node may not commit less than it synced.
    static func commitIndex(of hardState: HardState) -> LogIndex

    /// Describes how `message` depends on state its sender has not made durable, or returns nil.
    /// This is the "persisted before sent" checker; every engine states its own dependencies.
    static func durabilityViolation(of message: Message, durable: SimulatedStorage<HardState>) -> String?

    /// Checks a rule of the engine's own protocol after a step, given the status before it; nil when
    /// the rule holds. Cluster-wide properties are checked by `SafetyChecker`; this catches a broken
    /// rule at the step that breaks it, long before its consequences become visible to clients.
    /// Asked after each step in which the node, leading, advanced its commit index (reading an
    /// engine out of its host copies it, so not after every step).
    func protocolViolation(since previous: EngineStatus) -> String?
}

extension SimulatableEngine {
    public func protocolViolation(since previous: EngineStatus) -> String? { nil }
}
