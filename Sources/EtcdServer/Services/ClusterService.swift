import EtcdAPI
import GRPCCore

/// etcdserverpb.Cluster: the member list clients read on connect.
struct ClusterService: Etcdserverpb_Cluster.SimpleServiceProtocol {
    let service: EtcdService

    func memberList(request: Etcdserverpb_MemberListRequest, context: ServerContext) async throws -> Etcdserverpb_MemberListResponse {
        var response = Etcdserverpb_MemberListResponse()
        response.header = service.header()
        response.members = service.members.map { member in
            var proto = Etcdserverpb_Member()
            proto.id = member.id.rawValue
            proto.name = member.name
            proto.peerUrls = member.peerURLs
            proto.clientUrls = member.clientURLs
            return proto
        }
        return response
    }
}
