/// The two primitive changes every write command is made of: put one key, delete one live key. Both
/// keep the history, the lease attachments, the change log and the counters in step.
extension MVCCStore {
    /// Writes a new version of `key` and returns the version it replaced, if the key was live.
    /// The caller has checked that `lease` (when nonzero) exists.
    @discardableResult
    mutating func writePut(
        key: [UInt8], value: [UInt8], lease: Int64, in transaction: inout WriteTransaction
    ) -> KeyValue? {
        let revision = transaction.nextRevision
        let firstReadable = firstReadableRevision
        let written = keyIndex.withValue(forKey: key, insertingIfMissing: { KeyHistory() }) { history in
            let replaced = history.live
            let entry = KeyHistoryEntry(
                modRevision: revision.main,
                createRevision: replaced?.createRevision ?? revision.main,
                version: (replaced?.version ?? 0) + 1,
                lease: lease,
                value: value,
                subRevision: revision.sub,
                isTombstone: false)
            let previous = MVCCStore.versionBeforeEvent(entry, in: history, firstReadableRevision: firstReadable)
            let isNewKey = history.isEmpty
            history.append(entry)
            return (entry: entry, replaced: replaced, previous: previous, isNewKey: isNewKey)
        }
        if let oldLease = written.replaced?.lease, oldLease != 0 { detach(key, from: oldLease) }
        if lease != 0 { attach(key, to: lease) }
        if written.replaced == nil { adjustKeyCount(by: 1) }
        adjustSize(by: StoreSizing.bytes(of: written.entry) + (written.isNewKey ? StoreSizing.bytes(ofKey: key) : 0))
        changeLog.append(ChangeLogEntry(revision: revision, key: key))
        transaction.record(
            Event(kind: .put, kv: written.entry.keyValue(key: key), previous: written.previous?.keyValue(key: key)))
        return written.replaced?.keyValue(key: key)
    }

    /// Writes a tombstone for `key`, which must be live, and detaches it from its lease.
    mutating func writeDelete(key: [UInt8], in transaction: inout WriteTransaction) {
        let revision = transaction.nextRevision
        let firstReadable = firstReadableRevision
        let deleted = keyIndex.modifyValue(forKey: key) { history in
            guard let replaced = history.live else {
                preconditionFailure("MVCCStore.writeDelete: key \(key) is not live at \(revision)")
            }
            let tombstone = KeyHistoryEntry.tombstone(at: revision)
            let previous = MVCCStore.versionBeforeEvent(tombstone, in: history, firstReadableRevision: firstReadable)
            history.append(tombstone)
            return (tombstone: tombstone, replaced: replaced, previous: previous)
        }
        guard let deleted else { preconditionFailure("MVCCStore.writeDelete: key \(key) is not indexed") }
        if deleted.replaced.lease != 0 { detach(key, from: deleted.replaced.lease) }
        adjustKeyCount(by: -1)
        adjustSize(by: StoreSizing.bytes(of: deleted.tombstone))
        changeLog.append(ChangeLogEntry(revision: revision, key: key))
        transaction.record(
            Event(
                kind: .delete, kv: deleted.tombstone.eventKeyValue(key: key),
                previous: deleted.previous?.keyValue(key: key)))
    }

    /// The `previous` of the event for `entry`: the key's version at the revision before the event,
    /// which is what etcd's watch server reads for `prev_kv` (a range at `mod_revision - 1`). etcd
    /// skips that read for the put that creates a key, and the read fails, leaving it unset, when that
    /// revision is compacted.
    static func versionBeforeEvent(
        _ entry: KeyHistoryEntry, in history: KeyHistory, firstReadableRevision: Int64
    ) -> KeyHistoryEntry? {
        let createsKey = !entry.isTombstone && entry.createRevision == entry.modRevision
        let revisionBefore = entry.modRevision - 1
        if createsKey || revisionBefore < firstReadableRevision { return nil }
        return history.version(at: revisionBefore)
    }

    private mutating func attach(_ key: [UInt8], to lease: Int64) {
        guard leaseTable[lease]?.keys.insert(key) != nil else {
            preconditionFailure("MVCCStore.attach: lease \(lease) does not exist (callers check it first)")
        }
    }

    private mutating func detach(_ key: [UInt8], from lease: Int64) {
        guard leaseTable[lease]?.keys.remove(key) != nil else {
            preconditionFailure("MVCCStore.detach: key \(key) is not attached to lease \(lease)")
        }
    }
}
