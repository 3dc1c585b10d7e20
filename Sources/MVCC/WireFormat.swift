import Bytes

/// The primitives of the command and snapshot formats: LEB128 varints (`Bytes`) (signed values zig-zag
/// encoded, so small negative revisions stay short), single bytes, and length-prefixed byte strings.
package struct WireWriter {
    package private(set) var bytes: [UInt8] = []

    package init(reservingCapacity capacity: Int = 0) {
        bytes.reserveCapacity(capacity)
    }

    package mutating func writeByte(_ byte: UInt8) { bytes.append(byte) }

    package mutating func writeUnsigned(_ value: UInt64) { bytes.appendVarint(value) }

    package mutating func writeSigned(_ value: Int64) { bytes.appendZigZag(value) }

    package mutating func writeCount(_ count: Int) { writeUnsigned(UInt64(count)) }

    package mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    package mutating func writeBytes(_ data: [UInt8]) {
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
package struct WireReader {
    private let bytes: [UInt8]
    private(set) var offset = 0

    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
    }

    package var remaining: Int { bytes.count - offset }
    package var isAtEnd: Bool { offset == bytes.count }

    package mutating func readByte() throws(WireFormatError) -> UInt8 {
        guard offset < bytes.count else { throw .truncated(offset: offset) }
        defer { offset += 1 }
        return bytes[offset]
    }

    package mutating func readUnsigned() throws(WireFormatError) -> UInt64 {
        switch Varint.decode(bytes, at: offset) {
        case .value(let value, let length):
            offset += length
            return value
        case .truncated: throw .truncated(offset: bytes.count)
        case .malformed: throw .malformedVarint(offset: offset)
        }
    }

    package mutating func readSigned() throws(WireFormatError) -> Int64 { Varint.zigZagDecoded(try readUnsigned()) }

    /// A count of items that each take at least one byte, so it cannot exceed the bytes left.
    package mutating func readCount() throws(WireFormatError) -> Int {
        let start = offset
        let count = try readUnsigned()
        guard count <= UInt64(remaining) else { throw .lengthOutOfBounds(count, offset: start) }
        return Int(count)
    }

    package mutating func readBool() throws(WireFormatError) -> Bool {
        let start = offset
        switch try readByte() {
        case 0: return false
        case 1: return true
        case let other: throw .invalidBoolean(other, offset: start)
        }
    }

    package mutating func readBytes() throws(WireFormatError) -> [UInt8] {
        let count = try readCount()
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }

    /// A byte that must be one of `0..<caseCount`.
    package mutating func readTag(caseCount: UInt8) throws(WireFormatError) -> UInt8 {
        let start = offset
        let tag = try readByte()
        guard tag < caseCount else { throw .invalidTag(tag, offset: start) }
        return tag
    }

    /// A flags byte that may only use the low `flagCount` bits.
    package mutating func readFlags(flagCount: Int) throws(WireFormatError) -> UInt8 {
        let start = offset
        let flags = try readByte()
        guard flags >> flagCount == 0 else { throw .invalidTag(flags, offset: start) }
        return flags
    }
}
