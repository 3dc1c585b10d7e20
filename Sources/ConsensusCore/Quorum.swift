/// The outcome of counting votes against a quorum configuration.
public enum VoteResult: Sendable, Equatable {
    /// Not decided yet: enough voters have not answered either way.
    case pending
    /// A quorum granted.
    case won
    /// Enough voters refused that a quorum can no longer grant.
    case lost
}

/// A simple majority over a set of voters: the crash-fault quorum of Raft and Paxos.
public struct MajorityQuorum: Sendable, Equatable {
    public let voters: [NodeID]

    /// An empty voter set is allowed for a node that has not learned its configuration yet: such a
    /// quorum never wins a vote and never commits anything.
    public init(voters: some Sequence<NodeID>) {
        self.voters = Array(Set(voters)).sorted()
    }

    /// The smallest number of voters any two of whose subsets intersect: ⌊n/2⌋ + 1.
    public var size: Int { voters.count / 2 + 1 }

    public func contains(_ node: NodeID) -> Bool { voters.contains(node) }

    /// The highest index that a quorum has acknowledged, given each voter's acknowledged index.
    ///
    /// Voters missing from `acknowledged` count as having acknowledged nothing.
    public func committedIndex(_ acknowledged: (NodeID) -> LogIndex?) -> LogIndex {
        guard !voters.isEmpty else { return 0 }
        var indexes = voters.map { acknowledged($0) ?? 0 }
        indexes.sort(by: >)
        return indexes[size - 1]
    }

    /// Counts votes; voters absent from `votes` have not answered.
    public func result(_ votes: (NodeID) -> Bool?) -> VoteResult {
        var granted = 0
        var refused = 0
        for voter in voters {
            switch votes(voter) {
            case .some(true): granted += 1
            case .some(false): refused += 1
            case .none: break
            }
        }
        if voters.isEmpty { return .pending }
        if granted >= size { return .won }
        if granted + (voters.count - granted - refused) < size { return .lost }
        return .pending
    }
}

/// Joint consensus (Raft §6, C_old,new): a decision needs a majority of both configurations.
///
/// While no change is in flight, `outgoing` is empty and this behaves as `incoming` alone.
public struct JointQuorum: Sendable, Equatable {
    public let incoming: MajorityQuorum
    public let outgoing: MajorityQuorum?

    public init(incoming: MajorityQuorum, outgoing: MajorityQuorum? = nil) {
        self.incoming = incoming
        self.outgoing = outgoing
    }

    /// Every node that votes in either configuration.
    public var voters: [NodeID] { Array(Set(incoming.voters + (outgoing?.voters ?? []))).sorted() }

    public func contains(_ node: NodeID) -> Bool {
        incoming.contains(node) || (outgoing?.contains(node) ?? false)
    }

    /// An index is committed only once both majorities have acknowledged it.
    public func committedIndex(_ acknowledged: (NodeID) -> LogIndex?) -> LogIndex {
        let first = incoming.committedIndex(acknowledged)
        guard let outgoing else { return first }
        return min(first, outgoing.committedIndex(acknowledged))
    }

    public func result(_ votes: (NodeID) -> Bool?) -> VoteResult {
        let first = incoming.result(votes)
        guard let outgoing else { return first }
        let second = outgoing.result(votes)
        if first == .lost || second == .lost { return .lost }
        if first == .won && second == .won { return .won }
        return .pending
    }
}

/// The Byzantine quorum of PBFT: with n = 3f + 1 replicas, 2f + 1 of them.
///
/// Any two such quorums share at least f + 1 replicas, hence at least one correct replica.
public struct ByzantineQuorum: Sendable, Equatable {
    public let replicaCount: Int

    public init(replicaCount: Int) {
        precondition(replicaCount >= 1, "a Byzantine group needs at least one replica")
        self.replicaCount = replicaCount
    }

    /// The number of faulty replicas tolerated: ⌊(n − 1) / 3⌋.
    public var faultsTolerated: Int { (replicaCount - 1) / 3 }

    /// 2f + 1: the size of a prepare or commit certificate.
    public var size: Int { 2 * faultsTolerated + 1 }

    /// f + 1: enough matching replies that at least one comes from a correct replica.
    public var weakCertificateSize: Int { faultsTolerated + 1 }
}
