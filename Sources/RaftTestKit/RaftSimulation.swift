import ConsensusCore
import Raft
import Simulation

extension RaftEngine: SimulatableEngine {
    public static var engineName: String { "raft" }
    public static var emptyHardState: RaftHardState { RaftHardState() }
    public static var safetyProperties: Set<SafetyProperty> {
        SafetyProperty.common.union([.electionSafety, .logMatching, .leaderCompleteness, .protocolRules])
    }

    public static func start(id: NodeID, voters: [NodeID], profile: UInt64, random: SeededRandom, restoring: DurableState<RaftHardState>?) -> RaftEngine {
        RaftEngine(configuration: configuration(id: id, voters: voters, profile: profile), random: random, restoring: restoring)
    }

    /// Small windows and batches so seeds exercise pipelining limits, multi-message catch-up and
    /// commits that advance one entry at a time (where a Figure 8 bug would show); both read modes.
    public static func configuration(id: NodeID, voters: [NodeID], profile: UInt64) -> RaftConfiguration {
        var configuration = RaftConfiguration(id: id, voters: voters)
        var choices = SeededRandom(seed: profile)
        configuration.inflightMessagesMax = [1, 2, 8, 64][choices.int(in: 0..<4)]
        configuration.entriesPerMessageMax = [1, 3, 16, 128][choices.int(in: 0..<4)]
        configuration.readMode = choices.chance(0.3) ? .lease : .readIndex
        // Frequent snapshots with small chunks, so compaction, catch-up by snapshot and chunking are
        // exercised in most seeds.
        configuration.snapshotEntriesThreshold = [25, 60, 200, 1_000_000][choices.int(in: 0..<4)]
        configuration.snapshotBytesThreshold = [2_000, 64 << 20][choices.int(in: 0..<2)]
        configuration.compactionRetainEntries = [0, 4, 40][choices.int(in: 0..<3)]
        configuration.snapshotChunkBytesMax = [64, 512, 1 << 20][choices.int(in: 0..<3)]
        configuration.overlapWritesWithSends = choices.chance(0.5)
        return configuration
    }

    public static func commitIndex(of hardState: RaftHardState) -> LogIndex { hardState.commit }

    /// The commit rule of §5.4.2 (Figure 8): a leader advances its commit index only to an entry of
    /// its own term; entries of earlier terms commit only beneath one.
    public func protocolViolation(since previous: EngineStatus) -> String? {
        guard role == .leader, commitIndex > previous.commitIndex else { return nil }
        let committedTerm = log.term(at: commitIndex)
        guard committedTerm != term else { return nil }
        return "commit rule: leader \(id) of term \(term) advanced its commit index to \(commitIndex), an entry of term \(committedTerm.map(String.init) ?? "?")"
    }

    public static func durabilityViolation(of message: RaftMessage, durable: SimulatedStorage<RaftHardState>) -> String? {
        let synced = durable.hardState
        switch message.kind {
        case .preVote, .preVoteResponse(granted: true):
            // These announce a term the sender has not entered; nothing needs to be durable.
            return nil
        default:
            break
        }
        if message.term > synced.term {
            return "sent term \(message.term) but durable term is \(synced.term)"
        }
        switch message.kind {
        case .voteResponse(granted: true):
            if synced.term != message.term || synced.vote != message.to {
                return "granted vote to \(message.to) in term \(message.term) but durable state is \(synced)"
            }
        case .appendResponse(.accepted(let matchIndex)):
            if durable.lastIndex < matchIndex {
                return "acknowledged index \(matchIndex) but durable log ends at \(durable.lastIndex)"
            }
        case .append(let append):
            // A leader may replicate entries of its own term while its disk is still writing them
            // (overlapping writes); anything else it sends must be durable.
            for entry in append.entries where durable.term(at: entry.index) != entry.term {
                if entry.term == message.term && durable.hasUnsyncedEntry(at: entry.index, term: entry.term) { continue }
                return "sent entry \(entry.term)/\(entry.index) that is not durable"
            }
        default:
            break
        }
        return nil
    }
}
