import ArgumentParser
import Engines

/// `synod engines`: the consensus engines this build holds, one per line, so scripts can run a
/// suite on each (`for engine in $(synod engines --names)`), and people can see what each is.
struct EnginesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engines",
        abstract: "List the consensus engines this build holds (--engine of serve, up and sim).")

    @Flag(help: "Names only, one per line.") var names = false

    func run() {
        for descriptor in EngineRegistry.all {
            print(names ? descriptor.name : "\(descriptor.name)\t\(descriptor.summary)")
        }
    }
}
