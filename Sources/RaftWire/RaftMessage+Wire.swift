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
