import ConsensusCore

extension RaftEngine {
    /// Re-reads the configuration in force: the newest configuration entry in the log, else the
    /// snapshot's, else the bootstrap one. Called whenever the log gains or loses configuration
    /// entries, because a configuration takes effect when appended, not when committed (§4.1).
    mutating func refreshMembership() {
        let (current, index) = membership(atOrBefore: log.lastIndex)
        membership = current
        membershipIndex = index
        quorum = current.quorum
        peers = current.members.subtracting([id]).sorted()
        voterPeers = current.allVoters.subtracting([id]).sorted()
        if role == .leader { reconcileProgress() }
    }

    /// The configuration in force at `index`, and the index of the entry that recorded it.
    func membership(atOrBefore index: LogIndex) -> (Membership, LogIndex) {
        var candidate = min(index, log.lastIndex)
        while candidate > log.offsetIndex {
            let entry = log.entry(at: candidate)!
            if entry.kind == .configuration {
                guard let decoded = ConfigurationEntry(decoding: entry.data) else {
                    preconditionFailure("\(id) holds an undecodable configuration entry at \(candidate)")
                }
                return (decoded.membership, candidate)
            }
            candidate -= 1
        }
        if let snapshot { return (snapshot.metadata.membership, snapshot.metadata.index) }
        return (Membership(voters: configuration.voters, learners: configuration.learners), 0)
    }

    /// A leader tracks exactly the current members: new ones start probing after its log end.
    mutating func reconcileProgress() {
        let old = progress
        progress = ProgressSet(peers: peers) { peer in
            old.slot(of: peer).map { old.trackers[$0] } ?? Progress(
                nextIndex: log.lastIndex + 1,
                inflights: Inflights(messagesMax: configuration.inflightMessagesMax, bytesMax: configuration.inflightBytesMax)
            )
        }
    }

    var hasUncommittedMembershipChange: Bool { membershipIndex > commitIndex || membership.isJoint }

    /// Starts a change: the leader appends C_old,new (or, when only learners change, the new
    /// configuration directly, since learners are in no quorum) and answers nothing until the final
    /// configuration applies.
    mutating func changeMembership(_ requestID: RequestID, _ change: MembershipChange) {
        guard role == .leader else {
            answers.append(.proposalRejected(requestID, leader.map { .notLeader(leader: $0) } ?? .noLeader))
            return
        }
        if let transferTarget {
            answers.append(.proposalRejected(requestID, .leadershipTransferInProgress(to: transferTarget)))
            return
        }
        // One change at a time, and only once this leader has committed an entry of its term: a new
        // leader may not yet know of a change its predecessor committed (the single-server bug
        // Ongaro describes in his 2015 raft-dev post applies to joint changes too).
        guard !hasUncommittedMembershipChange, hasCommittedInCurrentTerm else {
            answers.append(.proposalRejected(requestID, .membershipChangeInProgress))
            return
        }
        let target: Membership
        switch change.applied(to: membership) {
        case .success(let result): target = result
        case .failure(let reason):
            answers.append(.proposalRejected(requestID, reason))
            return
        }
        // etcd's strict reconfiguration check: a change of voters must leave enough voters that
        // answer lately to form a quorum of the new configuration, or the cluster would stop; and,
        // as etcd's `mayAddMember`, a new voter (which answers nothing yet) is only added while
        // every current voter answers.
        if configuration.strictReconfigurationCheck && target.voters != membership.voters {
            let answering = target.voters.filter(hasAnsweredLately).count
            var needed = target.voters.count / 2 + 1
            if case .addVoter = change { needed = max(needed, membership.voters.count) }
            if answering < needed {
                answers.append(.proposalRejected(requestID, .notEnoughActiveMembers(active: answering, needed: needed)))
                return
            }
        }
        for promoted in target.voters.subtracting(membership.voters).sorted() where membership.learners.contains(promoted) {
            let match = progress.read(promoted) { $0.matchIndex } ?? 0
            // Caught up means within the lag bound and at least 90% of the log (etcd's readiness rule),
            // so a learner that has acknowledged nothing is never promoted, even when the log is short.
            let withinLag = match + LogIndex(configuration.learnerPromotionLagEntriesMax) >= log.lastIndex
            if !withinLag || match * 10 < log.lastIndex * 9 {
                answers.append(.proposalRejected(requestID, .learnerNotCaughtUp(promoted, matchIndex: match, leaderLastIndex: log.lastIndex)))
                return
            }
        }
        let next = target.voters == membership.voters
            ? target
            : Membership(voters: target.voters, learners: target.learners, outgoingVoters: membership.voters)
        appendConfiguration(ConfigurationEntry(membership: next, requestID: requestID, origin: id))
    }

    /// Leader only: this node, or a peer that answered within the last election timeout.
    func hasAnsweredLately(_ node: NodeID) -> Bool {
        if node == id { return true }
        guard let heard = progress.read(node, { $0.lastHeardTick }) ?? nil else { return false }
        return ticksSinceStart - heard <= UInt64(configuration.electionTimeoutTicks)
    }

    mutating func appendConfiguration(_ configurationEntry: ConfigurationEntry) {
        let entry = Entry(index: log.lastIndex + 1, term: term, kind: .configuration, data: configurationEntry.encoded)
        // Track new members before appending, so the entry that adds them is sent to them too.
        let previousPeers = peers
        membership = configurationEntry.membership
        membershipIndex = entry.index
        quorum = membership.quorum
        peers = membership.members.subtracting([id]).sorted()
        voterPeers = membership.allVoters.subtracting([id]).sorted()
        if peers != previousPeers { reconcileProgress() }
        appendAsLeader([entry])
    }

    /// After the commit index advances on a leader: leave the joint configuration once it commits,
    /// and step down once a configuration that excludes this node commits.
    mutating func advanceMembershipChange() {
        guard role == .leader, membershipIndex <= commitIndex else { return }
        if membership.isJoint {
            let entry = log.entry(at: membershipIndex).flatMap { ConfigurationEntry(decoding: $0.data) }
            let final = Membership(voters: membership.voters, learners: membership.learners)
            appendConfiguration(ConfigurationEntry(membership: final, requestID: entry?.requestID, origin: entry?.origin))
        } else if !membership.isVoter(id) {
            becomeFollower(term: term, leader: nil)
        }
    }
}
