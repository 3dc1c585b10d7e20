import Bytes

/// A ZooKeeper packet on a TCP connection: a 4-byte big-endian length, then that many bytes.
/// Decoding never consumes a partial frame: a caller holding bytes that end inside one keeps them
/// and waits for more. A length past the bound (`jute.maxbuffer`) is refused before anything of
/// the packet is buffered, as ZooKeeper's "Len error" does.
public enum ZooKeeperFrame {
    public static let lengthBytes = 4
    /// ZooKeeper's default `jute.maxbuffer`: 0xfffff bytes, just under 1 MiB.
    public static let defaultPacketBytesMax = 0xfffff

    public enum Decoded: Equatable, Sendable {
        /// A whole packet: its payload's bytes, and where the next frame starts.
        case packet(payload: Range<Int>, next: Int)
        /// The bytes end inside a frame.
        case needMore
        /// The length is negative or above the bound: the connection must close.
        case badLength(Int64)
    }

    public static func decode(_ bytes: [UInt8], at offset: Int, packetBytesMax: Int = defaultPacketBytesMax) -> Decoded {
        guard offset >= 0, let length = bytes.loadBigEndian(UInt32.self, at: offset) else { return .needMore }
        let signed = Int32(bitPattern: length)
        guard signed >= 0, Int(signed) <= packetBytesMax else { return .badLength(Int64(signed)) }
        let start = offset + lengthBytes
        guard bytes.count - start >= Int(signed) else { return .needMore }
        return .packet(payload: start..<start + Int(signed), next: start + Int(signed))
    }

    /// `payload` with its length in front.
    public static func encode(_ payload: [UInt8]) -> [UInt8] {
        var writer = JuteWriter(reservingCapacity: payload.count + lengthBytes)
        writer.writeInt(Int32(truncatingIfNeeded: payload.count))
        writer.writeRaw(payload)
        return writer.bytes
    }
}
