import Bytes

// bbolt lays out its structs in the host's byte order, which on every platform etcd ships for is
// little-endian; etcd's own keys (revisions, lease IDs, the consistent index) are big-endian. The
// integer loads and stores are `Bytes`'s; what is bbolt's own is below.

/// Bytewise lexicographic order, the order bbolt keeps keys in (Go's `bytes.Compare`).
package func bytewiseLess<A: Collection<UInt8>, B: Collection<UInt8>>(_ left: A, _ right: B) -> Bool {
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
package func describeBytes<C: Collection<UInt8>>(_ bytes: C) -> String {
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
