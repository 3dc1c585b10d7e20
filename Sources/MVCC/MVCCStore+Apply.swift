/// Applying committed commands: etcd's `applierV3backend` for the key-value and lease requests.
extension MVCCStore {
    /// Applies one committed command. Deterministic: equal stores applying equal commands reach equal
    /// states with equal outcomes. A command that fails (lease not found, `ignoreValue` on a missing
    /// key, a txn whose operation fails its check, any `validate` error) changes nothing and returns
    /// the error; `lastAppliedEvents` then is empty.
    public mutating func apply(_ command: Command) -> Result<CommandOutcome, MVCCError> {
        clearLastAppliedEvents()
        if refusedForSpace(command) { return .failure(.noSpace) }
        do {
            try validate(command)
            return .success(try applyValidated(command))
        } catch {
            return .failure(error)
        }
    }

    private mutating func applyValidated(_ command: Command) throws(MVCCError) -> CommandOutcome {
        switch command {
        case .put(let put):
            // etcd checks the lease before it opens the write (`applierV3backend.Put` with no txn).
            if put.lease != 0 && leaseTable[put.lease] == nil { throw .leaseNotFound(put.lease) }
            var transaction = WriteTransaction(beginRevision: revision)
            let result = runPut(put, in: &transaction)
            if case .success = result { commit(transaction) }
            return .put(try result.get())
        case .deleteRange(let delete):
            var transaction = WriteTransaction(beginRevision: revision)
            let result = runDeleteRange(delete, in: &transaction)
            commit(transaction)
            return .deleteRange(result)
        case .txn(let txn):
            return .txn(try applyTxn(txn))
        case .compact(let compactRevision):
            try compact(to: compactRevision)
            return .compact
        case .leaseGrant(let id, let ttlSeconds):
            return .leaseGrant(try grantLease(id: id, ttlSeconds: ttlSeconds))
        case .leaseRevoke(let id):
            try revokeLease(id: id)
            return .leaseRevoke
        case .alarm(let action, let alarm):
            return .alarm(applyAlarm(action, alarm))
        case .memberAttributes(let attributes):
            try applyMemberAttributes(attributes)
            return .memberAttributes
        }
    }

    /// etcd's `applierV3backend.Put` inside a write: resolves the ignore flags against the key's
    /// current version (as this transaction sees it) and writes. Fails, having written nothing, only
    /// when an ignore flag finds no key.
    mutating func runPut(_ put: PutRequest, in transaction: inout WriteTransaction) -> Result<PutResult, MVCCError> {
        var value = put.value
        var lease = put.lease
        if put.ignoreValue || put.ignoreLease {
            // Looked up only when a flag needs it: the write below descends the index anyway, and on
            // a large store each descent is a chain of cache misses.
            guard let current = keyIndex.value(forKey: put.key)?.live else { return .failure(.keyNotFound) }
            if put.ignoreValue { value = current.value }
            if put.ignoreLease { lease = current.lease }
        }
        let replaced = writePut(key: put.key, value: value, lease: lease, in: &transaction)
        return .success(PutResult(previous: put.previousKV ? replaced : nil))
    }

    /// etcd's `applierV3backend.DeleteRange`: deletes every live key in the range at one revision;
    /// deleting nothing writes nothing.
    mutating func runDeleteRange(
        _ delete: DeleteRangeRequest, in transaction: inout WriteTransaction
    ) -> DeleteRangeResult {
        var deletedKeys: [[UInt8]] = []
        var previous: [KeyValue] = []
        // The transaction's writes are already in the index, so the newest version is what it sees.
        forEachVersion(in: KeyRange(key: delete.key, rangeEnd: delete.rangeEnd), at: Int64.max) { key, version in
            deletedKeys.append(key)
            if delete.previousKV { previous.append(version.keyValue(key: key)) }
            return true
        }
        for key in deletedKeys { writeDelete(key: key, in: &transaction) }
        return DeleteRangeResult(deleted: Int64(deletedKeys.count), previous: previous)
    }
}
