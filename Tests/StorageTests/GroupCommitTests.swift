import ConsensusCore
import Storage
import Testing

@Suite struct GroupCommitTests {
    /// Many concurrent appenders share fsyncs, and every acknowledged record is recovered.
    @Test func concurrentAppendsShareSyncsAndAllSurvive() async throws {
        let directory = FaultyDirectory(seed: 1)
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
        let group = GroupCommitLog(log: log)
        let appenders = 32, appendsEach = 20
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            for appender in 0..<appenders {
                tasks.addTask {
                    for sequence in 0..<appendsEach {
                        try await group.append([.hardState(hardState(UInt64(appender), UInt64(sequence), 0))])
                    }
                }
            }
            try await tasks.waitForAll()
        }
        let flushed = group.groupsFlushed
        group.close()
        #expect(flushed < appenders * appendsEach, "no two appends shared an fsync")
        directory.crash()
        var count = 0
        // Count hard-state records by replaying the raw segments.
        for name in try directory.list() {
            let bytes = directory.contents(of: name)!
            var offset = 0, chain: UInt32 = 0
            while case .record(let record, let next, let checksum) = WALFrame.decode(bytes, at: offset, previousChecksum: chain) {
                if case .hardState = record, offset > 0 { count += 1 }
                offset = next
                chain = checksum
            }
        }
        // Every segment after the first repeats the newest hard state once.
        #expect(count >= appenders * appendsEach)
    }

    /// After a failed write nothing more is acknowledged.
    @Test func aFailureIsReportedToEveryLaterAppend() async throws {
        let directory = FaultyDirectory(seed: 2, capacityBytes: 70_000)
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
        let group = GroupCommitLog(log: log)
        var failures = 0
        var successesAfterFailure = 0
        for index in 1...200 as ClosedRange<LogIndex> {
            do {
                try await group.append([.entry(Entry(index: index, term: 1, data: [UInt8](repeating: 7, count: 600)))])
                if failures > 0 { successesAfterFailure += 1 }
            } catch {
                failures += 1
            }
        }
        group.close()
        #expect(failures > 0)
        #expect(successesAfterFailure == 0)
    }
}
