import ArgumentParser
import Foundation
import Raft
import Simulation

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures. Performance claims live here, not in tests.",
        subcommands: [SimulatorBenchmark.self, EngineBenchmark.self, CatchUpBenchmark.self, TransferBenchmark.self]
    )
}

/// Seconds elapsed since `start`, as a Double.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// The value at quantile `q` (0...1) of `samples`, which must be sorted.
func quantile<T>(_ samples: [T], _ q: Double) -> T? {
    guard !samples.isEmpty else { return nil }
    return samples[min(samples.count - 1, Int(Double(samples.count) * q))]
}

struct SimulatorBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulator speed: a 5-node Raft cluster, default timeouts, steady client load, no faults."
    )

    @Option(help: "Seeds to run.") var seeds: UInt64 = 20
    @Option(help: "Ticks per seed (100 ms each).") var ticks: Int = 3000
    @Option(help: "Clients per seed.") var clients: Int = 8

    func run() {
        var template = SimulationOptions(seed: 1)
        template.nodeCount = 5
        template.clientCount = clients
        template.faultPhaseTicks = 0
        template.healPhaseTicks = ticks
        template.livenessBoundTicks = 200
        let sweep = SeedSweep(engine: .raft, seeds: 1..<(1 + seeds), template: template)
        let start = ContinuousClock.now
        let summary = sweep.run()
        let wall = secondsSince(start)
        let simulated = Double(summary.simulatedMicros) / 1e6
        print("simulator: nodes=5 seeds=\(summary.seeds) events=\(summary.events) operations=\(summary.operationsCompleted) violations=\(summary.violations)")
        print(String(format: "events/s=%.0f operations/s=%.0f sim_time=%.1fs wall_time=%.2fs speedup=%.0fx",
                     Double(summary.events) / wall, Double(summary.operationsCompleted) / wall, simulated, wall, simulated / wall))
    }
}

struct EngineBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Engine throughput: committed proposals/s through a 3-node in-memory Raft cluster, no I/O, batching on and off."
    )

    @Option(help: "Proposals per run.") var proposals: Int = 200_000
    @Option(help: "Proposals submitted between deliveries.") var burst: Int = 256
    @Option(help: "Payload bytes per proposal.") var payloadBytes: Int = 128

    func run() {
        for (label, batching) in [("batching on", true), ("batching off", false)] {
            let start = ContinuousClock.now
            let result = EngineBenchmarks.throughput(total: proposals, burst: burst, payloadBytes: payloadBytes, batching: batching)
            let wall = secondsSince(start)
            let latencies = result.commitLatencySteps.sorted()
            print(String(format: "%@: committed=%d proposals/s=%.0f MB/s=%.1f messages=%d messages/commit=%.2f steps/s=%.0f commit-latency-steps p50=%d p99=%d p999=%d",
                         label, result.committed, Double(result.committed) / wall, Double(result.entryBytes) / wall / 1e6,
                         result.messages, Double(result.messages) / Double(max(result.committed, 1)), Double(result.steps) / wall,
                         quantile(latencies, 0.5) ?? 0, quantile(latencies, 0.99) ?? 0, quantile(latencies, 0.999) ?? 0))
        }
    }
}

struct CatchUpBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "Catching up a follower that missed N entries: snapshot install versus log replay (3 nodes, in memory)."
    )

    @Option(help: "Entries the follower misses.") var entries: Int = 1_000_000
    @Option(help: "Payload bytes per entry.") var payloadBytes: Int = 64

    func run() {
        for (label, snapshots) in [("snapshot install", true), ("log replay", false)] {
            var cluster = EngineBenchmarks.prepareCatchUp(entriesBehind: entries, payloadBytes: payloadBytes, snapshots: snapshots)
            let start = ContinuousClock.now
            let result = EngineBenchmarks.finishCatchUp(&cluster, entriesBehind: entries)
            let wall = secondsSince(start)
            print(String(format: "%@: entries-behind=%d bytes=%d (%.1f MB) messages=%d heartbeat-ticks=%d snapshots-installed=%d wall=%.2fs",
                         label, result.entriesBehind, result.bytesSent, Double(result.bytesSent) / 1e6, result.messagesSent,
                         result.ticks, result.snapshotsInstalled, wall))
        }
    }
}

struct TransferBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Throughput dip and recovery around a leadership transfer, in the simulator (3 nodes, no faults)."
    )

    @Option(help: "Simulated clients.") var clients: Int = 64
    @Option(help: "Width of a throughput bucket, in milliseconds.") var bucketMilliseconds: Int = 20

    func run() {
        var options = SimulationOptions(seed: 7)
        options.nodeCount = 3
        options.clientCount = clients
        options.faultPhaseTicks = 0
        options.healPhaseTicks = 400
        options.livenessBoundTicks = 200
        options.leadershipTransferAtTick = 100
        options.recordCompletionTimes = true
        let report = Simulator<RaftEngine>(options: options).run()
        let bucketMicros = UInt64(bucketMilliseconds) * 1_000
        let transferMicros = UInt64(100) * options.tickMicros
        var buckets = Array(repeating: 0, count: Int(report.simulatedMicros / bucketMicros) + 1)
        for time in report.completionTimes { buckets[Int(time / bucketMicros)] += 1 }
        let transferBucket = Int(transferMicros / bucketMicros)
        let before = buckets[(transferBucket - 100)..<transferBucket]
        let baseline = Double(before.reduce(0, +)) / Double(before.count)
        // Recovered once a bucket is back to 90% of the baseline's average.
        let dip = buckets[transferBucket...].prefix { Double($0) < baseline * 0.9 }.count
        let lowest = buckets[transferBucket..<(transferBucket + max(dip, 1))].min() ?? 0
        let lost = buckets[transferBucket..<(transferBucket + dip)].reduce(0.0) { $0 + max(0, baseline - Double($1)) }
        print("violations=\(report.violations.count) operations=\(report.operationsCompleted) leaders=\(report.leadersElected)")
        print("around the transfer (\(bucketMilliseconds) ms buckets): " + buckets[(transferBucket - 5)..<(transferBucket + max(dip, 5) + 5)].map(String.init).joined(separator: " "))
        print(String(format: "baseline=%.1f ops/bucket (%.0f ops/s) dip=%d ms lowest=%d ops-lost=%.0f", baseline, baseline * 1000 / Double(bucketMilliseconds), dip * bucketMilliseconds, lowest, lost))
    }
}
