/// The few pieces of the protobuf wire format that etcd's backend records use. The encoder writes
/// what gogo-protobuf's generated `Marshal` writes (fields in number order, proto3 zero values
/// left out), so that re-encoded records are byte-identical to etcd's: HashKV hashes those bytes.
package struct ProtobufWriter {
    package private(set) var bytes: [UInt8] = []

    package mutating func appendVarint(_ value: UInt64) {
        var remaining = value
        while remaining >= 0x80 {
            bytes.append(UInt8(truncatingIfNeeded: remaining) | 0x80)
            remaining >>= 7
        }
        bytes.append(UInt8(remaining))
    }

    /// An int64 or uint64 field; a negative int64 is its two's complement, ten bytes long.
    package mutating func appendVarintField(_ fieldNumber: UInt64, _ value: UInt64) {
        guard value != 0 else { return }
        appendVarint(fieldNumber << 3 | ProtobufWireType.varint.rawValue)
        appendVarint(value)
    }

    package mutating func appendBytesField(_ fieldNumber: UInt64, _ value: [UInt8]) {
        guard !value.isEmpty else { return }
        appendVarint(fieldNumber << 3 | ProtobufWireType.lengthDelimited.rawValue)
        appendVarint(UInt64(value.count))
        bytes.append(contentsOf: value)
    }
}

package enum ProtobufWireType: UInt64 {
    case varint = 0
    case fixed64 = 1
    case lengthDelimited = 2
    case fixed32 = 5
}

/// One decoded field: its number and its payload.
package enum ProtobufFieldValue {
    case varint(UInt64)
    case bytes(ArraySlice<UInt8>)
    /// A fixed-width field, which none of etcd's backend records use; kept so it can be skipped.
    case fixed
}

/// Reads fields one at a time; every length is checked against the remaining bytes.
package struct ProtobufReader {
    private let bytes: [UInt8]
    private var offset: Int
    private let message: String

    package init(_ bytes: [UInt8], message: String) {
        self.bytes = bytes
        self.offset = 0
        self.message = message
    }

    /// The next field, or nil at the end of the message.
    package mutating func nextField() throws(ProtobufDecodingError) -> (number: UInt64, value: ProtobufFieldValue)? {
        guard offset < bytes.count else { return nil }
        let tag = try readVarint()
        let fieldNumber = tag >> 3
        guard fieldNumber > 0 else {
            throw ProtobufDecodingError("\(message): field number 0 at byte \(offset)")
        }
        switch ProtobufWireType(rawValue: tag & 7) {
        case .varint:
            return (fieldNumber, .varint(try readVarint()))
        case .lengthDelimited:
            let length = try readVarint()
            guard length <= UInt64(bytes.count - offset) else {
                throw ProtobufDecodingError("\(message): field \(fieldNumber) claims \(length) bytes, but only \(bytes.count - offset) remain")
            }
            let start = offset
            offset += Int(length)
            return (fieldNumber, .bytes(bytes[start..<offset]))
        case .fixed64:
            try skip(8, fieldNumber: fieldNumber)
            return (fieldNumber, .fixed)
        case .fixed32:
            try skip(4, fieldNumber: fieldNumber)
            return (fieldNumber, .fixed)
        case nil:
            throw ProtobufDecodingError("\(message): field \(fieldNumber) has unsupported wire type \(tag & 7)")
        }
    }

    /// A varint of at most ten bytes; the tenth may carry only the top bit of a 64-bit value.
    private mutating func readVarint() throws(ProtobufDecodingError) -> UInt64 {
        var value: UInt64 = 0
        for byteIndex in 0..<10 {
            guard offset < bytes.count else {
                throw ProtobufDecodingError("\(message): a varint runs past the end at byte \(offset)")
            }
            let byte = bytes[offset]
            offset += 1
            if byteIndex == 9, byte > 1 {
                throw ProtobufDecodingError("\(message): a varint overflows 64 bits at byte \(offset - 1)")
            }
            value |= UInt64(byte & 0x7F) << (7 * UInt64(byteIndex))
            if byte & 0x80 == 0 { return value }
        }
        throw ProtobufDecodingError("\(message): a varint is longer than ten bytes at byte \(offset)")
    }

    private mutating func skip(_ count: Int, fieldNumber: UInt64) throws(ProtobufDecodingError) {
        guard count <= bytes.count - offset else {
            throw ProtobufDecodingError("\(message): field \(fieldNumber) runs past the end")
        }
        offset += count
    }
}

/// A protobuf-encoded record that cannot be decoded.
package struct ProtobufDecodingError: Error {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }
}

extension ProtobufFieldValue {
    /// The field as a varint, or an error naming the field when it has another wire type.
    package func varint(field: String, message: String) throws(ProtobufDecodingError) -> UInt64 {
        guard case .varint(let value) = self else {
            throw ProtobufDecodingError("\(message): field \(field) is not a varint")
        }
        return value
    }

    package func byteArray(field: String, message: String) throws(ProtobufDecodingError) -> [UInt8] {
        guard case .bytes(let value) = self else {
            throw ProtobufDecodingError("\(message): field \(field) is not length-delimited")
        }
        return Array(value)
    }
}
