/// The checks etcd makes on a request before proposing it (v3rpc/key.go `checkPutRequest`,
/// `checkDeleteRequest`, `checkTxnRequest`, `checkIntervals`; lessor `Grant`'s argument checks).
/// They depend only on the request, never on the store's state, so a client gets these errors
/// without a log entry, and every replica reaches the same verdict again when it applies.
extension MVCCStore {
    /// Throws the error etcd would give this command before proposing it, checking in etcd's order.
    public func validate(_ command: Command) throws(MVCCError) {
        switch command {
        case .put(let put):
            try Self.checkPut(put)
        case .deleteRange(let delete):
            try Self.checkDeleteRange(delete)
        case .txn(let txn):
            try Self.checkTxn(txn, operationsMax: Self.txnOperationsMax)
            // etcd checks overlaps only after the cheap checks, to avoid a quadratic check of a
            // request that is invalid anyway.
            _ = try TxnIntervalCheck.check(txn.success)
            _ = try TxnIntervalCheck.check(txn.failure)
        case .compact:
            break
        case .leaseGrant(let id, let ttlSeconds):
            // The node picks the id; 0 means "no lease", which lessor.Grant refuses as not found.
            if id == 0 { throw .leaseNotFound(id) }
            if ttlSeconds > Self.leaseTTLMaxSeconds { throw .leaseTTLTooLarge }
        case .leaseRevoke, .alarm:
            break
        case .memberAttributes(let attributes):
            try Self.checkMemberAttributes(attributes)
        }
    }

    static func checkPut(_ put: PutRequest) throws(MVCCError) {
        if put.key.isEmpty { throw .emptyKey }
        if put.ignoreValue && !put.value.isEmpty { throw .valueProvided }
        if put.ignoreLease && put.lease != 0 { throw .leaseProvided }
    }

    static func checkDeleteRange(_ delete: DeleteRangeRequest) throws(MVCCError) {
        if delete.key.isEmpty { throw .emptyKey }
    }

    /// etcd's `checkTxnRequest`: the longest of the compare, success and failure lists may hold at
    /// most `operationsMax` entries, and a nested txn gets what its parent left: `operationsMax`
    /// minus the parent's longest list. So the bound applies along each nesting path, not to the
    /// total across siblings.
    static func checkTxn(_ txn: TxnRequest, operationsMax: Int) throws(MVCCError) {
        let longestList = max(txn.compare.count, txn.success.count, txn.failure.count)
        if longestList > operationsMax { throw .tooManyOperations(limit: txnOperationsMax) }
        for compare in txn.compare where compare.key.isEmpty { throw .emptyKey }
        for operation in txn.success + txn.failure {
            try checkOperation(operation, operationsMax: operationsMax - longestList)
        }
    }

    static func checkOperation(_ operation: RequestOp, operationsMax: Int) throws(MVCCError) {
        switch operation {
        case .range(let range): if range.key.isEmpty { throw .emptyKey }
        case .put(let put): try checkPut(put)
        case .deleteRange(let delete): try checkDeleteRange(delete)
        case .txn(let nested): try checkTxn(nested, operationsMax: operationsMax)
        }
    }
}
