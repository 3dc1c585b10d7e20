import ConsensusCore
import Linearizability

extension Simulator {
    /// Attempts time out after this many ticks and are retried.
    var attemptTimeoutTicks: UInt64 { 40 }
    /// In the fault phase a client gives up on an operation after this many ticks.
    var faultPhaseDeadlineTicks: UInt64 { 150 }

    func wakeClient(_ index: Int) {
        guard let operation = clients[index].operation else {
            startOperation(client: index)
            return
        }
        if now >= operation.deadline {
            if operation.mustComplete {
                report.violations.append("liveness: client \(index) could not complete \(operation.input) within \(options.livenessBoundTicks) ticks of healing")
            }
            recordAbandoned(client: index, operation)
            clients[index].operation = nil
            scheduleThink(client: index)
            return
        }
        guard now >= operation.currentAttemptDeadline else { return }
        if !operation.attempts.isEmpty && operation.mayHaveTakenEffect && !service.retriesWritesSafely {
            // The write may have applied: sending it again could apply it twice. The client gives
            // up, as an etcd client reports a timed-out put, and the history keeps it indeterminate.
            return abandonIndeterminate(client: index, operation)
        }
        if !operation.attempts.isEmpty {
            // The last attempt went unanswered: that node may be cut off, or no longer a member. Try
            // the next endpoint, as client libraries do, so every node is tried within a few timeouts.
            clients[index].preferredNode = (clients[index].preferredNode + 1) % nodeCount
            trace.record(.client(index, sequence: operation.sequence, .timedOut(retryAt: clients[index].preferredNode)), at: now)
        }
        attempt(client: index)
    }

    /// Starts the client's next operation. `inheritedDeadline` is the deadline of a write the
    /// client gave up on as indeterminate after healing: the client must still complete an
    /// operation by then, so liveness is required of the service, not of one lost request.
    func startOperation(client index: Int, inheritedDeadline: UInt64? = nil) {
        guard now <= lastIssueTime || inheritedDeadline != nil else { return }
        let input = clients[index].nextInput(keyCount: options.keyCount, multiKey: service.takesMultiKeyOperations, random: &random)
        let deadlineTicks = healed ? UInt64(options.livenessBoundTicks) : faultPhaseDeadlineTicks
        let operation = SimulatedClient.Operation(
            input: input,
            sequence: clients[index].sequence,
            invokedAt: now,
            deadline: inheritedDeadline ?? now + deadlineTicks * options.tickMicros,
            mustComplete: healed
        )
        trace.record(.client(index, sequence: operation.sequence, .invoke(input)), at: now)
        clients[index].operation = operation
        attempt(client: index)
    }

    /// Sends the current operation to the client's preferred node's service; a crashed node
    /// refuses the connection. The operation is stored before the service sees it, because the
    /// answer may come at once.
    func attempt(client index: Int) {
        guard var operation = clients[index].operation else { return }
        let node = clients[index].preferredNode
        guard nodes[node].host != nil else {
            clients[index].preferredNode = random.int(in: 0..<nodeCount)
            operation.currentAttemptDeadline = now + options.tickMicros
            clients[index].operation = operation
            scheduleWake(client: index, at: operation.currentAttemptDeadline)
            return
        }
        let attempt = RequestID(nextRequestID)
        nextRequestID += 1
        operation.attempts[attempt] = node
        operation.currentAttemptDeadline = now + attemptTimeoutTicks * options.tickMicros
        if case .get = operation.input {} else { operation.mayHaveTakenEffect = true }
        clients[index].operation = operation
        scheduleWake(client: index, at: min(operation.currentAttemptDeadline, operation.deadline))
        service.submit(operation.input, client: index, sequence: operation.sequence, to: node) { [unowned self] answer in
            answered(client: index, attempt: attempt, answer)
        }
    }

    /// A service answered one attempt of a client's operation.
    func answered(client index: Int, attempt: RequestID, _ answer: ServiceAnswer) {
        guard var operation = clients[index].operation, operation.attempts.removeValue(forKey: attempt) != nil else { return }
        switch answer {
        case .output(let output):
            complete(client: index, sequence: operation.sequence, output: output)
        case .refused(let reason):
            clients[index].operation = operation
            attemptRefused(client: index, reason: reason)
        case .unknown:
            if case .get = operation.input {
                clients[index].operation = operation
                return attemptRefused(client: index, reason: nil)
            }
            // A write without a session may have applied: retrying it could apply it twice, so the
            // client gives up on it, and the history keeps it as indeterminate.
            abandonIndeterminate(client: index, operation)
        }
    }

    /// Gives up on a write that may have applied. After healing the client goes on at once with a
    /// new operation that must complete by the abandoned one's deadline.
    func abandonIndeterminate(client index: Int, _ operation: SimulatedClient.Operation) {
        recordAbandoned(client: index, operation)
        clients[index].operation = nil
        if operation.mustComplete {
            startOperation(client: index, inheritedDeadline: operation.deadline)
        } else {
            scheduleThink(client: index)
        }
    }

    /// The attempt had no effect: try again shortly, where the refusal points.
    func attemptRefused(client index: Int, reason: RequestRejection?) {
        guard var operation = clients[index].operation else { return }
        switch reason {
        case .notLeader(let leader?):
            clients[index].preferredNode = slot(of: leader) ?? random.int(in: 0..<nodeCount)
        case .notLeader(nil), .noLeader, .leaderChanged, .timedOut, .notMember, .engineSpecific, nil:
            clients[index].preferredNode = random.int(in: 0..<nodeCount)
        case .proposalTooLarge, .uncommittedLogFull, .tooManyPendingRequests, .leadershipTransferInProgress:
            break
        case .membershipChangeInProgress, .learnerNotCaughtUp, .invalidMembershipChange, .transferTargetNotVoter, .notEnoughActiveMembers:
            preconditionFailure("a client request was refused as an operator request: \(String(describing: reason))")
        case .invalidProposal(let why):
            preconditionFailure("the simulated service proposed what its host refuses: \(why)")
        }
        // Retry after a short pause rather than at once, as a real client backs off.
        operation.currentAttemptDeadline = now + options.tickMicros
        clients[index].operation = operation
        scheduleWake(client: index, at: operation.currentAttemptDeadline)
    }

    func complete(client index: Int, sequence: UInt64, output: KeyValueModel.Output) {
        guard let operation = clients[index].operation, operation.sequence == sequence else { return }
        history.append(HistoryOperation(clientID: index, input: operation.input, output: output, invokedAt: operation.invokedAt, completedAt: now))
        report.operationsCompleted += 1
        if options.recordCompletionTimes { report.completionTimes.append(now) }
        switch (operation.input, output) {
        case (.get(let key), .value(let value?)): clients[index].lastSeen[key] = value
        case (.put(let key, let value), _): clients[index].lastSeen[key] = value
        case (.compareAndSet(let key, _, let new), .compareAndSet(succeeded: true)): clients[index].lastSeen[key] = new
        case (.delete(let key), _): clients[index].lastSeen[key] = nil
        case (.putAll(let keys, let value), _): for key in keys { clients[index].lastSeen[key] = value }
        default: break
        }
        trace.record(.client(index, sequence: sequence, .complete(operation.input, output)), at: now)
        clients[index].operation = nil
        scheduleThink(client: index)
    }

    /// An operation the client gave up on. A write that reached an engine may still apply at any later
    /// time, so it enters the history without a completion; a read or a write that reached no engine
    /// had no effect and is left out.
    func recordAbandoned(client index: Int, _ operation: SimulatedClient.Operation) {
        trace.record(.client(index, sequence: operation.sequence, .abandon(operation.input)), at: now)
        if case .get = operation.input { return }
        guard operation.mayHaveTakenEffect else { return }
        history.append(HistoryOperation(clientID: index, input: operation.input, output: nil, invokedAt: operation.invokedAt, completedAt: nil))
        report.operationsIndeterminate += 1
    }

    /// Schedules the client's next wake-up, superseding any earlier one, so a completed operation's
    /// stale attempt deadline cannot start the next operation early.
    func scheduleWake(client index: Int, at time: UInt64) {
        clients[index].wakeGeneration += 1
        schedule(.clientWake(client: index, generation: clients[index].wakeGeneration), at: time)
    }

    /// Clients pause between operations for up to two ticks, a steady load of a few operations per
    /// client per simulated second that keeps histories long but checkable.
    func scheduleThink(client index: Int) {
        scheduleWake(client: index, at: now + 1 + UInt64(random.int(in: 0..<Int(2 * options.tickMicros))))
    }
}
