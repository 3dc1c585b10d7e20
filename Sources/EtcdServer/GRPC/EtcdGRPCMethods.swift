import EtcdAPI
import GRPCCore

/// The etcd v3 methods this node serves, by gRPC path (from the generated descriptors). Put and
/// Range, the hot ones, answer from the replica loop's callback; the rest run their
/// grpc-swift-shaped handlers as tasks.
enum EtcdGRPCMethods {
    static func table(for service: EtcdService) -> [String: GRPCMethod] {
        let kv = KVService(service: service)
        let watch = WatchService(service: service)
        let lease = LeaseService(service: service)
        let cluster = ClusterService(service: service)
        let maintenance = MaintenanceService(service: service)
        let methods: [(MethodDescriptor, GRPCMethod)] = [
            (Etcdserverpb_KV.Method.Range.descriptor, .unary(kv.range)),
            (Etcdserverpb_KV.Method.Put.descriptor, .unary(kv.put)),
            (Etcdserverpb_KV.Method.DeleteRange.descriptor, .unary(task: kv.deleteRange)),
            (Etcdserverpb_KV.Method.Txn.descriptor, .unary(task: kv.txn)),
            (Etcdserverpb_KV.Method.Compact.descriptor, .unary(task: kv.compact)),
            (Etcdserverpb_Watch.Method.Watch.descriptor, .bidirectionalStreaming(watch.watch)),
            (Etcdserverpb_Lease.Method.LeaseGrant.descriptor, .unary(task: lease.leaseGrant)),
            (Etcdserverpb_Lease.Method.LeaseRevoke.descriptor, .unary(task: lease.leaseRevoke)),
            (Etcdserverpb_Lease.Method.LeaseKeepAlive.descriptor, .bidirectionalStreaming(lease.leaseKeepAlive)),
            (Etcdserverpb_Lease.Method.LeaseTimeToLive.descriptor, .unary(task: lease.leaseTimeToLive)),
            (Etcdserverpb_Lease.Method.LeaseLeases.descriptor, .unary(task: lease.leaseLeases)),
            (Etcdserverpb_Cluster.Method.MemberList.descriptor, .unary(task: cluster.memberList)),
            (Etcdserverpb_Cluster.Method.MemberAdd.descriptor, .unary(task: cluster.memberAdd)),
            (Etcdserverpb_Cluster.Method.MemberRemove.descriptor, .unary(task: cluster.memberRemove)),
            (Etcdserverpb_Cluster.Method.MemberUpdate.descriptor, .unary(task: cluster.memberUpdate)),
            (Etcdserverpb_Cluster.Method.MemberPromote.descriptor, .unary(task: cluster.memberPromote)),
            (Etcdserverpb_Maintenance.Method.MoveLeader.descriptor, .unary(task: maintenance.moveLeader)),
            (Etcdserverpb_Maintenance.Method.Hash.descriptor, .unary(task: maintenance.hash)),
            (Etcdserverpb_Maintenance.Method.HashKV.descriptor, .unary(task: maintenance.hashKV)),
            (Etcdserverpb_Maintenance.Method.Snapshot.descriptor, .serverStreaming(maintenance.snapshot)),
            (Etcdserverpb_Maintenance.Method.Alarm.descriptor, .unary(task: maintenance.alarm)),
            (Etcdserverpb_Maintenance.Method.Status.descriptor, .unary(task: maintenance.status)),
            (Etcdserverpb_Maintenance.Method.Defragment.descriptor, .unary(task: maintenance.defragment)),
        ]
        // gRPC's :path is "/" + package.Service + "/" + Method.
        return Dictionary(uniqueKeysWithValues: methods.map { ("/" + $0.fullyQualifiedMethod, $1) })
    }
}
