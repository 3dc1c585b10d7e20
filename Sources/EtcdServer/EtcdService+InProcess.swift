import ConsensusCore
import EtcdAPI
import Foundation
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

    /// Grants a lease of at least `ttlSeconds` (the member's minimum applies), answered with its
    /// id, TTL and the revision after the grant.
    public func grantLease(ttlSeconds: Int64, completion: @escaping @Sendable (Result<(id: Int64, ttl: Int64, revision: Int64), InProcessFailure>) -> Void) {
        grantLease(id: 0, ttlSeconds: ttlSeconds) { completion($0.mapError(Self.inProcessFailure)) }
    }

    /// Renews a lease at the leader, answered with its TTL (0: the lease is unknown).
    public func keepAliveLease(_ id: Int64, completion: @escaping @Sendable (Result<Int64, InProcessFailure>) -> Void) {
        keepAlive(id) { completion($0.mapError(Self.inProcessFailure)) }
    }

    /// The index applied: replica state, for the simulator's checkers on the replica's thread.
    public var appliedIndexOnReplica: LogIndex { appliedIndex }

    /// The alarms raised, as applied here, likewise.
    public var raisedAlarmsOnReplica: [Alarm] { store.alarms }

    /// The revision applied, likewise.
    public var appliedRevisionOnReplica: Int64 { store.revision }

    /// The revision applied and the keyspace's hash there (etcd's HashKV), likewise. Walks the
    /// whole store: for the checks at the end of a run.
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

/// A watch stream of a client in the same process (the simulator's watchers): replies arrive at
/// its sink, on the replica's thread, as they are queued for a gRPC client.
public final class InProcessWatchStream: @unchecked Sendable {
    let stream: WatchStream

    init(stream: WatchStream) { self.stream = stream }
}

extension EtcdService {
    /// Opens a watch stream whose replies go to `sink`. Every reply is taken as soon as it is
    /// queued, so the stream's byte bound never holds events back.
    public func openWatchStream(_ sink: @escaping @Sendable (WatchReply) -> Void) -> InProcessWatchStream {
        let box = StreamBox()
        let stream = WatchStream(sink: { queued in
            box.stream?.written(queued)
            sink(queued.reply)
        }, finish: {})
        box.stream = stream
        return InProcessWatchStream(stream: stream)
    }

    /// Creates a watch of [key, rangeEnd) from `startRevision` (0: from the next revision) on the
    /// replica's thread, as a Watch create request does. False when the replica is busy.
    public func createWatch(on handle: InProcessWatchStream, key: [UInt8], rangeEnd: [UInt8] = [], startRevision: Int64) -> Bool {
        var request = Etcdserverpb_WatchCreateRequest()
        request.key = Data(key)
        request.rangeEnd = Data(rangeEnd)
        request.startRevision = startRevision
        return replica.perform { [self] in
            if !handle.stream.closed {
                if watches.isRegistered(handle.stream) == false { watches.add(handle.stream) }
                watches.create(request, on: handle.stream, store: store)
            }
        }
    }

    /// Asks for a progress notification on the stream (answered once every watcher on it caught up).
    public func requestWatchProgress(on handle: InProcessWatchStream) -> Bool {
        replica.perform { [self] in
            if !handle.stream.closed { watches.requestProgress(on: handle.stream, revision: store.revision) }
        }
    }

    /// Closes the stream and its watchers.
    public func closeWatchStream(_ handle: InProcessWatchStream) {
        replica.performAlways { [self] in watches.remove(handle.stream) }
    }
}

/// Lets a stream's sink release the bytes of what it took.
private final class StreamBox: @unchecked Sendable {
    var stream: WatchStream?
}
