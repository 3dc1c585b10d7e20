import ConsensusCore

extension RaftEngine {
    // MARK: Proposals

    /// Handles proposals from local clients (`origin == id`) or forwarded by a follower. Every
    /// proposal is either appended or answered with `proposalRejected`.
    mutating func propose(_ proposals: [Proposal], origin: NodeID) {
        var accepted: [Entry] = []
        for proposal in proposals {
            guard proposal.data.count <= configuration.proposalBytesMax else {
                rejectProposal(proposal.id, origin: origin, .proposalTooLarge(bytes: proposal.data.count, limitBytes: configuration.proposalBytesMax))
                continue
            }
            switch role {
            case .leader:
                if let transferTarget {
                    rejectProposal(proposal.id, origin: origin, .leadershipTransferInProgress(to: transferTarget))
                    continue
                }
                let size = proposal.data.count + Entry.headerBytes
                let pending = uncommittedBytes + accepted.reduce(0) { $0 + $1.sizeBytes }
                // An empty uncommitted log always admits one proposal, however large, so progress is possible.
                if pending > 0 && pending + size > configuration.uncommittedBytesMax {
                    rejectProposal(proposal.id, origin: origin, .uncommittedLogFull(limitBytes: configuration.uncommittedBytesMax))
                    continue
                }
                accepted.append(Entry(index: log.lastIndex + 1 + LogIndex(accepted.count), term: term, kind: .command, data: proposal.data))
            case .follower:
                guard let leader else {
                    rejectProposal(proposal.id, origin: origin, .noLeader)
                    continue
                }
                // Forward once only: a proposal that reaches a non-leader after forwarding bounces back,
                // so stale leader hints can never make it loop.
                guard configuration.forwardProposals, origin == id else {
                    rejectProposal(proposal.id, origin: origin, .notLeader(leader: leader))
                    continue
                }
                emit(.forwardedProposal(proposal.id, proposal.data), to: leader)
            case .preCandidate, .candidate:
                rejectProposal(proposal.id, origin: origin, .noLeader)
            }
        }
        appendAsLeader(accepted)
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
            // A node outside the configuration never receives the log, so it could never tell its
            // client the outcome; turn it away so the client goes to a member.
            guard membership.members.contains(message.from) else {
                emit(.forwardedProposalRejected(requestID, .notMember(message.from)), to: message.from)
                return
            }
            // A network may deliver a message twice; the second copy of a proposal is not a second
            // proposal (it would apply a put twice, undoing a later one).
            guard recentForwardedProposals.firstSight(of: requestID, from: message.from) else { return }
            propose([Proposal(id: requestID, data: data)], origin: message.from)
        case .forwardedProposalRejected(let requestID, let reason):
            answers.append(.proposalRejected(requestID, reason))
        case .readIndexRequest(let requestID):
            if !membership.members.contains(message.from) {
                emit(.readIndexResponse(requestID, .rejected(.notMember(message.from))), to: message.from)
            } else if role == .leader {
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
        if voterPeers.isEmpty || (configuration.readMode == .lease && transferTarget == nil && leaseHolds) {
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
            node == id ? ticksSinceStart : progress.read(node) { $0.acknowledgedSentAtTick }
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
            node == id ? reads.latestRound : progress.read(node) { $0.acknowledgedReadRound }
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
