/// Why bytes are not a store snapshot.
public enum SnapshotDecodingError: Error, Equatable, Sendable {
    case empty
    /// The first byte names a format this build does not read.
    case unsupportedFormatVersion(UInt8)
    case malformed(WireFormatError)
    /// Well-formed bytes describing a state no store can reach; the reason names the broken rule.
    case inconsistent(String)
    /// Bytes left over after a complete snapshot.
    case trailingBytes(count: Int)
}

/// The store's snapshot encoding, version 3 (primitives as in `CommandCodec`); versions 1 (ending
/// after the keys) and 2 (after the alarms) are still read:
///
///     snapshot = formatVersion:u8 svarint(revision) svarint(compactedRevision) bool(hasCompacted)
///                count (svarint(id) svarint(ttlSeconds))*                       leases, ascending id
///                count (bytes(key) count entry*)*                               keys, ascending
///                count (varint(memberID) kind:u8)*                              alarms, ascending (v2)
///                count memberAttributes*                                        attributes, ascending id (v3)
///                count (varint(id) bool(isLearner))*                            configuration, ascending id (v3)
///                count varint(id)*                                              removed ids, ascending (v3)
///     entry    = svarint(modRevision) varint(subRevision) kind:u8
///                [if put: svarint(createRevision) svarint(version) svarint(lease) bytes(value)]
///
/// No checksum (the snapshot store frames and checks the file); instead the decoder checks every
/// length and then every invariant the store relies on, so a decoded store is one `apply` could
/// have built. Lease attachments, the change log and the counters are derived, not stored.
enum SnapshotCodec {
    static let formatVersion: UInt8 = 3
    /// Versions this build reads.
    static let readableVersions: ClosedRange<UInt8> = 1...3
    /// The largest revision a snapshot may carry, far beyond any real history, so that the revision
    /// arithmetic of a restored store cannot overflow.
    static let revisionMax: Int64 = 1 << 62

    enum EntryKind: UInt8, CaseIterable {
        case put, tombstone
    }
}

extension MVCCStore {
    /// The whole replicated state: revisions, every retained version of every key, and the leases.
    public func snapshot() -> [UInt8] {
        var writer = WireWriter(reservingCapacity: sizeBytes)
        writer.writeByte(SnapshotCodec.formatVersion)
        writer.writeSigned(revision)
        writer.writeSigned(compactedRevision)
        writer.writeBool(hasCompacted)
        let leaseIDs = leaseTable.keys.sorted()
        writer.writeCount(leaseIDs.count)
        for id in leaseIDs {
            writer.writeSigned(id)
            writer.writeSigned(leaseTable[id]!.ttlSeconds)
        }
        writer.writeCount(keyIndex.count)
        keyIndex.forEach { key, history in writer.writeHistory(key, history.entries) }
        writeClusterState(to: &writer)
        return writer.bytes
    }

    /// The part after the keys: alarms (v2), then members (v3).
    func writeClusterState(to writer: inout WireWriter) {
        writer.writeCount(alarmSet.count)
        for alarm in alarms {
            writer.writeUnsigned(alarm.memberID)
            writer.writeByte(WireWriter.index(of: alarm.kind, in: Alarm.Kind.allCases))
        }
        writer.writeCount(memberAttributeTable.count)
        for id in memberAttributeTable.keys.sorted() { writer.writeMemberAttributes(memberAttributeTable[id]!) }
        writer.writeCount(configuredMembers.count)
        for id in configuredMembers.keys.sorted() {
            writer.writeUnsigned(id)
            writer.writeBool(configuredMembers[id]!)
        }
        writer.writeCount(removedMemberIDs.count)
        for id in removedMemberIDs.sorted() { writer.writeUnsigned(id) }
    }

    /// Restores a store from `snapshot()`. Never traps: any other input gets a
    /// `SnapshotDecodingError`. `lastAppliedEvents` starts empty.
    public init(snapshot bytes: [UInt8]) throws(SnapshotDecodingError) {
        guard let version = bytes.first else { throw .empty }
        guard SnapshotCodec.readableVersions.contains(version) else { throw .unsupportedFormatVersion(version) }
        var decoder = SnapshotDecoder(reader: WireReader(bytes), version: version)
        do {
            _ = try decoder.reader.readByte()
            self = try decoder.decode()
        } catch let error as SnapshotDecodingError {
            throw error
        } catch let error as WireFormatError {
            throw .malformed(error)
        } catch {
            preconditionFailure("MVCCStore(snapshot:): unexpected error \(error)")
        }
        guard decoder.reader.isAtEnd else { throw .trailingBytes(count: decoder.reader.remaining) }
    }
}

/// Reads a snapshot and checks, as it goes, the invariants `MVCCStore` assumes.
private struct SnapshotDecoder {
    var reader: WireReader
    let version: UInt8

    func fail(_ reason: String) -> SnapshotDecodingError { .inconsistent(reason) }

    mutating func decode() throws -> MVCCStore {
        let revision = try reader.readSigned()
        let compactedRevision = try reader.readSigned()
        let hasCompacted = try reader.readBool()
        guard (1...SnapshotCodec.revisionMax).contains(revision) else { throw fail("revision \(revision)") }
        guard (0...revision).contains(compactedRevision), hasCompacted || compactedRevision == 0 else {
            throw fail("compacted revision \(compactedRevision) (compacted: \(hasCompacted)) at revision \(revision)")
        }

        var leaseTable: [Int64: LeaseRecord] = [:]
        var previousLeaseID: Int64?
        for _ in 0..<(try reader.readCount()) {
            let id = try reader.readSigned()
            let ttlSeconds = try reader.readSigned()
            guard id != 0 else { throw fail("lease id 0") }
            if let previousLeaseID, previousLeaseID >= id { throw fail("lease ids not ascending at \(id)") }
            guard ttlSeconds <= MVCCStore.leaseTTLMaxSeconds else { throw fail("lease \(id) TTL \(ttlSeconds)") }
            leaseTable[id] = LeaseRecord(ttlSeconds: ttlSeconds)
            previousLeaseID = id
        }

        let bounds = HistoryBounds(revision: revision, compactedRevision: compactedRevision, hasCompacted: hasCompacted)
        var keyIndex = OrderedMap<KeyHistory>()
        var previousKey: [UInt8]?
        for _ in 0..<(try reader.readCount()) {
            let key = try reader.readBytes()
            guard !key.isEmpty else { throw fail("empty key") }
            if let previousKey, ByteOrder.compare(previousKey, key) >= 0 { throw fail("keys not ascending at \(key)") }
            let history = try readHistory(of: key, within: bounds)
            if let live = history.live, live.lease != 0 {
                guard leaseTable[live.lease] != nil else { throw fail("key \(key) attached to missing lease \(live.lease)") }
                leaseTable[live.lease]!.keys.insert(key)
            }
            keyIndex.appendInOrder(key, history)
            previousKey = key
        }
        var store = MVCCStore(
            revision: revision, compactedRevision: compactedRevision, hasCompacted: hasCompacted,
            keyIndex: keyIndex, leaseTable: leaseTable)
        guard version >= 2 else { return store }
        var previousAlarm: Alarm?
        for _ in 0..<(try reader.readCount()) {
            let memberID = try reader.readUnsigned()
            let kind = Alarm.Kind.allCases[Int(try reader.readTag(caseCount: UInt8(Alarm.Kind.allCases.count)))]
            let alarm = Alarm(memberID: memberID, kind: kind)
            if let previousAlarm, !(previousAlarm < alarm) { throw fail("alarms not ascending at \(alarm)") }
            store.alarmSet.insert(alarm)
            previousAlarm = alarm
        }
        guard version >= 3 else { return store }
        try readMembers(into: &store)
        return store
    }

    /// The members part (v3): ids ascending in each list, attributes within their bounds.
    mutating func readMembers(into store: inout MVCCStore) throws {
        let attributeCount = try reader.readCount()
        guard attributeCount <= MemberAttributes.membersMax else { throw fail("\(attributeCount) members") }
        var previous: UInt64 = 0
        for _ in 0..<attributeCount {
            let attributes = try reader.readMemberAttributes()
            guard attributes.id > previous else { throw fail("member ids not ascending at \(attributes.id)") }
            do { try MVCCStore.checkMemberAttributes(attributes) } catch { throw fail("member \(attributes.id): \(error.etcdMessage)") }
            store.memberAttributeTable[attributes.id] = attributes
            previous = attributes.id
        }
        previous = 0
        let configuredCount = try reader.readCount()
        guard configuredCount <= MemberAttributes.membersMax else { throw fail("\(configuredCount) configured members") }
        for _ in 0..<configuredCount {
            let id = try reader.readUnsigned()
            guard id > previous else { throw fail("configured member ids not ascending at \(id)") }
            store.configuredMembers[id] = try reader.readBool()
            previous = id
        }
        previous = 0
        for _ in 0..<(try reader.readCount()) {
            let id = try reader.readUnsigned()
            guard id > previous else { throw fail("removed member ids not ascending at \(id)") }
            store.removedMemberIDs.insert(id)
            previous = id
        }
    }

    struct HistoryBounds {
        var revision: Int64
        var compactedRevision: Int64
        var hasCompacted: Bool
    }

    /// One key's entries, checked against the rules `apply` and `compact` keep: ascending revisions
    /// no later than the store's; versions counting up by one within a generation, a new generation
    /// starting at version 1 at its own revision; a tombstone only after a put; and after compaction
    /// at most one entry at or below the compacted revision, a tombstone only at exactly it.
    mutating func readHistory(of key: [UInt8], within bounds: HistoryBounds) throws -> KeyHistory {
        let entryCount = try reader.readCount()
        guard entryCount > 0 else { throw fail("key \(key) with no history") }
        // No reserveCapacity: a forged count would make the allocation ~48 times the input's size.
        var entries: [KeyHistoryEntry] = []
        var entriesAtOrBelowCompaction = 0
        for _ in 0..<entryCount {
            let modRevision = try reader.readSigned()
            let subEncoded = try reader.readUnsigned()
            let kind = SnapshotCodec.EntryKind(
                rawValue: try reader.readTag(caseCount: UInt8(SnapshotCodec.EntryKind.allCases.count)))!
            // Not `2...bounds.revision`: a forged revision of 1 would make that range trap.
            guard modRevision >= 2, modRevision <= bounds.revision, let sub = Int32(exactly: subEncoded) else {
                throw fail("key \(key) entry at revision \(modRevision).\(subEncoded) outside 2...\(bounds.revision)")
            }
            let revision = Revision(main: modRevision, sub: sub)
            if let last = entries.last, !(last.revision < revision) {
                throw fail("key \(key) revisions not ascending at \(modRevision).\(sub)")
            }
            let entry: KeyHistoryEntry
            switch kind {
            case .tombstone:
                entry = .tombstone(at: revision)
                let startsRetainedHistory =
                    entries.isEmpty && bounds.hasCompacted && modRevision == bounds.compactedRevision
                guard entries.last.map({ !$0.isTombstone }) ?? startsRetainedHistory else {
                    throw fail("key \(key) tombstone at \(modRevision) follows no put")
                }
            case .put:
                let createRevision = try reader.readSigned()
                let version = try reader.readSigned()
                let lease = try reader.readSigned()
                let value = try reader.readBytes()
                entry = KeyHistoryEntry(
                    modRevision: modRevision, createRevision: createRevision, version: version, lease: lease,
                    value: value, subRevision: sub, isTombstone: false)
                try checkGeneration(of: entry, after: entries.last, key: key, bounds: bounds)
            }
            if bounds.hasCompacted && modRevision <= bounds.compactedRevision {
                entriesAtOrBelowCompaction += 1
                guard entriesAtOrBelowCompaction == 1 else {
                    throw fail("key \(key) keeps two entries at or below compacted revision \(bounds.compactedRevision)")
                }
            }
            entries.append(entry)
        }
        return KeyHistory(entries: entries)
    }

    func checkGeneration(
        of entry: KeyHistoryEntry, after previous: KeyHistoryEntry?, key: [UInt8], bounds: HistoryBounds
    ) throws(SnapshotDecodingError) {
        let revision = entry.modRevision
        if let previous, !previous.isTombstone {
            guard entry.createRevision == previous.createRevision, entry.version == previous.version + 1 else {
                throw fail("key \(key) version \(entry.version) at \(revision) does not continue its generation")
            }
            return
        }
        // A compaction may have dropped the start of the first retained generation.
        let mayContinueCompactedGeneration =
            previous == nil && bounds.hasCompacted && revision <= bounds.compactedRevision
        if mayContinueCompactedGeneration {
            guard (2...revision).contains(entry.createRevision),
                (1...(revision - entry.createRevision + 1)).contains(entry.version)
            else {
                throw fail("key \(key) version \(entry.version) created at \(entry.createRevision) at \(revision)")
            }
        } else {
            guard entry.createRevision == revision, entry.version == 1 else {
                throw fail("key \(key) generation starting at \(revision) has version \(entry.version)")
            }
        }
    }
}

extension WireWriter {
    /// One key and its retained history, as a snapshot holds them.
    mutating func writeHistory(_ key: [UInt8], _ entries: [KeyHistoryEntry]) {
        writeBytes(key)
        writeCount(entries.count)
        for entry in entries {
            writeSigned(entry.modRevision)
            writeUnsigned(UInt64(entry.subRevision))
            if entry.isTombstone {
                writeByte(SnapshotCodec.EntryKind.tombstone.rawValue)
            } else {
                writeByte(SnapshotCodec.EntryKind.put.rawValue)
                writeSigned(entry.createRevision)
                writeSigned(entry.version)
                writeSigned(entry.lease)
                writeBytes(entry.value)
            }
        }
    }
}
