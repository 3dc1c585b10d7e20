/// Replaying history for watchers that start in the past (etcd's `syncWatchers` reading the backend
/// from a watcher's start revision).
extension MVCCStore {
    /// The events at revisions at or after `startRevision` for the keys in the range (`rangeEnd` as in
    /// `RangeRequest`), in revision order (and change order within a revision), each with `previous`
    /// filled as etcd's `prev_kv` would be.
    ///
    /// A batch ends at the first revision boundary after any bound is reached: `limit` events,
    /// `bytesMax` bytes of keys and values, or `scanMax` changes looked at (a narrow range far behind
    /// scans the changes of every key, and a bound on events alone would not bound that work). A
    /// revision is never split, however many keys it touched (one DeleteRange may touch millions),
    /// so a caller that resumes at `nextRevision` drops nothing. `more` says the batch stopped at a
    /// bound; `nextRevision` is where to resume, the store's revision + 1 when nothing is left.
    ///
    /// Throws `compacted` when `startRevision` is below the compacted revision, as etcd's watch does
    /// (`minRev < compactRev` in `watcherGroup.chooseAll`): a watch may start exactly at the compacted
    /// revision, whose changes are retained. etcd's "start at 0 means now" is the caller's to map to
    /// `revision + 1`; here every start revision is literal.
    public func events(
        key: [UInt8], rangeEnd: [UInt8], from startRevision: Int64, limit: Int, bytesMax: Int = .max, scanMax: Int = .max
    ) throws(MVCCError) -> (events: [Event], more: Bool, nextRevision: Int64) {
        precondition(limit > 0 && bytesMax > 0 && scanMax > 0, "MVCCStore.events: bounds \(limit), \(bytesMax), \(scanMax) must be positive")
        if startRevision < firstReadableRevision { throw .compacted(compactRevision: compactedRevision) }
        let range = KeyRange(key: key, rangeEnd: rangeEnd)
        var events: [Event] = []
        var bytes = 0
        var scanned = 0
        var lastScannedRevision: Int64?

        /// False when a bound was reached before `revision`, which then starts the next batch.
        func mayScan(_ revision: Int64) -> Bool {
            if let lastScannedRevision, lastScannedRevision != revision,
                events.count >= limit || bytes >= bytesMax || scanned >= scanMax
            {
                return false
            }
            lastScannedRevision = revision
            scanned += 1
            return true
        }

        func take(_ key: [UInt8], _ history: KeyHistory, _ index: Int) {
            let entry = history.entries[index]
            let previous = Self.versionBeforeEvent(entry, in: history, firstReadableRevision: firstReadableRevision)
            let event = Event(kind: entry.isTombstone ? .delete : .put, kv: entry.eventKeyValue(key: key), previous: previous?.keyValue(key: key))
            bytes += key.count + event.kv.value.count + (event.previous?.value.count ?? 0)
            events.append(event)
        }

        if case .single(let only) = range {
            // One key: its own history is already in revision order.
            guard let history = keyIndex.value(forKey: only) else { return ([], false, revision + 1) }
            let first = history.lastIndex(atOrBefore: startRevision - 1).map { $0 + 1 } ?? 0
            for index in first..<history.entries.count {
                let entryRevision = history.entries[index].modRevision
                guard mayScan(entryRevision) else { return (events, true, entryRevision) }
                take(only, history, index)
            }
            return (events, false, revision + 1)
        }

        for change in changeLog[firstChangeIndex(atOrAfter: startRevision)...] {
            guard mayScan(change.revision.main) else { return (events, true, change.revision.main) }
            guard range.contains(change.key) else { continue }
            guard let history = keyIndex.value(forKey: change.key), let index = history.index(of: change.revision)
            else {
                preconditionFailure("MVCCStore.events: change log entry \(change) has no history entry")
            }
            take(change.key, history, index)
        }
        return (events, false, revision + 1)
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
