import ConsensusCore

extension RaftEngine {
    // MARK: Leader side

    /// Appends entries of the current term and replicates them together: one persist for all, and
    /// messages batched up to the per-message bounds.
    mutating func appendAsLeader(_ entries: [Entry]) {
        guard let first = entries.first else { return }
        precondition(role == .leader, "\(id) appending as \(role)")
        for entry in entries {
            log.append(entry)
            if entry.kind == .command { uncommittedBytes += entry.sizeBytes }
        }
        markUnpersisted(from: first.index)
        for peer in peers { sendAppends(to: peer) }
        // The leader's own copy counts once persisted: at once when the persist completes before the
        // next event (so a single-node cluster commits now), else when the shell reports it durable.
        maybeCommit()
    }

    /// Sends as many appends as the follower's flow control allows: one probe, or a pipeline of
    /// batches up to the in-flight window.
    mutating func sendAppends(to peer: NodeID) {
        while sendAppend(to: peer, evenIfEmpty: false) {}
    }

    /// Sends one append; returns true when it did and more could follow.
    @discardableResult
    mutating func sendAppend(to peer: NodeID, evenIfEmpty: Bool) -> Bool {
        guard let slot = progress.slot(of: peer), !progress.trackers[slot].isPaused else { return false }
        let nextIndex = progress.trackers[slot].nextIndex
        let previousIndex = nextIndex - 1
        guard let previousTerm = log.term(at: previousIndex) else {
            // The entries this follower needs are compacted away: it gets the snapshot instead (§7).
            precondition(previousIndex < log.offsetIndex, "\(id) has no term for \(previousIndex) within its log")
            sendSnapshotChunk(slot: slot, peer: peer)
            return false
        }
        let entries = log.entries(from: nextIndex, countMax: configuration.entriesPerMessageMax, bytesMax: configuration.messageBytesMax)
        if entries.isEmpty && !evenIfEmpty { return false }
        let append = RaftMessage.AppendEntries(
            prevLogIndex: previousIndex,
            prevLogTerm: previousTerm,
            entries: entries,
            leaderCommit: commitIndex
        )
        emit(.append(append), to: peer)
        progress.trackers[slot].commitSent = max(progress.trackers[slot].commitSent, commitIndex)
        switch progress.trackers[slot].state {
        case .probe:
            progress.trackers[slot].probeSent = true
            return false
        case .replicate:
            guard let last = entries.last else { return false }
            // Optimistically assume delivery so the next batch can follow without waiting (pipelining).
            progress.trackers[slot].inflights.add(lastIndex: last.index, bytes: entries.reduce(0) { $0 + $1.sizeBytes })
            progress.trackers[slot].nextIndex = last.index + 1
            return true
        case .snapshot:
            preconditionFailure("\(id) sent an append to \(peer) while sending it a snapshot")
        }
    }

    /// Returns why the response was dropped, if it was.
    mutating func receiveAppendResponse(_ response: RaftMessage.AppendResponse, from peer: NodeID) -> RaftMessageDropReason? {
        guard let slot = progress.slot(of: peer) else { return nil }
        switch response {
        case .accepted(let matchIndex) where matchIndex > log.lastIndex: return .indexBeyondLog
        case .rejected(let rejectedIndex, _, _) where rejectedIndex > log.lastIndex: return .indexBeyondLog
        default: break
        }
        progress.trackers[slot].recentlyActive = true
        progress.trackers[slot].lastHeardTick = ticksSinceStart
        switch response {
        case .accepted(let matchIndex):
            let advanced = progress.trackers[slot].acknowledge(matchIndex: matchIndex)
            switch progress.trackers[slot].state {
            case .probe where advanced || progress.trackers[slot].matchIndex == matchIndex:
                // The probe found the match point; stream from there on.
                progress.trackers[slot].becomeReplicate()
            case .snapshot(let index, _) where progress.trackers[slot].matchIndex >= index:
                // The snapshot is installed; probe for the entries after it.
                progress.trackers[slot].becomeProbe(nextIndex: progress.trackers[slot].matchIndex + 1)
            default:
                break
            }
            if advanced { maybeCommit() }
            guard role == .leader else { return nil }
            sendAppends(to: peer)
            sendCommitToIdleFollowers()
            if transferTarget == peer { maybeSendTimeoutNow() }
            return nil
        case .rejected(let rejectedIndex, let hintIndex, let hintTerm):
            let tracker = progress.trackers[slot]
            let stale: Bool
            switch tracker.state {
            case .replicate: stale = rejectedIndex <= tracker.matchIndex
            case .probe: stale = rejectedIndex != tracker.nextIndex - 1
            case .snapshot: stale = true
            }
            guard !stale, rejectedIndex > 0 else { return nil }
            // A follower syncs entries before acknowledging them, so an honest one never rejects
            // at or below what it acknowledged. Probing again would only repeat the same exchange
            // at wire speed; the next heartbeat tries again instead.
            if rejectedIndex <= tracker.matchIndex { return .contradictsAcknowledgement }
            // Skip the follower's whole conflicting term (§5.3's optimisation): if we hold that term,
            // resume after our last entry of it; otherwise resume at the follower's first entry of it.
            var next = hintIndex
            if let hintTerm, let ours = log.lastIndex(ofTerm: hintTerm, atOrBefore: rejectedIndex) {
                next = ours + 1
            }
            next = max(min(next, rejectedIndex), tracker.matchIndex + 1)
            progress.trackers[slot].becomeProbe(nextIndex: next)
            sendAppend(to: peer, evenIfEmpty: true)
        }
        return nil
    }

    /// Advances the commit index and tells the followers that need telling.
    mutating func commitAndBroadcast() {
        maybeCommit()
        sendCommitToIdleFollowers()
    }

    /// Sends the commit index, in an empty append, to each follower that holds everything sent to
    /// it but has not heard the newest commit. Otherwise a follower learns of a commit only with the
    /// next entries or heartbeat, and a request a client sent to a follower waits that long for its
    /// answer: a client writing one key at a time through a follower got one write per heartbeat
    /// interval. etcd-io/raft broadcasts an append whenever the commit moves; here a follower with
    /// appends in flight is left out, since acknowledging them brings it back here, so a busy
    /// cluster pays for no extra messages.
    mutating func sendCommitToIdleFollowers() {
        guard role == .leader else { return }
        for (slot, peer) in progress.peers.enumerated() {
            let tracker = progress.trackers[slot]
            guard tracker.state == .replicate, tracker.inflights.count == 0, tracker.commitSent < commitIndex else { continue }
            sendAppend(to: peer, evenIfEmpty: true)
        }
    }

    /// Advances the commit index to the highest index a quorum holds, but only by counting entries of
    /// the current term (§5.4.2, Figure 8): earlier entries commit indirectly.
    mutating func maybeCommit() {
        let quorumIndex = quorum.committedIndex { node in node == id ? leaderOwnMatchIndex : progress.read(node) { $0.matchIndex } }
        guard quorumIndex > commitIndex, log.term(at: quorumIndex) == term else { return }
        for entry in log.entries(in: commitIndex + 1...quorumIndex) where entry.term == term && entry.kind == .command {
            uncommittedBytes -= entry.sizeBytes
        }
        precondition(uncommittedBytes >= 0, "\(id) uncommitted bytes went negative: \(uncommittedBytes)")
        commitIndex = quorumIndex
        releaseReadsAwaitingCommit()
        advanceMembershipChange()
    }

    mutating func broadcastHeartbeat() {
        for (slot, peer) in progress.peers.enumerated() {
            // A follower may not hold everything the leader committed; it must not commit past its match.
            let commit = min(progress.trackers[slot].matchIndex, commitIndex)
            emit(.heartbeat(commit: commit, readRound: reads.latestRound, sentAtTick: ticksSinceStart), to: peer)
        }
    }

    mutating func receiveHeartbeatResponse(from peer: NodeID, readRound: UInt64, sentAtTick: UInt64) {
        guard let slot = progress.slot(of: peer) else { return }
        progress.trackers[slot].recentlyActive = true
        progress.trackers[slot].lastHeardTick = ticksSinceStart
        progress.trackers[slot].probeSent = false
        if progress.trackers[slot].state == .replicate && progress.trackers[slot].inflights.isFull {
            // The follower is alive but nothing in the window was acknowledged: appends were lost.
            // Free one slot so the next append goes out; a gap it finds turns into a rejection and a probe.
            progress.trackers[slot].inflights.releaseFirst()
        }
        progress.trackers[slot].acknowledgedReadRound = max(progress.trackers[slot].acknowledgedReadRound, readRound)
        progress.trackers[slot].acknowledgedSentAtTick = max(progress.trackers[slot].acknowledgedSentAtTick, sentAtTick)
        if case .snapshot = progress.trackers[slot].state {
            // A chunk or its acknowledgement may have been lost: send again from what was acknowledged.
            sendSnapshotChunk(slot: slot, peer: peer)
        } else if progress.trackers[slot].matchIndex < log.lastIndex {
            sendAppend(to: peer, evenIfEmpty: true)
        }
        releaseConfirmedReads()
    }

    // MARK: Follower side

    /// Returns why the append was dropped, if it was (`boundaryViolation` checked its numbering).
    mutating func receiveAppend(_ append: RaftMessage.AppendEntries, from leaderID: NodeID) -> RaftMessageDropReason? {
        if append.prevLogIndex < commitIndex {
            // Everything up to our commit index already matches the leader (Log Matching), so a
            // delayed append that starts below it tells us nothing new.
            emit(.appendResponse(.accepted(matchIndex: commitIndex)), to: leaderID)
            return nil
        }
        guard log.matches(index: append.prevLogIndex, term: append.prevLogTerm) else {
            let hint: (index: LogIndex, term: Term?)
            if append.prevLogIndex > log.lastIndex {
                hint = (log.lastIndex + 1, nil)
            } else {
                let conflictTerm = log.term(at: append.prevLogIndex)
                hint = (log.firstIndex(ofTermAt: append.prevLogIndex, floor: commitIndex), conflictTerm)
            }
            emit(.appendResponse(.rejected(rejectedIndex: append.prevLogIndex, hintIndex: hint.index, hintTerm: hint.term)), to: leaderID)
            return nil
        }
        // A leader never contradicts a committed entry (Leader Completeness); one that does is not
        // honest, and nothing of its append is taken.
        let contradictsCommitted = append.entries.contains { entry in
            entry.index <= commitIndex && entry.index > log.offsetIndex && !log.matches(index: entry.index, term: entry.term)
        }
        if contradictsCommitted { return .conflictsWithCommitted }
        // Keep what matches; from the first conflict on, the leader's entries replace ours (§5.3).
        var configurationChanged = false
        for entry in append.entries where entry.index > log.offsetIndex && !log.matches(index: entry.index, term: entry.term) {
            precondition(entry.index > commitIndex, "\(id) asked to overwrite committed entry \(entry.index) (commit \(commitIndex))")
            if entry.index <= log.lastIndex {
                configurationChanged = configurationChanged || membershipIndex >= entry.index
                log.truncate(after: entry.index - 1)
            }
            log.append(entry)
            configurationChanged = configurationChanged || entry.kind == .configuration
            markUnpersisted(from: entry.index)
        }
        if configurationChanged { refreshMembership() }
        let lastNewIndex = append.prevLogIndex + LogIndex(append.entries.count)
        commitTo(min(append.leaderCommit, lastNewIndex))
        emit(.appendResponse(.accepted(matchIndex: lastNewIndex)), to: leaderID)
        return nil
    }

    mutating func commitTo(_ index: LogIndex) {
        let target = min(index, log.lastIndex)
        if target > commitIndex { commitIndex = target }
    }
}
