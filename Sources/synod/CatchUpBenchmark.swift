import ArgumentParser
import Foundation
import RaftTestKit
import Simulation

struct CatchUpBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "catch-up",
        abstract: "Catching up a follower that missed N entries: snapshot install versus log replay (3 nodes, in memory)."
    )

    @Option(help: "Entries the follower misses.") var entries: Int = 1_000_000
    @Option(help: "Payload bytes per entry.") var payloadBytes: Int = 64

    func run() {
        for (label, snapshots) in [("snapshot install", true), ("log replay", false)] {
            var cluster = EngineBenchmarks.prepareCatchUp(entriesBehind: entries, payloadBytes: payloadBytes, snapshots: snapshots)
            let start = ContinuousClock.now
            let result = EngineBenchmarks.finishCatchUp(&cluster, entriesBehind: entries)
            let wall = secondsSince(start)
            // A modelled network: 1 ms one-way delay and 1 Gbit/s, to turn hops and bytes into time.
            let networkSeconds = Double(result.hops) * 0.001 + Double(result.bytesSent) * 8 / 1e9
            print(String(format: "%@: entries-behind=%d bytes=%d (%.1f MB) messages=%d hops=%d heartbeat-ticks=%d snapshots-installed=%d cpu=%.3fs network(1ms,1Gbit/s)=%.3fs",
                         label, result.entriesBehind, result.bytesSent, Double(result.bytesSent) / 1e6, result.messagesSent,
                         result.hops, result.ticks, result.snapshotsInstalled, wall, networkSeconds))
        }
    }
}
