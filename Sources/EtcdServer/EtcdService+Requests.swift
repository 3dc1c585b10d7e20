import ConsensusCore
import MVCC

/// What the gRPC handlers call: writes go through the log, reads through ReadIndex (or the local
/// store when the client asked for a serializable read).
extension EtcdService {
    /// Proposes a command and waits for it to apply, anywhere in the cluster: a follower's engine
    /// forwards the proposal to the leader, and the entry comes back through the log.
    func write(_ command: Command) async -> WriteAnswer {
        await withCheckedContinuation { continuation in write(command) { continuation.resume(returning: $0) } }
    }

    /// `write`, answering through `completion` (on the loop's thread, or this one for a refusal),
    /// for callers that are not tasks: the gRPC server's hot path schedules no task per request.
    func write(_ command: Command, completion: @escaping @Sendable (WriteAnswer) -> Void) {
        do throws(MVCCError) {
            try MVCCStore.validator.validate(command)
        } catch {
            return completion(.failure(.store(error)))
        }
        let id = nextRequestID()
        let data = EtcdProposal(requestID: id, command: command).encoded
        guard data.count <= limits.requestBytesMax else { return completion(.failure(.requestTooLarge)) }
        if let refusal = spaceRefusal(command, proposalBytes: data.count) { return completion(.failure(refusal)) }
        guard pendingWrites.register(id, deadline: deadline, context: (), completion) else {
            return completion(.failure(.tooManyRequests))
        }
        if !replica.propose(Proposal(id: id, data: data)) {
            pendingWrites.resolve(id, .failure(.tooManyRequests))
        }
    }

    /// A linearizable read confirms the leader's commit index (ReadIndex) and waits until this
    /// node has applied it; a serializable one reads whatever this node has applied.
    func read(_ work: ReadWork, serializable: Bool) async -> ReadAnswer {
        await withCheckedContinuation { continuation in read(work, serializable: serializable) { continuation.resume(returning: $0) } }
    }

    /// `read`, answering through `completion`.
    func read(_ work: ReadWork, serializable: Bool, completion: @escaping @Sendable (ReadAnswer) -> Void) {
        if serializable || faults.staleReads {
            if !replica.perform({ [self] in evaluateOffLoop(work, completion: completion) }) { completion(.failure(.tooManyRequests)) }
            return
        }
        let id = nextRequestID()
        guard pendingReads.register(id, deadline: deadline, context: work, completion) else {
            return completion(.failure(.tooManyRequests))
        }
        if !replica.read(id), let waiter = pendingReads.take(id) {
            waiter.resume(.failure(.tooManyRequests))
        }
    }

    /// Runs `work` on the loop thread with the store, and returns its result.
    func onLoop<T: Sendable>(_ work: @escaping (EtcdService) -> T) async -> T? {
        await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
            if !replica.perform({ [self] in continuation.resume(returning: work(self)) }) {
                continuation.resume(returning: nil)
            }
        }
    }

    /// `onLoop` for work that must not be dropped (a watch create or cancel): while the loop's
    /// inbox is full, waits and tries again, which holds back the caller's stream instead. Ends
    /// when the caller's task is cancelled.
    @discardableResult
    func onLoopWaiting<T: Sendable>(_ work: @escaping (EtcdService) -> T) async throws -> T {
        var delay = Self.busyRetryDelayMin
        while true {
            if let result = await onLoop(work) { return result }
            try await Task.sleep(for: delay)
            delay = min(delay * 2, Self.busyRetryDelayMax)
        }
    }

    static var busyRetryDelayMin: Duration { .milliseconds(1) }
    static var busyRetryDelayMax: Duration { .milliseconds(50) }
}

extension MVCCStore {
    /// Validation depends only on the request, never on a store's contents (MVCCStore.validate), so
    /// handlers check requests against this empty store on their own threads.
    static let validator = MVCCStore()
}
