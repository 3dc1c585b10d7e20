import MVCC
import Testing

/// The texts and codes etcd sends (etcd `etcdserver/api/v3rpc/rpctypes/error.go`, mapped from
/// `mvcc/kvstore.go`, `lease/lessor.go` and `etcdserver/errors.go` by `v3rpc/util.go`).
@Suite struct ErrorMessageTests {
    @Test(arguments: [
        (MVCCError.compacted(compactRevision: 5), "etcdserver: mvcc: required revision has been compacted", 11),
        (.futureRevision, "etcdserver: mvcc: required revision is a future revision", 11),
        (.leaseNotFound(1), "etcdserver: requested lease not found", 5),
        (.leaseExists(1), "etcdserver: lease already exists", 9),
        (.keyNotFound, "etcdserver: key not found", 3),
        (.emptyKey, "etcdserver: key is not provided", 3),
        (.valueProvided, "etcdserver: value is provided", 3),
        (.leaseProvided, "etcdserver: lease is provided", 3),
        (.duplicateKeyInTxn, "etcdserver: duplicate key given in txn request", 3),
        (.tooManyOperations(limit: 128), "etcdserver: too many operations in txn request", 3),
        (.leaseTTLTooLarge, "etcdserver: too large lease TTL", 11),
    ])
    func messageAndCodeMatchEtcd(error: MVCCError, message: String, code: Int) {
        #expect(error.etcdMessage == message)
        #expect(error.grpcStatusCode == code)
    }
}
