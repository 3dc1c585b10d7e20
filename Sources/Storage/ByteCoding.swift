/// Little-endian fixed-width integers into a byte array.
struct ByteWriter {
    var bytes: [UInt8] = []

    mutating func write(_ value: UInt8) { bytes.append(value) }
    mutating func write(_ value: UInt32) { bytes.appendLittleEndian(value) }
    mutating func write(_ value: UInt64) { bytes.appendLittleEndian(value) }
    mutating func write(_ data: [UInt8]) { bytes.append(contentsOf: data) }
}

extension Array where Element == UInt8 {
    /// Appends a fixed-width integer little-endian, in place.
    mutating func appendLittleEndian<Value: FixedWidthInteger>(_ value: Value) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}

/// Reads what `ByteWriter` wrote, refusing to read past the end instead of trapping: every byte it
/// sees may come from a torn or corrupted disk.
struct ByteReader {
    let bytes: [UInt8]
    private(set) var position: Int
    let end: Int

    init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.position = start
        self.end = end ?? bytes.count
    }

    var remaining: Int { end - position }

    mutating func readByte() -> UInt8? {
        guard remaining >= 1 else { return nil }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func readUInt32() -> UInt32? {
        guard remaining >= 4 else { return nil }
        var value: UInt32 = 0
        for offset in 0..<4 { value |= UInt32(bytes[position + offset]) << (8 * UInt32(offset)) }
        position += 4
        return value
    }

    mutating func readUInt64() -> UInt64? {
        guard remaining >= 8 else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << (8 * UInt64(offset)) }
        position += 8
        return value
    }

    mutating func readRest() -> [UInt8] {
        defer { position = end }
        return Array(bytes[position..<end])
    }
}
