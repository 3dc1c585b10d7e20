import ConsensusCore
import Foundation

/// Group commit over a `WriteAheadLog`: every append waiting when the flusher comes round is
/// written with one write and made durable with one fdatasync, and each caller learns when its own
/// records are durable.
///
/// Callers may do other work between `submit` and the durability callback; that is how a leader
/// sends entries to followers while its own fsync runs, counting itself in the quorum only once
/// its callback has fired.
public final class GroupCommitLog: @unchecked Sendable {
    public typealias Completion = @Sendable (Result<Void, StorageError>) -> Void

    struct Pending {
        var records: [WALRecord]
        var completion: Completion
    }

    /// Bound of one group: past this many records, later appends wait for the next fsync. It keeps a
    /// single group's write, and the latency of its first member, bounded.
    public let groupRecordsMax: Int
    /// Bound of the queue: `submit` blocks when this many appends are waiting (back-pressure).
    public let queueAppendsMax: Int

    private let log: WriteAheadLog
    private let condition = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var failed: StorageError?
    private var thread: Thread?
    private var flushedGroups = 0

    /// Groups flushed, each with one fsync, for benchmarks and tests.
    public var groupsFlushed: Int {
        condition.lock()
        defer { condition.unlock() }
        return flushedGroups
    }

    public init(log: WriteAheadLog, groupRecordsMax: Int = 4096, queueAppendsMax: Int = 65_536) {
        self.log = log
        self.groupRecordsMax = groupRecordsMax
        self.queueAppendsMax = queueAppendsMax
        let thread = Thread { [unowned self] in self.flushLoop() }
        thread.name = "synod-wal-flusher"
        self.thread = thread
        thread.start()
    }

    /// Queues records; `completion` runs on the flusher thread once they are durable, or with the
    /// error that made that impossible. Nothing is acknowledged that is not durable.
    public func submit(_ records: [WALRecord], completion: @escaping Completion) {
        condition.lock()
        while queue.count >= queueAppendsMax && !stopping { condition.wait() }
        if let failed {
            condition.unlock()
            completion(.failure(failed))
            return
        }
        queue.append(Pending(records: records, completion: completion))
        condition.broadcast()
        condition.unlock()
    }

    /// Appends and waits until the records are durable.
    public func append(_ records: [WALRecord]) async throws(StorageError) {
        let result: Result<Void, StorageError> = await withCheckedContinuation { continuation in
            submit(records) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Flushes what is queued and stops the flusher.
    public func close() {
        condition.lock()
        stopping = true
        condition.broadcast()
        while thread != nil { condition.wait() }
        condition.unlock()
    }

    private func flushLoop() {
        while true {
            condition.lock()
            while queue.isEmpty && !stopping { condition.wait() }
            if queue.isEmpty && stopping {
                thread = nil
                condition.broadcast()
                condition.unlock()
                return
            }
            var taken = 0
            var records = 0
            while taken < queue.count, taken == 0 || records + queue[taken].records.count <= groupRecordsMax {
                records += queue[taken].records.count
                taken += 1
            }
            let group = Array(queue.prefix(taken))
            queue.removeFirst(taken)
            let earlierFailure = failed
            condition.broadcast()
            condition.unlock()

            let outcome: Result<Void, StorageError>
            if let earlierFailure {
                outcome = .failure(earlierFailure)
            } else {
                do {
                    try log.append(group.flatMap(\.records))
                    try log.sync()
                    outcome = .success(())
                } catch {
                    // A failed write or sync leaves the log in an unknown state: refuse everything after.
                    condition.lock()
                    failed = error
                    condition.unlock()
                    outcome = .failure(error)
                }
            }
            condition.lock()
            flushedGroups += 1
            condition.unlock()
            for pending in group { pending.completion(outcome) }
        }
    }
}
