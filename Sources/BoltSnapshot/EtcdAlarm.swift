/// An active alarm (etcdserverpb.AlarmMember). etcd stores it as the key of an "alarm" bucket
/// entry whose value is empty.
public struct EtcdAlarm: Hashable, Sendable {
    /// etcdserverpb.AlarmType.
    public enum Kind: Hashable, Sendable {
        case none
        case noSpace
        case corrupt
        /// A value this module does not know, kept so that it survives a round trip.
        case other(UInt64)

        var rawValue: UInt64 {
            switch self {
            case .none: 0
            case .noSpace: 1
            case .corrupt: 2
            case .other(let value): value
            }
        }

        init(rawValue: UInt64) {
            switch rawValue {
            case 0: self = .none
            case 1: self = .noSpace
            case 2: self = .corrupt
            default: self = .other(rawValue)
            }
        }
    }

    public var memberID: UInt64
    public var kind: Kind

    public init(memberID: UInt64, kind: Kind) {
        self.memberID = memberID
        self.kind = kind
    }

    private enum Field {
        static let memberID: UInt64 = 1
        static let alarm: UInt64 = 2
    }

    package func encoded() -> [UInt8] {
        var writer = ProtobufWriter()
        writer.appendVarintField(Field.memberID, memberID)
        writer.appendVarintField(Field.alarm, kind.rawValue)
        return writer.bytes
    }

    package static func decode(_ bytes: [UInt8], message: String) throws(ProtobufDecodingError) -> EtcdAlarm {
        var reader = ProtobufReader(bytes, message: message)
        var result = EtcdAlarm(memberID: 0, kind: .none)
        while let (number, value) = try reader.nextField() {
            switch number {
            case Field.memberID: result.memberID = try value.varint(field: "MemberID", message: message)
            case Field.alarm: result.kind = Kind(rawValue: try value.varint(field: "Alarm", message: message))
            default: continue
            }
        }
        return result
    }
}
