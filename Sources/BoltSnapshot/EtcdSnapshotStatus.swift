import Bytes

/// What `etcdctl snapshot status` (3.4) prints for a snapshot file, computed the same way, so that
/// Synod can describe its own snapshots in etcd's terms and tests can compare the two.
public struct EtcdSnapshotStatus: Equatable, Sendable {
    /// CRC-32C over every top-level bucket's name followed by each of its keys and values, in
    /// file order. (Sub-buckets inside a bucket contribute their name and an empty value, as
    /// bbolt's ForEach reports them; etcd has none.)
    public var hash: UInt32
    /// The main revision of the last entry of the "key" bucket.
    public var revision: Int64
    /// Entries in all buckets together.
    public var totalKey: Int
    /// The database's size as bbolt counts it: high-water page id times page size.
    public var totalSize: Int64

    public init(hash: UInt32, revision: Int64, totalKey: Int, totalSize: Int64) {
        self.hash = hash
        self.revision = revision
        self.totalKey = totalKey
        self.totalSize = totalSize
    }

    /// The status of a snapshot file (with or without its trailing SHA-256, which is not checked,
    /// as etcdctl does not check it here). Throws `BoltFormatError` for an unreadable file.
    public static func of(_ file: [UInt8]) throws(BoltFormatError) -> EtcdSnapshotStatus {
        let database = SnapshotHash.hasTrailingHash(byteCount: file.count) ? Array(file.dropLast(SHA256.digestBytes)) : file
        let decoded = try BoltReader.decode(database)
        let meta = try BoltReader.currentMeta(database, pageSize: decoded.pageSize)
        var crc = CastagnoliCRC32()
        var revision: Int64 = 0
        var totalKey = 0
        for bucket in decoded.buckets {
            crc.update(bucket.name)
            let isKeyBucket = bucket.name == Array(EtcdBackendNames.keyBucket.utf8)
            // bbolt's ForEach visits pairs and sub-buckets in one key order; a sub-bucket's value
            // is reported as nil.
            var entries = bucket.pairs.map { ($0.key, $0.value) } + bucket.buckets.map { ($0.name, [UInt8]()) }
            entries.sort { bytewiseLess($0.0, $1.0) }
            for (key, value) in entries {
                crc.update(key)
                crc.update(value)
                // etcdctl reads the first 8 bytes as the main revision, whatever the key's shape.
                if isKeyBucket, let main = key.loadBigEndian(UInt64.self, at: 0) {
                    revision = Int64(bitPattern: main)
                }
                totalKey += 1
            }
        }
        let totalSize = Int64(meta.highWaterPageID) * Int64(decoded.pageSize)
        return EtcdSnapshotStatus(hash: crc.value, revision: revision, totalKey: totalKey, totalSize: totalSize)
    }
}
