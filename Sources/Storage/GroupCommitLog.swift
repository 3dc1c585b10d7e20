import ConsensusCore
import Foundation

/// Group commit over a `WriteAheadLog`: every append waiting when the writer comes round is
/// written with one write, made durable with one fdatasync, and each caller learns when its own
/// records are durable.
///
/// Two threads form a pipeline. The writer takes the waiting appends and writes them; if nothing
/// else waits it also syncs them itself (one appender pays no thread hand-off), otherwise it hands
/// the sync to the syncer and goes on writing the next group while the disk syncs this one. The
/// syncer merges every group handed to it into one fdatasync. Completions keep append order.
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
    /// Guards the appends waiting to be written. Appenders and the writer meet here.
    private let intake = NSCondition()
    private var queue: [Pending] = []
    private var stopping = false
    private var failed: StorageError?
    /// Guards the hand-off from writer to syncer: a separate lock, so an append never wakes the
    /// syncer and a sync never wakes the writer for nothing.
    private let handoff = NSCondition()
    /// Written groups waiting for the syncer, with what makes each durable.
    private var written: [(group: [Pending], point: WriteAheadLog.SyncPoint)] = []
    private var syncerBusy = false
    private var writerRunning = true
    private var syncerRunning = true
    private var flushedGroups = 0

    /// Fsyncs performed, each covering one or more groups, for benchmarks and tests.
    public var groupsFlushed: Int {
        handoff.lock()
        defer { handoff.unlock() }
        return flushedGroups
    }

    public init(log: WriteAheadLog, groupRecordsMax: Int = 4096, queueAppendsMax: Int = 65_536) {
        self.log = log
        self.groupRecordsMax = groupRecordsMax
        self.queueAppendsMax = queueAppendsMax
        let writer = Thread { [unowned self] in self.writeLoop() }
        writer.name = "synod-wal-writer"
        let syncer = Thread { [unowned self] in self.syncLoop() }
        syncer.name = "synod-wal-syncer"
        writer.start()
        syncer.start()
    }

    /// Queues records; `completion` runs on the writer or syncer thread once they are durable, or
    /// with the error that made that impossible. Nothing is acknowledged that is not durable.
    public func submit(_ records: [WALRecord], completion: @escaping Completion) {
        intake.lock()
        while queue.count >= queueAppendsMax && !stopping { intake.wait() }
        if let failed {
            intake.unlock()
            completion(.failure(failed))
            return
        }
        queue.append(Pending(records: records, completion: completion))
        // Only the writer waits on an empty queue (appenders wait on a full one), so only the first
        // append after it emptied needs to wake anybody.
        if queue.count == 1 { intake.signal() }
        intake.unlock()
    }

    /// Appends and waits until the records are durable.
    public func append(_ records: [WALRecord]) async throws(StorageError) {
        let result: Result<Void, StorageError> = await withCheckedContinuation { continuation in
            submit(records) { continuation.resume(returning: $0) }
        }
        try result.get()
    }

    /// Writes and syncs what is queued, then stops both threads.
    public func close() {
        intake.lock()
        stopping = true
        intake.broadcast()
        intake.unlock()
        handoff.lock()
        while writerRunning || syncerRunning { handoff.wait() }
        handoff.unlock()
    }

    private func writeLoop() {
        while true {
            intake.lock()
            while queue.isEmpty && !stopping { intake.wait() }
            if queue.isEmpty {
                intake.unlock()
                handoff.lock()
                writerRunning = false
                handoff.broadcast()
                handoff.unlock()
                return
            }
            let group = takeGroup()
            let earlierFailure = failed
            let moreWaiting = !queue.isEmpty
            intake.broadcast()  // Room in the queue for blocked appenders.
            intake.unlock()

            if let earlierFailure {
                complete(group, .failure(earlierFailure))
                continue
            }
            let point: WriteAheadLog.SyncPoint
            do {
                try log.append(group.flatMap(\.records))
                point = log.syncPoint()
            } catch {
                fail(group, error)
                continue
            }
            handoff.lock()
            // Alone, sync here and spare the hand-off; with more to write, let the syncer sync
            // while this thread writes the next group.
            let syncHere = !moreWaiting && !syncerBusy && written.isEmpty
            if !syncHere {
                written.append((group, point))
                handoff.broadcast()
            }
            handoff.unlock()
            if syncHere { sync([group], point) }
        }
    }

    private func syncLoop() {
        while true {
            handoff.lock()
            while written.isEmpty && writerRunning { handoff.wait() }
            if written.isEmpty {
                syncerRunning = false
                handoff.broadcast()
                handoff.unlock()
                return
            }
            let batch = written
            written.removeAll()
            syncerBusy = true
            handoff.unlock()

            sync(batch.map(\.group), .merged(batch.map(\.point)))

            handoff.lock()
            syncerBusy = false
            handoff.unlock()
        }
    }

    /// Takes the oldest waiting appends up to the group bound. Called with `intake` held.
    private func takeGroup() -> [Pending] {
        var taken = 0
        var records = 0
        while taken < queue.count, taken == 0 || records + queue[taken].records.count <= groupRecordsMax {
            records += queue[taken].records.count
            taken += 1
        }
        let group = Array(queue.prefix(taken))
        queue.removeFirst(taken)
        return group
    }

    private func sync(_ groups: [[Pending]], _ point: WriteAheadLog.SyncPoint) {
        // After a failed sync the kernel may have dropped the dirty pages it could not write, so a
        // later sync that succeeds proves nothing about them: refuse rather than acknowledge.
        intake.lock()
        let earlierFailure = failed
        intake.unlock()
        if let earlierFailure {
            for group in groups { complete(group, .failure(earlierFailure)) }
            return
        }
        do {
            try point.sync()
        } catch {
            for group in groups { fail(group, error) }
            return
        }
        handoff.lock()
        flushedGroups += 1
        handoff.unlock()
        for group in groups { complete(group, .success(())) }
    }

    /// A failed write or sync leaves the log in an unknown state: this group and everything after it
    /// is refused.
    private func fail(_ group: [Pending], _ error: StorageError) {
        intake.lock()
        if failed == nil { failed = error }
        intake.unlock()
        complete(group, .failure(error))
    }

    private func complete(_ group: [Pending], _ outcome: Result<Void, StorageError>) {
        for pending in group { pending.completion(outcome) }
    }
}
