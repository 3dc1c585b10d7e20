/// How a range result is ordered (etcd's `RangeRequest.SortOrder`).
public enum SortOrder: Sendable, Equatable {
    case none
    case ascend
    case descend
}

/// Which field a range result is ordered by (etcd's `RangeRequest.SortTarget`).
public enum SortTarget: Sendable, Equatable {
    case key
    case version
    case create
    case mod
    case value
}

/// A read of the keys in a range, at the current or a past revision (etcd's `RangeRequest`).
///
/// `rangeEnd` follows etcd: empty reads the single key `key`; `[0]` reads every key `>= key`; any
/// other value reads the half-open interval `[key, rangeEnd)`. Prefixes are computed by clients.
/// `revision <= 0` reads the current revision. A limit of 0 or less means no limit, and a
/// min/max revision filter of 0 means no bound.
public struct RangeRequest: Sendable, Equatable {
    public var key: [UInt8]
    public var rangeEnd: [UInt8]
    public var limit: Int64
    public var revision: Int64
    public var sortOrder: SortOrder
    public var sortTarget: SortTarget
    public var keysOnly: Bool
    public var countOnly: Bool
    public var minModRevision: Int64
    public var maxModRevision: Int64
    public var minCreateRevision: Int64
    public var maxCreateRevision: Int64

    public init(
        key: [UInt8] = [], rangeEnd: [UInt8] = [], limit: Int64 = 0, revision: Int64 = 0,
        sortOrder: SortOrder = .none, sortTarget: SortTarget = .key, keysOnly: Bool = false,
        countOnly: Bool = false, minModRevision: Int64 = 0, maxModRevision: Int64 = 0,
        minCreateRevision: Int64 = 0, maxCreateRevision: Int64 = 0
    ) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.limit = limit
        self.revision = revision
        self.sortOrder = sortOrder
        self.sortTarget = sortTarget
        self.keysOnly = keysOnly
        self.countOnly = countOnly
        self.minModRevision = minModRevision
        self.maxModRevision = maxModRevision
        self.minCreateRevision = minCreateRevision
        self.maxCreateRevision = maxCreateRevision
    }
}

/// The answer to a `RangeRequest`.
///
/// `count` is the number of keys in the range at the read revision, counted before the limit and
/// before the min/max revision filters, as etcd counts it. `more` says the limit cut `kvs` short.
public struct RangeResult: Sendable, Equatable {
    public var kvs: [KeyValue]
    public var more: Bool
    public var count: Int64

    public init(kvs: [KeyValue] = [], more: Bool = false, count: Int64 = 0) {
        self.kvs = kvs
        self.more = more
        self.count = count
    }
}
