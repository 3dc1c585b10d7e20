import ArgumentParser
import Foundation
import Engines
import Simulation

struct SimulatorBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Simulator speed: a 5-node Raft cluster, default timeouts, steady client load, no faults."
    )

    @Option(help: "Seeds to run.") var seeds: UInt64 = 20
    @Option(help: "Ticks per seed (100 ms each).") var ticks: Int = 3000
    @Option(help: "Clients per seed.") var clients: Int = 8
    @Option(help: "The engine: \(EngineRegistry.names.joined(separator: ", ")).") var engine: String = "raft"

    func validate() throws {
        guard EngineRegistry.named(engine) != nil else { throw ValidationError("\(EngineRegistry.UnknownEngine(name: engine))") }
    }

    func run() throws {
        let template = SimulationOptions.faultFree(seed: 1, nodes: 5, clients: clients, ticks: ticks)
        let sweep = SeedSweep(engine: try EngineRegistry.lookup(engine).simulate, seeds: 1..<(1 + seeds), template: template)
        let start = ContinuousClock.now
        let summary = sweep.run()
        let wall = secondsSince(start)
        let simulated = Double(summary.simulatedMicros) / 1e6
        print("simulator: engine=\(engine) nodes=5 seeds=\(summary.seeds) events=\(summary.events) operations=\(summary.operationsCompleted) violations=\(summary.violations)")
        print(String(format: "events/s=%.0f operations/s=%.0f sim_time=%.1fs wall_time=%.2fs speedup=%.0fx",
                     Double(summary.events) / wall, Double(summary.operationsCompleted) / wall, simulated, wall, simulated / wall))
    }
}
