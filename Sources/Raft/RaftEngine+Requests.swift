import ConsensusCore

extension RaftEngine {
    // MARK: Proposals

    /// Handles a proposal from a local client (`origin == id`) or forwarded by a follower.
    mutating func propose(_ requestID: RequestID, _ data: [UInt8], origin: NodeID) {
        guard data.count <= configuration.proposalBytesMax else {
            rejectProposal(requestID, origin: origin, .proposalTooLarge(bytes: data.count, limitBytes: configuration.proposalBytesMax))
            return
        }
        switch role {
        case .leader:
            let size = data.count + Entry.headerBytes
            // An empty uncommitted log always admits one proposal, however large, so progress is possible.
            if uncommittedBytes > 0 && uncommittedBytes + size > configuration.uncommittedBytesMax {
                rejectProposal(requestID, origin: origin, .uncommittedLogFull(limitBytes: configuration.uncommittedBytesMax))
                return
            }
            appendAsLeader(Entry(index: log.lastIndex + 1, term: term, kind: .command, data: data))
        case .follower:
            guard let leader else {
                rejectProposal(requestID, origin: origin, .noLeader)
                return
            }
            // Forward once only: a proposal that reaches a non-leader after forwarding bounces back,
            // so stale leader hints can never make it loop.
            guard configuration.forwardProposals, origin == id else {
                rejectProposal(requestID, origin: origin, .notLeader(leader: leader))
                return
            }
            emit(.forwardedProposal(requestID, data), to: leader)
        case .preCandidate, .candidate:
            rejectProposal(requestID, origin: origin, .noLeader)
        }
    }

    mutating func rejectProposal(_ requestID: RequestID, origin: NodeID, _ reason: RequestRejection) {
        if origin == id {
            answers.append(.proposalRejected(requestID, reason))
        } else {
            emit(.forwardedProposalRejected(requestID, reason), to: origin)
        }
    }

    mutating func receiveClientRequestTraffic(_ message: RaftMessage) {
        switch message.kind {
        case .forwardedProposal(let requestID, let data):
            propose(requestID, data, origin: message.from)
        case .forwardedProposalRejected(let requestID, let reason):
            answers.append(.proposalRejected(requestID, reason))
        case .readIndexRequest(let requestID):
            if role == .leader {
                leaderRead(requestID, origin: message.from)
            } else {
                emit(.readIndexResponse(requestID, .rejected(.notLeader(leader: leader))), to: message.from)
            }
        case .readIndexResponse(let requestID, let result):
            // An answer to a read we already gave up on is dropped: the client was told to retry.
            guard forwardedReads.removeValue(forKey: requestID) != nil else { return }
            switch result {
            case .index(let index): answers.append(.readReady(requestID, index: index))
            case .rejected(let reason): answers.append(.readRejected(requestID, reason))
            }
        default:
            preconditionFailure("protocol message \(message) routed as client traffic")
        }
    }

    // MARK: Reads

    mutating func read(_ requestID: RequestID) {
        switch role {
        case .leader:
            leaderRead(requestID, origin: id)
        case .follower where leader != nil:
            guard forwardedReads.count < configuration.pendingReadsMax else {
                answers.append(.readRejected(requestID, .tooManyPendingRequests(limit: configuration.pendingReadsMax)))
                return
            }
            forwardedReads[requestID] = ticksSinceStart
            emit(.readIndexRequest(requestID), to: leader!)
        case .follower, .preCandidate, .candidate:
            answers.append(.readRejected(requestID, .noLeader))
        }
    }

    mutating func leaderRead(_ requestID: RequestID, origin: NodeID) {
        guard reads.count < configuration.pendingReadsMax else {
            answerRead(requestID, origin: origin, .rejected(.tooManyPendingRequests(limit: configuration.pendingReadsMax)))
            return
        }
        if hasCommittedInCurrentTerm {
            confirmLeadership(forRead: requestID, origin: origin)
        } else {
            reads.awaitingCommit.append((requestID, origin))
        }
    }

    var hasCommittedInCurrentTerm: Bool { log.term(at: commitIndex) == term }

    mutating func confirmLeadership(forRead requestID: RequestID, origin: NodeID) {
        if peers.isEmpty || (configuration.readMode == .lease && leaseHolds) {
            answerRead(requestID, origin: origin, .index(commitIndex))
            return
        }
        reads.enqueueForConfirmation(id: requestID, origin: origin, readIndex: commitIndex)
        broadcastHeartbeat()
    }

    /// The lease holds while a quorum acknowledged a heartbeat sent less than an election timeout
    /// (less the drift margin) ago: until then no follower of that quorum will vote for anyone else.
    var leaseHolds: Bool {
        let acknowledgedTick = quorum.committedIndex { node in
            node == id ? ticksSinceStart : progress[node]?.acknowledgedSentAtTick
        }
        let leaseTicks = UInt64(configuration.electionTimeoutTicks - configuration.leaseDriftTicks)
        return acknowledgedTick > 0 && acknowledgedTick + leaseTicks > ticksSinceStart
    }

    mutating func releaseReadsAwaitingCommit() {
        guard hasCommittedInCurrentTerm, !reads.awaitingCommit.isEmpty else { return }
        let waiting = reads.awaitingCommit
        reads.awaitingCommit.removeAll()
        for read in waiting { confirmLeadership(forRead: read.id, origin: read.origin) }
    }

    mutating func releaseConfirmedReads() {
        guard !reads.awaitingConfirmation.isEmpty else { return }
        let confirmedRound = quorum.committedIndex { node in
            node == id ? reads.latestRound : progress[node]?.acknowledgedReadRound
        }
        for read in reads.takeConfirmed(throughRound: confirmedRound) {
            answerRead(read.id, origin: read.origin, .index(read.readIndex))
        }
    }

    mutating func answerRead(_ requestID: RequestID, origin: NodeID, _ result: RaftMessage.ReadIndexResult) {
        guard origin != id else {
            switch result {
            case .index(let index): answers.append(.readReady(requestID, index: index))
            case .rejected(let reason): answers.append(.readRejected(requestID, reason))
            }
            return
        }
        emit(.readIndexResponse(requestID, result), to: origin)
    }

    /// Called when this node stops being, or following, a leader: no pending read may be answered by
    /// a leadership that is gone, so every one of them is refused and may be retried.
    mutating func rejectPendingReads(because reason: RequestRejection) {
        for read in reads.takeAll() {
            answerRead(read.id, origin: read.origin, .rejected(reason))
        }
        for requestID in forwardedReads.keys.sorted(by: { $0.rawValue < $1.rawValue }) {
            answers.append(.readRejected(requestID, reason))
        }
        forwardedReads.removeAll()
    }

    mutating func expireForwardedReads() {
        guard !forwardedReads.isEmpty else { return }
        let deadline = UInt64(configuration.forwardedReadTimeoutTicks)
        let expired = forwardedReads.filter { ticksSinceStart - $0.value >= deadline }.keys.sorted { $0.rawValue < $1.rawValue }
        for requestID in expired {
            forwardedReads.removeValue(forKey: requestID)
            answers.append(.readRejected(requestID, .timedOut))
        }
    }
}
