import Bytes

/// Converts between etcd 3.4 backend files and `EtcdBackendContents`.
///
/// A file written here passes `etcdctl snapshot status`, and `etcdctl snapshot restore` turns it
/// into a data dir that etcd 3.4 serves. Restore keeps the "key", "lease", "meta" and "alarm"
/// contents, but overwrites "consistent_index" with the new cluster's member count and builds
/// membership from its own flags (see `EtcdBackendMember`).
public enum EtcdBackend {
    /// The bbolt file holding `contents`.
    public static func encode(_ contents: EtcdBackendContents) throws(BoltWriteError) -> [UInt8] {
        try BoltWriter.encode(buckets(of: contents))
    }

    /// `encode`, followed by the SHA-256 that ends an etcd snapshot stream or file.
    public static func encodeSnapshot(_ contents: EtcdBackendContents) throws(BoltWriteError) -> [UInt8] {
        SnapshotHash.appendingSnapshotHash(try encode(contents))
    }

    /// Decodes a backend file. Throws `BoltFormatError` when the file is not a readable bbolt
    /// file and `EtcdBackendError` when its contents are not etcd's.
    public static func decode(_ file: [UInt8]) throws -> EtcdBackendContents {
        try contents(of: BoltReader.decode(file))
    }

    /// Decodes a snapshot file, checking and removing its trailing SHA-256 when it has one.
    /// Throws `SnapshotHashError` on a mismatch, otherwise as `decode`.
    public static func decodeSnapshot(_ file: [UInt8]) throws -> EtcdBackendContents {
        try decode(SnapshotHash.verifiedSnapshot(file))
    }

    // MARK: - Contents to buckets

    package static func buckets(of contents: EtcdBackendContents) -> [BoltBucket] {
        typealias Names = EtcdBackendNames
        var meta: [BoltPair] = []
        var consistentIndex: [UInt8] = []
        consistentIndex.appendBigEndian(contents.consistentIndex)
        meta.append(BoltPair(key: Array(Names.consistentIndexKey.utf8), value: consistentIndex))
        if let finished = contents.finishedCompactRevision {
            meta.append(BoltPair(key: Array(Names.finishedCompactKey.utf8), value: EtcdRevision(main: finished).encoded()))
        }
        if let scheduled = contents.scheduledCompactRevision {
            meta.append(BoltPair(key: Array(Names.scheduledCompactKey.utf8), value: EtcdRevision(main: scheduled).encoded()))
        }
        var cluster: [BoltPair] = []
        if let version = contents.clusterVersion {
            cluster.append(BoltPair(key: Array(Names.clusterVersionKey.utf8), value: Array(version.utf8)))
        }
        let modelled: [String: [BoltPair]] = [
            Names.keyBucket: contents.revisions.map { BoltPair(key: $0.bucketKey, value: $0.bucketValue) },
            Names.leaseBucket: contents.leases.map { BoltPair(key: $0.bucketKey, value: $0.encoded()) },
            Names.membersBucket: contents.members.map { BoltPair(key: $0.bucketKey, value: $0.encodedJSON()) },
            Names.membersRemovedBucket: contents.removedMemberIDs.map {
                BoltPair(key: Array(String($0, radix: 16).utf8), value: Array(Names.removedMemberValue.utf8))
            },
            Names.alarmBucket: contents.alarms.map { BoltPair(key: $0.encoded(), value: []) },
            Names.metaBucket: meta,
            Names.clusterBucket: cluster,
        ]
        var result = Names.allBuckets.map { BoltBucket(name: $0, pairs: modelled[$0] ?? []) }
        // Entries passed through are merged into the bucket of the same name, or become buckets
        // of their own; a key given both ways is caught by the writer as a duplicate.
        for other in contents.otherEntries {
            if let index = result.firstIndex(where: { $0.name == other.name }) {
                result[index].pairs.append(contentsOf: other.pairs)
                result[index].buckets.append(contentsOf: other.buckets)
            } else {
                result.append(other)
            }
        }
        return result
    }

    // MARK: - Buckets to contents

    package static func contents(of database: BoltDatabase) throws(EtcdBackendError) -> EtcdBackendContents {
        typealias Names = EtcdBackendNames
        var contents = EtcdBackendContents(clusterVersion: nil)
        for bucket in database.buckets {
            // Decoding never yields one of etcd's ASCII names from bytes that are not that name:
            // invalid UTF-8 becomes U+FFFD.
            let name = String(decoding: bucket.name, as: UTF8.self)
            var unread = BoltBucket(name: bucket.name, buckets: bucket.buckets)
            switch name {
            case Names.keyBucket:
                contents.revisions = try bucket.pairs.map(revisionRecord)
            case Names.leaseBucket:
                contents.leases = try bucket.pairs.map(lease)
            case Names.membersBucket:
                contents.members = try bucket.pairs.map(member)
            case Names.membersRemovedBucket:
                contents.removedMemberIDs = try bucket.pairs.map(removedMemberID)
            case Names.alarmBucket:
                contents.alarms = try bucket.pairs.map(alarm)
            case Names.metaBucket:
                for pair in bucket.pairs {
                    if try !readMeta(pair, into: &contents) {
                        unread.pairs.append(pair)
                    }
                }
            case Names.clusterBucket:
                for pair in bucket.pairs {
                    if pair.key == Array(Names.clusterVersionKey.utf8) {
                        contents.clusterVersion = String(decoding: pair.value, as: UTF8.self)
                    } else {
                        unread.pairs.append(pair)
                    }
                }
            default:
                unread.pairs = bucket.pairs
            }
            if !unread.pairs.isEmpty || !unread.buckets.isEmpty || !Names.allBuckets.contains(name) {
                contents.otherEntries.append(unread)
            }
        }
        return contents
    }

    private static func revisionRecord(_ pair: BoltPair) throws(EtcdBackendError) -> EtcdRevisionRecord {
        guard let (revision, isTombstone) = EtcdRevision.decode(pair.key) else {
            throw EtcdBackendError("key bucket: key \(describeBytes(pair.key)) is not a revision (8 bytes, '_', 8 bytes, optionally 't')")
        }
        do {
            let keyValue = try EtcdKeyValue.decode(pair.value, message: "key bucket: revision \(revision)")
            return EtcdRevisionRecord(revision: revision, isTombstone: isTombstone, keyValue: keyValue)
        } catch {
            throw EtcdBackendError(error.message)
        }
    }

    private static func member(_ pair: BoltPair) throws(EtcdBackendError) -> EtcdBackendMember {
        try EtcdBackendMember.decode(key: pair.key, json: pair.value)
    }

    private static func removedMemberID(_ pair: BoltPair) throws(EtcdBackendError) -> UInt64 {
        guard let id = UInt64(String(decoding: pair.key, as: UTF8.self), radix: 16) else {
            throw EtcdBackendError("members_removed bucket: key \(describeBytes(pair.key)) is not a hexadecimal member ID")
        }
        return id
    }

    private static func alarm(_ pair: BoltPair) throws(EtcdBackendError) -> EtcdAlarm {
        do {
            return try EtcdAlarm.decode(pair.key, message: "alarm bucket: key \(describeBytes(pair.key))")
        } catch {
            throw EtcdBackendError(error.message)
        }
    }

    private static func lease(_ pair: BoltPair) throws(EtcdBackendError) -> EtcdLease {
        guard pair.key.count == 8, let keyID = pair.key.loadBigEndian(UInt64.self, at: 0) else {
            throw EtcdBackendError("lease bucket: key \(describeBytes(pair.key)) is not an 8-byte lease ID")
        }
        let lease: EtcdLease
        do {
            lease = try EtcdLease.decode(pair.value, message: "lease bucket: lease \(Int64(bitPattern: keyID))")
        } catch {
            throw EtcdBackendError(error.message)
        }
        guard lease.id == Int64(bitPattern: keyID) else {
            throw EtcdBackendError("lease bucket: key names lease \(Int64(bitPattern: keyID)) but its record lease \(lease.id)")
        }
        return lease
    }

    /// Reads one "meta" entry into `contents`; returns false for a key this module does not know.
    private static func readMeta(_ pair: BoltPair, into contents: inout EtcdBackendContents) throws(EtcdBackendError) -> Bool {
        typealias Names = EtcdBackendNames
        let name = String(decoding: pair.key, as: UTF8.self)
        switch name {
        case Names.consistentIndexKey:
            guard pair.value.count == 8, let index = pair.value.loadBigEndian(UInt64.self, at: 0) else {
                throw EtcdBackendError("meta bucket: consistent_index is \(pair.value.count) bytes, not 8")
            }
            contents.consistentIndex = index
        case Names.finishedCompactKey, Names.scheduledCompactKey:
            // etcd reads only the main revision, and only from 17 bytes.
            guard pair.value.count == EtcdRevision.encodedBytes, let (revision, _) = EtcdRevision.decode(pair.value) else {
                throw EtcdBackendError("meta bucket: \(name) is \(describeBytes(pair.value)), not a revision")
            }
            if name == Names.finishedCompactKey {
                contents.finishedCompactRevision = revision.main
            } else {
                contents.scheduledCompactRevision = revision.main
            }
        default:
            return false
        }
        return true
    }
}
