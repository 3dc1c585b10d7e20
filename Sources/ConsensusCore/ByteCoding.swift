/// Little-endian fixed-width integers into a byte array: the one set of primitives every binary
/// codec of Synod (log records, snapshots, peer frames) is written with.
public struct ByteWriter {
    public var bytes: [UInt8]

    public init(bytes: [UInt8] = []) { self.bytes = bytes }

    public mutating func write(_ value: UInt8) { bytes.append(value) }
    public mutating func write(_ value: UInt32) { bytes.appendLittleEndian(value) }
    public mutating func write(_ value: UInt64) { bytes.appendLittleEndian(value) }
    public mutating func write(_ value: Int64) { bytes.appendLittleEndian(value) }
    public mutating func write(_ data: [UInt8]) { bytes.append(contentsOf: data) }
    /// A length-prefixed byte string; the reader bounds the length it accepts.
    public mutating func writeBytes(_ data: [UInt8]) {
        write(UInt32(data.count))
        write(data)
    }
    public mutating func write(_ flag: Bool) { bytes.append(flag ? 1 : 0) }
}

extension Array where Element == UInt8 {
    /// Appends a fixed-width integer little-endian, in place.
    public mutating func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Reads what `ByteWriter` wrote, refusing to read past the end instead of trapping: every byte it
/// sees may come from a torn or corrupted disk.
public struct ByteReader {
    public let bytes: [UInt8]
    public private(set) var position: Int
    public let end: Int

    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    public var remaining: Int { end - position }

    public mutating func readByte() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    public mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(bytes[position + offset]) << (8 * UInt32(offset)) }
        position += 4
        return value
    }

    public mutating func readUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << (8 * UInt64(offset)) }
        position += 8
        return value
    }

    public mutating func readRest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }

    public mutating func readInt64() -> Int64? { readUInt64().map { Int64(bitPattern: $0) } }

    public mutating func readBool() -> Bool? {
        guard let byte = readByte(), byte <= 1 else { return nil }
        return byte == 1
    }

    /// Reads `count` bytes, or nil when fewer remain.
    public mutating func readBytes(count: Int) -> [UInt8]? {
        guard count >= 0, remaining >= count else { return nil }
        defer { position += count }
        return Array(bytes[position..<(position + count)])
    }

    /// Reads a length-prefixed byte string of at most `maxCount` bytes.
    public mutating func readBytes(maxCount: Int) -> [UInt8]? {
        guard let count = readUInt32(), Int(count) <= maxCount else { return nil }
        return readBytes(count: Int(count))
    }
}
