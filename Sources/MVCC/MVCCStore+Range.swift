/// Reads: etcd's `applierV3backend.Range` (limit, filters, sorting) over `storeTxnRead.rangeKeys`
/// (revision checks, counting).
extension MVCCStore {
    /// Reads the keys in a range at `request.revision` (the current revision when <= 0).
    ///
    /// Fails with `emptyKey` for an empty key (etcd's `checkRangeRequest`), `futureRevision` past the
    /// current revision, and `compacted` below the compacted revision.
    public func range(_ request: RangeRequest) throws(MVCCError) -> RangeResult {
        guard !request.key.isEmpty else { throw .emptyKey }
        return try readRange(request, currentRevision: revision)
    }

    /// `range` as seen from `currentRevision`, which inside a write transaction includes its writes.
    func readRange(_ request: RangeRequest, currentRevision: Int64) throws(MVCCError) -> RangeResult {
        if request.revision > currentRevision { throw .futureRevision }
        let readRevision = request.revision <= 0 ? currentRevision : request.revision
        if readRevision < firstReadableRevision { throw .compacted(compactRevision: compactedRevision) }
        let range = KeyRange(key: request.key, rangeEnd: request.rangeEnd)

        if request.countOnly {
            var count: Int64 = 0
            forEachVersion(in: range, at: readRevision) { _, _ in
                count += 1
                return true
            }
            return RangeResult(kvs: [], more: false, count: count)
        }

        // etcd fetches everything when it will sort or filter, and otherwise one more than the limit
        // so it can tell whether there is more; it then sorts only what it fetched. So with
        // sort order NONE and a non-key target, the first limit+1 keys (in key order) are sorted.
        let sortOrder = effectiveSortOrder(request)
        let fetchesEverything =
            request.sortOrder != .none || request.minModRevision != 0 || request.maxModRevision != 0
            || request.minCreateRevision != 0 || request.maxCreateRevision != 0
        let fetchLimit: Int64? =
            fetchesEverything || request.limit <= 0 || request.limit == Int64.max ? nil : request.limit + 1

        var kvs: [KeyValue] = []
        var count: Int64 = 0
        forEachVersion(in: range, at: readRevision) { key, entry in
            count += 1
            if fetchLimit.map({ Int64(kvs.count) < $0 }) ?? true { kvs.append(entry.keyValue(key: key)) }
            return true
        }

        kvs.removeAll { kv in
            (request.maxModRevision != 0 && kv.modRevision > request.maxModRevision)
                || (request.minModRevision != 0 && kv.modRevision < request.minModRevision)
                || (request.maxCreateRevision != 0 && kv.createRevision > request.maxCreateRevision)
                || (request.minCreateRevision != 0 && kv.createRevision < request.minCreateRevision)
        }
        if sortOrder != .none { kvs = RangeSorting.sorted(kvs, by: request.sortTarget, order: sortOrder) }

        var more = false
        if request.limit > 0 && Int64(kvs.count) > request.limit {
            kvs.removeSubrange(Int(request.limit)...)
            more = true
        }
        if request.keysOnly {
            for index in kvs.indices { kvs[index].value = [] }
        }
        return RangeResult(kvs: kvs, more: more, count: count)
    }

    /// etcd's rule: results come from the index in ascending key order, so order NONE needs no sort
    /// for target KEY, and means ASCEND for any other target.
    func effectiveSortOrder(_ request: RangeRequest) -> SortOrder {
        request.sortOrder == .none && request.sortTarget != .key ? .ascend : request.sortOrder
    }

    /// Visits the versions visible at `revision` of the keys in `range`, in key order, until `body`
    /// returns false.
    func forEachVersion(
        in range: KeyRange, at revision: Int64, _ body: (_ key: [UInt8], _ version: KeyHistoryEntry) -> Bool
    ) {
        if case .single(let key) = range {
            if let version = keyIndex.value(forKey: key)?.version(at: revision) { _ = body(key, version) }
            return
        }
        keyIndex.forEach(from: range.lowerBound) { key, history in
            guard range.admitsKeyAtOrAfterLowerBound(key) else { return false }
            guard let version = history.version(at: revision) else { return true }
            return body(key, version)
        }
    }
}

/// The orderings of etcd's `kvSortBy…` types.
///
/// etcd sorts with Go's `sort.Sort`, which promises no order for equal elements; in practice short
/// results (sorted by insertion) keep ties in key order, for ascending and descending sorts alike.
/// This sort is stable at every length, so ties always stay in key order: deterministic, and the same
/// as etcd wherever etcd's order is itself predictable.
enum RangeSorting {
    static func sorted(_ kvs: [KeyValue], by target: SortTarget, order: SortOrder) -> [KeyValue] {
        precondition(order != .none, "RangeSorting.sorted called with order none")
        let descending = order == .descend
        // Sorting positions and breaking ties by position makes the sort stable whatever algorithm
        // the standard library uses.
        let positions = kvs.indices.sorted { left, right in
            let comparison = compare(kvs[left], kvs[right], by: target)
            if comparison != 0 { return descending ? comparison > 0 : comparison < 0 }
            return left < right
        }
        return positions.map { kvs[$0] }
    }

    static func compare(_ left: KeyValue, _ right: KeyValue, by target: SortTarget) -> Int {
        switch target {
        case .key: ByteOrder.compare(left.key, right.key)
        case .value: ByteOrder.compare(left.value, right.value)
        case .version: compareIntegers(left.version, right.version)
        case .create: compareIntegers(left.createRevision, right.createRevision)
        case .mod: compareIntegers(left.modRevision, right.modRevision)
        }
    }

    static func compareIntegers(_ left: Int64, _ right: Int64) -> Int {
        left == right ? 0 : (left < right ? -1 : 1)
    }
}
