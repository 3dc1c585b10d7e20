import ConsensusCore
import Foundation
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
            let segment = UInt64(name.dropFirst("segment-".count).dropLast(".wal".count))!
            var offset = 0
            while case .record(let record, let next, _) = WALFrame.decode(bytes, at: offset, segment: segment) {
                if case .hardState = record, offset > 0 { count += 1 }
                offset = next
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

    /// Writer, syncer and completer form a pipeline, yet callers hear back in the order they
    /// appended, and only after their records are durable.
    @Test func completionsKeepAppendOrder() async throws {
        let directory = FaultyDirectory(seed: 3)
        let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
        let group = GroupCommitLog(log: log, groupRecordsMax: 7)
        let order = OrderRecorder()
        let appends = 2_000
        for index in 1...appends {
            group.submit([.entry(Entry(index: LogIndex(index), term: 1, data: [UInt8(truncatingIfNeeded: index)]))]) { outcome in
                if case .success = outcome { order.record(index) }
            }
        }
        group.close()
        #expect(order.values == Array(1...appends))
        #expect(group.groupsFlushed < appends, "no two appends shared an fsync")
        directory.crash()
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 1 << 16)
        #expect(recovered.entries.map(\.index) == Array(1...LogIndex(appends)))
    }
}

final class OrderRecorder: @unchecked Sendable {
    private let lock = NSLock()
    private var recorded: [Int] = []
    func record(_ value: Int) {
        lock.lock()
        recorded.append(value)
        lock.unlock()
    }
    var values: [Int] {
        lock.lock()
        defer { lock.unlock() }
        return recorded
    }
}
