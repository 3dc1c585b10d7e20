/// The framing of an etcd snapshot: `Maintenance.Snapshot` streams the database bytes followed by
/// the SHA-256 of those bytes, and `etcdctl snapshot save` writes both to the file.
public enum SnapshotHash {
    /// A snapshot file whose length is 32 more than a multiple of 512 ends in a hash. This is how
    /// etcdctl 3.4 decides (`hasChecksum`); a bbolt file is a whole number of pages, so a bare
    /// database never matches.
    public static func hasTrailingHash(byteCount: Int) -> Bool {
        byteCount % 512 == SHA256.digestBytes
    }

    /// The database bytes followed by their SHA-256, as etcd sends a snapshot.
    public static func appendingSnapshotHash(_ database: [UInt8]) -> [UInt8] {
        database + SHA256.hash(database)
    }

    /// The database bytes of a snapshot file. A file that ends in a hash must match it; a file
    /// without one (a database copied from a data dir) is returned as is, as `etcdctl snapshot
    /// restore --skip-hash-check` would take it.
    public static func verifiedSnapshot(_ file: [UInt8]) throws(SnapshotHashError) -> [UInt8] {
        guard hasTrailingHash(byteCount: file.count) else {
            return file
        }
        let databaseBytes = file.count - SHA256.digestBytes
        let database = Array(file[0..<databaseBytes])
        let expected = Array(file[databaseBytes...])
        let actual = SHA256.hash(database)
        guard expected == actual else {
            throw SnapshotHashError(expected: expected, actual: actual)
        }
        return database
    }
}

/// A snapshot whose trailing SHA-256 does not match its contents: damaged in transit or on disk.
public struct SnapshotHashError: Error, Equatable, Sendable, CustomStringConvertible {
    public var expected: [UInt8]
    public var actual: [UInt8]

    public var description: String {
        "snapshot hash mismatch: the file ends in sha256 \(hex(expected)), but its contents hash to \(hex(actual))"
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
