import Bytes

/// Reads jute, ZooKeeper's serialisation: big-endian integers, booleans as one byte, buffers and
/// strings as an int length then the bytes (-1 for null), vectors as an int count then the
/// elements (-1 for null). Lengths and counts are bounded by what is left of the record, so a
/// hostile length never allocates more than the packet holds.
public struct JuteReader {
    public let bytes: [UInt8]
    public private(set) var position: Int
    let end: Int

    public init(_ bytes: [UInt8], from start: Int = 0, to end: Int? = nil) {
        self.bytes = bytes
        self.end = min(end ?? bytes.count, bytes.count)
        position = min(max(start, 0), self.end)
    }

    public var remaining: Int { end - position }
    public var isAtEnd: Bool { position == end }

    public mutating func readInt(_ field: String) throws(JuteError) -> Int32 {
        Int32(bitPattern: try readBigEndian(UInt32.self, field))
    }

    public mutating func readLong(_ field: String) throws(JuteError) -> Int64 {
        Int64(bitPattern: try readBigEndian(UInt64.self, field))
    }

    mutating func readBigEndian<Value: FixedWidthInteger & UnsignedInteger>(_: Value.Type, _ field: String) throws(JuteError) -> Value {
        let width = Value.bitWidth / 8
        guard remaining >= width, let value = bytes.loadBigEndian(Value.self, at: position) else { throw .truncated(field: field) }
        position += width
        return value
    }

    public mutating func readBool(_ field: String) throws(JuteError) -> Bool {
        guard remaining >= 1 else { throw .truncated(field: field) }
        defer { position += 1 }
        return bytes[position] != 0
    }

    /// A buffer, or nil for jute's null (length -1).
    public mutating func readBuffer(_ field: String) throws(JuteError) -> [UInt8]? {
        let length = try readInt(field)
        if length == -1 { return nil }
        guard length >= 0 else { throw .negativeLength(field: field, length) }
        guard Int(length) <= remaining else { throw .truncated(field: field) }
        defer { position += Int(length) }
        return Array(bytes[position..<position + Int(length)])
    }

    /// A string, or nil for jute's null.
    public mutating func readString(_ field: String) throws(JuteError) -> String? {
        guard let utf8 = try readBuffer(field) else { return nil }
        guard let text = String(validating: utf8, as: UTF8.self) else { throw .invalidUTF8(field: field) }
        return text
    }

    /// A string where null is read as empty (paths, schemes: ZooKeeper treats them alike).
    public mutating func readText(_ field: String) throws(JuteError) -> String {
        try readString(field) ?? ""
    }

    /// A vector, or nil for jute's null. Each element takes at least `elementBytesMin` bytes, so
    /// the count is checked against what is left before anything is allocated.
    public mutating func readVector<Element>(
        _ field: String, elementBytesMin: Int, _ element: (inout JuteReader) throws(JuteError) -> Element
    ) throws(JuteError) -> [Element]? {
        let count = try readInt(field)
        if count == -1 { return nil }
        guard count >= 0 else { throw .negativeLength(field: field, count) }
        guard Int(count) * max(elementBytesMin, 1) <= remaining else { throw .truncated(field: field) }
        var elements: [Element] = []
        elements.reserveCapacity(Int(count))
        for _ in 0..<count { elements.append(try element(&self)) }
        return elements
    }

    /// A vector of strings (null read as empty), as paths and children come.
    public mutating func readStrings(_ field: String) throws(JuteError) -> [String] {
        try readVector(field, elementBytesMin: 4) { (reader: inout JuteReader) throws(JuteError) in try reader.readText(field) } ?? []
    }

    /// Refuses bytes after a record that should be the whole packet.
    public func expectEnd() throws(JuteError) {
        guard isAtEnd else { throw .trailingBytes(remaining) }
    }
}
