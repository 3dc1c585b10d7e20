/// The store as etcd's backend holds it, and back: every retained version in revision order, the
/// way etcd's "key" bucket lists them. This is what a snapshot in etcd's format is written from,
/// and what one from etcd is restored into.
public struct RevisionRecord: Sendable, Equatable {
    public var main: Int64
    public var sub: Int64
    public var isTombstone: Bool
    /// A tombstone carries only the key, as etcd writes it.
    public var keyValue: KeyValue

    public init(main: Int64, sub: Int64, isTombstone: Bool, keyValue: KeyValue) {
        self.main = main
        self.sub = sub
        self.isTombstone = isTombstone
        self.keyValue = keyValue
    }
}

extension MVCCStore {
    /// Every retained version of every key, in revision order.
    public var revisionRecords: [RevisionRecord] {
        var records: [RevisionRecord] = []
        keyIndex.forEach { key, history in
            for entry in history.entries {
                records.append(RevisionRecord(
                    main: entry.modRevision, sub: Int64(entry.subRevision), isTombstone: entry.isTombstone,
                    keyValue: entry.isTombstone ? KeyValue(key: key) : entry.keyValue(key: key)))
            }
        }
        records.sort { ($0.main, $0.sub) < ($1.main, $1.sub) }
        return records
    }

    /// The revision of the last compaction, nil before the first.
    public var lastCompaction: Int64? { hasCompacted ? compactedRevision : nil }

    /// Builds a store from etcd's backend contents. The parts are written in the snapshot format
    /// and read back through its decoder, so an imported store passes every check a snapshot
    /// does: a history etcd could not have written (a version that does not count up, a key on a
    /// lease that is missing, a revision beyond the store's) is refused with the rule it breaks.
    public init(
        importing records: [RevisionRecord], revision: Int64, compactedRevision: Int64?,
        leases: [(id: Int64, ttlSeconds: Int64)], alarms: [Alarm] = [],
        members: [Member] = [], removedMembers: Set<UInt64> = []
    ) throws(SnapshotDecodingError) {
        var byKey: [[UInt8]: [KeyHistoryEntry]] = [:]
        for record in records {
            guard let sub = Int32(exactly: record.sub), sub >= 0 else { throw .inconsistent("revision \(record.main)_\(record.sub)") }
            let value = record.keyValue
            byKey[value.key, default: []].append(record.isTombstone
                ? .tombstone(at: Revision(main: record.main, sub: sub))
                : KeyHistoryEntry(
                    modRevision: record.main, createRevision: value.createRevision, version: value.version,
                    lease: value.lease, value: value.value, subRevision: sub, isTombstone: false))
        }
        var parts = MVCCStore()
        parts.alarmSet = Set(alarms)
        for member in members {
            parts.memberAttributeTable[member.id] = member.attributes
            parts.configuredMembers[member.id] = member.isLearner
        }
        parts.removedMemberIDs = removedMembers
        var writer = WireWriter(reservingCapacity: records.reduce(64) { $0 + $1.keyValue.key.count + $1.keyValue.value.count + 16 })
        writer.writeByte(SnapshotCodec.formatVersion)
        writer.writeSigned(revision)
        writer.writeSigned(compactedRevision ?? 0)
        writer.writeBool(compactedRevision != nil)
        let sortedLeases = leases.sorted { $0.id < $1.id }
        writer.writeCount(sortedLeases.count)
        for lease in sortedLeases {
            writer.writeSigned(lease.id)
            writer.writeSigned(lease.ttlSeconds)
        }
        writer.writeCount(byKey.count)
        for key in byKey.keys.sorted(by: ByteOrder.precedes) {
            writer.writeHistory(key, byKey[key]!.sorted { $0.revision < $1.revision })
        }
        parts.writeClusterState(to: &writer)
        self = try MVCCStore(snapshot: writer.bytes)
    }
}
