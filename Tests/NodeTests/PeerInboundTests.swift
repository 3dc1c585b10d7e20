import ConsensusCore
import Logging
import NIOCore
import NIOEmbedded
import Raft
import RaftWire
import Foundation
import Testing
import Node

/// What a peer connection accepts: a hello first, frames only from the sender the hello named,
/// and a first frame no larger than a hello can be.
@Suite struct PeerInboundTests {
    final class Received: @unchecked Sendable {
        private let lock = NSLock()
        private var stored: [PeerEnvelope<RaftMessage>] = []

        func append(_ envelope: PeerEnvelope<RaftMessage>) {
            lock.lock()
            stored.append(envelope)
            lock.unlock()
        }

        var envelopes: [PeerEnvelope<RaftMessage>] {
            lock.lock()
            defer { lock.unlock() }
            return stored
        }
    }

    static func channel(_ received: Received) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(PeerInboundHandler<RaftMessage>(admits: { $0 == 42 }, logger: Logger(label: "test")) { envelope in
            received.append(envelope)
        })
        return channel
    }

    static func frame(_ envelope: PeerEnvelope<RaftMessage>) -> ByteBuffer {
        var buffer = ByteBuffer()
        PeerFrame.encode(envelope.wireBytes, into: &buffer)
        return buffer
    }

    static func message(from: UInt64) -> PeerEnvelope<RaftMessage> {
        .engine(RaftMessage(from: NodeID(from), to: NodeID(1), term: 1, kind: .timeoutNow))
    }

    @Test func framesClaimingAnotherSenderAreDropped() throws {
        let received = Received()
        let channel = try Self.channel(received)
        try channel.writeInbound(Self.frame(.hello(clusterID: 42, from: NodeID(2), clientURLs: [])))
        try channel.writeInbound(Self.frame(Self.message(from: 3)))
        try channel.writeInbound(Self.frame(.request(id: 1, from: NodeID(3), payload: [1])))
        try channel.writeInbound(Self.frame(Self.message(from: 2)))
        let senders = received.envelopes.compactMap { envelope -> UInt64? in
            if case .engine(let message) = envelope { return message.from.rawValue }
            return nil
        }
        #expect(senders == [2])
        #expect(channel.isActive)
    }

    @Test func aSecondHelloNamingAnotherNodeClosesTheConnection() throws {
        let received = Received()
        let channel = try Self.channel(received)
        try channel.writeInbound(Self.frame(.hello(clusterID: 42, from: NodeID(2), clientURLs: [])))
        try channel.writeInbound(Self.frame(.hello(clusterID: 42, from: NodeID(3), clientURLs: [])))
        #expect(!channel.isActive)
    }

    /// A stranger's first frame is refused from its length prefix, before its bytes are buffered.
    @Test func aLargeFirstFrameIsRefusedBeforeBuffering() throws {
        let received = Received()
        let channel = try Self.channel(received)
        var prefix = ByteBuffer()
        prefix.writeInteger(UInt32(PeerFrame.helloFrameBytesMax + 1), endianness: .little)
        #expect(channel.isActive)
        _ = try? channel.writeInbound(prefix)
        #expect(!channel.isActive)
        #expect(received.envelopes.isEmpty)
    }

    @Test func aFirstFrameThatIsNotAHelloClosesTheConnection() throws {
        let received = Received()
        let channel = try Self.channel(received)
        try channel.writeInbound(Self.frame(Self.message(from: 2)))
        #expect(!channel.isActive)
        #expect(received.envelopes.isEmpty)
    }
}
