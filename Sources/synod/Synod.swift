import ArgumentParser

@main
struct Synod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synod",
        abstract: "Synod: a consensus toolkit and coordination service.",
        subcommands: [SimulateCommand.self, BenchmarkCommand.self, WALAppendCommand.self]
    )
}
