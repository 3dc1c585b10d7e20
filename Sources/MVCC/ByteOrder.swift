/// Lexicographic order on byte strings, the order etcd keeps keys in (Go's `bytes.Compare`).
package enum ByteOrder {
    /// -1, 0 or 1 as `left` sorts before, equal to or after `right`; a proper prefix sorts first.
    ///
    /// The index compares keys on every lookup, so this compares eight bytes at a time: loaded
    /// big-endian, two words order as integers exactly as their bytes order lexicographically.
    @inline(__always)
    package static func compare(_ left: [UInt8], _ right: [UInt8]) -> Int {
        left.withUnsafeBytes { leftBytes in
            right.withUnsafeBytes { rightBytes in compare(leftBytes, rightBytes) }
        }
    }

    package static func compare(_ left: UnsafeRawBufferPointer, _ right: UnsafeRawBufferPointer) -> Int {
        let common = min(left.count, right.count)
        var offset = 0
        while offset + 8 <= common {
            let leftWord = UInt64(bigEndian: left.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            let rightWord = UInt64(bigEndian: right.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            if leftWord != rightWord { return leftWord < rightWord ? -1 : 1 }
            offset += 8
        }
        while offset < common {
            let leftByte = left[offset]
            let rightByte = right[offset]
            if leftByte != rightByte { return leftByte < rightByte ? -1 : 1 }
            offset += 1
        }
        if left.count == right.count { return 0 }
        return left.count < right.count ? -1 : 1
    }

    @inline(__always)
    package static func precedes(_ left: [UInt8], _ right: [UInt8]) -> Bool { compare(left, right) < 0 }
}
