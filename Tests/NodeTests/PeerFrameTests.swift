import ConsensusCore
import NIOCore
import Node
import Raft
import RaftWire
import Testing

/// The peer protocol's one codec: whole frames only, never a partial one consumed, and bad bytes
/// refused with a reason rather than a crash.
@Suite struct PeerFrameTests {
    static let messages: [RaftMessage] = [
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 3, kind: .preVote(lastLogIndex: 9, lastLogTerm: 2)),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 3, kind: .preVoteResponse(granted: true)),
        RaftMessage(from: NodeID(1), to: NodeID(3), term: 4, kind: .vote(lastLogIndex: 9, lastLogTerm: 2, transfer: true)),
        RaftMessage(from: NodeID(3), to: NodeID(1), term: 4, kind: .voteResponse(granted: false)),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .append(.init(prevLogIndex: 9, prevLogTerm: 2, entries: [
            Entry(index: 10, term: 4, kind: .noop),
            Entry(index: 11, term: 4, kind: .command, data: Array("put k v".utf8)),
        ], leaderCommit: 9))),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .appendResponse(.accepted(matchIndex: 11))),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .appendResponse(.rejected(rejectedIndex: 9, hintIndex: 5, hintTerm: 1))),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .appendResponse(.rejected(rejectedIndex: 9, hintIndex: 5, hintTerm: nil))),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .heartbeat(commit: 11, readRound: 7, sentAtTick: 99)),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .heartbeatResponse(readRound: 7, sentAtTick: 99)),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .forwardedProposal(RequestID(5), [1, 2, 3])),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .forwardedProposalRejected(RequestID(5), .learnerNotCaughtUp(NodeID(4), matchIndex: 1, leaderLastIndex: 9))),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .forwardedProposalRejected(RequestID(6), .invalidMembershipChange("no voters"))),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .readIndexRequest(RequestID(8))),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .readIndexResponse(RequestID(8), .index(11))),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .readIndexResponse(RequestID(8), .rejected(.notLeader(leader: nil)))),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .installSnapshot(.init(
            metadata: SnapshotMetadata(index: 11, term: 4, membership: Membership(voters: [NodeID(1), NodeID(2)], learners: [NodeID(3)])),
            totalBytes: 10, offset: 4, data: [9, 9, 9]
        ))),
        RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .snapshotChunkResponse(snapshotIndex: 11, receivedBytes: 7)),
        RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .timeoutNow),
    ]

    static func framed(_ envelopes: [PeerEnvelope<RaftMessage>]) -> ByteBuffer {
        var buffer = ByteBuffer()
        for envelope in envelopes { PeerFrame.encode(envelope.wireBytes, into: &buffer) }
        return buffer
    }

    @Test func everyRaftMessageRoundTrips() throws {
        for message in Self.messages {
            #expect(try RaftMessage(wireBytes: message.wireBytes) == message)
        }
        let hello = PeerEnvelope<RaftMessage>.hello(clusterID: 42, from: NodeID(7), clientURLs: ["http://127.0.0.1:2379"])
        guard case .hello(42, NodeID(7), ["http://127.0.0.1:2379"]) = try PeerEnvelope<RaftMessage>(wireBytes: hello.wireBytes) else {
            Issue.record("hello did not round-trip")
            return
        }
    }

    /// Bytes arriving one at a time (as TCP may deliver them) yield the same frames, and the
    /// decoder consumes nothing until a whole frame is there.
    @Test func dripFedBytesDecodeToTheSameFrames() throws {
        let envelopes = Self.messages.map { PeerEnvelope<RaftMessage>.engine($0) }
        let all = Self.framed(envelopes)
        var pending = ByteBuffer()
        var decoded: [RaftMessage] = []
        for byte in all.readableBytesView {
            pending.writeInteger(byte)
            let before = pending.readerIndex
            while let payload = try PeerFrame.decode(&pending) {
                guard case .engine(let message) = try PeerEnvelope<RaftMessage>(wireBytes: payload) else { continue }
                decoded.append(message)
            }
            if decoded.count == 0 { #expect(pending.readerIndex == before, "a partial frame was consumed") }
        }
        #expect(decoded == Self.messages)
        #expect(pending.readableBytes == 0)
    }

    @Test func aCorruptedPayloadFailsItsChecksum() {
        var buffer = Self.framed([.engine(Self.messages[4])])
        let last = buffer.writerIndex - 1
        buffer.setInteger(buffer.getInteger(at: last, as: UInt8.self)! ^ 0x01, at: last)
        #expect(throws: PeerFrame.DecodingError.checksumMismatch) { try PeerFrame.decode(&buffer) }
    }

    @Test func anAbsurdLengthIsRefusedBeforeAnyAllocation() {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32.max, endianness: .little)
        #expect(throws: PeerFrame.DecodingError.tooLarge(Int(UInt32.max), limit: PeerFrame.frameBytesMax)) { try PeerFrame.decode(&buffer) }
    }

    @Test func anUnknownVersionIsRefused() {
        var buffer = Self.framed([.engine(Self.messages[0])])
        buffer.setInteger(UInt8(9), at: 4)
        #expect(throws: PeerFrame.DecodingError.unsupportedVersion(9)) { try PeerFrame.decode(&buffer) }
    }

    /// Random bytes, and every truncation and single-bit flip of valid messages, never trap: each is
    /// either decoded or refused with an error.
    @Test func fuzzedBytesNeverTrapTheDecoders() {
        var random = SeededRandom(seed: 77)
        for _ in 0..<20_000 {
            let length = random.int(in: 0..<200)
            let bytes = (0..<length).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? PeerEnvelope<RaftMessage>(wireBytes: bytes)
            var buffer = ByteBuffer(bytes: bytes)
            _ = try? PeerFrame.decode(&buffer)
        }
        for message in Self.messages {
            let bytes = PeerEnvelope<RaftMessage>.engine(message).wireBytes
            for cut in 0..<bytes.count {
                #expect((try? PeerEnvelope<RaftMessage>(wireBytes: Array(bytes.prefix(cut)))) == nil, "a truncated \(message) decoded")
            }
            for _ in 0..<50 {
                var flipped = bytes
                flipped[random.int(in: 0..<flipped.count)] ^= UInt8(1 << random.int(in: 0..<8))
                _ = try? PeerEnvelope<RaftMessage>(wireBytes: flipped)
            }
        }
    }

    /// Sizes are `Int` in memory and unsigned on the wire. A value no engine makes (negative) still
    /// encodes, as its bit pattern, and that arrives past `Int.max`, which the decoder refuses: the
    /// live peer fuzzer sends such messages, and neither side may trap on them.
    @Test func sizesOutsideTheWireRangeEncodeAndAreRefused() {
        let negative: [RaftMessage] = [
            RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .installSnapshot(.init(
                metadata: SnapshotMetadata(index: 11, term: 4, membership: Membership(voters: [NodeID(1)])), totalBytes: -1, offset: 0, data: []
            ))),
            RaftMessage(from: NodeID(1), to: NodeID(2), term: 4, kind: .installSnapshot(.init(
                metadata: SnapshotMetadata(index: 11, term: 4, membership: Membership(voters: [NodeID(1)])), totalBytes: 10, offset: Int.min, data: []
            ))),
            RaftMessage(from: NodeID(2), to: NodeID(1), term: 4, kind: .snapshotChunkResponse(snapshotIndex: 11, receivedBytes: -2)),
        ]
        for message in negative {
            #expect((try? RaftMessage(wireBytes: message.wireBytes)) == nil, "\(message) decoded")
        }
    }
}
