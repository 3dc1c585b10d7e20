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
    @Option(name: .customLong("appenders"), parsing: .upToNextOption, help: "Concurrent appender counts to measure.")
    var appenderCounts: [Int] = [1, 16, 256]
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Option(help: "Record payload bytes.") var recordBytes: Int = 1024
    @Flag(help: "Appenders are Swift tasks awaiting `append` (measures the async API and task scheduling too), instead of closed-loop completion callbacks as the node uses the log.")
    var asyncTasks = false
    @Option(help: "Records per group (one write); later appends wait for the next.") var groupRecordsMax: Int = 4096
    @Option(help: "Segment size in bytes.") var segmentBytes: Int = 64 << 20

    /// Where the log's new segments come from. A node that snapshots releases old segments and
    /// the log reuses their files; a log that only grows zero-fills every new segment, writing each
    /// byte twice.
    enum SegmentSupply: String, ExpressibleByArgument, CaseIterable {
        case recycled = "recycled"
        case zeroFilled = "zero-filled"
    }

    @Option(name: .customLong("segments"), parsing: .upToNextOption, help: "Segment supplies to measure: recycled (released segments reused, as on a node that snapshots), zero-filled (a log that only grows).")
    var segmentSupplies: [SegmentSupply] = SegmentSupply.allCases

    func run() async throws {
        print("crc32c=\(CRC32C.isHardwareAccelerated ? "sse4.2" : "tables") appenders=\(asyncTasks ? "async tasks" : "completion callbacks")")
        for appenders in appenderCounts {
            for supply in segmentSupplies {
                let (log, averageGroup) = try await measureGroupCommit(appenders: appenders, recycling: supply == .recycled)
                let batch = max(1, Int(averageGroup.rounded()))
                let overwrite = try measureRaw(batchRecords: batch, freshBlocks: false)
                let fresh = try measureRaw(batchRecords: batch, freshBlocks: true)
                print(String(format: "appenders=%d segments=%@  log: records/s=%.0f MB/s=%.1f p50=%.3fms p99=%.3fms records/fsync=%.1f", appenders, supply.rawValue, log.recordsPerSecond, log.megabytesPerSecond, log.p50 * 1e3, log.p99 * 1e3, averageGroup))
                for (name, raw) in [("raw overwrite", overwrite), ("raw into fresh blocks", fresh)] {
                    print(String(format: "    %@ of %d records + fdatasync: p50=%.3fms MB/s=%.1f  ->  log latency ratio=%.2f bandwidth ratio=%.2f",
                                 name, batch, raw.p50 * 1e3, raw.megabytesPerSecond, log.p50 / raw.p50, log.megabytesPerSecond / raw.megabytesPerSecond))
                }
            }
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

    func measureGroupCommit(appenders: Int, recycling: Bool) async throws -> (Figures, Double) {
        let path = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, _) = try WriteAheadLog.open(directory: try PosixDirectory(path: path), segmentBytesMax: segmentBytes)
        let group = GroupCommitLog(log: log, groupRecordsMax: groupRecordsMax)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        let payload = [UInt8](repeating: 0x5a, count: recordBytes)
        if recycling {
            // Stands in for a node's snapshots: every segment but the current one is released soon
            // after the log moves on, as a node with a small --snapshot-count releases them.
            Thread.detachNewThread {
                while ContinuousClock.now < deadline {
                    group.releaseSegments(coveredBy: .max)
                    Thread.sleep(forTimeInterval: 0.005)
                }
            }
        }
        let latencies: [Double]
        if asyncTasks {
            latencies = try await withThrowingTaskGroup(of: [Double].self) { tasks in
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
        } else {
            let running = (0..<appenders).map { CallbackAppender(number: UInt64($0), log: group, payload: payload, deadline: deadline) }
            for appender in running { appender.appendNext() }
            for appender in running { await appender.finished() }
            latencies = running.flatMap(\.samples).sorted()
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

    /// The disk's own limit: write `batchRecords` records' bytes, fdatasync, repeat. Overwriting
    /// reuses blocks already written; with `freshBlocks`, every write lands in newly preallocated
    /// space, as an append-only log's always does (the file system must then record that the
    /// blocks now hold data, which the sync also waits for).
    func measureRaw(batchRecords: Int, freshBlocks: Bool) throws -> Figures {
        let path = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let storage = try PosixDirectory(path: path)
        let fileBytes = 64 << 20
        var fileNumber = 0
        func nextFile() throws -> StorageFile {
            fileNumber += 1
            let file = try storage.open("raw-\(fileNumber)", create: true)
            try file.truncate(to: fileBytes)
            if fileNumber > 2 { try? storage.remove("raw-\(fileNumber - 2)") }
            return file
        }
        var file = try nextFile()
        let batch = [UInt8](repeating: 0x5a, count: batchRecords * (recordBytes + WALFrame.headerBytes + 17))
        var offset = 0
        var latencies: [Double] = []
        let begin = ContinuousClock.now
        while secondsSince(begin) < seconds {
            if offset + batch.count > fileBytes {
                offset = 0
                if freshBlocks { file = try nextFile() }
            }
            let start = ContinuousClock.now
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

/// One closed-loop appender driven by completion callbacks: it submits a record, and its callback
/// records the latency and submits the next, until the deadline. No task is scheduled per record,
/// as in the node, whose engine loop submits and is called back.
final class CallbackAppender: @unchecked Sendable {
    let number: UInt64
    let log: GroupCommitLog
    let payload: [UInt8]
    let deadline: ContinuousClock.Instant
    /// Touched only by the callback chain, which runs one link at a time.
    var samples: [Double] = []
    var sequence: UInt64 = 0
    let done = DispatchSemaphore(value: 0)

    init(number: UInt64, log: GroupCommitLog, payload: [UInt8], deadline: ContinuousClock.Instant) {
        self.number = number
        self.log = log
        self.payload = payload
        self.deadline = deadline
    }

    func appendNext() {
        guard ContinuousClock.now < deadline else {
            done.signal()
            return
        }
        sequence += 1
        let start = ContinuousClock.now
        log.submit([.entry(Entry(index: number << 40 | sequence, term: 1, data: payload))]) { outcome in
            guard case .success = outcome else {
                self.done.signal()
                return
            }
            self.samples.append(secondsSince(start))
            self.appendNext()
        }
    }

    func finished() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async {
                self.done.wait()
                continuation.resume()
            }
        }
    }
}
