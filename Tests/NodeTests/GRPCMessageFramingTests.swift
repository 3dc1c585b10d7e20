import EtcdServer
import NIOCore
import Testing

/// The gRPC message deframer of the node's server: whole messages only, however the bytes are
/// split across DATA frames; compressed and oversized messages refused with a reason.
@Suite struct GRPCMessageFramingTests {
    static func framed(_ messages: [[UInt8]]) -> [UInt8] {
        messages.flatMap { Array(buffer: GRPCMessageFraming.frame($0, allocator: ByteBufferAllocator())) }
    }

    static func deframe(_ chunks: [[UInt8]], limit: Int = 1 << 20) throws(GRPCMessageFraming.DeframingError) -> [[UInt8]] {
        var buffer = ByteBuffer()
        var messages: [[UInt8]] = []
        for chunk in chunks {
            buffer.writeBytes(chunk)
            while let message = try GRPCMessageFraming.nextMessage(from: &buffer, messageBytesMax: limit) {
                messages.append(Array(buffer: message))
            }
        }
        #expect(buffer.readableBytes < GRPCMessageFraming.prefixBytes || buffer.readableBytes < 5 + Int(buffer.getInteger(at: buffer.readerIndex + 1, as: UInt32.self) ?? 0))
        return messages
    }

    static let messages: [[UInt8]] = [[], [1], Array("put foo bar".utf8), [UInt8](repeating: 7, count: 70_000)]

    @Test func wholeMessagesComeOutOfOneBuffer() throws {
        #expect(try Self.deframe([Self.framed(Self.messages)]) == Self.messages)
    }

    /// Drip-fed one byte at a time, as NIO's decoder verifier does: never a partial message.
    @Test func dripFedBytesYieldTheSameMessages() throws {
        let bytes = Self.framed(Array(Self.messages.prefix(3)))
        #expect(try Self.deframe(bytes.map { [$0] }) == Array(Self.messages.prefix(3)))
    }

    @Test func randomSplitsYieldTheSameMessages() throws {
        let bytes = Self.framed(Self.messages)
        var random = SystemRandomNumberGenerator()
        for _ in 0..<50 {
            var chunks: [[UInt8]] = []
            var start = 0
            while start < bytes.count {
                let end = min(bytes.count, start + Int.random(in: 1...9_000, using: &random))
                chunks.append(Array(bytes[start..<end]))
                start = end
            }
            #expect(try Self.deframe(chunks) == Self.messages)
        }
    }

    @Test func aCompressedMessageIsRefused() {
        var bytes = Self.framed([[1, 2, 3]])
        bytes[0] = 1
        #expect(throws: GRPCMessageFraming.DeframingError.compressed) { try Self.deframe([bytes]) }
    }

    /// The length is checked against the bound before the message is waited for, so an oversized
    /// request is refused without being buffered.
    @Test func anOversizedMessageIsRefusedFromItsPrefix() {
        let prefix = Array(Self.framed([[UInt8](repeating: 0, count: 2_000)]).prefix(5))
        #expect(throws: GRPCMessageFraming.DeframingError.tooLarge(length: 2_000, limit: 1_000)) { try Self.deframe([prefix], limit: 1_000) }
    }

    @Test func statusMessagesArePercentEncoded() {
        #expect(GRPCMessageFraming.percentEncoded("etcdserver: key not found") == "etcdserver: key not found")
        #expect(GRPCMessageFraming.percentEncoded("100% ü\n") == "100%25 %C3%BC%0A")
    }
}
