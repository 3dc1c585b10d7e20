/// A write of one key (etcd's `PutRequest`).
///
/// `ignoreValue` keeps the key's current value and `ignoreLease` its current lease; both need the key
/// to exist and forbid supplying the field they ignore. `previousKV` asks for the version replaced.
public struct PutRequest: Sendable, Equatable {
    public var key: [UInt8]
    public var value: [UInt8]
    public var lease: Int64
    public var previousKV: Bool
    public var ignoreValue: Bool
    public var ignoreLease: Bool

    public init(
        key: [UInt8] = [], value: [UInt8] = [], lease: Int64 = 0, previousKV: Bool = false,
        ignoreValue: Bool = false, ignoreLease: Bool = false
    ) {
        self.key = key
        self.value = value
        self.lease = lease
        self.previousKV = previousKV
        self.ignoreValue = ignoreValue
        self.ignoreLease = ignoreLease
    }
}

/// The answer to a put: the version it replaced, when `previousKV` asked for it and the key existed.
public struct PutResult: Sendable, Equatable {
    public var previous: KeyValue?

    public init(previous: KeyValue? = nil) {
        self.previous = previous
    }
}

/// A delete of the keys in a range (etcd's `DeleteRangeRequest`); `rangeEnd` as in `RangeRequest`.
public struct DeleteRangeRequest: Sendable, Equatable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8]
    public var previousKV: Bool

    public init(key: [UInt8] = [], rangeEnd: [UInt8] = [], previousKV: Bool = false) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.previousKV = previousKV
    }
}

/// The answer to a delete: how many keys it deleted and, when asked, their last versions in key order.
public struct DeleteRangeResult: Sendable, Equatable {
    public var deleted: Int64
    public var previous: [KeyValue]

    public init(deleted: Int64 = 0, previous: [KeyValue] = []) {
        self.deleted = deleted
        self.previous = previous
    }
}
