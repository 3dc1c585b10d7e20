import ConsensusCore
import Raft
import Simulation

/// What the fuzzer knows of the node it aims at: enough to draw fields near the node's own state.
/// In the simulator it is read from the engine; against a live node, from its Status answers.
public struct PeerFuzzTarget: Sendable {
    public var id: NodeID
    public var term: Term
    public var lastIndex: LogIndex
    public var commitIndex: LogIndex
    public var snapshotIndex: LogIndex

    public init(id: NodeID, term: Term, lastIndex: LogIndex, commitIndex: LogIndex, snapshotIndex: LogIndex) {
        self.id = id
        self.term = term
        self.lastIndex = lastIndex
        self.commitIndex = commitIndex
        self.snapshotIndex = snapshotIndex
    }

    public init(_ engine: RaftEngine) {
        self.init(id: engine.id, term: engine.term, lastIndex: engine.log.lastIndex, commitIndex: engine.commitIndex,
                  snapshotIndex: engine.snapshot?.metadata.index ?? 0)
    }
}

/// Well-formed Raft messages with random fields, for showing that no peer message can trap an
/// engine. Fields are drawn near the target's own state (its term, its log's end, its commit), at
/// the edges of their types, or anywhere, since bugs live at boundaries and in off-by-ones.
public struct PeerMessageFuzzer {
    var random: SeededRandom

    public init(seed: UInt64) { random = SeededRandom(seed: seed) }

    /// A message to `engine` (or, now and then, misaddressed), claiming to come from any of `senders`.
    public mutating func message(to engine: RaftEngine, senders: [NodeID]) -> RaftMessage {
        message(to: PeerFuzzTarget(engine), senders: senders)
    }

    /// A message to `target` (or, now and then, misaddressed), claiming to come from any of `senders`.
    public mutating func message(to target: PeerFuzzTarget, senders: [NodeID]) -> RaftMessage {
        let from = random.chance(0.05) ? target.id : senders[random.int(in: 0..<senders.count)]
        let to = random.chance(0.05) ? NodeID(UInt64(random.int(in: 1..<10))) : target.id
        let term = number(near: target.term)
        let last = target.lastIndex
        let kind: RaftMessage.Kind
        switch random.int(in: 0..<15) {
        case 0: kind = .preVote(lastLogIndex: number(near: last), lastLogTerm: number(near: target.term))
        case 1: kind = .preVoteResponse(granted: random.chance(0.5))
        case 2: kind = .vote(lastLogIndex: number(near: last), lastLogTerm: number(near: target.term), transfer: random.chance(0.3))
        case 3: kind = .voteResponse(granted: random.chance(0.5))
        case 4, 5: kind = .append(append(near: target, messageTerm: term))
        case 6: kind = .appendResponse(.accepted(matchIndex: number(near: last)))
        case 7:
            kind = .appendResponse(.rejected(rejectedIndex: number(near: last), hintIndex: number(near: last), hintTerm: random.chance(0.5) ? number(near: target.term) : nil))
        case 8: kind = .heartbeat(commit: number(near: target.commitIndex), readRound: number(near: 0), sentAtTick: number(near: 0))
        case 9: kind = .heartbeatResponse(readRound: number(near: 0), sentAtTick: number(near: 0))
        case 10: kind = .forwardedProposal(RequestID(random.next()), bytes(countMax: 64))
        case 11: kind = .readIndexRequest(RequestID(random.next()))
        case 12: kind = .readIndexResponse(RequestID(random.next()), random.chance(0.5) ? .index(number(near: last)) : .rejected(.leaderChanged))
        case 13: kind = .installSnapshot(snapshotChunk(near: target, senders: senders))
        default:
            kind = random.chance(0.5) ? .timeoutNow : .snapshotChunkResponse(snapshotIndex: number(near: target.snapshotIndex), receivedBytes: integer())
        }
        return RaftMessage(from: from, to: to, term: term, kind: kind)
    }

    mutating func append(near target: PeerFuzzTarget, messageTerm: Term) -> RaftMessage.AppendEntries {
        let previous = number(near: target.lastIndex)
        var entries: [Entry] = []
        // Mostly contiguous, so that some get past the boundary check and reach the log.
        let contiguous = random.chance(0.7)
        var index = previous
        for _ in 0..<random.int(in: 0..<5) {
            index = contiguous ? index &+ 1 : number(near: index)
            let term = random.chance(0.8) ? min(messageTerm, number(near: target.term)) : number(near: messageTerm)
            let kind: EntryKind = random.chance(0.1) ? .configuration : (random.chance(0.1) ? .noop : .command)
            entries.append(Entry(index: index, term: term, kind: kind, data: bytes(countMax: 32)))
        }
        if contiguous { entries.sort { $0.term < $1.term } }
        return RaftMessage.AppendEntries(prevLogIndex: previous, prevLogTerm: number(near: target.term), entries: entries, leaderCommit: number(near: target.commitIndex))
    }

    mutating func snapshotChunk(near target: PeerFuzzTarget, senders: [NodeID]) -> RaftMessage.SnapshotChunk {
        let voters = senders.filter { _ in random.chance(0.6) }
        let metadata = SnapshotMetadata(index: number(near: target.commitIndex), term: number(near: target.term), membership: Membership(voters: voters))
        let data = bytes(countMax: 32)
        return RaftMessage.SnapshotChunk(metadata: metadata, totalBytes: integer(), offset: integer(), data: data)
    }

    /// A value near `base`, at an edge of UInt64, or anywhere.
    mutating func number(near base: UInt64) -> UInt64 {
        switch random.int(in: 0..<10) {
        case 0: return 0
        case 1: return UInt64.max - UInt64(random.int(in: 0..<3))
        case 2: return random.next()
        default: return base &+ UInt64(random.int(in: 0..<5)) &- 2
        }
    }

    mutating func integer() -> Int {
        switch random.int(in: 0..<6) {
        case 0: return Int.max - random.int(in: 0..<3)
        case 1: return -random.int(in: 1..<3)
        case 2: return Int.min
        default: return random.int(in: 0..<64)
        }
    }

    /// Random bytes, fewer than `countMax`: message payloads, and the payloads of the node-level
    /// calls (lease keep-alives and time-to-live queries) a live node answers.
    public mutating func bytes(countMax: Int) -> [UInt8] {
        (0..<random.int(in: 0..<countMax)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
    }
}
