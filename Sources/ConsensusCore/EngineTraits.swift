/// What an engine can do beyond ordering commands, as its registry entry declares it: the shells
/// and front ends offer a feature only where the engine has it (etcd's Cluster service answers
/// etcd's "not capable" error on an engine without membership changes).
public struct EngineCapabilities: OptionSet, Sendable, Hashable, CustomStringConvertible {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// Voters added and removed at run time.
    public static let membershipChanges = EngineCapabilities(rawValue: 1 << 0)
    /// Non-voting members that receive the log.
    public static let learners = EngineCapabilities(rawValue: 1 << 1)
    /// Handing leadership to a chosen member (etcd's MoveLeader).
    public static let leadershipTransfer = EngineCapabilities(rawValue: 1 << 2)
    /// Linearizable reads confirmed by a quorum round (ReadIndex).
    public static let quorumReads = EngineCapabilities(rawValue: 1 << 3)
    /// Linearizable reads served under a leader lease, with a stated clock-drift bound.
    public static let leaseReads = EngineCapabilities(rawValue: 1 << 4)
    /// Tolerates replicas that lie, not only ones that crash.
    public static let byzantineFaults = EngineCapabilities(rawValue: 1 << 5)
    /// Every replica that executes a request answers its client (`EngineAction.answerClient`).
    public static let answersFromEveryReplica = EngineCapabilities(rawValue: 1 << 6)

    static let names: [(EngineCapabilities, String)] = [
        (.membershipChanges, "membership-changes"), (.learners, "learners"), (.leadershipTransfer, "leadership-transfer"),
        (.quorumReads, "quorum-reads"), (.leaseReads, "lease-reads"), (.byzantineFaults, "byzantine-faults"),
        (.answersFromEveryReplica, "answers-from-every-replica"),
    ]

    public var description: String { Self.names.filter { contains($0.0) }.map(\.1).joined(separator: ",") }
}

/// A safety property the simulator checks. The common ones hold for every engine and are always
/// checked; an engine promises its own (Raft's log matching; Paxos's one value per slot, when it
/// comes) and the checker checks exactly those.
public enum SafetyProperty: String, CaseIterable, Sendable, Hashable {
    // Common: every engine, every seed.
    /// The same entry applied at the same index on every replica.
    case stateMachineSafety = "state machine safety"
    /// Nothing sent depends on state that is not yet durable.
    case persistedBeforeSent = "persisted before sent"
    /// Commit indexes never go back, and nothing is applied beyond one.
    case commitMonotonic = "commit monotonic"

    // Leader-and-log engines (Raft).
    /// At most one leader per term.
    case electionSafety = "election safety"
    /// Two logs holding an entry with the same index and term hold the same prefix.
    case logMatching = "log matching"
    /// A new leader holds every committed entry.
    case leaderCompleteness = "leader completeness"
    /// The engine's own step rules (`SimulatableEngine.protocolViolation`): Raft's commit rule.
    case protocolRules = "protocol rules"

    /// Checked for every engine.
    public static let common: Set<SafetyProperty> = [.stateMachineSafety, .persistedBeforeSent, .commitMonotonic]
}
