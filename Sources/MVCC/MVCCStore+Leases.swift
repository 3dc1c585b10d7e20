/// The replicated half of etcd's lessor: which leases exist and which keys they hold. Expiry is the
/// leader's business; it proposes `leaseRevoke` when a lease runs out.
extension MVCCStore {
    /// etcd's `lessor.Grant` as applied on every member. The TTL is stored as given: etcd raises a
    /// TTL below its minimum (derived from the election timeout) at grant time, and the node layer,
    /// which knows that minimum, does so before proposing.
    mutating func grantLease(id: Int64, ttlSeconds: Int64) throws(MVCCError) -> Lease {
        if leaseTable[id] != nil { throw .leaseExists(id) }
        leaseTable[id] = LeaseRecord(ttlSeconds: ttlSeconds)
        return Lease(id: id, ttlSeconds: ttlSeconds)
    }

    /// etcd's `lessor.Revoke`: deletes the lease's keys in ascending key order in one write (one
    /// revision, none if it holds no keys), then forgets the lease.
    mutating func revokeLease(id: Int64) throws(MVCCError) {
        guard let record = leaseTable[id] else { throw .leaseNotFound(id) }
        var transaction = WriteTransaction(beginRevision: revision)
        for key in record.keys.sorted(by: ByteOrder.precedes) {
            writeDelete(key: key, in: &transaction)
        }
        precondition(
            leaseTable[id]?.keys.isEmpty == true,
            "MVCCStore.revokeLease: lease \(id) still holds keys after deleting them")
        leaseTable[id] = nil
        commit(transaction)
    }
}
