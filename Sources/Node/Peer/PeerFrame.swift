import NIOCore
import Storage

/// The framing of every message between Synod nodes:
///
///     0  u32  length of what follows (version, checksum, payload), little-endian
///     4  u8   frame format version (1)
///     5  u32  CRC-32C of the payload
///     9  ...  payload: one `PeerEnvelope`
///
/// One codec for the whole peer protocol. The decoder consumes nothing until a whole frame is in
/// the buffer, so a frame split across reads is never half-consumed.
public enum PeerFrame {
    public static let version: UInt8 = 1
    package static let headerBytes = 9
    /// A frame larger than this is refused before any allocation: an append of 1,000 1.5 MiB entries
    /// is about what the engine's per-message byte bound allows, with room to spare.
    public static let frameBytesMax = 96 << 20
    /// The bound on a connection's first frame, which must be a hello: a cluster id, a sender and
    /// at most 16 client URLs. A stranger cannot make the node buffer more than this before it has
    /// said who it is.
    public static let helloFrameBytesMax = 64 << 10

    public enum DecodingError: Error, Equatable, CustomStringConvertible {
        case tooLarge(Int, limit: Int)
        case unsupportedVersion(UInt8)
        case checksumMismatch

        public var description: String {
            switch self {
            case .tooLarge(let bytes, let limit): return "frame of \(bytes) bytes exceeds \(limit)"
            case .unsupportedVersion(let version): return "frame version \(version) (this node speaks \(PeerFrame.version))"
            case .checksumMismatch: return "frame checksum mismatch"
            }
        }
    }

    public static func encode(_ payload: [UInt8], into buffer: inout ByteBuffer) {
        precondition(payload.count + 5 <= frameBytesMax, "peer frame of \(payload.count) bytes exceeds \(frameBytesMax)")
        buffer.writeInteger(UInt32(payload.count + 5), endianness: .little)
        buffer.writeInteger(version)
        buffer.writeInteger(CRC32C.checksum(payload), endianness: .little)
        buffer.writeBytes(payload)
    }

    /// The next whole frame's payload, or nil (consuming nothing) when the buffer holds less than a
    /// frame. Throws on a frame that can never be valid, or that exceeds `bytesMax` (checked from
    /// the length prefix, before anything is buffered); the connection must then be closed.
    public static func decode(_ buffer: inout ByteBuffer, bytesMax: Int = frameBytesMax) throws(DecodingError) -> [UInt8]? {
        guard let length = buffer.getInteger(at: buffer.readerIndex, endianness: .little, as: UInt32.self) else { return nil }
        guard length >= 5, Int(length) <= bytesMax else { throw .tooLarge(Int(length), limit: bytesMax) }
        guard buffer.readableBytes >= 4 + Int(length) else { return nil }
        let frameVersion = buffer.getInteger(at: buffer.readerIndex + 4, as: UInt8.self)!
        guard frameVersion == version else { throw .unsupportedVersion(frameVersion) }
        let checksum = buffer.getInteger(at: buffer.readerIndex + 5, endianness: .little, as: UInt32.self)!
        let payload = buffer.getBytes(at: buffer.readerIndex + headerBytes, length: Int(length) - 5)!
        guard CRC32C.checksum(payload) == checksum else { throw .checksumMismatch }
        buffer.moveReaderIndex(forwardBy: 4 + Int(length))
        return payload
    }
}

/// `PeerFrame` as a NIO decoder. The first frame is held to `helloFrameBytesMax`; the handler after
/// it closes the connection unless that frame is a valid hello.
package struct PeerFrameDecoder: ByteToMessageDecoder {
    package typealias InboundOut = [UInt8]

    private var bytesMax = PeerFrame.helloFrameBytesMax

    package init() {}

    package mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let payload = try PeerFrame.decode(&buffer, bytesMax: bytesMax) else { return .needMoreData }
        bytesMax = PeerFrame.frameBytesMax
        context.fireChannelRead(wrapInboundOut(payload))
        return .continue
    }

    package mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        try decode(context: context, buffer: &buffer)
    }
}
