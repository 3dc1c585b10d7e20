import ConsensusCore
import Raft
import Simulation

/// Runs a 3-node Raft cluster under honest load while a fuzzer feeds its engines peer messages.
///
/// Two modes:
/// - `anyFields`: well-formed messages with random fields, from members, strangers and the node
///   itself. Raft trusts its peers, so such messages may disrupt the cluster (a stranger claiming
///   a member's id can do what that member could); what must hold is that no message traps an
///   engine and each engine's own invariants stay true.
/// - `boundaryOnly`: only messages the engine's boundary check must refuse (misaddressed, from
///   itself, out of range, non-contiguous, terms out of order). Every one must be dropped, and the
///   cluster must stay safe: all nodes apply the same entry at each index.
public enum PeerFuzz {
    public enum Mode: String, Sendable, CaseIterable {
        case anyFields = "any-fields"
        case boundaryOnly = "boundary-only"
    }

    public struct Report: Sendable {
        public var seed: UInt64
        public var mode: Mode
        public var steps = 0
        public var injected = 0
        public var dropped = 0
        /// Steps after which messages were still flowing (see `deliveriesPerStepMax`).
        public var livelocks = 0
        public var committed: LogIndex = 0
        public var violations: [String] = []
        public var passed: Bool { violations.isEmpty }
    }

    /// Violations reported per run at most, so a broken invariant does not flood the report.
    static let violationsMax = 10
    /// Messages delivered per step before the run calls it a livelock: an honest cluster settles
    /// within a few rounds.
    static let deliveriesPerStepMax = 10_000

    public static func run(seed: UInt64, steps: Int, mode: Mode) -> Report {
        var report = Report(seed: seed, mode: mode)
        var cluster = InMemoryCluster(nodeCount: 3) {
            $0.snapshotEntriesThreshold = 40
            $0.compactionRetainEntries = 8
            $0.snapshotChunkBytesMax = 64
        }
        let appliedByNode = AppliedEntries(nodeCount: 3)
        cluster.onApply = { node, entry, _ in appliedByNode.record(node: node, entry: entry) }
        cluster.elect(0)
        var fuzzer = PeerMessageFuzzer(seed: seed)
        var random = SeededRandom(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
        let senders = [NodeID(1), NodeID(2), NodeID(3), NodeID(4)]
        for step in 0..<steps {
            report.steps += 1
            switch random.int(in: 0..<10) {
            case 0..<3:
                if let leader = cluster.leader {
                    cluster.step(leader, .propose(RequestID(UInt64(step + 1)), [UInt8](repeating: UInt8(truncatingIfNeeded: step), count: random.int(in: 1..<24))))
                }
            case 3:
                // Not `tickAll`, whose drain is unbounded.
                for node in 0..<3 { cluster.step(node, .tick) }
            default:
                let node = random.int(in: 0..<3)
                var message = fuzzer.message(to: cluster.engines[node], senders: senders)
                if mode == .boundaryOnly { message = invalid(message, for: cluster.engines[node], random: &random) }
                let droppedBefore = cluster.engines[node].droppedMessageCount
                cluster.step(node, .receive(message))
                report.injected += 1
                let wasDropped = cluster.engines[node].droppedMessageCount > droppedBefore
                if wasDropped { report.dropped += 1 }
                if mode == .boundaryOnly && !wasDropped { note(&report, "step \(step): \(message) was not dropped") }
            }
            let drained = cluster.drain(deliveriesMax: Self.deliveriesPerStepMax)
            if !drained.finished {
                report.livelocks += 1
                if mode == .boundaryOnly || report.livelocks == 1 {
                    note(&report, "step \(step): messages still flowing after \(Self.deliveriesPerStepMax) deliveries; last: \(drained.lastMessages.map(\.description).joined(separator: " | "))")
                }
            }
            for node in 0..<3 {
                let engine = cluster.engines[node]
                if engine.commitIndex > engine.log.lastIndex || engine.appliedIndex > engine.commitIndex {
                    note(&report, "step \(step): n\(node + 1) commit \(engine.commitIndex) applied \(engine.appliedIndex) last \(engine.log.lastIndex)")
                }
            }
            if report.violations.count >= violationsMax { break }
        }
        report.committed = cluster.engines.map(\.commitIndex).max() ?? 0
        if mode == .boundaryOnly { report.violations += appliedByNode.disagreements().prefix(violationsMax) }
        return report
    }

    /// Turns a message into one the boundary must refuse.
    static func invalid(_ message: RaftMessage, for engine: RaftEngine, random: inout SeededRandom) -> RaftMessage {
        invalid(message, for: PeerFuzzTarget(engine), random: &random)
    }

    /// Turns a message into one the boundary must refuse, for a target known by its state.
    public static func invalid(_ message: RaftMessage, for target: PeerFuzzTarget, random: inout SeededRandom) -> RaftMessage {
        var broken = message
        broken.from = NodeID(UInt64(random.int(in: 1..<5)))
        broken.to = target.id
        switch random.int(in: 0..<5) {
        case 0: broken.to = NodeID(target.id.rawValue &+ 10)
        case 1: broken.from = target.id
        case 2: broken.term = RaftEngine.termOrIndexMax + 1
        case 3:
            let first = target.lastIndex &+ 1
            broken.kind = .append(.init(prevLogIndex: first &- 1, prevLogTerm: 0, entries: [
                Entry(index: first, term: 0, kind: .command, data: [1]), Entry(index: first &+ 2, term: 0, kind: .command, data: [2]),
            ], leaderCommit: 0))
        default:
            broken.kind = .append(.init(prevLogIndex: 0, prevLogTerm: 0, entries: [Entry(index: 1, term: broken.term &+ 1, kind: .command, data: [3])], leaderCommit: 0))
        }
        return broken
    }

    static func note(_ report: inout Report, _ text: String) {
        if report.violations.count < violationsMax { report.violations.append(text) }
    }
}

/// What each node applied, by index, to check that all agree (State Machine Safety).
final class AppliedEntries {
    private var byNode: [[LogIndex: Entry]]

    init(nodeCount: Int) { byNode = Array(repeating: [:], count: nodeCount) }

    func record(node: Int, entry: Entry) { byNode[node][entry.index] = entry }

    func disagreements() -> [String] {
        var found: [String] = []
        for (index, entry) in byNode[0] {
            for node in 1..<byNode.count {
                if let other = byNode[node][index], other != entry { found.append("index \(index): n1 applied \(entry), n\(node + 1) applied \(other)") }
            }
        }
        return found.sorted()
    }
}
