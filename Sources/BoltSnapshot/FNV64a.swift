/// The 64-bit FNV-1a hash, which bbolt uses to checksum its meta pages.
package enum FNV64a {
    package static let offsetBasis: UInt64 = 0xCBF2_9CE4_8422_2325
    package static let prime: UInt64 = 0x0000_0100_0000_01B3

    package static func hash<C: Collection<UInt8>>(_ bytes: C) -> UInt64 {
        var hash = offsetBasis
        for byte in bytes {
            hash ^= UInt64(byte)
            // Wrapping multiplication is the definition of FNV, not an accident.
            hash = hash &* prime
        }
        return hash
    }
}
