/// CRC-32C (Castagnoli), the checksum of the write-ahead log: better error detection than CRC-32
/// for the short bursts disks produce, and what etcd, RocksDB and ext4 use.
///
/// A table-driven software implementation; the hardware instruction can replace it behind this
/// interface once a benchmark shows the log is bound by it.
public enum CRC32C {
    static let polynomial: UInt32 = 0x82F6_3B78  // Reflected Castagnoli polynomial.

    static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 { value = value & 1 == 1 ? (value >> 1) ^ polynomial : value >> 1 }
        return value
    }

    /// Continues a checksum over `bytes`. Starting from the previous record's checksum is what
    /// chains records together: a record moved, dropped or replayed breaks every checksum after it.
    public static func update(_ checksum: UInt32, _ bytes: some Sequence<UInt8>) -> UInt32 {
        var crc = ~checksum
        for byte in bytes { crc = table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
        return ~crc
    }

    public static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 { update(0, bytes) }
}
