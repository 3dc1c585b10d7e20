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
        while true {
            let records = (next..<(next + LogIndex(batch))).map { WALRecord.entry(Entry(index: $0, term: 1, data: Self.payload(index: $0, bytes: entryBytes))) }
            try log.append(records)
            try log.sync()
            next += LogIndex(batch)
            FileHandle.standardOutput.write("acked \(next - 1)\n".data(using: .utf8)!)
        }
    }
}
