import ArgumentParser
import ConsensusCore
import Foundation
import Storage

struct WALBenchmark: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal",
        abstract: "Write-ahead log as the node drives it: 1 KiB records of 1, 16 and 256 waiting requests appended with one fdatasync, against raw write + fdatasync."
    )

    @Option(help: "Directory for the log (a fresh subdirectory is made and removed).") var directory: String = NSTemporaryDirectory()
    @Option(name: .customLong("appenders"), parsing: .upToNextOption, help: "Concurrent appender counts to measure.")
    var appenderCounts: [Int] = [1, 16, 256]
    @Option(help: "Seconds per measurement.") var seconds: Double = 3
    @Option(help: "Record payload bytes.") var recordBytes: Int = 1024
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

    func run() throws {
        print("crc32c=\(CRC32C.isHardwareAccelerated ? "sse4.2" : "tables")")
        for appenders in appenderCounts {
            for supply in segmentSupplies {
                let batch = max(1, appenders)
                let log = try measureLog(batchRecords: batch, recycling: supply == .recycled)
                let overwrite = try measureRaw(batchRecords: batch, freshBlocks: false)
                let fresh = try measureRaw(batchRecords: batch, freshBlocks: true)
                print(String(format: "appenders=%d segments=%@  log: records/s=%.0f MB/s=%.1f p50=%.3fms p99=%.3fms records/fsync=%.1f", appenders, supply.rawValue, log.recordsPerSecond, log.megabytesPerSecond, log.p50 * 1e3, log.p99 * 1e3, Double(batch)))
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

    /// The log as the node drives it: the records of every waiting request appended (here
    /// `batchRecords`, the appenders all waiting at once) and one sync for all of them, repeated.
    /// Each round's latency is what each of its requests waited for the disk.
    func measureLog(batchRecords: Int, recycling: Bool) throws -> Figures {
        let path = try scratchDirectory()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let (log, _) = try WriteAheadLog.open(directory: try PosixDirectory(path: path), segmentBytesMax: segmentBytes)
        let payload = [UInt8](repeating: 0x5a, count: recordBytes)
        var index: LogIndex = 0
        var latencies: [Double] = []
        let begin = ContinuousClock.now
        while secondsSince(begin) < seconds {
            let start = ContinuousClock.now
            var records: [WALRecord] = []
            records.reserveCapacity(batchRecords)
            for _ in 0..<batchRecords {
                index += 1
                records.append(.entry(Entry(index: index, term: 1, data: payload)))
            }
            try log.append(records)
            try log.sync()
            latencies.append(secondsSince(start))
            // Stands in for a node's snapshots: segments behind the current one are released and
            // reused, as on a node with a small --snapshot-count.
            if recycling { try log.releaseSegments(coveredBy: index) }
        }
        let elapsed = secondsSince(begin)
        latencies.sort()
        return Figures(
            recordsPerSecond: Double(latencies.count * batchRecords) / elapsed,
            megabytesPerSecond: Double(latencies.count * batchRecords * recordBytes) / elapsed / 1e6,
            p50: quantile(latencies, 0.5) ?? 0,
            p99: quantile(latencies, 0.99) ?? 0
        )
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
