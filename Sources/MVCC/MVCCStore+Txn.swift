/// Transactions, as etcd's `applierV3backend.Txn` runs them:
///
/// 1. Evaluate every compare, nested txns' included, against the state before the transaction
///    (`compareToPath`), which fixes the branch taken at every level.
/// 2. Check the puts on that path (`checkRequestPut`: key exists for ignore flags, lease exists), then
///    the ranges (`checkRequestRange`: revision not in the future, not compacted). A failure here
///    rejects the whole transaction with nothing written.
/// 3. Run the operations in order in one write transaction; ranges see earlier writes.
///
/// After step 2 no operation can fail, so a transaction is all or nothing without an undo log.
extension MVCCStore {
    /// Which branch a txn takes, and the same for each nested txn in that branch, in order.
    struct TxnPath {
        var succeeded: Bool
        var nested: [TxnPath]
    }

    mutating func applyTxn(_ txn: TxnRequest) throws(MVCCError) -> TxnResult {
        let path = chooseTxnPath(txn)
        var fromKeyDeleteStarts: [[UInt8]] = []
        try checkTxnPuts(txn, path: path, fromKeyDeleteStarts: &fromKeyDeleteStarts)
        try checkTxnRanges(txn, path: path)
        var transaction = WriteTransaction(beginRevision: revision)
        let result = runTxn(txn, path: path, in: &transaction)
        commit(transaction)
        return result
    }

    func chooseTxnPath(_ txn: TxnRequest) -> TxnPath {
        let succeeded = txn.compare.allSatisfy { compareHolds($0, at: revision) }
        var nested: [TxnPath] = []
        for case .txn(let child) in succeeded ? txn.success : txn.failure {
            nested.append(chooseTxnPath(child))
        }
        return TxnPath(succeeded: succeeded, nested: nested)
    }

    /// etcd's `applyCompare`: every key in the range must satisfy the compare; when no key exists, a
    /// value compare fails and the other targets compare against zero.
    package func compareHolds(_ compare: Compare, at readRevision: Int64) -> Bool {
        var anyKey = false
        var allHold = true
        forEachVersion(in: KeyRange(key: compare.key, rangeEnd: compare.rangeEnd), at: readRevision) { _, version in
            anyKey = true
            allHold = Self.compareHolds(compare, for: version)
            return allHold
        }
        if anyKey { return allHold }
        if case .value = compare.target { return false }
        return Self.compareHolds(compare, for: .tombstone(at: Revision(main: 0, sub: 0)))
    }

    package static func compareHolds(_ compare: Compare, for version: KeyHistoryEntry) -> Bool {
        let order: Int
        switch compare.target {
        case .value(let value): order = ByteOrder.compare(version.value, value)
        case .version(let target): order = RangeSorting.compareIntegers(version.version, target)
        case .createRevision(let target): order = RangeSorting.compareIntegers(version.createRevision, target)
        case .modRevision(let target): order = RangeSorting.compareIntegers(version.modRevision, target)
        case .lease(let target): order = RangeSorting.compareIntegers(version.lease, target)
        }
        switch compare.result {
        case .equal: return order == 0
        case .notEqual: return order != 0
        case .greater: return order > 0
        case .less: return order < 0
        }
    }

    /// etcd's `checkRequests(…, checkRequestPut)` over the chosen path, in execution order.
    ///
    /// One addition: etcd's overlap check lets a from-key delete through (see `TxnIntervalCheck`), so
    /// `delete [a, ∞); put b ignore_value` passes every etcd check and then fails inside the apply,
    /// where etcd panics. Here an ignore-flag put of a key that an earlier from-key delete removes is
    /// refused up front with `keyNotFound`, which keeps the transaction all or nothing.
    func checkTxnPuts(
        _ txn: TxnRequest, path: TxnPath, fromKeyDeleteStarts: inout [[UInt8]]
    ) throws(MVCCError) {
        var nestedPaths = path.nested.makeIterator()
        for operation in path.succeeded ? txn.success : txn.failure {
            switch operation {
            case .txn(let child):
                guard let childPath = nestedPaths.next() else {
                    preconditionFailure("MVCCStore.checkTxnPuts: path has fewer nested txns than the request")
                }
                try checkTxnPuts(child, path: childPath, fromKeyDeleteStarts: &fromKeyDeleteStarts)
            case .put(let put):
                if put.ignoreValue || put.ignoreLease {
                    guard keyIndex.value(forKey: put.key)?.live != nil else { throw .keyNotFound }
                    let deletedEarlier = fromKeyDeleteStarts.contains { ByteOrder.compare($0, put.key) <= 0 }
                    if deletedEarlier { throw .keyNotFound }
                }
                if put.lease != 0 && leaseTable[put.lease] == nil { throw .leaseNotFound(put.lease) }
            case .deleteRange(let delete):
                if delete.rangeEnd == KeyRange.toEndMarker { fromKeyDeleteStarts.append(delete.key) }
            case .range:
                break
            }
        }
    }

    /// etcd's `checkRequests(…, checkRequestRange)`: a range's revision, when nonzero, must not be
    /// after the revision the transaction starts from nor before the compacted revision.
    func checkTxnRanges(_ txn: TxnRequest, path: TxnPath) throws(MVCCError) {
        var nestedPaths = path.nested.makeIterator()
        for operation in path.succeeded ? txn.success : txn.failure {
            switch operation {
            case .txn(let child):
                guard let childPath = nestedPaths.next() else {
                    preconditionFailure("MVCCStore.checkTxnRanges: path has fewer nested txns than the request")
                }
                try checkTxnRanges(child, path: childPath)
            case .range(let range):
                if range.revision == 0 { continue }
                if range.revision > revision { throw .futureRevision }
                if range.revision < firstReadableRevision { throw .compacted(compactRevision: compactedRevision) }
            case .put, .deleteRange:
                break
            }
        }
    }

    /// Runs the checked path. Nothing here can fail; an error would mean the checks above missed a
    /// case, and then the transaction could not be undone, so that is a precondition failure.
    mutating func runTxn(_ txn: TxnRequest, path: TxnPath, in transaction: inout WriteTransaction) -> TxnResult {
        var nestedPaths = path.nested.makeIterator()
        var responses: [ResponseOp] = []
        for operation in path.succeeded ? txn.success : txn.failure {
            switch operation {
            case .range(let range):
                do {
                    responses.append(.range(try readRange(range, currentRevision: transaction.readRevision)))
                } catch {
                    preconditionFailure("MVCCStore.runTxn: checked range failed with \(error): \(range)")
                }
            case .put(let put):
                switch runPut(put, in: &transaction) {
                case .success(let result): responses.append(.put(result))
                case .failure(let error): preconditionFailure("MVCCStore.runTxn: checked put failed with \(error): \(put)")
                }
            case .deleteRange(let delete):
                responses.append(.deleteRange(runDeleteRange(delete, in: &transaction)))
            case .txn(let child):
                guard let childPath = nestedPaths.next() else {
                    preconditionFailure("MVCCStore.runTxn: path has fewer nested txns than the request")
                }
                responses.append(.txn(runTxn(child, path: childPath, in: &transaction)))
            }
        }
        return TxnResult(succeeded: path.succeeded, responses: responses)
    }
}
