/// mvccpb.KeyValue: one version of a key, as etcd stores it under its revision in the "key" bucket
/// and returns it from Range. A tombstone's record carries only `key`.
public struct EtcdKeyValue: Equatable, Sendable {
    public var key: [UInt8]
    public var createRevision: Int64
    public var modRevision: Int64
    public var version: Int64
    public var value: [UInt8]
    /// The lease the key is attached to; 0 for none.
    public var lease: Int64

    public init(key: [UInt8], createRevision: Int64 = 0, modRevision: Int64 = 0, version: Int64 = 0, value: [UInt8] = [], lease: Int64 = 0) {
        self.key = key
        self.createRevision = createRevision
        self.modRevision = modRevision
        self.version = version
        self.value = value
        self.lease = lease
    }

    /// Field numbers of mvccpb.KeyValue.
    private enum Field {
        static let key: UInt64 = 1
        static let createRevision: UInt64 = 2
        static let modRevision: UInt64 = 3
        static let version: UInt64 = 4
        static let value: UInt64 = 5
        static let lease: UInt64 = 6
    }

    /// The protobuf encoding, byte-identical to gogo-protobuf's Marshal.
    public func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.appendBytesField(Field.key, key)
        writer.appendVarintField(Field.createRevision, UInt64(bitPattern: createRevision))
        writer.appendVarintField(Field.modRevision, UInt64(bitPattern: modRevision))
        writer.appendVarintField(Field.version, UInt64(bitPattern: version))
        writer.appendBytesField(Field.value, value)
        writer.appendVarintField(Field.lease, UInt64(bitPattern: lease))
        return writer.bytes
    }

    /// Decodes mvccpb.KeyValue; unknown fields are skipped, as protobuf requires.
    package static func decode(_ bytes: [UInt8], message: String) throws(ProtobufDecodingError) -> EtcdKeyValue {
        var reader = ProtobufReader(bytes, message: message)
        var result = EtcdKeyValue(key: [])
        while let (number, value) = try reader.nextField() {
            switch number {
            case Field.key: result.key = try value.byteArray(field: "key", message: message)
            case Field.createRevision: result.createRevision = Int64(bitPattern: try value.varint(field: "create_revision", message: message))
            case Field.modRevision: result.modRevision = Int64(bitPattern: try value.varint(field: "mod_revision", message: message))
            case Field.version: result.version = Int64(bitPattern: try value.varint(field: "version", message: message))
            case Field.value: result.value = try value.byteArray(field: "value", message: message)
            case Field.lease: result.lease = Int64(bitPattern: try value.varint(field: "lease", message: message))
            default: continue
            }
        }
        return result
    }
}

/// One entry of the "key" bucket: a revision, whether it deletes the key, and the record.
public struct EtcdRevisionRecord: Equatable, Sendable {
    public var revision: EtcdRevision
    public var isTombstone: Bool
    public var keyValue: EtcdKeyValue

    public init(revision: EtcdRevision, isTombstone: Bool = false, keyValue: EtcdKeyValue) {
        self.revision = revision
        self.isTombstone = isTombstone
        self.keyValue = keyValue
    }

    /// A put: etcd's record sets mod_revision to the revision itself.
    public static func put(_ revision: EtcdRevision, key: [UInt8], value: [UInt8], createRevision: Int64, version: Int64, lease: Int64 = 0) -> EtcdRevisionRecord {
        EtcdRevisionRecord(
            revision: revision,
            keyValue: EtcdKeyValue(key: key, createRevision: createRevision, modRevision: revision.main, version: version, value: value, lease: lease))
    }

    /// A delete: etcd stores a record holding only the key, under the revision marked 't'.
    public static func tombstone(_ revision: EtcdRevision, key: [UInt8]) -> EtcdRevisionRecord {
        EtcdRevisionRecord(revision: revision, isTombstone: true, keyValue: EtcdKeyValue(key: key))
    }

    /// The "key" bucket key and value, as etcd writes them.
    package var bucketKey: [UInt8] { revision.encoded(tombstone: isTombstone) }
    package var bucketValue: [UInt8] { keyValue.encoded() }
}
