import ConsensusCore
import MVCC

/// Why a request from a client in the same process failed.
public enum InProcessFailure: Error, Sendable, Equatable {
    /// Not performed, definitely (a refusal by the engine or the validator): safe to retry.
    case refused(String)
    /// Perhaps performed: the request reached the log, and nobody knows whether it applied.
    case indeterminate(String)
}

/// The service's requests for clients in the same process, which the simulator's clients use:
/// the very paths the gRPC handlers take, answered through completions on the replica's thread.
extension EtcdService {
    /// A command through the log, answered with its outcome and the revision after it.
    public func submit(_ command: Command, completion: @escaping @Sendable (Result<(outcome: CommandOutcome, revision: Int64), InProcessFailure>) -> Void) {
        write(command) { answer in completion(answer.mapError(Self.inProcessFailure)) }
    }

    /// A linearizable range (ReadIndex), answered with its result and the revision it read at.
    public func linearizableRange(_ request: RangeRequest, completion: @escaping @Sendable (Result<(result: RangeResult, revision: Int64), InProcessFailure>) -> Void) {
        read(.range(request), serializable: false) { answer in
            completion(answer.mapError(Self.inProcessFailure).flatMap { answer in
                guard case .range(let result) = answer.outcome else { return .failure(.refused("a range answered \(answer.outcome)")) }
                return .success((result, answer.revision))
            })
        }
    }

    /// The index applied: replica state, for the simulator's checkers on the replica's thread.
    public var appliedIndexOnReplica: LogIndex { appliedIndex }

    /// The revision applied and the keyspace's hash there (etcd's HashKV), likewise.
    public var appliedKeyspace: (revision: Int64, hashKV: UInt32) {
        let hash = (try? EtcdBackendFormat.hashKV(of: store, revision: store.revision).get().hash) ?? 0
        return (store.revision, hash)
    }

    static func inProcessFailure(_ error: EtcdError) -> InProcessFailure {
        switch error {
        case .timeout, .stopped: return .indeterminate("\(error)")
        default: return .refused("\(error)")
        }
    }
}
