/// Compaction: etcd's `store.Compact` with `treeIndex.Compact` and the backend sweep, done at once.
extension MVCCStore {
    /// Discards history below `compactRevision`: each key keeps its newest version at or below it
    /// (and everything after), a key whose newest such change is a delete older than
    /// `compactRevision` disappears, and reads below `compactRevision` fail from now on.
    /// Fails with `compacted` when not after the last compaction, `futureRevision` when after the
    /// current revision (etcd's `updateCompactRev`, in that order). Does not change the revision.
    mutating func compact(to compactRevision: Int64) throws(MVCCError) {
        if compactRevision <= firstReadableRevision { throw .compacted(compactRevision: compactedRevision) }
        if compactRevision > revision { throw .futureRevision }
        recordCompaction(at: compactRevision)

        var freedBytes = 0
        keyIndex.retainAndUpdate { key, history in
            freedBytes += history.compact(at: compactRevision)
            if history.isEmpty {
                freedBytes += StoreSizing.bytes(ofKey: key)
                return false
            }
            return true
        }
        adjustSize(by: -freedBytes)
        trimChangeLog(below: compactRevision)
    }

    /// Keeps `changeLog` equal to the retained changes at or after the compacted revision: drops what
    /// is older, and at the compacted revision itself keeps only what the key histories kept.
    private mutating func trimChangeLog(below compactRevision: Int64) {
        var low = 0
        var high = changeLog.count
        while low < high {
            let middle = (low + high) / 2
            if changeLog[middle].revision.main < compactRevision { low = middle + 1 } else { high = middle }
        }
        var trimmed = ChunkedLog<ChangeLogEntry>()
        for entry in changeLog[low...] {
            if entry.revision.main == compactRevision,
                keyIndex.value(forKey: entry.key)?.index(of: entry.revision) == nil
            {
                continue
            }
            trimmed.append(entry)
        }
        changeLog = trimmed
    }
}
