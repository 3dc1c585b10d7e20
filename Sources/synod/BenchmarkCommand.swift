import ArgumentParser
import Foundation
import Simulation

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures. Performance claims live here, not in tests.",
        subcommands: [SimulatorBenchmark.self, EngineBenchmark.self]
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
            var cluster = ThroughputCluster(batching: batching)
            let start = ContinuousClock.now
            let result = cluster.run(total: proposals, burst: burst, payloadBytes: payloadBytes)
            let wall = secondsSince(start)
            let latencies = result.commitLatencySteps.sorted()
            print(String(format: "%@: committed=%d proposals/s=%.0f MB/s=%.1f messages=%d messages/commit=%.2f steps/s=%.0f commit-latency-steps p50=%d p99=%d p999=%d",
                         label, result.committed, Double(result.committed) / wall, Double(result.entryBytes) / wall / 1e6,
                         result.messages, Double(result.messages) / Double(max(result.committed, 1)), Double(result.steps) / wall,
                         quantile(latencies, 0.5) ?? 0, quantile(latencies, 0.99) ?? 0, quantile(latencies, 0.999) ?? 0))
        }
    }
}
