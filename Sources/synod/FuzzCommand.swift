import ArgumentParser
import RaftTestKit
import Simulation

/// `synod fuzz peer`: feeds Raft engines random well-formed peer messages under honest load, for
/// as many seeds and steps as asked (the default test run does 40 seeds of 5,000 steps per mode).
struct FuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fuzz",
        abstract: "Fuzz the peer-message boundary: the engines in the simulator, or a running node.",
        subcommands: [PeerFuzzCommand.self, LivePeerFuzzCommand.self]
    )
}

struct PeerFuzzCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "peer", abstract: "Random peer messages into a 3-node Raft cluster.")

    @Option(help: "any-fields (no trap, invariants hold) or boundary-only (all dropped, cluster safe).") var mode: String = PeerFuzz.Mode.anyFields.rawValue
    @Option(help: "First seed.") var seed: UInt64 = 1
    @Option(help: "Number of seeds.") var seeds: Int = 100
    @Option(help: "Steps per seed.") var steps: Int = 10_000

    func run() throws {
        guard let mode = PeerFuzz.Mode(rawValue: mode) else { throw ValidationError("--mode must be any-fields or boundary-only, not \(mode)") }
        guard seeds > 0, steps > 0, seeds <= 100_000_000, steps <= 100_000_000 else { throw ValidationError("--seeds and --steps must be between 1 and 100000000") }
        var totals = (steps: 0, injected: 0, dropped: 0, failed: 0)
        for offset in 0..<UInt64(seeds) {
            let report = PeerFuzz.run(seed: seed &+ offset, steps: steps, mode: mode)
            totals.steps += report.steps
            totals.injected += report.injected
            totals.dropped += report.dropped
            if !report.passed {
                totals.failed += 1
                print("seed \(report.seed) FAILED:")
                for violation in report.violations { print("  \(violation)") }
                print("  replay: synod fuzz peer --mode \(mode.rawValue) --seed \(report.seed) --seeds 1 --steps \(steps)")
            }
        }
        print("mode=\(mode.rawValue) seeds=\(seeds) steps=\(totals.steps) injected=\(totals.injected) dropped=\(totals.dropped) failed=\(totals.failed)")
        if totals.failed > 0 { throw ExitCode.failure }
    }
}
