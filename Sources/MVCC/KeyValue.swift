/// One version of a key, as etcd's `mvccpb.KeyValue` carries it.
///
/// `createRevision` is the revision that started the key's current generation (the put that created
/// it after it was missing or deleted), `modRevision` the revision of this version, and `version`
/// counts the puts within the generation, starting at 1. `lease` is 0 when no lease is attached.
public struct KeyValue: Sendable, Equatable {
    public var key: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var value: [UInt8]
    public var lease: Int64

    public init(
        key: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0,
        value: [UInt8] = [], lease: Int64 = 0
    ) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }
}

/// One change to one key, as a watcher sees it (etcd's `mvccpb.Event`).
///
/// For a delete, `kv` carries only the key and `modRevision` (the deleting revision); every other
/// field is zero, exactly as etcd sends it. `previous` is the key's version just before the event's
/// revision, or nil when the key did not exist then (always nil for the put that creates a key).
public struct Event: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        case put
        case delete
    }

    public var kind: Kind
    public var kv: KeyValue
    public var previous: KeyValue?

    public init(kind: Kind, kv: KeyValue, previous: KeyValue? = nil) {
        self.kind = kind
        self.kv = kv
        self.previous = previous
    }
}
