import ConsensusCore
import Foundation

/// Client requests waiting for the replica loop to answer them, by request id. Handlers register
/// from any thread; the loop resolves them. One lock, held only to insert or remove.
final class PendingRequests<Context, Answer: Sendable>: @unchecked Sendable {
    struct Waiter {
        /// Hands the answer to whoever waits: a task's continuation, or a gRPC stream's callback.
        var resume: @Sendable (Answer) -> Void
        var deadline: ContinuousClock.Instant
        /// What the loop needs to answer (a read's request, say).
        var context: Context
    }

    /// Bound of requests in flight: past it a client is told the server is busy.
    let capacity: Int
    private let lock = NSLock()
    private var waiters: [RequestID: Waiter] = [:]

    init(capacity: Int) { self.capacity = capacity }

    /// Requests waiting now (etcd's `proposals_pending`, for writes).
    var count: Int {
        lock.lock()
        defer { lock.unlock() }
        return waiters.count
    }

    /// Returns false (and registers nothing) when full.
    func register(_ id: RequestID, deadline: ContinuousClock.Instant, context: Context, _ resume: @escaping @Sendable (Answer) -> Void) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        guard waiters.count < capacity else { return false }
        precondition(waiters[id] == nil, "request id \(id) registered twice")
        waiters[id] = Waiter(resume: resume, deadline: deadline, context: context)
        return true
    }

    /// Answers a waiting request; false when nobody waits for `id` (another node's request, or one
    /// that timed out).
    @discardableResult
    func resolve(_ id: RequestID, _ answer: Answer) -> Bool {
        lock.lock()
        let waiter = waiters.removeValue(forKey: id)
        lock.unlock()
        waiter?.resume(answer)
        return waiter != nil
    }

    /// Removes a waiter to answer it later with `answer(_:_:)`.
    func take(_ id: RequestID) -> Waiter? {
        lock.lock()
        defer { lock.unlock() }
        return waiters.removeValue(forKey: id)
    }

    /// Answers every request whose deadline has passed with `answer`; returns how many there were.
    @discardableResult
    func expire(now: ContinuousClock.Instant, with answer: Answer) -> Int {
        lock.lock()
        let expired = waiters.filter { $0.value.deadline <= now }
        for id in expired.keys { waiters.removeValue(forKey: id) }
        lock.unlock()
        for waiter in expired.values { waiter.resume(answer) }
        return expired.count
    }

    /// Answers everything, at shutdown.
    func drain(with answer: Answer) {
        lock.lock()
        let all = waiters
        waiters.removeAll()
        lock.unlock()
        for waiter in all.values { waiter.resume(answer) }
    }
}
