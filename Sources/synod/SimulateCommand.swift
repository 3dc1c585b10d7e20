import ArgumentParser
import Engines
import EtcdSimulation
import Foundation
import Simulation
import ZooKeeperSimulation

struct SimulateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sim",
        abstract: "Run the deterministic simulator over many seeds and report safety, linearizability and liveness violations."
    )

    @Option(help: "The engine to simulate: \(EngineRegistry.names.joined(separator: ", ")).")
    var engine: String = "raft"

    @Option(help: "The service the nodes run: etcd (the real etcd service: MVCC store, lessor, watches) or kv (the simulator's own registers, faster).")
    var service: String = "etcd"

    @Option(help: "How many seeds to run.")
    var seeds: UInt64 = 1

    @Option(help: "The first seed; seeds run from here upwards. Give one failing seed to replay it.")
    var seed: UInt64 = 1

    @Option(help: "Cluster size (1 to 7). By default each seed picks 3 or 5.")
    var nodes: Int?

    @Option(help: "Ticks per seed (100 ms each): the fault phase followed by the heal phase.")
    var ticks: Int = 1000

    @Option(help: "Ticks of the heal phase, at the end of each seed, in which progress is required.")
    var healTicks: Int = 400

    @Option(help: "Simulated clients per seed.")
    var clients: Int = 4

    @Option(help: "Each node's disk: model (the simulator's model of a disk, fast) or wal (the node's own write-ahead log and snapshot files on a faulty in-memory disk, recovered and checked at every crash).")
    var disk: SimulatedDisk = .model

    @Flag(help: "Print every event of every seed (use with one seed).")
    var trace = false

    @Flag(help: "Stop at the first failing seed.")
    var failFast = false

    func validate() throws {
        guard EngineRegistry.named(engine) != nil else { throw ValidationError("\(EngineRegistry.UnknownEngine(name: engine))") }
        guard ["etcd", "zookeeper", "kv"].contains(service) else { throw ValidationError("unknown service '\(service)'; expected etcd, zookeeper or kv") }
        if let nodes, !(1...7).contains(nodes) { throw ValidationError("--nodes must be between 1 and 7, not \(nodes)") }
        guard healTicks > 200 else { throw ValidationError("--heal-ticks must exceed the 200-tick liveness bound") }
        guard ticks > healTicks else { throw ValidationError("--ticks must exceed --heal-ticks (\(healTicks))") }
        guard seeds >= 1 else { throw ValidationError("--seeds must be at least 1") }
    }

    func run() throws {
        var template = SimulationOptions(seed: seed)
        template.nodeCount = nodes
        template.healPhaseTicks = healTicks
        template.faultPhaseTicks = ticks - template.healPhaseTicks
        template.clientCount = clients
        template.recordFullTrace = trace
        template.disk = disk
        let sweep = SeedSweep(
            engine: try EngineRegistry.lookup(engine).simulate, seeds: seed..<(seed + seeds), template: template,
            service: service == "etcd" ? EtcdSimulatedService.factory : service == "zookeeper" ? ZooKeeperSimulatedService.factory : nil)
        let progress = ProgressBar(total: Int(seeds))
        let started = ContinuousClock.now
        let summary = sweep.run { report in
            if trace { report.fullTrace.forEach { print($0) } }
            if !report.passed { printFailure(report) }
            progress.advance(label: "seed \(report.seed)", failed: !report.passed)
            return !(failFast && !report.passed)
        }
        progress.finish()
        let wall = ContinuousClock.now - started
        let wallSeconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        let simSeconds = Double(summary.simulatedMicros) / 1e6
        print("engine=\(engine) service=\(service) disk=\(disk.rawValue) seeds=\(summary.seeds) operations=\(summary.operationsCompleted) leaders=\(summary.leadersElected) configurations=\(summary.configurationsCommitted) snapshot-restores=\(summary.snapshotsRestored) replaced-nodes=\(summary.nodesReplaced) events/s=\(Int(Double(summary.events) / max(wallSeconds, 1e-9))) speedup=\(Int(simSeconds / max(wallSeconds, 1e-9)))x")
        let counters = summary.counters.keys.sorted().map { " \($0)=\(summary.counters[$0]!)" }.joined()
        print("seeds=\(summary.seeds)\(counters) violations=\(summary.violations) unknown=\(summary.unknown) events=\(summary.events) faults=\(summary.faults) sim_time=\(format(simSeconds))s wall_time=\(format(wallSeconds))s")
        if summary.violations > 0 { throw ExitCode.failure }
    }

    func printFailure(_ report: SimulationReport) {
        print("FAILED seed=\(report.seed) nodes=\(report.nodeCount) (replay: \(report.replayCommand(engine: engine, service: service, clients: clients)))")
        for violation in report.violations { print("  violation: \(violation)") }
        print("  last events:")
        for line in report.traceTail { print("    \(line)") }
    }

    func format(_ value: Double) -> String { String(format: "%.2f", value) }
}

extension SimulatedDisk: ExpressibleByArgument {}
