import ConsensusCore

extension RaftEngine {
    // MARK: Taking snapshots and compacting

    /// Asks the shell for a snapshot once enough entries, or enough bytes of them, were applied since
    /// the last one.
    mutating func snapshotRequestIfDue() -> RaftAction? {
        let snapshotIndex = snapshot?.metadata.index ?? 0
        guard !snapshotRequested, appliedIndex > snapshotIndex,
              snapshotAsked
                || appliedIndex - snapshotIndex >= LogIndex(configuration.snapshotEntriesThreshold)
                || appliedBytesSinceSnapshot >= configuration.snapshotBytesThreshold,
              let appliedTerm = log.term(at: appliedIndex)
        else { return nil }
        snapshotRequested = true
        snapshotAsked = false
        let metadata = SnapshotMetadata(index: appliedIndex, term: appliedTerm, membership: membership(atOrBefore: appliedIndex).0)
        return .createSnapshot(metadata)
    }

    /// The shell's snapshot: keep it, make it durable, and drop the log behind it except for a tail
    /// that lets slightly lagging followers catch up from the log.
    mutating func snapshotCreated(_ created: Snapshot) {
        snapshotRequested = false
        let index = created.metadata.index
        precondition(index <= appliedIndex, "\(id) got a snapshot at \(index) beyond its applied index \(appliedIndex)")
        guard index > (snapshot?.metadata.index ?? 0) else { return }
        precondition(log.term(at: index) == created.metadata.term || index <= log.offsetIndex,
                     "\(id) got a snapshot at \(created.metadata.term)/\(index) that does not match its log")
        snapshot = created
        appliedBytesSinceSnapshot = 0
        pendingPersist.snapshot = created
        let retain = LogIndex(configuration.compactionRetainEntries)
        let compactThrough = index > retain ? index - retain : 0
        if compactThrough > log.offsetIndex {
            log.compact(through: compactThrough)
            pendingPersist.discardEntriesThrough = compactThrough
        }
    }

    // MARK: Sending a snapshot (leader)

    /// Starts or continues sending the snapshot to a follower whose next entry is compacted away.
    mutating func sendSnapshotChunk(slot: Int, peer: NodeID) {
        guard let snapshot else {
            preconditionFailure("\(id) compacted its log through \(log.offsetIndex) without a snapshot")
        }
        var offset = 0
        if case .snapshot(let index, let acknowledged) = progress.trackers[slot].state, index == snapshot.metadata.index {
            offset = acknowledged
        }
        progress.trackers[slot].state = .snapshot(index: snapshot.metadata.index, acknowledgedBytes: offset)
        let end = min(snapshot.data.count, offset + configuration.snapshotChunkBytesMax)
        let chunk = RaftMessage.SnapshotChunk(
            metadata: snapshot.metadata,
            totalBytes: snapshot.data.count,
            offset: offset,
            data: Array(snapshot.data[offset..<end])
        )
        emit(.installSnapshot(chunk), to: peer)
    }

    /// Returns why the acknowledgement was dropped, if it was.
    mutating func receiveSnapshotChunkResponse(from peer: NodeID, snapshotIndex: LogIndex, receivedBytes: Int) -> RaftMessageDropReason? {
        guard let slot = progress.slot(of: peer) else { return nil }
        progress.trackers[slot].recentlyActive = true
        progress.trackers[slot].lastHeardTick = ticksSinceStart
        guard case .snapshot(let index, let acknowledged) = progress.trackers[slot].state, index == snapshotIndex,
              receivedBytes > acknowledged || receivedBytes == 0
        else { return nil }
        // The leader may have taken a newer snapshot since: the next heartbeat restarts from it.
        guard let snapshot, snapshot.metadata.index == index else { return nil }
        guard receivedBytes <= snapshot.data.count else { return .snapshotAcknowledgementOutOfBounds }
        progress.trackers[slot].state = .snapshot(index: index, acknowledgedBytes: receivedBytes)
        sendSnapshotChunk(slot: slot, peer: peer)
        return nil
    }

    // MARK: Receiving a snapshot (follower)

    /// Returns why the chunk was dropped, if it was.
    mutating func receiveSnapshotChunk(_ chunk: RaftMessage.SnapshotChunk, from leaderID: NodeID) -> RaftMessageDropReason? {
        let metadata = chunk.metadata
        if metadata.index <= commitIndex {
            // We already hold everything it covers; tell the leader where we are.
            incomingSnapshot = nil
            emit(.appendResponse(.accepted(matchIndex: commitIndex)), to: leaderID)
            return nil
        }
        if incomingSnapshot?.metadata != metadata {
            guard chunk.offset == 0 else {
                // A chunk of a snapshot we have not started: ask for it from the beginning.
                emit(.snapshotChunkResponse(snapshotIndex: metadata.index, receivedBytes: 0), to: leaderID)
                return nil
            }
            incomingSnapshot = (metadata, [])
        }
        let received = incomingSnapshot!.data.count
        guard chunk.offset == received, received + chunk.data.count <= chunk.totalBytes else {
            emit(.snapshotChunkResponse(snapshotIndex: metadata.index, receivedBytes: received), to: leaderID)
            return nil
        }
        incomingSnapshot!.data.append(contentsOf: chunk.data)
        guard chunk.isLast else {
            emit(.snapshotChunkResponse(snapshotIndex: metadata.index, receivedBytes: incomingSnapshot!.data.count), to: leaderID)
            return nil
        }
        let complete = Snapshot(metadata: metadata, data: incomingSnapshot!.data)
        incomingSnapshot = nil
        // Installing it replaces the state machine and is saved to disk: a snapshot the
        // application cannot read would stop this node at every restart.
        guard acceptsSnapshot(complete.data) else { return .undecodableSnapshot }
        install(complete)
        emit(.appendResponse(.accepted(matchIndex: metadata.index)), to: leaderID)
        return nil
    }

    /// Makes the snapshot this node's state: the log keeps only what follows it if it agrees at the
    /// snapshot's index, and is discarded otherwise (§7).
    mutating func install(_ installed: Snapshot) {
        let metadata = installed.metadata
        precondition(metadata.index > commitIndex, "\(id) installing snapshot \(metadata.index) at or below commit \(commitIndex)")
        pendingPersist.snapshot = installed
        pendingPersist.discardEntriesThrough = metadata.index
        if log.matches(index: metadata.index, term: metadata.term) {
            log.compact(through: metadata.index)
        } else {
            log.reset(toSnapshotIndex: metadata.index, term: metadata.term)
            pendingPersist.truncateEntriesAfter = metadata.index
            if let first = firstUnpersistedIndex, first > metadata.index { firstUnpersistedIndex = nil }
        }
        snapshot = installed
        snapshotRequested = false
        appliedBytesSinceSnapshot = 0
        commitIndex = metadata.index
        appliedIndex = metadata.index
        pendingRestore = installed
        refreshMembership()
    }
}
