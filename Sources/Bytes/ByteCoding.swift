/// Little-endian fixed-width integers into a byte array: the one set of primitives every binary
/// codec of Synod (log records, snapshots, peer frames, configuration entries, the MVCC store's
/// commands and snapshots, etcd's bbolt file) is written with. Big-endian and LEB128 varints for
/// the formats that need them are below.
///
/// Everything here is `@inlinable`: these run per byte on every replicated write, and as calls
/// into another module (generic ones unspecialised) they cost a 3-node cluster a fifth of its put
/// throughput (docs/PERFORMANCE.md).
public struct ByteWriter {
    public var bytes: [UInt8]

    @inlinable public init(bytes: [UInt8] = []) { self.bytes = bytes }

    @inlinable public mutating func write(_ value: UInt8) { bytes.append(value) }
    @inlinable public mutating func write(_ value: UInt32) { bytes.appendLittleEndian(value) }
    @inlinable public mutating func write(_ value: UInt64) { bytes.appendLittleEndian(value) }
    @inlinable public mutating func write(_ value: Int64) { bytes.appendLittleEndian(value) }
    @inlinable public mutating func write(_ data: [UInt8]) { bytes.append(contentsOf: data) }
    /// A length-prefixed byte string; the reader bounds the length it accepts.
    @inlinable public mutating func writeBytes(_ data: [UInt8]) {
        write(UInt32(data.count))
        write(data)
    }
    @inlinable public mutating func write(_ flag: Bool) { bytes.append(flag ? 1 : 0) }
}

extension Array where Element == UInt8 {
    /// Appends a fixed-width integer little-endian, in place.
    @inlinable public mutating func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Reads what `ByteWriter` wrote, refusing to read past the end instead of trapping: every byte it
/// sees may come from a torn or corrupted disk.
public struct ByteReader {
    public let bytes: [UInt8]
    /// Where the next read starts. Public to let the inlinable readers move it (so every codec
    /// gets them specialised and inlined, not a cross-module call per byte).
    public var position: Int
    public let end: Int

    @inlinable public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    @inlinable public var remaining: Int { end - position }

    @inlinable public mutating func readByte() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    @inlinable public mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(bytes[position + offset]) << (8 * UInt32(offset)) }
        position += 4
        return value
    }

    @inlinable public mutating func readUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << (8 * UInt64(offset)) }
        position += 8
        return value
    }

    @inlinable public mutating func readRest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }

    @inlinable public mutating func readInt64() -> Int64? { readUInt64().map { Int64(bitPattern: $0) } }

    @inlinable public mutating func readBool() -> Bool? {
        guard let byte = readByte(), byte <= 1 else { return nil }
        return byte == 1
    }

    /// Reads `count` bytes, or nil when fewer remain.
    @inlinable public mutating func readBytes(count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// Reads a length-prefixed byte string of at most `maxCount` bytes.
    @inlinable public mutating func readBytes(maxCount: Int) -> [UInt8]? {
        guard let count = readUInt32(), Int(count) <= maxCount else { return nil }
        return readBytes(count: Int(count))
    }
}

// Big-endian appends and in-place stores, and loads that return nil rather than trap when the bytes
// run short, so that every decoder can turn a short read into a clear error.
extension Array where Element == UInt8 {
    @inlinable public mutating func appendBigEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for byteIndex in (0..<(T.bitWidth / 8)).reversed() {
            append(UInt8(truncatingIfNeeded: value >> (byteIndex * 8)))
        }
    }

    /// Overwrites `T.bitWidth / 8` bytes at `offset`, which the caller has already allocated.
    @inlinable public mutating func storeLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) {
        for byteIndex in 0..<(T.bitWidth / 8) {
            self[offset + byteIndex] = UInt8(truncatingIfNeeded: value >> (byteIndex * 8))
        }
    }
}

extension RandomAccessCollection where Element == UInt8, Index == Int {
    /// The little-endian integer at `offset`, or nil when it does not lie wholly inside the bytes.
    @inlinable public func loadLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) -> T? {
        let width = T.bitWidth / 8
        guard offset >= startIndex, offset <= endIndex - width else { return nil }
        var value: T = 0
        for byteIndex in 0..<width {
            value |= T(self[offset + byteIndex]) << (byteIndex * 8)
        }
        return value
    }

    /// The big-endian integer at `offset`, or nil when it does not lie wholly inside the bytes.
    @inlinable public func loadBigEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) -> T? {
        let width = T.bitWidth / 8
        guard offset >= startIndex, offset <= endIndex - width else { return nil }
        var value: T = 0
        for byteIndex in 0..<width {
            value = value << 8 | T(self[offset + byteIndex])
        }
        return value
    }
}

/// LEB128 varints (signed values zig-zag encoded, so small negatives stay short): the MVCC store's
/// command and snapshot formats.
extension Array where Element == UInt8 {
    @inlinable public mutating func appendVarint(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(rest))
    }

    @inlinable public mutating func appendZigZag(_ value: Int64) {
        appendVarint(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }
}

public enum Varint {
    /// The longest encoding of a 64-bit value.
    public static let bytesMax = 10

    public enum Decoded: Equatable {
        case value(UInt64, length: Int)
        /// The bytes ended inside the varint.
        case truncated
        /// Past ten bytes or 64 bits, or longer than needed (each value has one encoding, so
        /// decoding and re-encoding gives back the same bytes).
        case malformed
    }

    /// Decodes the varint at `offset` of `bytes`.
    @inlinable public static func decode(_ bytes: [UInt8], at offset: Int) -> Decoded {
        var value: UInt64 = 0
        for index in 0..<bytesMax {
            guard offset + index < bytes.count else { return .truncated }
            let byte = bytes[offset + index]
            let payload = UInt64(byte & 0x7F)
            // The tenth byte carries bit 63 only.
            if index == bytesMax - 1 && payload > 1 { return .malformed }
            value |= payload << (7 * UInt64(index))
            guard byte & 0x80 == 0 else { continue }
            if byte == 0 && index > 0 { return .malformed }
            return .value(value, length: index + 1)
        }
        return .malformed
    }

    @inlinable public static func zigZagDecoded(_ encoded: UInt64) -> Int64 {
        Int64(bitPattern: (encoded >> 1) ^ (0 &- (encoded & 1)))
    }
}
