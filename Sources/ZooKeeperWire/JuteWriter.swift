import Bytes

/// Writes jute (see `JuteReader`).
public struct JuteWriter {
    public private(set) var bytes: [UInt8]

    public init(reservingCapacity capacity: Int = 64) {
        bytes = []
        bytes.reserveCapacity(capacity)
    }

    public mutating func writeInt(_ value: Int32) { bytes.appendBigEndian(UInt32(bitPattern: value)) }

    public mutating func writeLong(_ value: Int64) { bytes.appendBigEndian(UInt64(bitPattern: value)) }

    public mutating func writeBool(_ value: Bool) { bytes.append(value ? 1 : 0) }

    /// A buffer, or jute's null for nil.
    public mutating func writeBuffer(_ value: [UInt8]?) {
        guard let value else { return writeInt(-1) }
        writeInt(Int32(truncatingIfNeeded: value.count))
        bytes.append(contentsOf: value)
    }

    public mutating func writeString(_ value: String?) {
        guard let value else { return writeInt(-1) }
        writeBuffer(Array(value.utf8))
    }

    public mutating func writeStrings(_ values: [String]) {
        writeInt(Int32(truncatingIfNeeded: values.count))
        for value in values { writeString(value) }
    }

    public mutating func writeVector<Element>(_ values: [Element], _ element: (inout JuteWriter, Element) -> Void) {
        writeInt(Int32(truncatingIfNeeded: values.count))
        for value in values { element(&self, value) }
    }

    public mutating func writeRaw(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
}
