import ConsensusCore

/// The state Raft must make durable before acting on it (Figure 2: currentTerm, votedFor), plus the
/// commit index so that a restarted node re-applies what it had applied without waiting for a leader.
public struct RaftHardState: Sendable, Equatable, CustomStringConvertible {
    public var term: Term
    public var vote: NodeID?
    public var commit: LogIndex

    public init(term: Term = 0, vote: NodeID? = nil, commit: LogIndex = 0) {
        self.term = term
        self.vote = vote
        self.commit = commit
    }

    public var description: String { "term=\(term) vote=\(vote.map(\.description) ?? "-") commit=\(commit)" }
}

/// The roles of Figure 4, plus the pre-candidate of pre-vote.
///
/// ### Legal transitions
/// - follower → preCandidate (election timeout, pre-vote on) or candidate (pre-vote off)
/// - preCandidate → candidate (pre-vote won) or follower (lost, or a leader appeared)
/// - candidate → leader (vote won), follower (higher term or a leader appeared), candidate (timeout)
/// - leader → follower (higher term, or check-quorum failed)
public enum RaftRole: String, Sendable {
    case follower
    case preCandidate
    case candidate
    case leader
}

public typealias RaftAction = EngineAction<RaftMessage, RaftHardState>
public typealias RaftEvent = EngineEvent<RaftMessage>
