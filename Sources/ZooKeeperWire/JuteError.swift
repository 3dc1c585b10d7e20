/// Why bytes from a ZooKeeper client or server do not decode. Every decoder in this module is total:
/// it returns one of these, never traps, whatever the bytes.
public enum JuteError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The record ended before `field` was complete.
    case truncated(field: String)
    /// A length or count below -1 (jute's "null").
    case negativeLength(field: String, Int32)
    /// A length or count above the bound that applies to it.
    case lengthOverLimit(field: String, Int, limit: Int)
    /// A string that is not UTF-8.
    case invalidUTF8(field: String)
    /// An operation code ZooKeeper does not define.
    case unknownOperation(Int32)
    /// A multi whose operation is not one a multi may hold.
    case operationNotAllowedInMulti(Int32)
    /// Bytes left over after a complete record.
    case trailingBytes(Int)

    public var description: String {
        switch self {
        case .truncated(let field): return "record ends inside \(field)"
        case .negativeLength(let field, let length): return "\(field) has length \(length)"
        case .lengthOverLimit(let field, let length, let limit): return "\(field) has length \(length), more than \(limit)"
        case .invalidUTF8(let field): return "\(field) is not UTF-8"
        case .unknownOperation(let code): return "unknown operation \(code)"
        case .operationNotAllowedInMulti(let code): return "operation \(code) cannot be part of a multi"
        case .trailingBytes(let count): return "\(count) bytes after the end of the record"
        }
    }
}
