import EtcdAPI
import Foundation
import GRPCCore
import MVCC

/// etcdserverpb.Lease: grant and revoke through the log; keep-alive and time-to-live at the leader.
struct LeaseService: Etcdserverpb_Lease.SimpleServiceProtocol {
    let service: EtcdService

    func leaseGrant(request: Etcdserverpb_LeaseGrantRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseGrantResponse {
        switch await service.grantLease(id: request.id, ttlSeconds: request.ttl) {
        case .success(let granted):
            var response = Etcdserverpb_LeaseGrantResponse()
            response.header = service.header(revision: granted.revision)
            response.id = granted.id
            response.ttl = granted.ttl
            return response
        case .failure(let error):
            throw error.rpcError
        }
    }

    func leaseRevoke(request: Etcdserverpb_LeaseRevokeRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseRevokeResponse {
        switch await service.write(.leaseRevoke(id: request.id)) {
        case .success(let applied):
            var response = Etcdserverpb_LeaseRevokeResponse()
            response.header = service.header(revision: applied.revision)
            return response
        case .failure(let error):
            throw error.rpcError
        }
    }

    func leaseKeepAlive(
        request: RPCAsyncSequence<Etcdserverpb_LeaseKeepAliveRequest, any Error>,
        response: RPCWriter<Etcdserverpb_LeaseKeepAliveResponse>,
        context: ServerContext
    ) async throws {
        let service = service
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for try await keepAlive in request {
                    switch await service.keepAlive(keepAlive.id) {
                    case .success(let ttl):
                        var message = Etcdserverpb_LeaseKeepAliveResponse()
                        message.header = service.header()
                        message.id = keepAlive.id
                        message.ttl = ttl
                        try await response.write(message)
                    case .failure(let error):
                        throw error.rpcError
                    }
                }
            }
            // The node stopping ends the stream rather than waiting for the client to close it.
            group.addTask { await service.shutdown.wait() }
            try await group.next()
            group.cancelAll()
        }
    }

    func leaseTimeToLive(request: Etcdserverpb_LeaseTimeToLiveRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseTimeToLiveResponse {
        var response = Etcdserverpb_LeaseTimeToLiveResponse()
        response.id = request.id
        switch await service.timeToLive(request.id) {
        case .success(nil):
            // etcd answers an unknown lease with TTL -1 rather than an error.
            response.header = service.header()
            response.ttl = -1
        case .success(let times?):
            response.header = service.header()
            response.ttl = times.remaining
            response.grantedTtl = times.granted
            if request.keys {
                // The keys live in the replicated store; a linearizable barrier first, so a follower
                // answers with every key attached before this request, as the leader would.
                if case .failure(let error) = await service.read(.range(RangeRequest(key: [0], countOnly: true)), serializable: false) {
                    throw error.rpcError
                }
                let keys = await service.onLoop { $0.store.lease(request.id)?.keys ?? [] } ?? []
                response.keys = keys.map { Data($0) }
            }
        case .failure(let error):
            throw error.rpcError
        }
        return response
    }

    func leaseLeases(request: Etcdserverpb_LeaseLeasesRequest, context: ServerContext) async throws -> Etcdserverpb_LeaseLeasesResponse {
        guard let ids = await service.onLoop({ $0.store.leases.map(\.id) }) else { throw EtcdError.tooManyRequests.rpcError }
        var response = Etcdserverpb_LeaseLeasesResponse()
        response.header = service.header()
        response.leases = ids.map { id in
            var status = Etcdserverpb_LeaseStatus()
            status.id = id
            return status
        }
        return response
    }
}
