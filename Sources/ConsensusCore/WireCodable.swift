/// A message that crosses the network between Synod nodes in our own binary format. Decoding never
/// traps: every byte comes from outside and may be garbage.
public protocol WireCodable {
    func encode(to writer: inout ByteWriter)
    init(from reader: inout ByteReader) throws(WireDecodingError)
}

public struct WireDecodingError: Error, Sendable, Equatable, CustomStringConvertible {
    public var reason: String
    public init(_ reason: String) { self.reason = reason }
    public var description: String { "undecodable peer message: \(reason)" }
}

// Inlinable: these run for every peer message, in other modules, where unspecialised generic code
// looks up type metadata at every call.
extension WireCodable {
    @inlinable
    public var wireBytes: [UInt8] {
        var writer = ByteWriter()
        encode(to: &writer)
        return writer.bytes
    }

    /// Decodes a whole buffer; trailing bytes are an error, not ignored.
    @inlinable
    public init(wireBytes bytes: [UInt8]) throws(WireDecodingError) {
        var reader = ByteReader(bytes)
        try self.init(from: &reader)
        guard reader.remaining == 0 else { throw WireDecodingError("\(reader.remaining) trailing bytes") }
    }
}

/// Bounds on what a decoder accepts, so a hostile length cannot make a node allocate without limit.
public enum WireBounds {
    /// One entry's payload: etcd's largest request (1.5 MiB) with room for larger configured limits.
    public static let entryBytesMax = 64 << 20
    public static let entriesPerMessageMax = 1 << 16
    public static let snapshotChunkBytesMax = 64 << 20
    public static let textBytesMax = 4096
}

extension ByteReader {
    @inlinable
    public mutating func require<T>(_ value: T?, _ what: @autoclosure () -> String) throws(WireDecodingError) -> T {
        guard let value else { throw WireDecodingError("truncated or invalid \(what())") }
        return value
    }

    @inlinable
    public mutating func nodeID(_ what: String) throws(WireDecodingError) -> NodeID {
        let raw = try require(readUInt64(), what)
        guard raw != 0 else { throw WireDecodingError("\(what) is node 0") }
        return NodeID(raw)
    }
}
