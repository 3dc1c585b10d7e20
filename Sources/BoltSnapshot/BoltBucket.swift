/// One key and its value in a bucket.
public struct BoltPair: Equatable, Hashable, Sendable {
    public var key: [UInt8]
    public var value: [UInt8]

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

/// A bucket: a named, ordered map from keys to values, which may hold further buckets. In a file
/// read back, `pairs` and `buckets` are each in bytewise key order; the writer sorts them itself.
/// A key names either a pair or a bucket, never both.
public struct BoltBucket: Equatable, Sendable {
    public var name: [UInt8]
    public var pairs: [BoltPair]
    public var buckets: [BoltBucket]

    public init(name: [UInt8], pairs: [BoltPair] = [], buckets: [BoltBucket] = []) {
        self.name = name
        self.pairs = pairs
        self.buckets = buckets
    }

    public init(name: String, pairs: [BoltPair] = [], buckets: [BoltBucket] = []) {
        self.init(name: Array(name.utf8), pairs: pairs, buckets: buckets)
    }

    /// The value stored under `key`, if any. Linear: buckets read back are for inspection and
    /// conversion, not for repeated lookups.
    public func value(forKey key: [UInt8]) -> [UInt8]? {
        pairs.first { $0.key == key }?.value
    }

    public func bucket(named name: String) -> BoltBucket? {
        let nameBytes = Array(name.utf8)
        return buckets.first { $0.name == nameBytes }
    }
}

/// What a bbolt file holds: its top-level buckets (bbolt's root bucket holds only buckets), and the
/// meta fields of the transaction they were read at.
public struct BoltDatabase: Equatable, Sendable {
    public var buckets: [BoltBucket]
    public var pageSize: Int
    public var transactionID: UInt64

    public init(buckets: [BoltBucket], pageSize: Int = BoltLayout.pageSize, transactionID: UInt64 = 0) {
        self.buckets = buckets
        self.pageSize = pageSize
        self.transactionID = transactionID
    }

    public func bucket(named name: String) -> BoltBucket? {
        let nameBytes = Array(name.utf8)
        return buckets.first { $0.name == nameBytes }
    }
}
