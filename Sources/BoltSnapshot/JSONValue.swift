/// Just enough JSON for etcd's member records: a parser with a nesting bound and a string encoder
/// that escapes exactly as Go's `encoding/json` (Go 1.19, which built etcd 3.4.23) does, so that a
/// record we write is byte-identical to one etcd writes.
package enum JSONValue: Equatable {
    case null
    case bool(Bool)
    /// The number's text as written; the caller converts it to the type it expects.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([(key: String, value: JSONValue)])

    package static func == (left: JSONValue, right: JSONValue) -> Bool {
        switch (left, right) {
        case (.null, .null): true
        case (.bool(let a), .bool(let b)): a == b
        case (.number(let a), .number(let b)): a == b
        case (.string(let a), .string(let b)): a == b
        case (.array(let a), .array(let b)): a == b
        case (.object(let a), .object(let b)): a.map(\.key) == b.map(\.key) && a.map(\.value) == b.map(\.value)
        default: false
        }
    }

    /// A bound on nesting; member records nest two deep.
    package static let depthMax = 32

    package static func parse(_ bytes: [UInt8]) throws(JSONError) -> JSONValue {
        var parser = JSONParser(bytes: bytes)
        let value = try parser.parseValue(depth: 0)
        parser.skipWhitespace()
        guard parser.offset == bytes.count else {
            throw JSONError("unexpected \(describeBytes(bytes[parser.offset...].prefix(8))) after the value at byte \(parser.offset)")
        }
        return value
    }

    /// A JSON string literal, quotes included, escaped as Go's json.Marshal escapes it.
    package static func encodeString(_ string: String) -> String {
        var result = "\""
        for scalar in string.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            // Go escapes these for safe embedding in HTML, and the two line separators for
            // JavaScript; anything else below 0x20 as \u00XX.
            case "<", ">", "&", "\u{2028}", "\u{2029}":
                result += unicodeEscape(scalar.value)
            default:
                if scalar.value < 0x20 {
                    result += unicodeEscape(scalar.value)
                } else {
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result + "\""
    }

    private static func unicodeEscape(_ value: UInt32) -> String {
        let hex = String(value, radix: 16)
        return "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }
}

package struct JSONError: Error {
    package var message: String

    package init(_ message: String) {
        self.message = message
    }
}

private struct JSONParser {
    package let bytes: [UInt8]
    package var offset = 0

    package mutating func skipWhitespace() {
        while offset < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[offset]) {
            offset += 1
        }
    }

    package mutating func parseValue(depth: Int) throws(JSONError) -> JSONValue {
        guard depth <= JSONValue.depthMax else {
            throw JSONError("nested more than \(JSONValue.depthMax) deep at byte \(offset)")
        }
        skipWhitespace()
        guard offset < bytes.count else {
            throw JSONError("the input ends where a value should start")
        }
        switch bytes[offset] {
        case UInt8(ascii: "{"): return try parseObject(depth: depth)
        case UInt8(ascii: "["): return try parseArray(depth: depth)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        default: return .number(try parseNumber())
        }
    }

    private mutating func parseObject(depth: Int) throws(JSONError) -> JSONValue {
        offset += 1
        var members: [(key: String, value: JSONValue)] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "}") {
            offset += 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard offset < bytes.count, bytes[offset] == UInt8(ascii: "\"") else {
                throw JSONError("expected a member name at byte \(offset)")
            }
            let key = try parseString()
            skipWhitespace()
            try expect(":")
            members.append((key, try parseValue(depth: depth + 1)))
            skipWhitespace()
            guard offset < bytes.count else { throw JSONError("the input ends inside an object") }
            if bytes[offset] == UInt8(ascii: "}") {
                offset += 1
                return .object(members)
            }
            try expect(",")
        }
    }

    private mutating func parseArray(depth: Int) throws(JSONError) -> JSONValue {
        offset += 1
        var elements: [JSONValue] = []
        skipWhitespace()
        if offset < bytes.count, bytes[offset] == UInt8(ascii: "]") {
            offset += 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(depth: depth + 1))
            skipWhitespace()
            guard offset < bytes.count else { throw JSONError("the input ends inside an array") }
            if bytes[offset] == UInt8(ascii: "]") {
                offset += 1
                return .array(elements)
            }
            try expect(",")
        }
    }

    private mutating func parseString() throws(JSONError) -> String {
        offset += 1
        var scalars = String.UnicodeScalarView()
        var runStart = offset
        func flushRun(_ end: Int, into scalars: inout String.UnicodeScalarView) {
            scalars.append(contentsOf: String(decoding: bytes[runStart..<end], as: UTF8.self).unicodeScalars)
        }
        while offset < bytes.count {
            let byte = bytes[offset]
            if byte == UInt8(ascii: "\"") {
                flushRun(offset, into: &scalars)
                offset += 1
                return String(scalars)
            }
            if byte < 0x20 {
                throw JSONError("a control character inside a string at byte \(offset)")
            }
            if byte == UInt8(ascii: "\\") {
                flushRun(offset, into: &scalars)
                offset += 1
                scalars.append(try parseEscape())
                runStart = offset
            } else {
                offset += 1
            }
        }
        throw JSONError("a string runs past the end of the input")
    }

    private mutating func parseEscape() throws(JSONError) -> Unicode.Scalar {
        guard offset < bytes.count else { throw JSONError("an escape runs past the end of the input") }
        let byte = bytes[offset]
        offset += 1
        switch byte {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try parseHex4()
            if (0xD800..<0xDC00).contains(unit), offset + 1 < bytes.count,
               bytes[offset] == UInt8(ascii: "\\"), bytes[offset + 1] == UInt8(ascii: "u") {
                let saved = offset
                offset += 2
                let low = try parseHex4()
                if (0xDC00..<0xE000).contains(low),
                   let scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)) {
                    return scalar
                }
                offset = saved
            }
            // A lone surrogate decodes to U+FFFD, as Go does.
            return Unicode.Scalar(unit) ?? "\u{FFFD}"
        default:
            throw JSONError("unknown escape \\\(Character(Unicode.Scalar(byte))) at byte \(offset - 1)")
        }
    }

    private mutating func parseHex4() throws(JSONError) -> UInt32 {
        guard offset + 4 <= bytes.count else { throw JSONError("a \\u escape runs past the end of the input") }
        var value: UInt32 = 0
        for byte in bytes[offset..<(offset + 4)] {
            guard let digit = hexDigitValue(byte) else {
                throw JSONError("a \\u escape has a non-hex digit at byte \(offset)")
            }
            value = value << 4 | digit
        }
        offset += 4
        return value
    }

    private func hexDigitValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): UInt32(byte - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): UInt32(byte - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): UInt32(byte - UInt8(ascii: "A") + 10)
        default: nil
        }
    }

    /// A number's text: sign, digits, fraction and exponent characters, checked only loosely here
    /// because the caller converts it to the integer it expects and refuses what does not fit.
    private mutating func parseNumber() throws(JSONError) -> String {
        let start = offset
        while offset < bytes.count, "-+.eE0123456789".utf8.contains(bytes[offset]) {
            offset += 1
        }
        guard offset > start else {
            throw JSONError("unexpected \(describeBytes(bytes[start...].prefix(8))) at byte \(start)")
        }
        return String(decoding: bytes[start..<offset], as: UTF8.self)
    }

    private mutating func expectLiteral(_ literal: String) throws(JSONError) {
        let literalBytes = Array(literal.utf8)
        guard offset + literalBytes.count <= bytes.count, Array(bytes[offset..<(offset + literalBytes.count)]) == literalBytes else {
            throw JSONError("expected \(literal) at byte \(offset)")
        }
        offset += literalBytes.count
    }

    private mutating func expect(_ character: Unicode.Scalar) throws(JSONError) {
        guard offset < bytes.count, bytes[offset] == UInt8(ascii: character) else {
            throw JSONError("expected '\(character)' at byte \(offset)")
        }
        offset += 1
    }
}
