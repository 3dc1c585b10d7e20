import EtcdAPI
import GRPCCore

/// The etcd v3 methods this node serves, by gRPC path. Put and Range, the hot ones, answer from
/// the replica loop's callback; the rest run their grpc-swift-shaped handlers as tasks.
enum EtcdGRPCMethods {
    static func table(for service: EtcdService) -> [String: GRPCMethod] {
        let kv = KVService(service: service)
        let watch = WatchService(service: service)
        let lease = LeaseService(service: service)
        let cluster = ClusterService(service: service)
        let maintenance = MaintenanceService(service: service)
        let methods: [(String, GRPCMethod)] = [
            ("/etcdserverpb.KV/Range", .unary(kv.range)),
            ("/etcdserverpb.KV/Put", .unary(kv.put)),
            ("/etcdserverpb.KV/DeleteRange", .unary("etcdserverpb.KV/DeleteRange", kv.deleteRange)),
            ("/etcdserverpb.KV/Txn", .unary("etcdserverpb.KV/Txn", kv.txn)),
            ("/etcdserverpb.KV/Compact", .unary("etcdserverpb.KV/Compact", kv.compact)),
            ("/etcdserverpb.Watch/Watch", .bidirectionalStreaming("etcdserverpb.Watch/Watch", watch.watch)),
            ("/etcdserverpb.Lease/LeaseGrant", .unary("etcdserverpb.Lease/LeaseGrant", lease.leaseGrant)),
            ("/etcdserverpb.Lease/LeaseRevoke", .unary("etcdserverpb.Lease/LeaseRevoke", lease.leaseRevoke)),
            ("/etcdserverpb.Lease/LeaseKeepAlive", .bidirectionalStreaming("etcdserverpb.Lease/LeaseKeepAlive", lease.leaseKeepAlive)),
            ("/etcdserverpb.Lease/LeaseTimeToLive", .unary("etcdserverpb.Lease/LeaseTimeToLive", lease.leaseTimeToLive)),
            ("/etcdserverpb.Lease/LeaseLeases", .unary("etcdserverpb.Lease/LeaseLeases", lease.leaseLeases)),
            ("/etcdserverpb.Cluster/MemberList", .unary("etcdserverpb.Cluster/MemberList", cluster.memberList)),
            ("/etcdserverpb.Maintenance/Alarm", .unary("etcdserverpb.Maintenance/Alarm", maintenance.alarm)),
            ("/etcdserverpb.Maintenance/Status", .unary("etcdserverpb.Maintenance/Status", maintenance.status)),
        ]
        return Dictionary(uniqueKeysWithValues: methods)
    }
}
