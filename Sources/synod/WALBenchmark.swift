import ArgumentParser
import ConsensusCore
import Foundation
import Storage

struct WALBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Write-ahead log group commit: 1 KiB records at 1, 16 and 256 concurrent appenders, against raw write + fdatasync."
    )

    @Option(help: "Directory for the log (a fresh subdirectory is made and removed).") var directory: String = NSTemporaryDirectory()
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Option(help: "Record payload bytes.") var recordBytes: Int = 1024

    func run() async throws {
        for appenders in [1, 16, 256] {
            let (groupCommit, averageGroup) = try await measureGroupCommit(appenders: appenders)
            let raw = try measureRaw(batchRecords: max(1, Int(averageGroup.rounded())))
            print(String(format: "appenders=%d  log: records/s=%.0f MB/s=%.2f p50=%.3fms p99=%.3fms records/fsync=%.1f  |  raw write+fdatasync of %d records: p50=%.3fms MB/s=%.2f  |  latency ratio=%.2f bandwidth ratio=%.2f",
                         appenders, groupCommit.recordsPerSecond, groupCommit.megabytesPerSecond, groupCommit.p50 * 1e3, groupCommit.p99 * 1e3, averageGroup,
                         max(1, Int(averageGroup.rounded())), raw.p50 * 1e3, raw.megabytesPerSecond,
                         groupCommit.p50 / raw.p50, groupCommit.megabytesPerSecond / raw.megabytesPerSecond))
        }
    }

    struct Figures {
        var recordsPerSecond: Double
        var megabytesPerSecond: Double
        var p50: Double
        var p99: Double
    }

    func scratchDirectory() throws -> String {
        let path = (directory as NSString).appendingPathComponent("synod-wal-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    func measureGroupCommit(appenders: Int) async throws -> (Figures, Double) {
        let path = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, _) = try WriteAheadLog.open(directory: try PosixDirectory(path: path), segmentBytesMax: 64 << 20)
        let group = GroupCommitLog(log: log)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let payload = [UInt8](repeating: 0x5a, count: recordBytes)
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { tasks in
            for appender in 0..<appenders {
                tasks.addTask {
                    var samples: [Double] = []
                    var sequence: UInt64 = 0
                    while ContinuousClock.now < deadline {
                        let start = ContinuousClock.now
                        sequence += 1
                        try await group.append([.entry(Entry(index: UInt64(appender) << 40 | sequence, term: 1, data: payload))])
                        samples.append(secondsSince(start))
                    }
                    return samples
                }
            }
            var all: [Double] = []
            for try await samples in tasks { all += samples }
            return all.sorted()
        }
        let groups = group.groupsFlushed
        group.close()
        let records = Double(latencies.count)
        let figures = Figures(
            recordsPerSecond: records / seconds,
            megabytesPerSecond: records * Double(recordBytes) / seconds / 1e6,
            p50: quantile(latencies, 0.5) ?? 0,
            p99: quantile(latencies, 0.99) ?? 0
        )
        return (figures, records / Double(max(groups, 1)))
    }

    /// The disk's own limit: write `batchRecords` records' bytes, fdatasync, repeat.
    func measureRaw(batchRecords: Int) throws -> Figures {
        let path = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let storage = try PosixDirectory(path: path)
        let file = try storage.open("raw", create: true)
        try file.truncate(to: 64 << 20)
        let batch = [UInt8](repeating: 0x5a, count: batchRecords * (recordBytes + WALFrame.headerBytes + 17))
        var offset = 0
        var latencies: [Double] = []
        let begin = ContinuousClock.now
        while secondsSince(begin) < seconds {
            let start = ContinuousClock.now
            if offset + batch.count > 64 << 20 { offset = 0 }
            try file.write(batch, at: offset)
            try file.sync()
            offset += batch.count
            latencies.append(secondsSince(start))
        }
        file.close()
        latencies.sort()
        let elapsed = secondsSince(begin)
        return Figures(
            recordsPerSecond: Double(latencies.count * batchRecords) / elapsed,
            megabytesPerSecond: Double(latencies.count * batchRecords * recordBytes) / elapsed / 1e6,
            p50: quantile(latencies, 0.5) ?? 0,
            p99: quantile(latencies, 0.99) ?? 0
        )
    }
}
