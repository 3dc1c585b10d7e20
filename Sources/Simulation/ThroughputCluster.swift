import ConsensusCore
import Raft

/// A Raft cluster with no I/O at all, for measuring what the engine itself can commit: messages go
/// through a FIFO queue and are delivered at once, persists are no-ops.
public struct ThroughputCluster {
    public struct Result: Sendable {
        public var committed = 0
        public var messages = 0
        public var entryBytes = 0
        public var steps = 0
        /// Engine steps between a proposal and its apply on the leader, one sample per proposal.
        public var commitLatencySteps: [Int] = []
    }

    private var engines: [RaftEngine]
    private var queue: [RaftMessage] = []
    private var queueHead = 0
    private var steps = 0
    private var proposedAtStep: [UInt64: Int] = [:]

    private let batching: Bool

    /// With batching, each burst of proposals is one `proposeBatch` event and messages carry up to
    /// 512 entries; without, every proposal is its own event and every entry travels alone.
    public init(nodeCount: Int = 3, batching: Bool) {
        self.batching = batching
        let entriesPerMessageMax = batching ? 512 : 1
        let voters = (1...nodeCount).map { NodeID(UInt64($0)) }
        engines = voters.map { id in
            var configuration = RaftConfiguration(id: id, voters: voters)
            configuration.entriesPerMessageMax = entriesPerMessageMax
            configuration.inflightMessagesMax = 4096
            configuration.inflightBytesMax = 256 << 20
            return RaftEngine(configuration: configuration, random: SeededRandom(seed: id.rawValue))
        }
    }

    /// Elects node 1, then proposes `total` commands of `payloadBytes` in bursts of `burst`, delivering
    /// every message between bursts, and returns what committed.
    public mutating func run(total: Int, burst: Int, payloadBytes: Int) -> Result {
        var result = Result()
        perform(engines[0].campaignNow(), node: 0, result: &result)
        drain(&result)
        precondition(engines[0].role == .leader, "node 1 did not become leader")
        let payload = [UInt8](repeating: 0x61, count: payloadBytes)
        var proposed = 0
        while proposed < total {
            var proposals: [Proposal] = []
            for _ in 0..<min(burst, total - proposed) {
                let request = UInt64(proposed)
                proposedAtStep[request] = steps
                var data = payload
                withUnsafeBytes(of: request.littleEndian) { data.replaceSubrange(0..<min(8, data.count), with: $0.prefix(data.count)) }
                proposals.append(Proposal(id: RequestID(request), data: data))
                proposed += 1
            }
            if batching {
                step(0, .proposeBatch(proposals), result: &result)
            } else {
                for proposal in proposals { step(0, .propose(proposal.id, proposal.data), result: &result) }
            }
            drain(&result)
        }
        // Heartbeats carry the final commit index to followers; tick until every proposal committed.
        var ticks = 0
        while result.committed < total && ticks < 100 {
            step(0, .tick, result: &result)
            drain(&result)
            ticks += 1
        }
        result.steps = steps
        return result
    }

    private mutating func drain(_ result: inout Result) {
        while queueHead < queue.count {
            let message = queue[queueHead]
            queueHead += 1
            step(Int(message.to.rawValue) - 1, .receive(message), result: &result)
        }
        queue.removeAll(keepingCapacity: true)
        queueHead = 0
    }

    private mutating func step(_ node: Int, _ event: RaftEvent, result: inout Result) {
        steps += 1
        let actions = engines[node].step(event)
        perform(actions, node: node, result: &result)
    }

    private mutating func perform(_ actions: [RaftAction], node: Int, result: inout Result) {
        for action in actions {
            switch action {
            case .send(let message):
                result.messages += 1
                queue.append(message)
            case .apply(let entries) where node == 0:
                for entry in entries where entry.kind == .command {
                    result.committed += 1
                    result.entryBytes += entry.data.count
                    let request = entry.data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
                    if let start = proposedAtStep.removeValue(forKey: request) { result.commitLatencySteps.append(steps - start) }
                }
            case .persist, .apply, .readReady, .readRejected, .proposalRejected, .createSnapshot, .restoreSnapshot:
                break
            }
        }
    }
}
