/// How many of a configuration's voters make a quorum, per engine. Raft uses majorities (joint
/// majorities while its membership changes); Multi-Paxos may use Flexible Paxos quorums, where
/// only quorums of different phases must intersect; PBFT uses 2f + 1 of 3f + 1.
public enum QuorumKind: Sendable, Hashable, CustomStringConvertible {
    /// ⌊n/2⌋ + 1 in every phase.
    case majority
    /// Flexible Paxos (Howard, Malkhi, Spiegelman 2016): phase-1 quorums of `phase1` voters and
    /// phase-2 quorums of `phase2`, safe when every phase-1 quorum meets every phase-2 quorum,
    /// that is when phase1 + phase2 > n.
    case flexible(phase1: Int, phase2: Int)
    /// 2f + 1 of n = 3f + 1 in every phase: any two quorums share a correct replica.
    case byzantine

    /// The decisions a quorum makes: electing a leader (Raft's vote, Paxos's phase 1, PBFT's view
    /// change) and accepting entries (Raft's replication, Paxos's phase 2, PBFT's prepare and commit).
    public enum Phase: Sendable, Hashable {
        case election
        case replication
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case quorumsDoNotIntersect(phase1: Int, phase2: Int, voters: Int)
        case sizeOutOfRange(phase: Phase, size: Int, voters: Int)
        case tooFewReplicasForByzantine(voters: Int)

        public var description: String {
            switch self {
            case .quorumsDoNotIntersect(let phase1, let phase2, let voters):
                return "flexible quorums of \(phase1) (phase 1) and \(phase2) (phase 2) do not intersect among \(voters) voters: phase 1 + phase 2 must exceed \(voters)"
            case .sizeOutOfRange(let phase, let size, let voters):
                return "a \(phase == .election ? "phase-1" : "phase-2") quorum of \(size) is impossible among \(voters) voters (1 to \(voters))"
            case .tooFewReplicasForByzantine(let voters):
                return "Byzantine quorums need at least 4 replicas (3f + 1 with f ≥ 1), not \(voters)"
            }
        }
    }

    /// The quorum size among `voters` for `phase`. Nil for a kind `validate` refuses.
    public func size(of phase: Phase, voters: Int) -> Int {
        switch self {
        case .majority: return voters / 2 + 1
        case .flexible(let phase1, let phase2): return min(voters, phase == .election ? phase1 : phase2)
        case .byzantine: return 2 * ((voters - 1) / 3) + 1
        }
    }

    /// Why this kind cannot run with `voters` voters: checked at startup, so a bad flag is a clear
    /// error and never a cluster whose quorums fail to intersect.
    public func validate(voters: Int) throws(Problem) {
        switch self {
        case .majority:
            return
        case .flexible(let phase1, let phase2):
            guard (1...max(1, voters)).contains(phase1) else { throw .sizeOutOfRange(phase: .election, size: phase1, voters: voters) }
            guard (1...max(1, voters)).contains(phase2) else { throw .sizeOutOfRange(phase: .replication, size: phase2, voters: voters) }
            guard phase1 + phase2 > voters else { throw .quorumsDoNotIntersect(phase1: phase1, phase2: phase2, voters: voters) }
        case .byzantine:
            guard voters >= 4 else { throw .tooFewReplicasForByzantine(voters: voters) }
        }
    }

    public var description: String {
        switch self {
        case .majority: return "majority"
        case .flexible(let phase1, let phase2): return "flexible(q1=\(phase1),q2=\(phase2))"
        case .byzantine: return "byzantine(2f+1)"
        }
    }
}

/// A quorum of a fixed size over a voter set: a majority, one phase of a flexible configuration,
/// or a Byzantine certificate.
public struct ThresholdQuorum: Sendable, Equatable {
    public let voters: [NodeID]
    public let size: Int

    public init(voters: some Sequence<NodeID>, size: Int) {
        self.voters = Array(Set(voters)).sorted()
        self.size = size
    }

    /// The highest index `size` voters have acknowledged (0 with no voters or too few of them).
    public func committedIndex(_ acknowledged: (NodeID) -> LogIndex?) -> LogIndex {
        guard size >= 1, voters.count >= size else { return 0 }
        var indexes = voters.map { acknowledged($0) ?? 0 }
        indexes.sort(by: >)
        return indexes[size - 1]
    }

    /// Counts votes; voters absent from `votes` have not answered.
    public func result(_ votes: (NodeID) -> Bool?) -> VoteResult {
        guard size >= 1, !voters.isEmpty else { return .pending }
        var granted = 0
        var refused = 0
        for voter in voters {
            switch votes(voter) {
            case .some(true): granted += 1
            case .some(false): refused += 1
            case .none: break
            }
        }
        if granted >= size { return .won }
        if voters.count - refused < size { return .lost }
        return .pending
    }
}

/// Quorums that must all agree: one per configuration, two while a membership change is joint.
public struct ConfigurationQuorum: Sendable, Equatable {
    public let quorums: [ThresholdQuorum]

    public func committedIndex(_ acknowledged: (NodeID) -> LogIndex?) -> LogIndex {
        quorums.map { $0.committedIndex(acknowledged) }.min() ?? 0
    }

    public func result(_ votes: (NodeID) -> Bool?) -> VoteResult {
        let results = quorums.map { $0.result(votes) }
        if results.isEmpty { return .pending }
        if results.contains(.lost) { return .lost }
        return results.allSatisfy { $0 == .won } ? .won : .pending
    }
}

extension Membership {
    /// The quorum of `kind` for `phase`: over the voters, and also over the outgoing voters while
    /// a change is joint. `quorum` is Raft's (majority) case.
    public func quorum(_ kind: QuorumKind, for phase: QuorumKind.Phase) -> ConfigurationQuorum {
        var quorums = [ThresholdQuorum(voters: voters, size: kind.size(of: phase, voters: voters.count))]
        if isJoint { quorums.append(ThresholdQuorum(voters: outgoingVoters, size: kind.size(of: phase, voters: outgoingVoters.count))) }
        return ConfigurationQuorum(quorums: quorums)
    }
}
