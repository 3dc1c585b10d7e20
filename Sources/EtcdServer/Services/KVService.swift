import EtcdAPI
import GRPCCore
import MVCC

/// etcdserverpb.KV: Range, Put, DeleteRange, Txn, Compact.
struct KVService: Etcdserverpb_KV.SimpleServiceProtocol {
    let service: EtcdService

    func range(request: Etcdserverpb_RangeRequest, context: ServerContext) async throws -> Etcdserverpb_RangeResponse {
        try await withCheckedThrowingContinuation { continuation in range(request) { continuation.resume(with: $0) } }
    }

    /// Range answering through a callback: the gRPC server's hot path, with no task per request.
    func range(_ request: Etcdserverpb_RangeRequest, completion: @escaping @Sendable (Result<Etcdserverpb_RangeResponse, RPCError>) -> Void) {
        let service = service
        service.read(.range(RangeRequest(request)), serializable: request.serializable) { answer in
            completion(answer.map { answer in
                guard case .range(let result) = answer.outcome else { preconditionFailure("a range answered with another outcome") }
                var response = result.proto
                response.header = service.header(revision: answer.revision)
                return response
            }.mapError(\.rpcError))
        }
    }

    func put(request: Etcdserverpb_PutRequest, context: ServerContext) async throws -> Etcdserverpb_PutResponse {
        try await withCheckedThrowingContinuation { continuation in put(request) { continuation.resume(with: $0) } }
    }

    /// Put answering through a callback, as `range(_:completion:)`.
    func put(_ request: Etcdserverpb_PutRequest, completion: @escaping @Sendable (Result<Etcdserverpb_PutResponse, RPCError>) -> Void) {
        let service = service
        service.write(.put(PutRequest(request))) { answer in
            completion(answer.map { applied in
                guard case .put(let result) = applied.outcome else { preconditionFailure("a put answered \(applied.outcome)") }
                var response = result.proto
                response.header = service.header(revision: applied.revision)
                return response
            }.mapError(\.rpcError))
        }
    }

    func deleteRange(request: Etcdserverpb_DeleteRangeRequest, context: ServerContext) async throws -> Etcdserverpb_DeleteRangeResponse {
        let applied = try await write(.deleteRange(DeleteRangeRequest(request)))
        guard case .deleteRange(let result) = applied.outcome else { preconditionFailure("a delete answered \(applied.outcome)") }
        var response = result.proto
        response.header = service.header(revision: applied.revision)
        return response
    }

    func txn(request: Etcdserverpb_TxnRequest, context: ServerContext) async throws -> Etcdserverpb_TxnResponse {
        guard let txn = TxnRequest(request) else {
            throw EtcdError.store(request.etcdRefusal() ?? .keyNotFound).rpcError
        }
        if txn.isReadOnly {
            // etcd serves a read-only txn as a linearizable read, without a log entry.
            do throws(MVCCError) {
                try MVCCStore.validator.validate(.txn(txn))
            } catch {
                throw EtcdError.store(error).rpcError
            }
            let answer = try await read(.txn(txn), serializable: false)
            guard case .txn(let result) = answer.outcome else { preconditionFailure("a txn answered with another outcome") }
            return result.proto(header: service.header(revision: answer.revision))
        }
        let applied = try await write(.txn(txn))
        guard case .txn(let result) = applied.outcome else { preconditionFailure("a txn answered \(applied.outcome)") }
        return result.proto(header: service.header(revision: applied.revision))
    }

    func compact(request: Etcdserverpb_CompactionRequest, context: ServerContext) async throws -> Etcdserverpb_CompactionResponse {
        let applied = try await write(.compact(revision: request.revision))
        var response = Etcdserverpb_CompactionResponse()
        response.header = service.header(revision: applied.revision)
        return response
    }

    private func write(_ command: Command) async throws -> (outcome: CommandOutcome, revision: Int64) {
        switch await service.write(command) {
        case .success(let applied): return applied
        case .failure(let error): throw error.rpcError
        }
    }

    private func read(_ work: EtcdService.ReadWork, serializable: Bool) async throws -> (outcome: EtcdService.ReadOutcome, revision: Int64) {
        switch await service.read(work, serializable: serializable) {
        case .success(let answer): return answer
        case .failure(let error): throw error.rpcError
        }
    }
}
