import ConsensusCore
import Raft

/// Raft's messages on the wire. Each kind has a one-byte tag; fields follow in declaration order,
/// integers little-endian, byte strings length-prefixed and bounded.
extension RaftMessage: WireCodable {
    enum Tag: UInt8 {
        case preVote = 1, preVoteResponse, vote, voteResponse, append, appendAccepted, appendRejected
        case heartbeat, heartbeatResponse, forwardedProposal, forwardedProposalRejected
        case readIndexRequest, readIndexIndex, readIndexRejected, installSnapshot, snapshotChunkResponse, timeoutNow
    }

    public func encode(to writer: inout ByteWriter) {
        writer.write(from.rawValue)
        writer.write(to.rawValue)
        writer.write(term)
        switch kind {
        case .preVote(let index, let lastTerm):
            writer.write(Tag.preVote.rawValue)
            writer.write(index)
            writer.write(lastTerm)
        case .preVoteResponse(let granted):
            writer.write(Tag.preVoteResponse.rawValue)
            writer.write(granted)
        case .vote(let index, let lastTerm, let transfer):
            writer.write(Tag.vote.rawValue)
            writer.write(index)
            writer.write(lastTerm)
            writer.write(transfer)
        case .voteResponse(let granted):
            writer.write(Tag.voteResponse.rawValue)
            writer.write(granted)
        case .append(let append):
            writer.write(Tag.append.rawValue)
            writer.write(append.prevLogIndex)
            writer.write(append.prevLogTerm)
            writer.write(append.leaderCommit)
            writer.write(UInt32(append.entries.count))
            for entry in append.entries { entry.encode(to: &writer) }
        case .appendResponse(.accepted(let match)):
            writer.write(Tag.appendAccepted.rawValue)
            writer.write(match)
        case .appendResponse(.rejected(let index, let hintIndex, let hintTerm)):
            writer.write(Tag.appendRejected.rawValue)
            writer.write(index)
            writer.write(hintIndex)
            writer.write(hintTerm != nil)
            writer.write(hintTerm ?? 0)
        case .heartbeat(let commit, let round, let tick):
            writer.write(Tag.heartbeat.rawValue)
            writer.write(commit)
            writer.write(round)
            writer.write(tick)
        case .heartbeatResponse(let round, let tick):
            writer.write(Tag.heartbeatResponse.rawValue)
            writer.write(round)
            writer.write(tick)
        case .forwardedProposal(let id, let data):
            writer.write(Tag.forwardedProposal.rawValue)
            writer.write(id.rawValue)
            writer.writeBytes(data)
        case .forwardedProposalRejected(let id, let reason):
            writer.write(Tag.forwardedProposalRejected.rawValue)
            writer.write(id.rawValue)
            reason.encode(to: &writer)
        case .readIndexRequest(let id):
            writer.write(Tag.readIndexRequest.rawValue)
            writer.write(id.rawValue)
        case .readIndexResponse(let id, .index(let index)):
            writer.write(Tag.readIndexIndex.rawValue)
            writer.write(id.rawValue)
            writer.write(index)
        case .readIndexResponse(let id, .rejected(let reason)):
            writer.write(Tag.readIndexRejected.rawValue)
            writer.write(id.rawValue)
            reason.encode(to: &writer)
        case .installSnapshot(let chunk):
            writer.write(Tag.installSnapshot.rawValue)
            chunk.metadata.encode(to: &writer)
            // Bit patterns, so encoding never traps; a negative size arrives as one past Int.max,
            // which the decoder refuses.
            writer.write(UInt64(truncatingIfNeeded: chunk.totalBytes))
            writer.write(UInt64(truncatingIfNeeded: chunk.offset))
            writer.writeBytes(chunk.data)
        case .snapshotChunkResponse(let index, let received):
            writer.write(Tag.snapshotChunkResponse.rawValue)
            writer.write(index)
            writer.write(UInt64(truncatingIfNeeded: received))
        case .timeoutNow:
            writer.write(Tag.timeoutNow.rawValue)
        }
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        let from = try reader.nodeID("sender")
        let to = try reader.nodeID("recipient")
        let term = try reader.require(reader.readUInt64(), "term")
        let rawTag = try reader.require(reader.readByte(), "message tag")
        guard let tag = Tag(rawValue: rawTag) else { throw WireDecodingError("unknown Raft message tag \(rawTag)") }
        let kind: Kind
        switch tag {
        case .preVote:
            kind = .preVote(lastLogIndex: try reader.require(reader.readUInt64(), "index"), lastLogTerm: try reader.require(reader.readUInt64(), "term"))
        case .preVoteResponse:
            kind = .preVoteResponse(granted: try reader.require(reader.readBool(), "granted"))
        case .vote:
            kind = .vote(
                lastLogIndex: try reader.require(reader.readUInt64(), "index"),
                lastLogTerm: try reader.require(reader.readUInt64(), "term"),
                transfer: try reader.require(reader.readBool(), "transfer")
            )
        case .voteResponse:
            kind = .voteResponse(granted: try reader.require(reader.readBool(), "granted"))
        case .append:
            let previousIndex = try reader.require(reader.readUInt64(), "previous index")
            let previousTerm = try reader.require(reader.readUInt64(), "previous term")
            let commit = try reader.require(reader.readUInt64(), "commit")
            let count = Int(try reader.require(reader.readUInt32(), "entry count"))
            guard count <= WireBounds.entriesPerMessageMax, count <= reader.remaining else { throw WireDecodingError("\(count) entries") }
            var entries: [Entry] = []
            entries.reserveCapacity(count)
            for _ in 0..<count { entries.append(try Entry(from: &reader)) }
            kind = .append(AppendEntries(prevLogIndex: previousIndex, prevLogTerm: previousTerm, entries: entries, leaderCommit: commit))
        case .appendAccepted:
            kind = .appendResponse(.accepted(matchIndex: try reader.require(reader.readUInt64(), "match")))
        case .appendRejected:
            let index = try reader.require(reader.readUInt64(), "rejected index")
            let hintIndex = try reader.require(reader.readUInt64(), "hint index")
            let hasHint = try reader.require(reader.readBool(), "hint flag")
            let hintTerm = try reader.require(reader.readUInt64(), "hint term")
            kind = .appendResponse(.rejected(rejectedIndex: index, hintIndex: hintIndex, hintTerm: hasHint ? hintTerm : nil))
        case .heartbeat:
            kind = .heartbeat(
                commit: try reader.require(reader.readUInt64(), "commit"),
                readRound: try reader.require(reader.readUInt64(), "round"),
                sentAtTick: try reader.require(reader.readUInt64(), "tick")
            )
        case .heartbeatResponse:
            kind = .heartbeatResponse(readRound: try reader.require(reader.readUInt64(), "round"), sentAtTick: try reader.require(reader.readUInt64(), "tick"))
        case .forwardedProposal:
            let id = RequestID(try reader.require(reader.readUInt64(), "request id"))
            kind = .forwardedProposal(id, try reader.require(reader.readBytes(maxCount: WireBounds.entryBytesMax), "proposal"))
        case .forwardedProposalRejected:
            let id = RequestID(try reader.require(reader.readUInt64(), "request id"))
            kind = .forwardedProposalRejected(id, try RequestRejection(from: &reader))
        case .readIndexRequest:
            kind = .readIndexRequest(RequestID(try reader.require(reader.readUInt64(), "request id")))
        case .readIndexIndex:
            let id = RequestID(try reader.require(reader.readUInt64(), "request id"))
            kind = .readIndexResponse(id, .index(try reader.require(reader.readUInt64(), "read index")))
        case .readIndexRejected:
            let id = RequestID(try reader.require(reader.readUInt64(), "request id"))
            kind = .readIndexResponse(id, .rejected(try RequestRejection(from: &reader)))
        case .installSnapshot:
            let metadata = try SnapshotMetadata(from: &reader)
            let total = try reader.require(reader.readUInt64(), "snapshot size")
            let offset = try reader.require(reader.readUInt64(), "chunk offset")
            let data = try reader.require(reader.readBytes(maxCount: WireBounds.snapshotChunkBytesMax), "chunk")
            guard offset <= total, UInt64(data.count) <= total - offset, total <= UInt64(Int.max) else {
                throw WireDecodingError("chunk \(offset)+\(data.count) outside a snapshot of \(total) bytes")
            }
            kind = .installSnapshot(SnapshotChunk(metadata: metadata, totalBytes: Int(total), offset: Int(offset), data: data))
        case .snapshotChunkResponse:
            let index = try reader.require(reader.readUInt64(), "snapshot index")
            let received = try reader.require(reader.readUInt64(), "received bytes")
            guard received <= UInt64(Int.max) else { throw WireDecodingError("received \(received)") }
            kind = .snapshotChunkResponse(snapshotIndex: index, receivedBytes: Int(received))
        case .timeoutNow:
            kind = .timeoutNow
        }
        self.init(from: from, to: to, term: term, kind: kind)
    }
}

extension Entry: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(index)
        writer.write(term)
        writer.write(kind.rawValue)
        writer.writeBytes(data)
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        let index = try reader.require(reader.readUInt64(), "entry index")
        let term = try reader.require(reader.readUInt64(), "entry term")
        let rawKind = try reader.require(reader.readByte(), "entry kind")
        guard let kind = EntryKind(rawValue: rawKind) else { throw WireDecodingError("unknown entry kind \(rawKind)") }
        let data = try reader.require(reader.readBytes(maxCount: WireBounds.entryBytesMax), "entry data")
        self.init(index: index, term: term, kind: kind, data: data)
    }
}

extension SnapshotMetadata: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(index)
        writer.write(term)
        writer.writeBytes(ConfigurationEntry(membership: membership, requestID: nil, origin: nil).encoded)
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        let index = try reader.require(reader.readUInt64(), "snapshot index")
        let term = try reader.require(reader.readUInt64(), "snapshot term")
        let membershipBytes = try reader.require(reader.readBytes(maxCount: WireBounds.entryBytesMax), "membership")
        guard let configuration = ConfigurationEntry(decoding: membershipBytes) else { throw WireDecodingError("undecodable membership") }
        self.init(index: index, term: term, membership: configuration.membership)
    }
}

extension RequestRejection: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        func node(_ id: NodeID?) { writer.write(id?.rawValue ?? 0) }
        switch self {
        case .notLeader(let leader): writer.write(UInt8(1)); node(leader)
        case .noLeader: writer.write(UInt8(2))
        case .proposalTooLarge(let bytes, let limit): writer.write(UInt8(3)); writer.write(UInt64(truncatingIfNeeded: bytes)); writer.write(UInt64(truncatingIfNeeded: limit))
        case .uncommittedLogFull(let limit): writer.write(UInt8(4)); writer.write(UInt64(truncatingIfNeeded: limit))
        case .tooManyPendingRequests(let limit): writer.write(UInt8(5)); writer.write(UInt64(truncatingIfNeeded: limit))
        case .leaderChanged: writer.write(UInt8(6))
        case .timedOut: writer.write(UInt8(7))
        case .membershipChangeInProgress: writer.write(UInt8(8))
        case .learnerNotCaughtUp(let learner, let match, let last): writer.write(UInt8(9)); node(learner); writer.write(match); writer.write(last)
        case .invalidMembershipChange(let reason): writer.write(UInt8(10)); writer.writeBytes(Array(reason.utf8.prefix(WireBounds.textBytesMax)))
        case .leadershipTransferInProgress(let target): writer.write(UInt8(11)); node(target)
        case .transferTargetNotVoter(let target): writer.write(UInt8(12)); node(target)
        case .notMember(let member): writer.write(UInt8(13)); node(member)
        case .notEnoughActiveMembers(let active, let needed): writer.write(UInt8(14)); writer.write(UInt64(truncatingIfNeeded: active)); writer.write(UInt64(truncatingIfNeeded: needed))
        case .invalidProposal(let reason): writer.write(UInt8(15)); writer.writeBytes(Array(reason.utf8.prefix(WireBounds.textBytesMax)))
        }
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        func count() throws(WireDecodingError) -> Int {
            let value = try reader.require(reader.readUInt64(), "count")
            guard value <= UInt64(Int.max) else { throw WireDecodingError("count \(value)") }
            return Int(value)
        }
        func optionalNode() throws(WireDecodingError) -> NodeID? {
            let raw = try reader.require(reader.readUInt64(), "node")
            return raw == 0 ? nil : NodeID(raw)
        }
        let code = try reader.require(reader.readByte(), "rejection code")
        switch code {
        case 1: self = .notLeader(leader: try optionalNode())
        case 2: self = .noLeader
        case 3: self = .proposalTooLarge(bytes: try count(), limitBytes: try count())
        case 4: self = .uncommittedLogFull(limitBytes: try count())
        case 5: self = .tooManyPendingRequests(limit: try count())
        case 6: self = .leaderChanged
        case 7: self = .timedOut
        case 8: self = .membershipChangeInProgress
        case 9: self = .learnerNotCaughtUp(try reader.nodeID("learner"), matchIndex: try reader.require(reader.readUInt64(), "match"), leaderLastIndex: try reader.require(reader.readUInt64(), "last"))
        case 10: self = .invalidMembershipChange(String(decoding: try reader.require(reader.readBytes(maxCount: WireBounds.textBytesMax), "reason"), as: UTF8.self))
        case 11: self = .leadershipTransferInProgress(to: try reader.nodeID("target"))
        case 12: self = .transferTargetNotVoter(try reader.nodeID("target"))
        case 13: self = .notMember(try reader.nodeID("member"))
        case 14: self = .notEnoughActiveMembers(active: try count(), needed: try count())
        case 15: self = .invalidProposal(String(decoding: try reader.require(reader.readBytes(maxCount: WireBounds.textBytesMax), "reason"), as: UTF8.self))
        default: throw WireDecodingError("unknown rejection code \(code)")
        }
    }
}
