/// The primitives of the command and snapshot formats: LEB128 varints (signed values zig-zag
/// encoded, so small negative revisions stay short), single bytes, and length-prefixed byte strings.
struct WireWriter {
    private(set) var bytes: [UInt8] = []

    init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    mutating func writeUnsigned(_ value: UInt64) {
        var rest = value
        while rest >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        bytes.append(UInt8(rest))
    }

    mutating func writeSigned(_ value: Int64) {
        writeUnsigned(UInt64(bitPattern: (value << 1) ^ (value >> 63)))
    }

    mutating func writeCount(_ count: Int) { writeUnsigned(UInt64(count)) }

    mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    mutating func writeBytes(_ data: [UInt8]) {
        writeCount(data.count)
        bytes.append(contentsOf: data)
    }
}

/// Why bytes could not be read as the wire format; offsets are from the start of the input.
public enum WireFormatError: Error, Equatable, Sendable {
    /// The input ended inside a field.
    case truncated(offset: Int)
    /// A varint ran past ten bytes or past 64 bits, or was longer than needed.
    case malformedVarint(offset: Int)
    /// A length or count larger than the bytes left, or than the field allows.
    case lengthOutOfBounds(UInt64, offset: Int)
    /// A boolean byte other than 0 or 1.
    case invalidBoolean(UInt8, offset: Int)
    /// An enumeration byte (command, operation, target, flags...) with no meaning in this version.
    case invalidTag(UInt8, offset: Int)
    /// Text that is not valid UTF-8.
    case invalidText(offset: Int)
}

/// Reads what `WireWriter` wrote. Every read checks the bytes left first, and every length is
/// checked against the bytes left before anything is allocated, so no input can trap it or make it
/// allocate more than the input's size.
struct WireReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    var remaining: Int { bytes.count - offset }
    var isAtEnd: Bool { offset == bytes.count }

    /// The longest LEB128 encoding of a 64-bit value.
    static let varintBytesMax = 10

    mutating func readByte() throws(WireFormatError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUnsigned() throws(WireFormatError) -> UInt64 {
        let start = offset
        var value: UInt64 = 0
        for index in 0..<Self.varintBytesMax {
            let byte = try readByte()
            let payload = UInt64(byte & 0x7F)
            // The tenth byte carries bit 63 only.
            if index == Self.varintBytesMax - 1 && payload > 1 { throw .malformedVarint(offset: start) }
            value |= payload << (7 * UInt64(index))
            guard byte & 0x80 == 0 else { continue }
            // A last byte of zero after the first is an overlong encoding; refusing it keeps every
            // value's encoding unique, so decoding and re-encoding gives back the same bytes.
            if byte == 0 && index > 0 { throw .malformedVarint(offset: start) }
            return value
        }
        throw .malformedVarint(offset: start)
    }

    mutating func readSigned() throws(WireFormatError) -> Int64 {
        let encoded = try readUnsigned()
        return Int64(bitPattern: (encoded >> 1) ^ (0 &- (encoded & 1)))
    }

    /// A count of items that each take at least one byte, so it cannot exceed the bytes left.
    mutating func readCount() throws(WireFormatError) -> Int {
        let start = offset
        let count = try readUnsigned()
        guard count <= UInt64(remaining) else { throw .lengthOutOfBounds(count, offset: start) }
        return Int(count)
    }

    mutating func readBool() throws(WireFormatError) -> Bool {
        let start = offset
        switch try readByte() {
        case 0: return false
        case 1: return true
        case let other: throw .invalidBoolean(other, offset: start)
        }
    }

    mutating func readBytes() throws(WireFormatError) -> [UInt8] {
        let count = try readCount()
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A byte that must be one of `0..<caseCount`.
    mutating func readTag(caseCount: UInt8) throws(WireFormatError) -> UInt8 {
        let start = offset
        let tag = try readByte()
        guard tag < caseCount else { throw .invalidTag(tag, offset: start) }
        return tag
    }

    /// A flags byte that may only use the low `flagCount` bits.
    mutating func readFlags(flagCount: Int) throws(WireFormatError) -> UInt8 {
        let start = offset
        let flags = try readByte()
        guard flags >> flagCount == 0 else { throw .invalidTag(flags, offset: start) }
        return flags
    }
}
