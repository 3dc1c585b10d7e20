import Bytes

/// leasepb.Lease, stored in the "lease" bucket under the 8-byte big-endian lease ID. Keys name
/// their lease in their own records; the lease record keeps only its TTLs.
public struct EtcdLease: Equatable, Sendable {
    public var id: Int64
    /// The granted time to live, in seconds.
    public var ttl: Int64
    /// The last checkpointed remaining time to live, in seconds; 0 means "unset: use ttl".
    public var remainingTTL: Int64

    public init(id: Int64, ttl: Int64, remainingTTL: Int64 = 0) {
        self.id = id
        self.ttl = ttl
        self.remainingTTL = remainingTTL
    }

    private enum Field {
        static let id: UInt64 = 1
        static let ttl: UInt64 = 2
        static let remainingTTL: UInt64 = 3
    }

    package var bucketKey: [UInt8] {
        var bytes: [UInt8] = []
        bytes.appendBigEndian(UInt64(bitPattern: id))
        return bytes
    }

    package func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.appendVarintField(Field.id, UInt64(bitPattern: id))
        writer.appendVarintField(Field.ttl, UInt64(bitPattern: ttl))
        writer.appendVarintField(Field.remainingTTL, UInt64(bitPattern: remainingTTL))
        return writer.bytes
    }

    package static func decode(_ bytes: [UInt8], message: String) throws(ProtobufDecodingError) -> EtcdLease {
        var reader = ProtobufReader(bytes, message: message)
        var result = EtcdLease(id: 0, ttl: 0)
        while let (number, value) = try reader.nextField() {
            switch number {
            case Field.id: result.id = Int64(bitPattern: try value.varint(field: "ID", message: message))
            case Field.ttl: result.ttl = Int64(bitPattern: try value.varint(field: "TTL", message: message))
            case Field.remainingTTL: result.remainingTTL = Int64(bitPattern: try value.varint(field: "RemainingTTL", message: message))
            default: continue
            }
        }
        return result
    }
}
