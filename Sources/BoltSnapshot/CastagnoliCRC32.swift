/// CRC-32C (Castagnoli polynomial, reflected, init and final XOR 0xFFFFFFFF): Go's
/// `crc32.MakeTable(crc32.Castagnoli)`, which etcd uses for HashKV and `snapshot status`.
/// Byte-at-a-time tables: a hash runs over a whole backend at most once per request, and this
/// module stays free of C code.
public struct CastagnoliCRC32: Sendable {
    private static let reflectedPolynomial: UInt32 = 0x82F6_3B78

    private static let table: [UInt32] = (0..<256).map { index in
        var remainder = UInt32(index)
        for _ in 0..<8 {
            remainder = remainder & 1 == 1 ? (remainder >> 1) ^ reflectedPolynomial : remainder >> 1
        }
        return remainder
    }

    /// The running register, kept inverted as the algorithm defines.
    private var register: UInt32 = 0xFFFF_FFFF

    public init() {}

    public mutating func update<C: Collection<UInt8>>(_ bytes: C) {
        let table = Self.table
        var crc = register
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        register = crc
    }

    public var value: UInt32 { ~register }

    public static func checksum<C: Collection<UInt8>>(_ bytes: C) -> UInt32 {
        var crc = CastagnoliCRC32()
        crc.update(bytes)
        return crc.value
    }
}
