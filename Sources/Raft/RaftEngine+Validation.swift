import ConsensusCore

/// Why a peer's message was dropped at the engine's boundary. Honest peers never send any of
/// these; a bug or a hostile sender does, and the node must drop the message rather than trap.
public enum RaftMessageDropReason: String, Sendable, CaseIterable {
    /// `to` names another node.
    case addressedElsewhere
    /// `from` names this node.
    case fromSelf
    /// An append's entries are not numbered `prevLogIndex + 1, + 2, …`, or overflow the index space.
    case nonContiguousEntries
    /// An entry's term is above the term of the message carrying it, or decreases along the append.
    case entryTermOutOfOrder
    /// An append would replace an entry this node has committed.
    case conflictsWithCommitted
    /// An append or heartbeat of this node's own term while it leads that term: two leaders in one
    /// term cannot happen among honest nodes.
    case secondLeaderInTerm
    /// An acknowledgement or rejection names an index beyond the leader's log.
    case indexBeyondLog
    /// A snapshot chunk's offset, size or total do not fit together.
    case snapshotChunkOutOfBounds
    /// A snapshot acknowledgement names more bytes than the snapshot holds.
    case snapshotAcknowledgementOutOfBounds
    /// A term or index beyond `RaftEngine.termOrIndexMax`, which no honest cluster reaches.
    case valueOutOfRange
    /// A configuration entry whose payload does not decode.
    case undecodableConfiguration
    /// A complete snapshot the application cannot restore (`RaftEngine.acceptsSnapshot`).
    case undecodableSnapshot
    /// A follower rejects an index at or below one it acknowledged.
    case contradictsAcknowledgement
}

extension RaftEngine {
    /// The largest term or index a message may carry. Terms grow by one per election and indexes
    /// by one per entry, so no cluster gets near 2^62 (a million elections a second would take
    /// 146,000 years); refusing more keeps every `+ 1` on them from overflowing.
    public static let termOrIndexMax: UInt64 = 1 << 62

    /// Checks what can be checked of a message before any state is touched: addressing and the
    /// arithmetic of its own fields. Checks against this node's log are made where they apply.
    func boundaryViolation(_ message: RaftMessage) -> RaftMessageDropReason? {
        if message.to != id { return .addressedElsewhere }
        if message.from == id { return .fromSelf }
        if message.term > Self.termOrIndexMax { return .valueOutOfRange }
        switch message.kind {
        case .append(let append):
            guard append.prevLogIndex <= Self.termOrIndexMax - LogIndex(append.entries.count), append.leaderCommit <= Self.termOrIndexMax else { return .valueOutOfRange }
            guard append.prevLogTerm <= message.term else { return .entryTermOutOfOrder }
            var expected = append.prevLogIndex
            var previousTerm = append.prevLogTerm
            for entry in append.entries {
                let (next, overflow) = expected.addingReportingOverflow(1)
                guard !overflow, entry.index == next else { return .nonContiguousEntries }
                guard entry.term >= previousTerm, entry.term <= message.term else { return .entryTermOutOfOrder }
                // A configuration entry is decoded when appended (`refreshMembership`).
                if entry.kind == .configuration && ConfigurationEntry(decoding: entry.data) == nil { return .undecodableConfiguration }
                expected = next
                previousTerm = entry.term
            }
        case .preVote(let lastIndex, let lastTerm), .vote(let lastIndex, let lastTerm, _):
            if lastIndex > Self.termOrIndexMax || lastTerm > Self.termOrIndexMax { return .valueOutOfRange }
        case .appendResponse(.accepted(let index)), .heartbeat(let index, _, _), .readIndexResponse(_, .index(let index)):
            if index > Self.termOrIndexMax { return .valueOutOfRange }
        case .appendResponse(.rejected(let rejectedIndex, let hintIndex, let hintTerm)):
            if rejectedIndex > Self.termOrIndexMax || hintIndex > Self.termOrIndexMax || (hintTerm ?? 0) > Self.termOrIndexMax { return .valueOutOfRange }
        case .installSnapshot(let chunk) where chunk.metadata.index > Self.termOrIndexMax || chunk.metadata.term > Self.termOrIndexMax:
            return .valueOutOfRange
        case .installSnapshot(let chunk) where chunk.metadata.term > message.term:
            // A snapshot holds committed entries, none of a term after its sender's.
            return .entryTermOutOfOrder
        case .installSnapshot(let chunk):
            guard chunk.offset >= 0, chunk.totalBytes >= 0, chunk.offset <= chunk.totalBytes,
                  chunk.data.count <= chunk.totalBytes - chunk.offset,
                  chunk.totalBytes <= configuration.snapshotBytesMax
            else { return .snapshotChunkOutOfBounds }
        case .snapshotChunkResponse(_, let receivedBytes):
            if receivedBytes < 0 { return .snapshotAcknowledgementOutOfBounds }
        case .preVoteResponse, .voteResponse, .heartbeatResponse, .forwardedProposal, .forwardedProposalRejected,
             .readIndexRequest, .readIndexResponse, .timeoutNow:
            break
        }
        return nil
    }

    public var droppedMessages: (count: Int, last: String?) {
        (droppedMessageCount, lastDroppedMessage.map { "\($0.reason.rawValue): \($0.message)" })
    }

    /// Counts a dropped message; the shell reads `droppedMessages` and logs what changed. Only a
    /// short summary is kept: a hostile message's full text could be large, and is not trusted.
    mutating func drop(_ message: RaftMessage, _ reason: RaftMessageDropReason) {
        droppedMessageCount += 1
        lastDroppedMessage = (reason, message.summary)
    }
}
