import ConsensusCore
import Raft
import Simulation

/// Engine-level benchmarks over `InMemoryCluster`. They return figures; the command line prints them.
public enum EngineBenchmarks {
    public struct Throughput: Sendable {
        public var committed = 0
        public var messages = 0
        public var entryBytes = 0
        public var steps = 0
        /// Engine steps between a proposal and its apply on the leader, one sample per proposal.
        public var commitLatencySteps: [Int] = []
    }

    /// Committed proposals through a 3-node cluster. With batching, each burst is one `proposeBatch`
    /// and messages carry up to 512 entries; without, every proposal is its own event and every entry
    /// travels alone.
    public static func throughput(total: Int, burst: Int, payloadBytes: Int, batching: Bool) -> Throughput {
        var cluster = InMemoryCluster { $0.entriesPerMessageMax = batching ? 512 : 1 }
        cluster.appliesToStateMachines = false
        cluster.elect(0)
        var result = Throughput()
        var proposedAtStep: [UInt64: Int] = [:]
        var latencies: [Int] = []
        var committed = 0
        var bytes = 0
        cluster.onApply = { node, entry, steps in
            guard node == 0 else { return }
            committed += 1
            bytes += entry.data.count
            let request = entry.data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
            if let start = proposedAtStep.removeValue(forKey: request) { latencies.append(steps - start) }
        }
        var proposed = 0
        while proposed < total {
            var proposals: [Proposal] = []
            for _ in 0..<min(burst, total - proposed) {
                proposedAtStep[UInt64(proposed)] = cluster.steps
                proposals.append(Proposal(id: RequestID(UInt64(proposed)), data: command(UInt64(proposed), payloadBytes: payloadBytes)))
                proposed += 1
            }
            if batching {
                cluster.step(0, .proposeBatch(proposals))
            } else {
                for proposal in proposals { cluster.step(0, .propose(proposal.id, proposal.data)) }
            }
            cluster.drain()
        }
        result.committed = committed
        result.entryBytes = bytes
        result.messages = cluster.messagesSent
        result.steps = cluster.steps
        result.commitLatencySteps = latencies
        return result
    }

    public struct CatchUp: Sendable {
        public var entriesBehind: Int
        public var bytesSent: Int
        public var messagesSent: Int
        /// Ticks (100 ms of heartbeat each) until the follower had applied everything.
        public var ticks: Int
        /// Sequential one-way message delays on the way.
        public var hops: Int
        public var snapshotsInstalled: Int
    }

    /// A cluster whose third node missed `entriesBehind` committed entries and is about to rejoin.
    /// With `snapshots`, the leader has compacted its log and will send its snapshot; without, it
    /// will replay the log. `finishCatchUp` measures the rest.
    public static func prepareCatchUp(entriesBehind: Int, payloadBytes: Int, snapshots: Bool) -> InMemoryCluster {
        var cluster = InMemoryCluster {
            $0.entriesPerMessageMax = 512
            $0.messageBytesMax = 1 << 20
            $0.inflightMessagesMax = 64
            $0.snapshotEntriesThreshold = snapshots ? 100_000 : Int.max
            $0.snapshotBytesThreshold = snapshots ? 64 << 20 : Int.max
            $0.compactionRetainEntries = 1_000
        }
        cluster.elect(0)
        cluster.isolated = [2]
        var proposed = 0
        while proposed < entriesBehind {
            let batch = (proposed..<min(entriesBehind, proposed + 1_000)).map { Proposal(id: RequestID(UInt64($0)), data: command(UInt64($0), payloadBytes: payloadBytes)) }
            proposed += batch.count
            cluster.step(0, .proposeBatch(batch))
            cluster.drain()
        }
        cluster.tickAll()
        return cluster
    }

    public static func finishCatchUp(_ cluster: inout InMemoryCluster, entriesBehind: Int) -> CatchUp {
        let target = cluster.appliedIndex(0)
        let bytesBefore = cluster.bytesSentTo[2], messagesBefore = cluster.messagesSentTo[2]
        cluster.isolated = []
        var ticks = 0
        var hops = 0
        while cluster.appliedIndex(2) < target && ticks < 10_000 {
            // Only the leader ticks, so the measurement is replication alone.
            cluster.step(0, .tick)
            hops += cluster.drainCountingHops()
            ticks += 1
        }
        return CatchUp(
            entriesBehind: entriesBehind,
            bytesSent: cluster.bytesSentTo[2] - bytesBefore,
            messagesSent: cluster.messagesSentTo[2] - messagesBefore,
            ticks: ticks,
            hops: hops,
            snapshotsInstalled: cluster.snapshotsInstalled
        )
    }

    /// Commits per tick around a leadership transfer at `transferAtTick`: each tick the leader gets
    /// a batch of `perTick` proposals (refused while the transfer runs) and every node ticks once.
    public static func transferDip(ticks: Int, transferAtTick: Int, perTick: Int, payloadBytes: Int) -> [Int] {
        var cluster = InMemoryCluster { $0.entriesPerMessageMax = 512 }
        cluster.elect(0)
        var committedThisTick = 0
        cluster.onApply = { node, _, _ in if node == 0 { committedThisTick += 1 } }
        var series: [Int] = []
        var next: UInt64 = 0
        for tick in 0..<ticks {
            committedThisTick = 0
            if tick == transferAtTick, let leader = cluster.leader {
                cluster.step(leader, .transferLeadership(RequestID(0), to: NodeID(2)))
                cluster.drain()
            }
            if let leader = cluster.leader {
                let batch = (0..<perTick).map { offset in Proposal(id: RequestID(next + UInt64(offset)), data: command(next + UInt64(offset), payloadBytes: payloadBytes)) }
                next += UInt64(perTick)
                cluster.step(leader, .proposeBatch(batch))
                cluster.drain()
            }
            cluster.tickAll()
            // Applied on node 1 whether it leads or follows; the new leader's commit reaches it by heartbeat.
            series.append(committedThisTick)
        }
        return series
    }

    /// A command whose first 8 bytes are its number, padded to `payloadBytes`.
    static func command(_ number: UInt64, payloadBytes: Int) -> [UInt8] {
        var data = [UInt8](repeating: 0x61, count: max(payloadBytes, 8))
        withUnsafeBytes(of: number.littleEndian) { data.replaceSubrange(0..<8, with: $0) }
        return data
    }
}
