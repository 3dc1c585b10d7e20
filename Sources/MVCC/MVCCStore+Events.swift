/// Replaying history for watchers that start in the past (etcd's `syncWatchers` reading the backend
/// from a watcher's start revision).
extension MVCCStore {
    /// The events at revisions at or after `startRevision` for the keys in the range (`rangeEnd` as in
    /// `RangeRequest`), in revision order (and change order within a revision), each with `previous`
    /// filled as etcd's `prev_kv` would be. At most `limit` events; `more` says some were left out.
    ///
    /// Throws `compacted` when `startRevision` is below the compacted revision, as etcd's watch does
    /// (`minRev < compactRev` in `watcherGroup.chooseAll`): a watch may start exactly at the compacted
    /// revision, whose changes are retained. etcd's "start at 0 means now" is the caller's to map to
    /// `revision + 1`; here every start revision is literal.
    ///
    /// Cost: a single key reads only its own history; a range scans the change log from
    /// `startRevision` (as etcd reads every key's changes from its backend), so a watcher far behind
    /// on a narrow range costs a scan of everything written since.
    public func events(
        key: [UInt8], rangeEnd: [UInt8], from startRevision: Int64, limit: Int
    ) throws(MVCCError) -> (events: [Event], more: Bool) {
        precondition(limit > 0, "MVCCStore.events: limit \(limit) must be positive")
        if startRevision < firstReadableRevision { throw .compacted(compactRevision: compactedRevision) }
        let range = KeyRange(key: key, rangeEnd: rangeEnd)
        var events: [Event] = []
        var more = false

        func take(_ key: [UInt8], _ history: KeyHistory, _ index: Int) -> Bool {
            if events.count == limit {
                more = true
                return false
            }
            let entry = history.entries[index]
            let previous = Self.versionBeforeEvent(entry, in: history, firstReadableRevision: firstReadableRevision)
            events.append(
                Event(
                    kind: entry.isTombstone ? .delete : .put, kv: entry.eventKeyValue(key: key),
                    previous: previous?.keyValue(key: key)))
            return true
        }

        if case .single(let only) = range {
            // One key: its own history is already in revision order.
            guard let history = keyIndex.value(forKey: only) else { return ([], false) }
            let first = history.lastIndex(atOrBefore: startRevision - 1).map { $0 + 1 } ?? 0
            for index in first..<history.entries.count where !take(only, history, index) { break }
            return (events, more)
        }

        for change in changeLog[firstChangeIndex(atOrAfter: startRevision)...] where range.contains(change.key) {
            guard let history = keyIndex.value(forKey: change.key), let index = history.index(of: change.revision)
            else {
                preconditionFailure("MVCCStore.events: change log entry \(change) has no history entry")
            }
            if !take(change.key, history, index) { break }
        }
        return (events, more)
    }

    private func firstChangeIndex(atOrAfter startRevision: Int64) -> Int {
        var low = 0
        var high = changeLog.count
        while low < high {
            let middle = (low + high) / 2
            if changeLog[middle].revision.main < startRevision { low = middle + 1 } else { high = middle }
        }
        return low
    }
}
