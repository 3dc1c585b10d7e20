import Bytes

/// An etcd MVCC revision: `main` counts write transactions, `sub` the changes within one.
public struct EtcdRevision: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var main: Int64
    public var sub: Int64

    public init(main: Int64, sub: Int64 = 0) {
        self.main = main
        self.sub = sub
    }

    public static func < (left: EtcdRevision, right: EtcdRevision) -> Bool {
        (left.main, left.sub) < (right.main, right.sub)
    }

    public var description: String { "\(main)_\(sub)" }

    /// Bytes of a revision key: 8-byte big-endian main, '_', 8-byte big-endian sub. Big-endian
    /// makes bbolt's bytewise order the revision order (for the non-negative revisions etcd uses).
    package static let encodedBytes = 17
    package static let separator = UInt8(ascii: "_")
    package static let tombstoneMark = UInt8(ascii: "t")

    /// The "key" bucket's key for this revision; a tombstone gets an 18th byte, 't'.
    package func encoded(tombstone: Bool = false) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(Self.encodedBytes + 1)
        bytes.appendBigEndian(UInt64(bitPattern: main))
        bytes.append(Self.separator)
        bytes.appendBigEndian(UInt64(bitPattern: sub))
        if tombstone {
            bytes.append(Self.tombstoneMark)
        }
        return bytes
    }

    /// Decodes a revision key, 17 bytes or 18 with the tombstone mark.
    package static func decode(_ bytes: [UInt8]) -> (revision: EtcdRevision, isTombstone: Bool)? {
        guard bytes.count == encodedBytes || bytes.count == encodedBytes + 1,
              bytes[8] == separator,
              let main = bytes.loadBigEndian(UInt64.self, at: 0),
              let sub = bytes.loadBigEndian(UInt64.self, at: 9)
        else { return nil }
        let isTombstone = bytes.count == encodedBytes + 1
        if isTombstone, bytes[encodedBytes] != tombstoneMark {
            return nil
        }
        return (EtcdRevision(main: Int64(bitPattern: main), sub: Int64(bitPattern: sub)), isTombstone)
    }
}
