import EtcdAPI
import GRPCCore
import MVCC

/// etcdserverpb.Cluster: the member list, and membership changes through the engine (see
/// `EtcdService+Members`).
struct ClusterService: Etcdserverpb_Cluster.SimpleServiceProtocol {
    let service: EtcdService

    func memberList(request: Etcdserverpb_MemberListRequest, context: ServerContext) async throws -> Etcdserverpb_MemberListResponse {
        var response = Etcdserverpb_MemberListResponse()
        response.header = service.header()
        response.members = service.members.map(\.proto)
        return response
    }

    func memberAdd(request: Etcdserverpb_MemberAddRequest, context: ServerContext) async throws -> Etcdserverpb_MemberAddResponse {
        let (added, members) = try await service.addMember(peerURLs: request.peerUrls, isLearner: request.isLearner).orRPCError()
        var response = Etcdserverpb_MemberAddResponse()
        response.header = service.header()
        response.member = added.proto
        response.members = members.map(\.proto)
        return response
    }

    func memberRemove(request: Etcdserverpb_MemberRemoveRequest, context: ServerContext) async throws -> Etcdserverpb_MemberRemoveResponse {
        let members = try await service.removeMember(request.id).orRPCError()
        var response = Etcdserverpb_MemberRemoveResponse()
        response.header = service.header()
        response.members = members.map(\.proto)
        return response
    }

    func memberUpdate(request: Etcdserverpb_MemberUpdateRequest, context: ServerContext) async throws -> Etcdserverpb_MemberUpdateResponse {
        let members = try await service.updateMember(request.id, peerURLs: request.peerUrls).orRPCError()
        var response = Etcdserverpb_MemberUpdateResponse()
        response.header = service.header()
        response.members = members.map(\.proto)
        return response
    }

    func memberPromote(request: Etcdserverpb_MemberPromoteRequest, context: ServerContext) async throws -> Etcdserverpb_MemberPromoteResponse {
        let members = try await service.promoteMember(request.id).orRPCError()
        var response = Etcdserverpb_MemberPromoteResponse()
        response.header = service.header()
        response.members = members.map(\.proto)
        return response
    }
}

extension Result where Failure == EtcdError {
    /// The value, or the error as etcd's gRPC status.
    func orRPCError() throws(RPCError) -> Success {
        switch self {
        case .success(let value): return value
        case .failure(let error): throw error.rpcError
        }
    }
}

extension Member {
    var proto: Etcdserverpb_Member {
        var proto = Etcdserverpb_Member()
        proto.id = id
        proto.name = attributes.name
        proto.peerUrls = attributes.peerURLs
        proto.clientUrls = attributes.clientURLs
        proto.isLearner = isLearner
        return proto
    }
}
