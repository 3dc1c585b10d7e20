import ConsensusCore

extension RaftEngine {
    // MARK: Time

    mutating func tick() {
        ticksSinceStart += 1
        expireForwardedReads()
        switch role {
        case .leader: tickLeader()
        case .follower, .preCandidate, .candidate: tickElection()
        }
    }

    mutating func tickElection() {
        electionElapsedTicks += 1
        if electionElapsedTicks >= randomizedElectionTimeoutTicks && mayCampaign {
            campaign()
        }
    }

    mutating func tickLeader() {
        heartbeatElapsedTicks += 1
        electionElapsedTicks += 1
        if transferTarget != nil {
            transferElapsedTicks += 1
            // §3.10: a transfer that has not completed within an election timeout is abandoned.
            if transferElapsedTicks >= configuration.electionTimeoutTicks { transferTarget = nil }
        }
        if electionElapsedTicks >= configuration.electionTimeoutTicks {
            electionElapsedTicks = 0
            if configuration.checkQuorum {
                // §6.2: a leader cut off from a quorum steps down rather than serve stale reads forever.
                guard hasActiveQuorum() else {
                    becomeFollower(term: term, leader: nil)
                    return
                }
                for slot in progress.trackers.indices { progress.trackers[slot].recentlyActive = false }
            }
        }
        if heartbeatElapsedTicks >= configuration.heartbeatIntervalTicks {
            heartbeatElapsedTicks = 0
            broadcastHeartbeat()
        }
    }

    func hasActiveQuorum() -> Bool {
        quorum.result { node in node == id ? true : (progress.read(node) { $0.recentlyActive } ?? false) } == .won
    }

    mutating func resetElectionTimer() {
        electionElapsedTicks = 0
        let timeout = configuration.electionTimeoutTicks
        randomizedElectionTimeoutTicks = timeout + random.int(in: 0..<timeout)
    }

    /// Whether this node may start an election. Voters may; learners and nodes still learning their
    /// configuration may not. A node that an appended but uncommitted configuration removed may too:
    /// until that entry commits the cluster may need it, since it can hold the only up-to-date log
    /// that the remaining voters' quorums require (found by seed 4475 of the 100,000-seed sweep,
    /// where no one else could win). It then leads a configuration without itself, as §4.2.2
    /// describes, and steps down once that configuration commits.
    var mayCampaign: Bool {
        if membership.isVoter(id) { return true }
        guard membershipIndex > commitIndex, membershipIndex > 0 else { return false }
        return membership(atOrBefore: membershipIndex - 1).0.isVoter(id)
    }

    /// True while this node believes a leader is alive: it then ignores vote requests, which is what
    /// makes check-quorum leases safe. With lease reads, a node that has just started counts as such
    /// for one election timeout, because it may have forgotten a leader whose lease it helped grant.
    var isWithinLeaderLease: Bool {
        guard configuration.checkQuorum else { return false }
        let timeout = configuration.electionTimeoutTicks
        if configuration.readMode == .lease && ticksSinceStart < UInt64(timeout) { return true }
        return leader != nil && electionElapsedTicks < timeout
    }

    // MARK: Role changes

    mutating func becomeFollower(term newTerm: Term, leader newLeader: NodeID?) {
        precondition(newTerm >= term, "\(id) moving back from term \(term) to \(newTerm)")
        let wasLeader = role == .leader
        if newTerm > term {
            term = newTerm
            vote = nil
        }
        if newLeader != leader || wasLeader { rejectPendingReads(because: .leaderChanged) }
        transferTarget = nil
        role = .follower
        leader = newLeader
        progress.removeAll()
        votesReceived.removeAll()
        uncommittedBytes = 0
        resetElectionTimer()
    }

    mutating func campaign() {
        if configuration.preVote {
            becomePreCandidate()
        } else {
            becomeCandidate()
        }
    }

    mutating func becomePreCandidate() {
        // A pre-candidate keeps its term and vote: it only asks whether it could win (§9.6).
        startElection(as: .preCandidate)
    }

    /// `transfer` marks an election the leader asked for, which voters grant despite their lease.
    mutating func becomeCandidate(transfer: Bool = false) {
        precondition(role != .leader, "\(id) leader cannot become candidate")
        term += 1
        vote = id
        startElection(as: .candidate, transfer: transfer)
    }

    /// Votes for itself and asks every peer; a single-voter cluster wins at once.
    private mutating func startElection(as newRole: RaftRole, transfer: Bool = false) {
        role = newRole
        if leader != nil { rejectPendingReads(because: .leaderChanged) }
        leader = nil
        votesReceived = [id: true]
        resetElectionTimer()
        if quorum.result({ votesReceived[$0] }) == .won {
            if newRole == .preCandidate { becomeCandidate() } else { becomeLeader() }
            return
        }
        let request: RaftMessage.Kind = newRole == .preCandidate
            ? .preVote(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm)
            : .vote(lastLogIndex: log.lastIndex, lastLogTerm: log.lastTerm, transfer: transfer)
        // A pre-vote names the term the node would campaign in; it has not entered it.
        let requestTerm = newRole == .preCandidate ? term + 1 : term
        for peer in voterPeers { emit(request, to: peer, term: requestTerm) }
    }

    mutating func becomeLeader() {
        precondition(role == .candidate, "\(id) became leader from \(role)")
        role = .leader
        leader = id
        heartbeatElapsedTicks = 0
        electionElapsedTicks = 0
        votesReceived.removeAll()
        uncommittedBytes = 0
        reads = ReadQueue()
        transferTarget = nil
        progress = ProgressSet()
        reconcileProgress()
        // A candidate's persists all completed before its votes went out, so its whole log is durable.
        leaderDurableIndex = log.lastIndex
        // §5.4.2 and §6.4: commit an entry of the new term at once, so that earlier entries commit and
        // reads can learn the commit index.
        appendAsLeader([Entry(index: log.lastIndex + 1, term: term, kind: .noop)])
    }

    // MARK: Receiving

    mutating func receive(_ message: RaftMessage) {
        if let reason = boundaryViolation(message) { return drop(message, reason) }
        if message.isClientRequestTraffic {
            receiveClientRequestTraffic(message)
            return
        }
        if message.term > term {
            if message.isVoteRequest && isWithinLeaderLease && !message.isTransferVote {
                // §6: ignore disruptive candidates while a leader is known to be alive.
                return
            }
            switch message.kind {
            case .preVote:
                break  // Answering a pre-vote never changes our term.
            case .preVoteResponse(granted: true):
                break  // A grant carries the term we would campaign in, not a newer term.
            case .append, .heartbeat, .installSnapshot:
                becomeFollower(term: message.term, leader: message.from)
            default:
                becomeFollower(term: message.term, leader: nil)
            }
        } else if message.term < term {
            receiveStale(message)
            return
        }

        switch message.kind {
        case .preVote(let lastIndex, let lastTerm):
            answerVoteRequest(from: message.from, term: message.term, lastIndex: lastIndex, lastTerm: lastTerm, preVote: true)
        case .vote(let lastIndex, let lastTerm, _):
            answerVoteRequest(from: message.from, term: message.term, lastIndex: lastIndex, lastTerm: lastTerm, preVote: false)
        case .preVoteResponse(let granted):
            if role == .preCandidate { countVote(from: message.from, granted: granted) }
        case .voteResponse(let granted):
            if role == .candidate { countVote(from: message.from, granted: granted) }
        case .append(let append):
            guard role != .leader else { return drop(message, .secondLeaderInTerm) }
            acceptLeader(message.from)
            if let reason = receiveAppend(append, from: message.from) { drop(message, reason) }
        case .heartbeat(let commit, let round, let sentAtTick):
            guard role != .leader else { return drop(message, .secondLeaderInTerm) }
            acceptLeader(message.from)
            commitTo(commit)
            emit(.heartbeatResponse(readRound: round, sentAtTick: sentAtTick), to: message.from)
        case .appendResponse(let response):
            if role == .leader, let reason = receiveAppendResponse(response, from: message.from) { drop(message, reason) }
        case .heartbeatResponse(let round, let sentAtTick):
            if role == .leader { receiveHeartbeatResponse(from: message.from, readRound: round, sentAtTick: sentAtTick) }
        case .installSnapshot(let chunk):
            guard role != .leader else { return drop(message, .secondLeaderInTerm) }
            acceptLeader(message.from)
            if let reason = receiveSnapshotChunk(chunk, from: message.from) { drop(message, reason) }
        case .snapshotChunkResponse(let index, let received):
            if role == .leader, let reason = receiveSnapshotChunkResponse(from: message.from, snapshotIndex: index, receivedBytes: received) {
                drop(message, reason)
            }
        case .timeoutNow:
            // The leader hands over: campaign at once, skipping pre-vote, if this node may vote.
            if role == .follower && mayCampaign { becomeCandidate(transfer: true) }
        case .forwardedProposal, .forwardedProposalRejected, .readIndexRequest, .readIndexResponse:
            preconditionFailure("client traffic \(message) reached term handling")
        }
    }

    /// A message from an older term. Most are dropped; two get answers that let their sender catch up.
    mutating func receiveStale(_ message: RaftMessage) {
        switch message.kind {
        case .append, .heartbeat, .installSnapshot:
            // A deposed leader whose followers ignore its old term would never learn of the new one when
            // pre-vote or check-quorum keep terms from rising; tell it (etcd-io/raft does the same).
            if configuration.checkQuorum || configuration.preVote {
                emit(.appendResponse(.rejected(rejectedIndex: 0, hintIndex: 0, hintTerm: nil)), to: message.from)
            }
        case .preVote:
            emit(.preVoteResponse(granted: false), to: message.from)
        default:
            break
        }
    }

    /// Any append or heartbeat of the current term comes from the one leader of that term.
    mutating func acceptLeader(_ sender: NodeID) {
        precondition(role != .leader, "\(id) leader of term \(term) received an append from \(sender) in the same term")
        if role != .follower || leader != sender {
            becomeFollower(term: term, leader: sender)
        }
        electionElapsedTicks = 0
    }

    mutating func answerVoteRequest(from candidate: NodeID, term requestTerm: Term, lastIndex: LogIndex, lastTerm: Term, preVote: Bool) {
        // A vote may go to the candidate we already voted for, or anyone if we have neither voted nor
        // heard from a leader this term; a pre-vote for a future term binds nothing.
        let canVote = vote == candidate || (vote == nil && leader == nil) || (preVote && requestTerm > term)
        let granted = canVote && log.isUpToDate(lastIndex: lastIndex, lastTerm: lastTerm)
        if granted && !preVote {
            vote = candidate
            electionElapsedTicks = 0
        }
        // A grant carries the request's term; a refusal carries ours, so a stale candidate catches up.
        let responseTerm = granted ? requestTerm : term
        emit(preVote ? .preVoteResponse(granted: granted) : .voteResponse(granted: granted), to: candidate, term: responseTerm)
    }

    mutating func countVote(from voter: NodeID, granted: Bool) {
        votesReceived[voter] = granted
        switch quorum.result({ votesReceived[$0] }) {
        case .won:
            if role == .preCandidate { becomeCandidate() } else { becomeLeader() }
        case .lost:
            becomeFollower(term: term, leader: nil)
        case .pending:
            break
        }
    }
}
