import EtcdAPI
import GRPCCore

/// etcdserverpb.Maintenance: Status (endpoint status) and Alarm (no alarms are raised).
struct MaintenanceService: Etcdserverpb_Maintenance.SimpleServiceProtocol {
    /// The etcd API version this node speaks; clients gate features on it.
    static let apiVersion = "3.4.0"

    let service: EtcdService

    func alarm(request: Etcdserverpb_AlarmRequest, context: ServerContext) async throws -> Etcdserverpb_AlarmResponse {
        var response = Etcdserverpb_AlarmResponse()
        response.header = service.header()
        return response
    }

    func status(request: Etcdserverpb_StatusRequest, context: ServerContext) async throws -> Etcdserverpb_StatusResponse {
        let status = service.loop.status
        let sizes = await service.onLoop { (bytes: $0.store.sizeBytes, applied: $0.appliedIndex) } ?? (bytes: 0, applied: 0)
        var response = Etcdserverpb_StatusResponse()
        response.header = service.header()
        response.version = Self.apiVersion
        response.dbSize = Int64(sizes.bytes)
        response.dbSizeInUse = Int64(sizes.bytes)
        response.leader = status.leader?.rawValue ?? 0
        response.raftIndex = status.commitIndex
        response.raftTerm = status.term
        response.raftAppliedIndex = sizes.applied
        return response
    }
}
