import ConsensusCore
import Raft

extension RaftEngine: SimulatableEngine {
    public static var engineName: String { "raft" }
    public static var emptyHardState: RaftHardState { RaftHardState() }

    public static func start(id: NodeID, voters: [NodeID], random: SeededRandom, restoring: DurableState<RaftHardState>?) -> RaftEngine {
        var configuration = RaftConfiguration(id: id, voters: voters)
        // Small windows and batches so the simulator exercises pipelining limits and multi-message catch-up.
        configuration.inflightMessagesMax = 8
        configuration.entriesPerMessageMax = 16
        return RaftEngine(configuration: configuration, random: random, restoring: restoring)
    }

    public static func commitIndex(of hardState: RaftHardState) -> LogIndex { hardState.commit }

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
            for entry in append.entries where durable.term(at: entry.index) != entry.term {
                return "sent entry \(entry.term)/\(entry.index) that is not durable"
            }
        default:
            break
        }
        return nil
    }
}
