import CSynodCRC

/// CRC-32C (Castagnoli), the checksum of the write-ahead log: better error detection than CRC-32
/// for the short bursts disks produce, and what etcd, RocksDB and ext4 use.
///
/// The SSE4.2 `crc32` instruction computes it where the CPU has one (checked once at first use),
/// and slicing-by-8 tables elsewhere; both live in the small C target `CSynodCRC`, because Swift
/// cannot reach the instruction. Byte-at-a-time tables held the log to ~400 MB/s.
public enum CRC32C {
    /// Continues a checksum over `bytes`. Starting from the previous record's checksum is what
    /// chains records together: a record moved, dropped or replayed breaks every later checksum.
    public static func update(_ checksum: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return checksum }
        return ~synod_crc32c_extend(~checksum, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    public static func update(_ checksum: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        if let result = bytes.withContiguousStorageIfAvailable({ update(checksum, UnsafeRawBufferPointer($0)) }) {
            return result
        }
        return Array(bytes).withUnsafeBytes { update(checksum, $0) }
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 { update(0, bytes) }

    /// Whether the hardware instruction is in use, for benchmarks to report.
    public static var isHardwareAccelerated: Bool { synod_crc32c_is_hardware() != 0 }

    /// The table path alone, for tests that compare it with the hardware path and the definition.
    public static func softwareUpdate(_ checksum: UInt32, _ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBufferPointer { ~synod_crc32c_extend_software(~checksum, $0.baseAddress, $0.count) }
    }
}
