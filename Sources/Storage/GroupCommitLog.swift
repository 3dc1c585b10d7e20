import ConsensusCore
import Foundation

/// Group commit over a `WriteAheadLog`: every append waiting when the writer comes round is
/// written with one write, made durable with one fdatasync, and each caller learns when its own
/// records are durable.
///
/// Three threads form a pipeline. The writer takes the waiting appends and writes them; a lone
/// append it also syncs and completes itself (one appender pays no thread hand-off). Otherwise it
/// hands the sync to the syncer and goes on writing the next group while the disk syncs this one.
/// The syncer merges every group handed to it into one fdatasync and passes the synced groups to
/// the completer, so it can start the next fdatasync while callers are told; the appends those
/// callers make in their callbacks are written meanwhile. Without that third stage, closed-loop
/// appenders fall into lockstep (write, sync, complete, write…) and the disk idles while callbacks
/// run. Completions keep append order.
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
    /// The newest snapshot index whose segments the writer should release before its next write.
    private var releaseRequested: LogIndex?
    /// Guards the hand-off from writer to syncer: a separate lock, so an append never wakes the
    /// syncer and a sync never wakes the writer for nothing.
    private let handoff = NSCondition()
    /// Written groups waiting for the syncer, with what makes each durable.
    private var written: [(group: [Pending], point: WriteAheadLog.SyncPoint)] = []
    private var syncerBusy = false
    private var writerRunning = true
    private var syncerRunning = true
    /// Guards synced (or failed) groups waiting for their callers to be told.
    /// Lock order: `intake`, then `handoff`, then `finishing`; never the other way.
    private let finishing = NSCondition()
    private var finished: [(group: [Pending], outcome: Result<Void, StorageError>)] = []
    private var completerBusy = false
    private var completerRunning = true
    private var syncerStopped = false
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
        let completer = Thread { [unowned self] in self.completeLoop() }
        completer.name = "synod-wal-completer"
        writer.start()
        syncer.start()
        completer.start()
    }

    /// Queues records; `completion` runs on the writer or completer thread once they are durable, or
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

    /// Releases the segments a durable snapshot through `index` covers (see
    /// `WriteAheadLog.releaseSegments`). The writer does it before it writes its next group, since
    /// only its thread touches the log.
    public func releaseSegments(coveredBy index: LogIndex) {
        intake.lock()
        releaseRequested = max(releaseRequested ?? 0, index)
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
        finishing.lock()
        while completerRunning { finishing.wait() }
        finishing.unlock()
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
            let release = releaseRequested
            releaseRequested = nil
            let earlierFailure = failed
            let moreWaiting = !queue.isEmpty
            intake.broadcast()  // Room in the queue for blocked appenders.
            intake.unlock()

            if let earlierFailure {
                enqueueCompletion([group], .failure(earlierFailure))
                continue
            }
            let point: WriteAheadLog.SyncPoint
            do {
                if let release { try log.releaseSegments(coveredBy: release) }
                try log.append(group.flatMap(\.records))
                point = try log.syncPoint()
            } catch {
                fail(group, error)
                continue
            }
            handoff.lock()
            // A lone append with the pipeline empty is synced and completed here, sparing two
            // hand-offs. Anything more goes down the pipeline, so that this thread can write the
            // next group while this one syncs and its callers are told.
            let syncHere = group.count == 1 && !moreWaiting && !syncerBusy && written.isEmpty && pipelineDrained()
            if !syncHere {
                written.append((group, point))
                handoff.broadcast()
            }
            handoff.unlock()
            if syncHere { sync([group], point, completeInline: true) }
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
                finishing.lock()
                syncerStopped = true  // The completer stops once the syncer has.
                finishing.broadcast()
                finishing.unlock()
                return
            }
            let batch = written
            written.removeAll()
            syncerBusy = true
            handoff.unlock()

            sync(batch.map(\.group), .merged(batch.map(\.point)), completeInline: false)

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

    /// Tells the callers of synced groups, in order, off the syncer's thread.
    private func completeLoop() {
        while true {
            finishing.lock()
            while finished.isEmpty && !syncerStopped { finishing.wait() }
            if finished.isEmpty {
                completerRunning = false
                finishing.broadcast()
                finishing.unlock()
                return
            }
            let batch = finished
            finished.removeAll()
            completerBusy = true
            finishing.unlock()

            for (group, outcome) in batch { complete(group, outcome) }

            finishing.lock()
            completerBusy = false
            finishing.unlock()
        }
    }

    /// Whether no synced group still waits to be completed: a lone append may then be completed
    /// inline without overtaking an earlier one.
    private func pipelineDrained() -> Bool {
        finishing.lock()
        defer { finishing.unlock() }
        return finished.isEmpty && !completerBusy
    }

    /// Hands outcomes to the completer, in the order they were decided.
    private func enqueueCompletion(_ groups: [[Pending]], _ outcome: Result<Void, StorageError>) {
        finishing.lock()
        for group in groups { finished.append((group, outcome)) }
        finishing.signal()
        finishing.unlock()
    }

    private func sync(_ groups: [[Pending]], _ point: WriteAheadLog.SyncPoint, completeInline: Bool) {
        // After a failed sync the kernel may have dropped the dirty pages it could not write, so a
        // later sync that succeeds proves nothing about them: refuse rather than acknowledge.
        intake.lock()
        let earlierFailure = failed
        intake.unlock()
        let outcome: Result<Void, StorageError>
        if let earlierFailure {
            outcome = .failure(earlierFailure)
        } else {
            do {
                try point.sync()
                handoff.lock()
                flushedGroups += 1
                handoff.unlock()
                outcome = .success(())
            } catch {
                recordFailure(error)
                outcome = .failure(error)
            }
        }
        if completeInline {
            for group in groups { complete(group, outcome) }
        } else {
            enqueueCompletion(groups, outcome)
        }
    }

    /// A failed write or sync leaves the log in an unknown state: this group and everything after it
    /// is refused.
    private func fail(_ group: [Pending], _ error: StorageError) {
        recordFailure(error)
        enqueueCompletion([group], .failure(error))
    }

    private func recordFailure(_ error: StorageError) {
        intake.lock()
        if failed == nil { failed = error }
        intake.unlock()
    }

    private func complete(_ group: [Pending], _ outcome: Result<Void, StorageError>) {
        for pending in group { pending.completion(outcome) }
    }
}
