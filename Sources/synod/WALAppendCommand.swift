import ArgumentParser
import ConsensusCore
import Foundation
import Storage

/// A crash-test workload, not an operator command: appends entries to a write-ahead log forever,
/// printing "acked N" after each batch through N is durable. The storage tests kill it with SIGKILL
/// and check that every acknowledged entry survived.
struct WALAppendCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wal-append",
        abstract: "Crash-test workload: append and acknowledge write-ahead log entries until killed.",
        shouldDisplay: false
    )

    @Option(help: "The log directory.") var directory: String
    @Option(help: "Entries per synced batch.") var batch: Int = 8
    @Option(help: "Bytes per entry.") var entryBytes: Int = 1024
    @Option(help: "Segment size in bytes.") var segmentBytes: Int = 1 << 20
    @Option(help: "Every this many batches, record a snapshot marker a batch behind and release the segments it covers, so released segments are reused (0: never).")
    var snapshotEvery: Int = 0

    /// The payload of entry `index`, so a reader can check every byte.
    static func payload(index: LogIndex, bytes: Int) -> [UInt8] {
        let prefix = Array("entry-\(index)-".utf8)
        return (0..<max(bytes, prefix.count)).map { $0 < prefix.count ? prefix[$0] : UInt8(truncatingIfNeeded: Int(index) &+ $0) }
    }

    func run() throws {
        let storage = try PosixDirectory(path: directory)
        let (log, recovered) = try WriteAheadLog.open(directory: storage, segmentBytesMax: segmentBytes)
        var next = (recovered.entries.last?.index ?? 0) + 1
        if let torn = recovered.tornTail { FileHandle.standardError.write("recovery cut a torn record in \(torn.file) at offset \(torn.offset)\n".data(using: .utf8)!) }
        var batches = 0
        while true {
            batches += 1
            if snapshotEvery > 0, batches % snapshotEvery == 0, next > LogIndex(batch) + 1 {
                // Only what is already durable may be covered, as on a node.
                let covered = next - 1 - LogIndex(batch)
                try log.append([.snapshotMarker(index: covered, term: 1)])
                try log.sync()
                try log.releaseSegments(coveredBy: covered)
            }
            let records = (next..<(next + LogIndex(batch))).map { WALRecord.entry(Entry(index: $0, term: 1, data: Self.payload(index: $0, bytes: entryBytes))) }
            try log.append(records)
            try log.sync()
            next += LogIndex(batch)
            FileHandle.standardOutput.write("acked \(next - 1)\n".data(using: .utf8)!)
        }
    }
}
