import ArgumentParser

struct BenchmarkCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bench", abstract: "Benchmarks.")
}
