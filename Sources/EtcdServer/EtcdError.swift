import ConsensusCore
import GRPCCore
import MVCC

/// The errors a client of the etcd API can get, with the gRPC code and message etcd uses for each
/// (etcd's `api/v3rpc/rpctypes/error.go`), so clients that match on them react as they do with etcd.
enum EtcdError: Error, Sendable {
    case store(MVCCError)
    case requestTooLarge
    case noLeader
    case timeout
    case leaderChanged
    case tooManyRequests
    case stopped
    case invalidRequest(String)
    case notCapable
    case member(MemberProblem)
    /// MoveLeader sent to a member that is not the leader (etcd's `ErrGRPCNotLeader`).
    case notLeader
    /// MoveLeader to a member that cannot lead (etcd's `ErrGRPCBadLeaderTransferee`).
    case badLeaderTransferee
    /// A leadership transfer that did not finish in time (etcd's `ErrGRPCTimeoutDueToLeaderFail`).
    case transferTimedOut

    /// Why a membership request is refused, as etcd's `membership` errors say it.
    enum MemberProblem: Error, Sendable {
        case notFound, idRemoved, peerURLExists, notLearner, learnerNotReady, tooManyLearners, badURLs
        case notEnoughActiveMembers, changeInProgress, busy
    }

    var rpcError: RPCError {
        switch self {
        case .store(let error):
            return RPCError(code: Self.code(error.grpcStatusCode), message: error.etcdMessage)
        case .requestTooLarge: return RPCError(code: .invalidArgument, message: "etcdserver: request is too large")
        case .noLeader: return RPCError(code: .unavailable, message: "etcdserver: no leader")
        case .timeout: return RPCError(code: .unavailable, message: "etcdserver: request timed out")
        case .leaderChanged: return RPCError(code: .unavailable, message: "etcdserver: leader changed")
        case .tooManyRequests: return RPCError(code: .resourceExhausted, message: "etcdserver: too many requests")
        case .stopped: return RPCError(code: .unavailable, message: "etcdserver: server stopped")
        case .invalidRequest(let reason): return RPCError(code: .invalidArgument, message: "etcdserver: \(reason)")
        case .notCapable: return RPCError(code: .unavailable, message: "etcdserver: not capable")
        case .notLeader: return RPCError(code: .unavailable, message: "etcdserver: not leader")
        case .badLeaderTransferee: return RPCError(code: .failedPrecondition, message: "etcdserver: bad leader transferee")
        case .transferTimedOut: return RPCError(code: .unavailable, message: "etcdserver: request timed out, possibly due to previous leader failure")
        case .member(let problem):
            switch problem {
            case .notFound: return RPCError(code: .notFound, message: "etcdserver: member not found")
            case .idRemoved: return RPCError(code: .failedPrecondition, message: "etcdserver: ID removed")
            case .peerURLExists: return RPCError(code: .failedPrecondition, message: "etcdserver: Peer URLs already exists")
            case .notLearner: return RPCError(code: .failedPrecondition, message: "etcdserver: can only promote a learner member")
            case .learnerNotReady: return RPCError(code: .failedPrecondition, message: "etcdserver: can only promote a learner member which is in sync with leader")
            case .tooManyLearners: return RPCError(code: .failedPrecondition, message: "etcdserver: too many learner members in cluster")
            case .badURLs: return RPCError(code: .invalidArgument, message: "etcdserver: given member URLs are invalid")
            // etcd refuses a change that would break the quorum of members it is connected to as
            // "unhealthy cluster" (`ErrUnhealthy`), which is the check Synod's engine makes.
            case .notEnoughActiveMembers: return RPCError(code: .unavailable, message: "etcdserver: unhealthy cluster")
            case .changeInProgress: return RPCError(code: .unavailable, message: "etcdserver: unhealthy cluster")
            case .busy: return RPCError(code: .resourceExhausted, message: "etcdserver: too many requests")
            }
        }
    }

    /// The few numeric `google.rpc.Code` values the store reports.
    static func code(_ numeric: Int) -> RPCError.Code {
        switch numeric {
        case 3: return .invalidArgument
        case 5: return .notFound
        case 8: return .resourceExhausted
        case 9: return .failedPrecondition
        case 11: return .outOfRange
        default: return .unknown
        }
    }

    /// An engine's refusal, as etcd would report the same situation.
    init(_ rejection: RequestRejection) {
        switch rejection {
        case .notLeader, .noLeader, .notMember: self = .noLeader
        case .proposalTooLarge: self = .requestTooLarge
        case .uncommittedLogFull, .tooManyPendingRequests: self = .tooManyRequests
        case .leaderChanged, .leadershipTransferInProgress: self = .leaderChanged
        case .timedOut: self = .timeout
        case .membershipChangeInProgress: self = .member(.changeInProgress)
        case .learnerNotCaughtUp: self = .member(.learnerNotReady)
        case .notEnoughActiveMembers: self = .member(.notEnoughActiveMembers)
        case .transferTargetNotVoter: self = .badLeaderTransferee
        case .invalidMembershipChange: self = .notCapable
        case .invalidProposal(let reason): self = .invalidRequest(reason)
        case .engineSpecific: self = .noLeader
        }
    }
}
