import ArgumentParser
import Foundation
import Raft
import RaftTestKit
import Simulation

struct TransferBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "transfer",
        abstract: "Throughput dip and recovery around a leadership transfer, in the simulator (3 nodes, no faults)."
    )

    @Option(help: "Simulated clients.") var clients: Int = 64
    @Option(help: "Width of a throughput bucket, in milliseconds.") var bucketMilliseconds: Int = 20

    func run() {
        var options = SimulationOptions.faultFree(seed: 7, nodes: 3, clients: clients, ticks: 400)
        options.leadershipTransferAtTick = 100
        options.recordCompletionTimes = true
        let report = Simulator<RaftEngine>(options: options).run()
        let bucketMicros = UInt64(bucketMilliseconds) * 1_000
        let transferMicros = UInt64(100) * options.tickMicros
        var buckets = Array(repeating: 0, count: Int(report.simulatedMicros / bucketMicros) + 1)
        for time in report.completionTimes { buckets[Int(time / bucketMicros)] += 1 }
        let transferBucket = Int(transferMicros / bucketMicros)
        let before = buckets[(transferBucket - 100)..<transferBucket]
        let baseline = Double(before.reduce(0, +)) / Double(before.count)
        // Recovered once a bucket is back to 90% of the baseline's average.
        let dip = buckets[transferBucket...].prefix { Double($0) < baseline * 0.9 }.count
        let lowest = buckets[transferBucket..<(transferBucket + max(dip, 1))].min() ?? 0
        let lost = buckets[transferBucket..<(transferBucket + dip)].reduce(0.0) { $0 + max(0, baseline - Double($1)) }
        print("violations=\(report.violations.count) operations=\(report.operationsCompleted) leaders=\(report.leadersElected)")
        print("around the transfer (\(bucketMilliseconds) ms buckets): " + buckets[(transferBucket - 5)..<(transferBucket + max(dip, 5) + 5)].map(String.init).joined(separator: " "))
        print(String(format: "baseline=%.1f ops/bucket (%.0f ops/s) dip=%d ms lowest=%d ops-lost=%.0f", baseline, baseline * 1000 / Double(bucketMilliseconds), dip * bucketMilliseconds, lowest, lost))
    }
}
