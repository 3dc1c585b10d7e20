import ConsensusCore

/// The simulated disks beyond a plain write and sync: writes that overlap a leader's sends and
/// complete later, corruption that a restart detects, and the operator's answer to it.
extension Simulator {
    // MARK: Overlapping writes

    /// Completes an overlapping write after a disk latency drawn from the seed's disk profile.
    /// Completions keep
    /// write order, as one log file's syncs do.
    func scheduleDiskSync(node: Int, index: LogIndex, term: Term) {
        let latency = UInt64(random.int(in: diskLatencyMicros))
        let time = max(now + latency, nodes[node].diskBusyUntil)
        nodes[node].diskBusyUntil = time
        schedule(.diskSynced(node: node, incarnation: nodes[node].incarnation, index: index, term: term), at: time)
    }

    func diskSynced(node: Int, incarnation: UInt64, index: LogIndex, term: Term) {
        // A crash in between lost the write, or kept what the crash model kept; the new process
        // never hears of it.
        guard nodes[node].host != nil, nodes[node].incarnation == incarnation else { return }
        if nodes[node].storage.hasUnsyncedWrites {
            let first = nodes[node].storage.lastIndex + 1
            nodes[node].storage.sync()
            do { try syncWAL(node: node) } catch { return }  // The disk was full: the process stopped.
            checker.checkLogMatching(node: node, storage: nodes[node].storage, from: first)
        }
        if nodes[node].armedCrash == .afterSync {
            crash(node: node, reason: "after sync")
            return
        }
        step(node: node, .persisted(index, term: term))
    }

    /// A leader's commit index may only cover an entry that a quorum of its configuration holds on
    /// disk: the property that overlapping writes must not break. Checked where the commit advances,
    /// so an engine that counts its own unsynced copy is caught at once.
    func checkCommitIsDurable(leader: Int, status: EngineStatus) {
        guard let membership = nodes[leader].host?.engine.membership else { return }
        let commit = status.commitIndex
        let durable = membership.quorum.committedIndex { id -> LogIndex? in
            // A replaced identity or a corrupted disk acknowledged while its disk was sound.
            guard let slot = slot(of: id), !nodes[slot].storage.isCorrupted else { return commit }
            let storage = nodes[slot].storage
            return commit <= storage.offsetIndex || storage.term(at: commit) == status.term ? commit : 0
        }
        if durable < commit {
            checker.fail("durability: leader n\(leader + 1) of term \(status.term) committed \(commit), which a quorum of \(membership) does not hold on disk")
        }
    }

    // MARK: Corruption

    /// How often the operator looks for nodes to replace: as a person checking a dashboard would.
    var operatorPeriodTicks: UInt64 { 20 }

    /// Flips a bit in an old record of a node's log. The node crashes (or is down already); at its
    /// next start the log's checksums find the flip and it refuses to start, as `WriteAheadLog`
    /// recovery does. At most one disk per seed is corrupted, and only while the configuration keeps
    /// a majority without it, so the group stays within the faults it tolerates.
    func corruptSomeDisk() {
        guard report.disksCorrupted == 0, let leader = currentLeader else { return }
        let membership = nodes[leader].host!.engine.membership
        guard !membership.isJoint, membership.voters.count >= 3 else { return }
        let victim = random.int(in: 0..<nodeCount)
        guard victim != leader || random.chance(0.3) else { return }
        if let wal = nodes[victim].wal {
            // The bit is flipped in the log's files, and the real recovery must find it (`restart`).
            guard !nodes[victim].awaitsRoomToRecover, wal.hasSealedSegments else { return }
            if nodes[victim].host != nil { crash(node: victim, reason: "disk corruption found") }
            guard !nodes[victim].awaitsRoomToRecover, let flipped = wal.flipBitInOldRecord(random: &random) else { return }
            note("fault: a bit flipped in \(flipped.file) of n\(victim + 1)'s log, at offset \(flipped.offset)")
        } else {
            if nodes[victim].host != nil { crash(node: victim, reason: "disk corruption found") }
            note("fault: a bit flipped in an old record of n\(victim + 1)'s log")
        }
        nodes[victim].storage.isCorrupted = true
        report.disksCorrupted += 1
    }

    /// The operator's procedure for a node that refuses to start: remove it from the group, then,
    /// once the leader's configuration no longer names it, wipe its disk and start a replacement
    /// under a new id, which joins as an outsider the membership faults may add.
    func replaceRefusingNodes() {
        for slot in 0..<nodeCount where nodes[slot].refusesToStart {
            guard let leader = currentLeader else { return }
            let id = nodeIDs[slot]
            if nodes[leader].host!.engine.membership.members.contains(id) {
                note("operator: n\(slot + 1) refuses to start; removing \(id)")
                step(node: leader, .changeMembership(nextOperatorRequest(), .remove(id)))
                continue
            }
            let replacement = NodeID(id.rawValue + 8)
            nodeIDs[slot] = replacement
            nodes[slot].storage = SimulatedStorage(hardState: Engine.emptyHardState)
            if nodes[slot].wal != nil { nodes[slot].wal = makeWALDisk(node: slot) }
            nodes[slot].refusesToStart = false
            report.nodesReplaced += 1
            note("operator: wiped n\(slot + 1)'s disk; it rejoins as \(replacement)")
            restart(node: slot)
        }
    }
}
