/// Who takes part in a consensus group, and how.
///
/// While a change is in flight under joint consensus (Raft §6, C_old,new), `outgoingVoters` holds the
/// old voters and every decision needs a majority of both sets; otherwise it is empty.
public struct Membership: Sendable, Hashable, CustomStringConvertible {
    public var voters: Set<NodeID>
    /// Members that receive the log but neither vote nor count toward any quorum.
    public var learners: Set<NodeID>
    public var outgoingVoters: Set<NodeID>

    public init(voters: some Sequence<NodeID>, learners: some Sequence<NodeID> = [], outgoingVoters: some Sequence<NodeID> = []) {
        self.voters = Set(voters)
        self.learners = Set(learners)
        self.outgoingVoters = Set(outgoingVoters)
    }

    public var isJoint: Bool { !outgoingVoters.isEmpty }

    /// Everyone who votes in either configuration.
    public var allVoters: Set<NodeID> { voters.union(outgoingVoters) }

    /// Everyone who receives the log.
    public var members: Set<NodeID> { allVoters.union(learners) }

    public func isVoter(_ node: NodeID) -> Bool { voters.contains(node) || outgoingVoters.contains(node) }

    public var quorum: JointQuorum {
        JointQuorum(
            incoming: MajorityQuorum(voters: voters),
            outgoing: isJoint ? MajorityQuorum(voters: outgoingVoters) : nil
        )
    }

    public var description: String {
        func list(_ nodes: Set<NodeID>) -> String { nodes.sorted().map(\.description).joined(separator: ",") }
        var text = "voters={\(list(voters))}"
        if isJoint { text += " outgoing={\(list(outgoingVoters))}" }
        if !learners.isEmpty { text += " learners={\(list(learners))}" }
        return text
    }
}

/// A change an operator asks for. Every change goes through joint consensus; the single-server forms
/// are conveniences that name the one node that changes.
public enum MembershipChange: Sendable, Hashable, CustomStringConvertible {
    /// Adds a non-voting member that starts receiving the log.
    case addLearner(NodeID)
    /// Makes a caught-up learner a voter.
    case promoteLearner(NodeID)
    /// Adds a voter directly (it starts with an empty log, which slows commits until it catches up).
    case addVoter(NodeID)
    /// Removes a voter or learner.
    case remove(NodeID)
    /// Replaces the voter and learner sets wholesale.
    case replace(voters: Set<NodeID>, learners: Set<NodeID>)

    /// The configuration that results from applying this change to `current`, or why it cannot.
    public func applied(to current: Membership) -> Result<Membership, RequestRejection> {
        var voters = current.voters
        var learners = current.learners
        switch self {
        case .addLearner(let node):
            guard !voters.contains(node), !learners.contains(node) else { return .failure(.invalidMembershipChange("\(node) is already a member")) }
            learners.insert(node)
        case .promoteLearner(let node):
            guard learners.remove(node) != nil else { return .failure(.invalidMembershipChange("\(node) is not a learner")) }
            voters.insert(node)
        case .addVoter(let node):
            guard !voters.contains(node) else { return .failure(.invalidMembershipChange("\(node) is already a voter")) }
            learners.remove(node)
            voters.insert(node)
        case .remove(let node):
            guard voters.remove(node) != nil || learners.remove(node) != nil else { return .failure(.invalidMembershipChange("\(node) is not a member")) }
        case .replace(let newVoters, let newLearners):
            guard newVoters.isDisjoint(with: newLearners) else { return .failure(.invalidMembershipChange("a node cannot be both voter and learner")) }
            voters = newVoters
            learners = newLearners
        }
        guard !voters.isEmpty else { return .failure(.invalidMembershipChange("a configuration needs at least one voter")) }
        return .success(Membership(voters: voters, learners: learners))
    }

    public var description: String {
        switch self {
        case .addLearner(let node): return "add-learner \(node)"
        case .promoteLearner(let node): return "promote \(node)"
        case .addVoter(let node): return "add-voter \(node)"
        case .remove(let node): return "remove \(node)"
        case .replace(let voters, let learners): return "replace \(Membership(voters: voters, learners: learners))"
        }
    }
}
