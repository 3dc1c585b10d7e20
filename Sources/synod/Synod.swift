import ArgumentParser

@main
struct Synod: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synod",
        abstract: "Synod: a consensus toolkit and coordination service.",
        subcommands: [ServeCommand.self, UpCommand.self, StatusCommand.self, SimulateCommand.self, FuzzCommand.self, BenchmarkCommand.self, SnapshotCommand.self, CheckHistoryCommand.self, EnginesCommand.self, WALAppendCommand.self]
    )
}
