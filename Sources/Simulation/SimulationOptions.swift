import ConsensusCore

/// The shape of one simulated run. Everything not given here is drawn from the seed.
public struct SimulationOptions: Sendable {
    public var seed: UInt64
    /// Cluster size, 1 to 7; nil draws 3 or 5 from the seed.
    public var nodeCount: Int?
    /// Ticks of the fault phase, in which faults come and go and progress is not required.
    public var faultPhaseTicks: Int = 600
    /// Ticks of the heal phase, in which the network is whole, every node runs, and every operation
    /// must complete within `livenessBoundTicks`.
    public var healPhaseTicks: Int = 400
    public var livenessBoundTicks: Int = 200
    public var clientCount: Int = 4
    public var keyCount: Int = 3
    /// Simulated time per tick: 100 ms, etcd's default heartbeat interval, so that the default
    /// 10-tick election timeout is etcd's default second.
    public var tickMicros: UInt64 = 100_000
    /// Record a formatted line for every event (slow); used to prove runs are reproducible.
    public var recordFullTrace = false
    /// How many of the most recent events a failure report shows.
    public var traceTailCount = 60
    /// For benchmarks: ask the leader to transfer leadership at this tick.
    public var leadershipTransferAtTick: Int?
    /// Keep the completion time of every operation in the report.
    public var recordCompletionTimes = false
    /// Search budget of the linearizability checker.
    public var linearizabilityStepsMax = 2_000_000
    /// What stands for each node's disk.
    public var disk: SimulatedDisk = .model
    /// With `disk == .wal`: disks that acknowledge fsync without making anything durable. A broken
    /// disk, for showing that the recovery check catches lost synced data.
    public var disksIgnoreSyncs = false
    /// With `disk == .wal`: disks on which a bit flip never reaches the log's files, so recovery
    /// accepts a log the simulator counts as corrupt. For showing that the check of recovery
    /// against each flipped bit is live.
    public var disksHideBitFlips = false

    public init(seed: UInt64) { self.seed = seed }

    /// A run without faults, for benchmarks: everything is the heal phase.
    public static func faultFree(seed: UInt64, nodes: Int, clients: Int, ticks: Int) -> SimulationOptions {
        var options = SimulationOptions(seed: seed)
        options.nodeCount = nodes
        options.clientCount = clients
        options.faultPhaseTicks = 0
        options.healPhaseTicks = ticks
        options.livenessBoundTicks = min(200, ticks - 1)
        return options
    }
}

/// What stands for a simulated node's disk.
public enum SimulatedDisk: String, Sendable, CaseIterable {
    /// `SimulatedStorage` alone: the engine contract's model of a disk, fast.
    case model
    /// The node's own `DiskStorage` (write-ahead log and snapshot files) over a `FaultyDirectory`,
    /// checked against the model at every crash (`WALDisk`).
    case wal
}

/// What one run found.
public struct SimulationReport: Sendable {
    public var seed: UInt64
    public var nodeCount: Int
    public var violations: [String] = []
    /// The linearizability checker ran out of budget: neither a pass nor a failure.
    public var linearizabilityUnknown = false
    public var events = 0
    public var faults = 0
    public var simulatedMicros: UInt64 = 0
    public var operationsCompleted = 0
    public var operationsIndeterminate = 0
    public var committedEntries: LogIndex = 0
    /// Evidence that the interesting paths ran: snapshots restored from a leader or disk, membership
    /// configurations committed, and leaders elected.
    public var snapshotsRestored = 0
    public var configurationsCommitted = 0
    public var leadersElected = 0
    /// Disks that had a bit flipped, and nodes replaced on a wiped disk after refusing to start.
    public var disksCorrupted = 0
    public var nodesReplaced = 0
    /// A digest of every event, equal for equal runs.
    public var traceDigest: UInt64 = 0
    /// The last events before the end of the run, formatted, for failure reports.
    public var traceTail: [String] = []
    /// Every event, formatted, when `recordFullTrace` was set.
    public var fullTrace: [String] = []
    /// When each operation completed, when `recordCompletionTimes` was set.
    public var completionTimes: [UInt64] = []

    /// What the service's own checkers counted (`SimulatedService.counters`), and the simulator's
    /// own counts (`wal_recoveries`: crashes after which a node's write-ahead log was recovered and
    /// checked), by name.
    public var counters: [String: Int] = [:]
    public var passed: Bool { violations.isEmpty }

    /// The settings that shaped this run, to print the command that replays it.
    public var faultPhaseTicks = 0
    public var healPhaseTicks = 0
    public var nodeCountGiven: Int?
    public var disk: SimulatedDisk = .model

    public func replayCommand(engine: String, service: String, clients: Int) -> String {
        var command = "synod sim --engine \(engine) --service \(service) --seed \(seed) --ticks \(faultPhaseTicks + healPhaseTicks) --heal-ticks \(healPhaseTicks) --clients \(clients)"
        if let nodeCountGiven { command += " --nodes \(nodeCountGiven)" }
        if disk != .model { command += " --disk \(disk.rawValue)" }
        return command + " --trace"
    }
}
