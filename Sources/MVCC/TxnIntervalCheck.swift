/// etcd's `checkIntervals` (v3rpc/key.go): a transaction may not write one key twice, where a write
/// is a put or a delete-range covering the key. The rules, kept exactly because they decide which
/// transactions etcd accepts:
///
/// - Two puts of one key conflict, except one in a nested txn's success branch and one in the same
///   nested txn's failure branch (only one of them runs).
/// - A put conflicts with a delete anywhere in the same operation list (that list's own deletes and
///   every delete nested below it, at any depth), with one exception: a put inside a nested txn does
///   not conflict with a delete inside a *later* sibling nested txn, because etcd adds a nested txn's
///   deletes only after checking the puts of the nested txns before it. Enclosing lists apply the
///   same rule again, since a list reports all puts and deletes nested in it.
/// - Deletes never conflict with deletes.
/// - etcd stores a delete's interval with its raw `range_end`, so a from-key delete (`range_end ==
///   [0]`) becomes the interval `[key, "\0")`, which contains no non-empty key: it conflicts with
///   nothing. `MVCCStore` guards the one case where that lets a txn go wrong (see `checkPuts`).
struct TxnIntervalCheck {
    /// The keys a list of operations puts (its own and its nested txns', both branches).
    var puts: Set<[UInt8]> = []
    /// The ranges a list of operations deletes (its own and its nested txns', both branches).
    var deletes = DeletedRanges()

    /// Checks one branch (a success or failure list) and returns what it writes.
    static func check(_ operations: [RequestOp]) throws(MVCCError) -> TxnIntervalCheck {
        var level = TxnIntervalCheck()
        for case .deleteRange(let delete) in operations {
            level.deletes.insert(key: delete.key, rangeEnd: delete.rangeEnd)
        }
        for case .txn(let nested) in operations {
            let then = try check(nested.success)
            let otherwise = try check(nested.failure)
            for key in then.puts {
                if level.puts.contains(key) || level.deletes.contains(key) { throw .duplicateKeyInTxn }
                level.puts.insert(key)
            }
            for key in otherwise.puts {
                if level.puts.contains(key) && !then.puts.contains(key) { throw .duplicateKeyInTxn }
                if level.deletes.contains(key) { throw .duplicateKeyInTxn }
                level.puts.insert(key)
            }
            level.deletes.formUnion(then.deletes)
            level.deletes.formUnion(otherwise.deletes)
        }
        for case .put(let put) in operations {
            if level.puts.contains(put.key) || level.deletes.contains(put.key) { throw .duplicateKeyInTxn }
            level.puts.insert(put.key)
        }
        return level
    }
}

/// The delete intervals of `TxnIntervalCheck`, split so the common case stays cheap: single-key
/// deletes in a set (O(1) membership), true ranges in a list scanned per lookup.
struct DeletedRanges {
    private var singleKeys: Set<[UInt8]> = []
    private var intervals: [(lower: [UInt8], upper: [UInt8])] = []

    mutating func insert(key: [UInt8], rangeEnd: [UInt8]) {
        if rangeEnd.isEmpty {
            singleKeys.insert(key)
        } else {
            // Kept with the raw end, as etcd keeps it; see `TxnIntervalCheck` on from-key deletes.
            intervals.append((key, rangeEnd))
        }
    }

    mutating func formUnion(_ other: DeletedRanges) {
        singleKeys.formUnion(other.singleKeys)
        intervals.append(contentsOf: other.intervals)
    }

    func contains(_ key: [UInt8]) -> Bool {
        if singleKeys.contains(key) { return true }
        return intervals.contains { interval in
            ByteOrder.compare(interval.lower, key) <= 0 && ByteOrder.precedes(key, interval.upper)
        }
    }
}
