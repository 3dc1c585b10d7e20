// Fixed-width integer loads and stores over byte arrays. bbolt lays out its structs in the host's
// byte order, which on every platform etcd ships for is little-endian; etcd's own keys (revisions,
// lease IDs, the consistent index) are big-endian. Loads return nil rather than trap when the bytes
// run short, so that every decoder can turn a short read into a clear error.

extension Array where Element == UInt8 {
    mutating func appendLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for byteIndex in 0..<(T.bitWidth / 8) {
            append(UInt8(truncatingIfNeeded: value >> (byteIndex * 8)))
        }
    }

    mutating func appendBigEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T) {
        for byteIndex in (0..<(T.bitWidth / 8)).reversed() {
            append(UInt8(truncatingIfNeeded: value >> (byteIndex * 8)))
        }
    }

    /// Overwrites `T.bitWidth / 8` bytes at `offset`, which the caller has already allocated.
    mutating func storeLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_ value: T, at offset: Int) {
        for byteIndex in 0..<(T.bitWidth / 8) {
            self[offset + byteIndex] = UInt8(truncatingIfNeeded: value >> (byteIndex * 8))
        }
    }
}

extension RandomAccessCollection where Element == UInt8, Index == Int {
    /// The little-endian integer at `offset`, or nil when it does not lie wholly inside the bytes.
    func loadLittleEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) -> T? {
        let width = T.bitWidth / 8
        guard offset >= startIndex, offset <= endIndex - width else { return nil }
        var value: T = 0
        for byteIndex in 0..<width {
            value |= T(self[offset + byteIndex]) << (byteIndex * 8)
        }
        return value
    }

    /// The big-endian integer at `offset`, or nil when it does not lie wholly inside the bytes.
    func loadBigEndian<T: FixedWidthInteger & UnsignedInteger>(_: T.Type, at offset: Int) -> T? {
        let width = T.bitWidth / 8
        guard offset >= startIndex, offset <= endIndex - width else { return nil }
        var value: T = 0
        for byteIndex in 0..<width {
            value = value << 8 | T(self[offset + byteIndex])
        }
        return value
    }
}

/// Bytewise lexicographic order, the order bbolt keeps keys in (Go's `bytes.Compare`).
func bytewiseLess<A: Collection<UInt8>, B: Collection<UInt8>>(_ left: A, _ right: B) -> Bool {
    var leftIndex = left.startIndex
    var rightIndex = right.startIndex
    while leftIndex != left.endIndex, rightIndex != right.endIndex {
        let leftByte = left[leftIndex]
        let rightByte = right[rightIndex]
        if leftByte != rightByte { return leftByte < rightByte }
        leftIndex = left.index(after: leftIndex)
        rightIndex = right.index(after: rightIndex)
    }
    return leftIndex == left.endIndex && rightIndex != right.endIndex
}

/// Renders bytes for an error message: printable ASCII as is, anything else as hex, and long
/// inputs cut short so that a message stays readable.
func describeBytes<C: Collection<UInt8>>(_ bytes: C) -> String {
    let shownBytesMax = 40
    let isPrintable = bytes.allSatisfy { $0 >= 0x20 && $0 < 0x7F }
    let shown = bytes.prefix(shownBytesMax)
    let body: String
    if isPrintable {
        body = "\"" + String(decoding: shown, as: UTF8.self) + "\""
    } else {
        body = "0x" + shown.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }
    return bytes.count > shownBytesMax ? body + "…(\(bytes.count) bytes)" : body
}
