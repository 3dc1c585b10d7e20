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
        case .membershipChangeInProgress, .learnerNotCaughtUp, .invalidMembershipChange, .transferTargetNotVoter: self = .notCapable
        }
    }
}
