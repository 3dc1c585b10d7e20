import ConsensusCore

/// A snapshot of every service on a replica: one tagged part per service.
///
///     0  4 bytes  "SYNS"
///     4  u8       format version (1)
///     5  u8       part count
///     6  parts:   u8 tag, u64 length (little-endian), bytes
///
/// Data written before services were tagged is the etcd store's snapshot alone; it does not start
/// with the magic (an MVCC snapshot starts with its format version, 1 to 3), and reads as the etcd
/// part, so older data directories restore unchanged.
public struct CompositeSnapshot: Equatable, Sendable {
    public static let magic: [UInt8] = Array("SYNS".utf8)
    public static let formatVersion: UInt8 = 1

    public var parts: [ServiceTag: [UInt8]]

    public init(parts: [ServiceTag: [UInt8]]) { self.parts = parts }

    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case unsupportedVersion(UInt8)
        case truncated
        case duplicatePart(ServiceTag)
        case trailingBytes(Int)

        public var description: String {
            switch self {
            case .unsupportedVersion(let version): return "composite snapshot format \(version) is not supported (1 is)"
            case .truncated: return "composite snapshot is truncated"
            case .duplicatePart(let tag): return "composite snapshot has two parts for \(tag)"
            case .trailingBytes(let count): return "composite snapshot has \(count) bytes after its last part"
            }
        }
    }

    /// Parts in tag order, so equal states give equal bytes on every replica.
    public var encoded: [UInt8] {
        var writer = ByteWriter()
        writer.write(Self.magic)
        writer.write(Self.formatVersion)
        writer.write(UInt8(parts.count))
        for (tag, part) in parts.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            writer.write(tag.rawValue)
            writer.write(UInt64(part.count))
            writer.write(part)
        }
        return writer.bytes
    }

    /// Total: any bytes give parts or an error.
    public init(decoding bytes: [UInt8]) throws(DecodingError) {
        guard bytes.starts(with: Self.magic) else {
            parts = [.etcd: bytes]
            return
        }
        var reader = ByteReader(bytes)
        _ = reader.readBytes(count: Self.magic.count)
        guard let version = reader.readByte() else { throw .truncated }
        guard version == Self.formatVersion else { throw .unsupportedVersion(version) }
        guard let count = reader.readByte() else { throw .truncated }
        var parts: [ServiceTag: [UInt8]] = [:]
        for _ in 0..<count {
            guard let tag = reader.readByte().map(ServiceTag.init(rawValue:)), let length = reader.readUInt64() else { throw .truncated }
            guard length <= UInt64(reader.remaining), let part = reader.readBytes(count: Int(length)) else { throw .truncated }
            guard parts.updateValue(part, forKey: tag) == nil else { throw .duplicatePart(tag) }
        }
        guard reader.remaining == 0 else { throw .trailingBytes(reader.remaining) }
        self.parts = parts
    }

    /// Whether `data` decodes and `acceptsPart` takes each of its parts.
    public static func accepts(_ data: [UInt8], part acceptsPart: (ServiceTag, [UInt8]) -> Bool) -> Bool {
        guard let composite = try? CompositeSnapshot(decoding: data) else { return false }
        return composite.parts.allSatisfy { acceptsPart($0.key, $0.value) }
    }
}
