/// etcd's consistency hashes, so `etcdctl endpoint hashkv` compares members of a Synod cluster,
/// and compares a Synod member with an etcd member holding the same history.
extension MVCCStore {
    /// Why a hash cannot be taken at the revision asked for.
    public enum HashError: Error, Equatable, Sendable {
        case compacted(compactRevision: Int64)
        case futureRevision
    }

    /// etcd 3.4's `HashByRev`: CRC-32C over the key bucket's name and then, in revision order, each
    /// retained revision at or below `revision` (0: the current one) as etcd's backend stores it:
    /// the revision key (main, '_', sub, and 't' for a tombstone) and the `mvccpb.KeyValue` bytes.
    /// What compaction dropped is not hashed, as etcd skips it. Returns the hash and etcd's
    /// compacted revision (-1 before the first compaction).
    public func hashKV(revision requested: Int64) throws(HashError) -> (hash: UInt32, compactRevision: Int64) {
        let compactRevision = firstReadableRevision
        if requested > 0 && requested <= compactRevision { throw .compacted(compactRevision: compactRevision) }
        if requested > revision { throw .futureRevision }
        let upper = requested > 0 ? requested : revision
        var records: [(revision: Revision, key: [UInt8], entry: KeyHistoryEntry)] = []
        keyIndex.forEach { key, history in
            for entry in history.entries where entry.modRevision <= upper {
                records.append((entry.revision, key, entry))
            }
        }
        records.sort { $0.revision < $1.revision }
        var crc = CRC32C()
        crc.update(Array("key".utf8))
        for record in records {
            crc.update(EtcdBackendEncoding.revisionKey(main: record.revision.main, sub: Int64(record.revision.sub), tombstone: record.entry.isTombstone))
            crc.update(EtcdBackendEncoding.keyValue(record.entry.eventKeyValue(key: record.key)))
        }
        return (crc.value, compactRevision)
    }

    /// A hash of the whole replicated state (Maintenance.Hash): equal on members that applied the
    /// same entries.
    public var stateHash: UInt32 {
        var crc = CRC32C()
        crc.update(snapshot())
        return crc.value
    }
}

/// How etcd's backend lays out revisions and key-values (mvcc/revision.go, mvccpb.KeyValue).
public enum EtcdBackendEncoding {
    /// 8 bytes big-endian main, '_', 8 bytes big-endian sub, then 't' for a tombstone.
    public static func revisionKey(main: Int64, sub: Int64, tombstone: Bool) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(18)
        withUnsafeBytes(of: UInt64(bitPattern: main).bigEndian) { bytes.append(contentsOf: $0) }
        bytes.append(UInt8(ascii: "_"))
        withUnsafeBytes(of: UInt64(bitPattern: sub).bigEndian) { bytes.append(contentsOf: $0) }
        if tombstone { bytes.append(UInt8(ascii: "t")) }
        return bytes
    }

    /// `mvccpb.KeyValue` as gogoproto marshals it: fields in number order, zero values left out.
    public static func keyValue(_ keyValue: KeyValue) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keyValue.key.count + keyValue.value.count + 40)
        func varint(_ value: UInt64) {
            var value = value
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }
        func field(_ number: UInt64, bytes data: [UInt8]) {
            guard !data.isEmpty else { return }
            varint(number << 3 | 2)
            varint(UInt64(data.count))
            bytes.append(contentsOf: data)
        }
        func field(_ number: UInt64, integer: Int64) {
            guard integer != 0 else { return }
            varint(number << 3)
            varint(UInt64(bitPattern: integer))
        }
        field(1, bytes: keyValue.key)
        field(2, integer: keyValue.createRevision)
        field(3, integer: keyValue.modRevision)
        field(4, integer: keyValue.version)
        field(5, bytes: keyValue.value)
        field(6, integer: keyValue.lease)
        return bytes
    }
}

/// CRC-32C (Castagnoli), as Go's `crc32.MakeTable(crc32.Castagnoli)` computes it.
public struct CRC32C: Sendable {
    private var state: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update(_ bytes: [UInt8]) {
        var crc = state
        for byte in bytes { crc = Self.table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8) }
        state = crc
    }

    public var value: UInt32 { ~state }

    static let table: [UInt32] = (0..<256).map { index in
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 != 0 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        return crc
    }
}
