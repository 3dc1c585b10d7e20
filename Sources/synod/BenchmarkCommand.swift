import ArgumentParser

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print figures. Performance claims live here, not in tests.",
        subcommands: [SimulatorBenchmark.self, EngineBenchmark.self, CatchUpBenchmark.self, TransferBenchmark.self, WALBenchmark.self, EtcdBenchmark.self, ZooKeeperBenchmark.self]
    )
}
