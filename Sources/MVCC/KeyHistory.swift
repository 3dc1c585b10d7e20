/// One retained change of a key: a put (a full version of the key) or a tombstone (a delete).
package struct KeyHistoryEntry: Sendable, Equatable {
    package var modRevision: Int64
    /// Zero for a tombstone.
    package var createRevision: Int64
    /// Zero for a tombstone.
    package var version: Int64
    /// Zero for a tombstone.
    package var lease: Int64
    /// Empty for a tombstone. Shared with requests and results, never copied byte by byte.
    package var value: [UInt8]
    package var subRevision: Int32
    package var isTombstone: Bool

    package var revision: Revision { Revision(main: modRevision, sub: subRevision) }

    package static func tombstone(at revision: Revision) -> KeyHistoryEntry {
        KeyHistoryEntry(
            modRevision: revision.main, createRevision: 0, version: 0, lease: 0, value: [],
            subRevision: revision.sub, isTombstone: true)
    }

    package func keyValue(key: [UInt8]) -> KeyValue {
        KeyValue(
            key: key, createRevision: createRevision, modRevision: modRevision, version: version,
            value: value, lease: lease)
    }

    /// What a watcher sees for this change (a tombstone shows only the key and its revision).
    package func eventKeyValue(key: [UInt8]) -> KeyValue {
        isTombstone ? KeyValue(key: key, modRevision: modRevision) : keyValue(key: key)
    }
}

/// The retained changes of one key in ascending revision order: etcd's `keyIndex` and the values it
/// points at, in one array. etcd's generations are implicit here: a tombstone ends one, and the next
/// put starts a new one at version 1.
///
/// Invariants, checked where entries are added and where a snapshot is decoded: revisions strictly
/// ascend, and a tombstone only follows a put (a key that does not exist cannot be deleted).
package struct KeyHistory: Sendable, Equatable {
    package private(set) var entries: [KeyHistoryEntry]

    package init(entries: [KeyHistoryEntry] = []) {
        self.entries = entries
    }

    package var isEmpty: Bool { entries.isEmpty }

    /// The key's current version, or nil when it is deleted or has no retained history.
    package var live: KeyHistoryEntry? {
        guard let last = entries.last, !last.isTombstone else { return nil }
        return last
    }

    /// The position of the newest entry whose main revision is at most `revision`.
    package func lastIndex(atOrBefore revision: Int64) -> Int? {
        if let last = entries.last, last.modRevision <= revision { return entries.count - 1 }
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if entries[middle].modRevision <= revision { low = middle + 1 } else { high = middle }
        }
        return low == 0 ? nil : low - 1
    }

    /// The version visible at `revision`, or nil when the key did not exist then.
    package func version(at revision: Int64) -> KeyHistoryEntry? {
        guard let index = lastIndex(atOrBefore: revision) else { return nil }
        let entry = entries[index]
        return entry.isTombstone ? nil : entry
    }

    /// The position of the entry written at exactly `revision`.
    package func index(of revision: Revision) -> Int? {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            let candidate = entries[middle].revision
            if candidate == revision { return middle }
            if candidate < revision { low = middle + 1 } else { high = middle }
        }
        return nil
    }

    package mutating func append(_ entry: KeyHistoryEntry) {
        if let last = entries.last {
            precondition(
                last.revision < entry.revision,
                "KeyHistory.append: revision \(entry.revision) not after \(last.revision)")
        }
        precondition(
            !entry.isTombstone || live != nil,
            "KeyHistory.append: tombstone at \(entry.revision) for a key that is not live")
        entries.append(entry)
    }

    /// Drops what a compaction at `compactRevision` no longer needs, as etcd's `keyIndex.compact`
    /// does: every entry at or below it except the newest, and that one too when it is a tombstone
    /// older than `compactRevision` (a tombstone at exactly that revision stays, so a watch starting
    /// there still sees the delete). Returns the approximate bytes freed.
    package mutating func compact(at compactRevision: Int64) -> Int {
        guard let newestAtOrBelow = lastIndex(atOrBefore: compactRevision) else { return 0 }
        let newest = entries[newestAtOrBelow]
        let keepNewest = !newest.isTombstone || newest.modRevision == compactRevision
        let firstKept = keepNewest ? newestAtOrBelow : newestAtOrBelow + 1
        guard firstKept > 0 else { return 0 }
        let freed = entries[..<firstKept].reduce(0) { $0 + StoreSizing.bytes(of: $1) }
        entries.removeFirst(firstKept)
        return freed
    }
}

/// The approximate memory the store holds, reported as etcd's `dbSize`.
package enum StoreSizing {
    /// Fixed cost of a history entry (its fields and array slot) beside its value bytes.
    package static let entryOverheadBytes = 48
    /// Fixed cost of an indexed key (its history array and B-tree slot) beside its key bytes.
    package static let keyOverheadBytes = 64

    package static func bytes(of entry: KeyHistoryEntry) -> Int { entryOverheadBytes + entry.value.count }
    package static func bytes(ofKey key: [UInt8]) -> Int { keyOverheadBytes + key.count }
}
