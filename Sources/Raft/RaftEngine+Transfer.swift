import ConsensusCore

extension RaftEngine {
    /// Leadership transfer (dissertation §3.10): bring the target's log up to date, then tell it to
    /// campaign at once. Proposals are refused meanwhile so the target can catch up; the transfer is
    /// abandoned after an election timeout.
    mutating func transferLeadership(_ requestID: RequestID, to target: NodeID) {
        guard role == .leader else {
            answers.append(.proposalRejected(requestID, leader.map { .notLeader(leader: $0) } ?? .noLeader))
            return
        }
        guard target != id else { return }
        guard membership.voters.contains(target) else {
            answers.append(.proposalRejected(requestID, .transferTargetNotVoter(target)))
            return
        }
        if let current = transferTarget {
            if current != target { answers.append(.proposalRejected(requestID, .leadershipTransferInProgress(to: current))) }
            return
        }
        transferTarget = target
        transferElapsedTicks = 0
        // Followers would ignore the target's campaign while they believe us alive; leases must not
        // outlive our leadership either, so from here on reads need a quorum round.
        if !maybeSendTimeoutNow() { sendAppends(to: target) }
    }

    /// Sends TimeoutNow once the target holds the whole log; returns whether it did.
    @discardableResult
    mutating func maybeSendTimeoutNow() -> Bool {
        guard let target = transferTarget, let match = progress.read(target, { $0.matchIndex }), match == log.lastIndex else { return false }
        emit(.timeoutNow, to: target)
        return true
    }
}
