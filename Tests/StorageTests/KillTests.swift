import ConsensusCore
import Foundation
import Storage
import Testing

/// The real thing: a child process appends and acknowledges entries on a real disk and is killed
/// with SIGKILL at random points, over many rounds. Every acknowledged entry must be there after
/// recovery, in order and byte for byte.
@Suite struct KillTests {
    static var synodExecutable: URL {
        // The test bundle sits next to the products of the same build.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synod")
    }

    /// With `snapshots`, the child also records snapshot markers and releases segments, so later
    /// segments reuse released files that still hold old records.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: KillTests.synodExecutable.path)), arguments: [false, true])
    func acknowledgedEntriesSurviveSIGKILL(snapshots: Bool) throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("synod-kill-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        // Kill timing is real time, so runs differ anyway; the seed only varies how long each child lives.
        let seed = UInt64(Date().timeIntervalSince1970)
        var random = SeededRandom(seed: seed)
        var acknowledged: LogIndex = 0
        let rounds = 12
        for round in 0..<rounds {
            let child = Process()
            child.executableURL = Self.synodExecutable
            child.arguments = ["wal-append", "--directory", directory.path, "--segment-bytes", "65536"] + (snapshots ? ["--snapshot-every", "5"] : [])
            let output = Pipe()
            child.standardOutput = output
            child.standardError = FileHandle.nullDevice
            try child.run()
            // Let it acknowledge a random number of batches, then kill it mid-stream.
            let wanted = random.int(in: 1..<40)
            var seen = 0
            var buffer = Data()
            let reader = output.fileHandleForReading
            while seen < wanted {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                buffer.append(chunk)
                let lines = String(decoding: buffer, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
                for line in lines.dropLast() where line.hasPrefix("acked ") {
                    acknowledged = max(acknowledged, LogIndex(line.dropFirst(6)) ?? 0)
                    seen += 1
                }
                buffer = Data(lines.last.map { Array($0.utf8) } ?? [])
            }
            kill(child.processIdentifier, SIGKILL)
            child.waitUntilExit()
            #expect(child.terminationReason == .uncaughtSignal, "round \(round): the child was not killed")
            // Anything acknowledged before the kill but still in the pipe counts too.
            let rest = String(decoding: buffer + reader.readDataToEndOfFile(), as: UTF8.self)
            for line in rest.split(separator: "\n") where line.hasPrefix("acked ") {
                acknowledged = max(acknowledged, LogIndex(line.dropFirst(6)) ?? 0)
            }
            let (_, recovered) = try WriteAheadLog.open(directory: try PosixDirectory(path: directory.path), segmentBytesMax: 65536)
            let indexes = recovered.entries.map(\.index)
            let base = recovered.snapshot?.index ?? 0
            #expect(snapshots || base == 0)
            let top = indexes.last ?? base
            #expect(top >= acknowledged, "seed \(seed) round \(round): \(acknowledged) acknowledged, \(top) recovered")
            #expect(indexes == Array(stride(from: base + 1, through: top, by: 1)), "round \(round): entries out of order after \(base)")
            for entry in recovered.entries where entry.index <= acknowledged && entry.data != Self.payload(index: entry.index) {
                Issue.record("round \(round): entry \(entry.index) has the wrong bytes")
                break
            }
        }
        #expect(acknowledged > 0)
    }

    /// Mirrors `WALAppendCommand.payload` with its default size.
    static func payload(index: LogIndex) -> [UInt8] {
        let prefix = Array("entry-\(index)-".utf8)
        return (0..<max(1024, prefix.count)).map { $0 < prefix.count ? prefix[$0] : UInt8(truncatingIfNeeded: Int(index) &+ $0) }
    }
}
