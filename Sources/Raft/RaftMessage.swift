import ConsensusCore

/// A message between Raft peers. `term` is the sender's current term, except for pre-vote requests and
/// granted pre-vote responses, which carry the term the pre-candidate would campaign in (§9.6).
public struct RaftMessage: EngineMessage, Equatable {
    public var from: NodeID
    public var to: NodeID
    public var term: Term
    public var kind: Kind

    public init(from: NodeID, to: NodeID, term: Term, kind: Kind) {
        self.from = from
        self.to = to
        self.term = term
        self.kind = kind
    }

    public enum Kind: Sendable, Equatable {
        case preVote(lastLogIndex: LogIndex, lastLogTerm: Term)
        case preVoteResponse(granted: Bool)
        /// `transfer` marks a campaign the leader asked for (TimeoutNow): voters grant it even while
        /// they believe that leader alive.
        case vote(lastLogIndex: LogIndex, lastLogTerm: Term, transfer: Bool)
        case voteResponse(granted: Bool)
        case append(AppendEntries)
        case appendResponse(AppendResponse)
        /// Carries the commit index capped at the follower's match, and the newest read-confirmation
        /// round and leader tick, which the response echoes.
        case heartbeat(commit: LogIndex, readRound: UInt64, sentAtTick: UInt64)
        case heartbeatResponse(readRound: UInt64, sentAtTick: UInt64)
        /// A follower hands a client's proposal to the leader.
        case forwardedProposal(RequestID, [UInt8])
        /// The leader refused a forwarded proposal; it was not appended.
        case forwardedProposalRejected(RequestID, RequestRejection)
        /// A follower asks the leader for a read index (§6.4).
        case readIndexRequest(RequestID)
        case readIndexResponse(RequestID, ReadIndexResult)
        /// One chunk of the leader's snapshot, for a follower whose next entry the leader has compacted.
        case installSnapshot(SnapshotChunk)
        /// The follower holds the first `receivedBytes` of the snapshot at `snapshotIndex`.
        case snapshotChunkResponse(snapshotIndex: LogIndex, receivedBytes: Int)
        /// The leader asks this node to campaign now, skipping pre-vote (leadership transfer, §3.10).
        case timeoutNow
    }

    public struct SnapshotChunk: Sendable, Equatable {
        public var metadata: SnapshotMetadata
        public var totalBytes: Int
        public var offset: Int
        public var data: [UInt8]

        public var isLast: Bool { offset + data.count == totalBytes }

        public init(metadata: SnapshotMetadata, totalBytes: Int, offset: Int, data: [UInt8]) {
            self.metadata = metadata
            self.totalBytes = totalBytes
            self.offset = offset
            self.data = data
        }
    }

    public struct AppendEntries: Sendable, Equatable {
        public var prevLogIndex: LogIndex
        public var prevLogTerm: Term
        public var entries: [Entry]
        public var leaderCommit: LogIndex

        public init(prevLogIndex: LogIndex, prevLogTerm: Term, entries: [Entry], leaderCommit: LogIndex) {
            self.prevLogIndex = prevLogIndex
            self.prevLogTerm = prevLogTerm
            self.entries = entries
            self.leaderCommit = leaderCommit
        }
    }

    public enum AppendResponse: Sendable, Equatable {
        /// The follower's log matches the leader's through `matchIndex`.
        case accepted(matchIndex: LogIndex)
        /// The consistency check failed at `rejectedIndex`. The hint lets the leader skip a whole
        /// conflicting term at once: the follower's first index of `hintTerm`, or its log end + 1
        /// when its log is too short (`hintTerm` nil).
        case rejected(rejectedIndex: LogIndex, hintIndex: LogIndex, hintTerm: Term?)
    }

    public enum ReadIndexResult: Sendable, Equatable {
        case index(LogIndex)
        case rejected(RequestRejection)
    }

    public var forwardedProposalPayload: [UInt8]? {
        if case .forwardedProposal(_, let data) = kind { return data }
        return nil
    }

    /// Vote traffic that a node considers before it lets a higher term change its own.
    var isVoteRequest: Bool {
        switch kind {
        case .preVote, .vote: return true
        default: return false
        }
    }

    var isTransferVote: Bool {
        if case .vote(_, _, transfer: true) = kind { return true }
        return false
    }

    /// Client traffic rides between nodes regardless of terms: it never changes a node's term.
    var isClientRequestTraffic: Bool {
        switch kind {
        case .forwardedProposal, .forwardedProposalRejected, .readIndexRequest, .readIndexResponse: return true
        default: return false
        }
    }

    /// Sender, receiver, term and kind, without the payload: what a log line about a dropped
    /// message shows.
    public var summary: String {
        let kindName: String
        switch kind {
        case .preVote: kindName = "PreVote"
        case .preVoteResponse: kindName = "PreVoteResp"
        case .vote: kindName = "Vote"
        case .voteResponse: kindName = "VoteResp"
        case .append(let append): kindName = "App prev=\(append.prevLogTerm)/\(append.prevLogIndex) entries=\(append.entries.count)"
        case .appendResponse: kindName = "AppResp"
        case .heartbeat: kindName = "Heartbeat"
        case .heartbeatResponse: kindName = "HeartbeatResp"
        case .forwardedProposal: kindName = "Propose"
        case .forwardedProposalRejected: kindName = "ProposeRejected"
        case .readIndexRequest: kindName = "ReadIndex"
        case .readIndexResponse: kindName = "ReadIndexResp"
        case .installSnapshot(let chunk): kindName = "Snapshot \(chunk.metadata.term)/\(chunk.metadata.index)"
        case .snapshotChunkResponse: kindName = "SnapshotResp"
        case .timeoutNow: kindName = "TimeoutNow"
        }
        return "\(from)->\(to) t\(term) \(kindName)"
    }

    public var description: String {
        let prefix = "\(from)->\(to) t\(term)"
        switch kind {
        case .preVote(let index, let term): return "\(prefix) PreVote last=\(term)/\(index)"
        case .preVoteResponse(let granted): return "\(prefix) PreVoteResp \(granted ? "grant" : "reject")"
        case .vote(let index, let term, let transfer): return "\(prefix) Vote last=\(term)/\(index)\(transfer ? " transfer" : "")"
        case .voteResponse(let granted): return "\(prefix) VoteResp \(granted ? "grant" : "reject")"
        case .append(let append):
            let entries = append.entries.map(\.description).joined(separator: ", ")
            return "\(prefix) App prev=\(append.prevLogTerm)/\(append.prevLogIndex) commit=\(append.leaderCommit) [\(entries)]"
        case .appendResponse(.accepted(let match)): return "\(prefix) AppResp match=\(match)"
        case .appendResponse(.rejected(let index, let hintIndex, let hintTerm)):
            return "\(prefix) AppResp reject=\(index) hint=\(hintTerm.map(String.init) ?? "-")/\(hintIndex)"
        case .heartbeat(let commit, let round, let tick): return "\(prefix) Heartbeat commit=\(commit) round=\(round) tick=\(tick)"
        case .heartbeatResponse(let round, let tick): return "\(prefix) HeartbeatResp round=\(round) tick=\(tick)"
        case .forwardedProposal(let id, let data): return "\(prefix) Propose \(id) \(Entry.printable(data))"
        case .forwardedProposalRejected(let id, let reason): return "\(prefix) ProposeRejected \(id) \(reason)"
        case .readIndexRequest(let id): return "\(prefix) ReadIndex \(id)"
        case .readIndexResponse(let id, .index(let index)): return "\(prefix) ReadIndexResp \(id) index=\(index)"
        case .readIndexResponse(let id, .rejected(let reason)): return "\(prefix) ReadIndexResp \(id) \(reason)"
        case .installSnapshot(let chunk):
            return "\(prefix) Snapshot \(chunk.metadata.term)/\(chunk.metadata.index) bytes \(chunk.offset)..<\(chunk.offset &+ chunk.data.count) of \(chunk.totalBytes)"
        case .snapshotChunkResponse(let index, let received): return "\(prefix) SnapshotResp \(index) received=\(received)"
        case .timeoutNow: return "\(prefix) TimeoutNow"
        }
    }
}
