import ArgumentParser
import Foundation
import Engines

struct EngineBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "Engine throughput: committed proposals/s through a 3-node in-memory Raft cluster, no I/O, batching on and off."
    )

    @Option(help: "Proposals per run.") var proposals: Int = 200_000
    @Option(help: "Proposals submitted between deliveries.") var burst: Int = 256
    @Option(help: "Payload bytes per proposal.") var payloadBytes: Int = 128
    @Option(help: "The engine: \(EngineRegistry.names.joined(separator: ", ")).") var engine: String = "raft"

    func validate() throws {
        guard EngineRegistry.named(engine) != nil else { throw ValidationError("\(EngineRegistry.UnknownEngine(name: engine))") }
    }

    func run() throws {
        let descriptor = try EngineRegistry.lookup(engine)
        for (label, batching) in [("batching on", true), ("batching off", false)] {
            let start = ContinuousClock.now
            let result = descriptor.throughput(proposals, burst, payloadBytes, batching)
            let wall = secondsSince(start)
            let latencies = result.commitLatencySteps.sorted()
            print(String(format: "\(engine) %@: committed=%d proposals/s=%.0f MB/s=%.1f messages=%d messages/commit=%.2f steps/s=%.0f commit-latency-steps p50=%d p99=%d p999=%d",
                         label, result.committed, Double(result.committed) / wall, Double(result.entryBytes) / wall / 1e6,
                         result.messages, Double(result.messages) / Double(max(result.committed, 1)), Double(result.steps) / wall,
                         quantile(latencies, 0.5) ?? 0, quantile(latencies, 0.99) ?? 0, quantile(latencies, 0.999) ?? 0))
        }
    }
}
