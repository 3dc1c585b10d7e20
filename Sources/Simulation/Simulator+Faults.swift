import ConsensusCore
import Replica

extension Simulator {
    /// Faults arrive at random intervals during the fault phase only.
    func scheduleNextFault() {
        let delayTicks = UInt64(random.int(in: 3..<40))
        let time = now + delayTicks * options.tickMicros
        if time < healTime { schedule(.fault, at: time) }
    }

    var liveNodes: [Int] { (0..<nodeCount).filter { nodes[$0].host != nil } }
    /// Down nodes that can be restarted; a node that refuses to start waits for its replacement.
    var crashedNodes: [Int] { (0..<nodeCount).filter { nodes[$0].host == nil && !nodes[$0].refusesToStart } }

    func injectFault() {
        report.faults += 1
        switch random.int(in: 0..<100) {
        case 0..<8:
            changeMembership()
        case 8..<14:
            transferLeadership()
        case 14..<25:
            let kind = PartitionKind.allCases[random.int(in: 0..<PartitionKind.allCases.count)]
            // Half the partitions single out the leader: leadership changes are where bugs live.
            let focus = random.chance(0.5) ? currentLeader : nil
            network.partition(kind, focus: focus, random: &random)
            note("fault: partition \(kind.rawValue) \(network.partitionDescription)")
        case 25..<29 where options.disk == .wal:
            fillOrFreeSomeDisk()
        case 25..<40:
            network.heal()
            note("fault: network healed")
        case 40..<41:
            corruptSomeDisk()
        case 41..<60:
            // Keep a majority running most of the time, so the fault phase also sees progress.
            let live = liveNodes
            let majority = nodeCount / 2 + 1
            guard !live.isEmpty, live.count > majority || random.chance(0.2) else { return restartSomeNode() }
            let leader = currentLeader
            let node = leader != nil && random.chance(0.5) ? leader! : live[random.int(in: 0..<live.count)]
            switch random.int(in: 0..<3) {
            case 0: crash(node: node, reason: "between events")
            case 1: nodes[node].armedCrash = .beforeSync; note("fault: n\(node + 1) will crash at its next write, before sync")
            default: nodes[node].armedCrash = .afterSync; note("fault: n\(node + 1) will crash at its next write, after sync")
            }
        case 60..<80:
            restartSomeNode()
        default:
            var conditions = SimulatedNetwork.Conditions()
            conditions.lossProbability = [0, 0.01, 0.05, 0.2][random.int(in: 0..<4)]
            conditions.duplicationProbability = [0, 0.01, 0.05][random.int(in: 0..<3)]
            conditions.reorderProbability = [0, 0.05, 0.2][random.int(in: 0..<3)]
            network.conditions = conditions
            note("fault: network loss=\(conditions.lossProbability) duplication=\(conditions.duplicationProbability) reorder=\(conditions.reorderProbability)")
        }
    }

    /// Asks the leader for a membership change drawn from the seed: add or promote a learner, add or
    /// remove a voter, or replace the configuration. Removed nodes keep running, as a decommissioned
    /// machine might, and may be added back later with a stale log.
    func changeMembership() {
        // While a node refuses to start, the operator's removal is the only change: any other could
        // need the dead node's vote to commit and stall the group for good.
        guard let leader = currentLeader, report.disksCorrupted == report.nodesReplaced else { return }
        let membership = nodes[leader].host!.engine.membership
        let candidates = nodeIDs
        let outsiders = candidates.filter { !membership.members.contains($0) }
        let learners = membership.learners.sorted()
        let currentVoters = membership.voters.sorted()
        var options: [MembershipChange] = []
        if let outsider = outsiders.first {
            options.append(.addLearner(outsider))
            options.append(.addVoter(outsider))
        }
        if let learner = learners.first { options.append(.promoteLearner(learner)) }
        if currentVoters.count > 1 { options.append(.remove(currentVoters[random.int(in: 0..<currentVoters.count)])) }
        if !learners.isEmpty { options.append(.remove(learners[random.int(in: 0..<learners.count)])) }
        var shuffled = candidates
        shuffled.shuffle(using: &random)
        let voterCount = random.int(in: 1..<(shuffled.count + 1))
        options.append(.replace(voters: Set(shuffled.prefix(voterCount)), learners: Set(shuffled.dropFirst(voterCount).prefix(random.int(in: 0..<2)))))
        let change = options[random.int(in: 0..<options.count)]
        note("fault: n\(leader + 1) asked to change membership: \(change)")
        step(node: leader, .changeMembership(nextOperatorRequest(), change))
    }

    /// Asks the leader to hand leadership to another voter.
    func transferLeadership() {
        guard let leader = currentLeader else { return }
        let candidates = nodes[leader].host!.engine.membership.voters.filter { $0 != nodeIDs[leader] }.sorted()
        guard !candidates.isEmpty else { return }
        let target = candidates[random.int(in: 0..<candidates.count)]
        note("fault: n\(leader + 1) asked to transfer leadership to \(target)")
        step(node: leader, .transferLeadership(nextOperatorRequest(), to: target))
    }

    /// Operator requests take ids from the client id space so they never collide; nobody owns them,
    /// so their refusals are dropped.
    func nextOperatorRequest() -> RequestID {
        defer { nextRequestID += 1 }
        return RequestID(nextRequestID)
    }

    /// The running node that leads the highest term, if any.
    var currentLeader: Int? {
        liveNodes.filter { nodes[$0].host!.status.isLeader }.max { nodes[$0].host!.status.term < nodes[$1].host!.status.term }
    }

    func restartSomeNode() {
        let crashed = crashedNodes
        guard !crashed.isEmpty else { return }
        restart(node: crashed[random.int(in: 0..<crashed.count)])
    }

    func crash(node: Int, reason: String) {
        nodes[node].host = nil
        nodes[node].incarnation += 1
        nodes[node].armedCrash = nil
        if nodes[node].wal != nil {
            nodes[node].awaitsRoomToRecover = !recoverWAL(node: node)
        } else {
            nodes[node].storage.crash(random: &random)
        }
        // Volatile state dies with the process; clients waiting on it time out and retry elsewhere.
        nodes[node].handle = nil
        nodes[node].application = nil
        service.crashed(node: node)
        note("fault: n\(node + 1) crashed (\(reason))")
    }

    /// `crash` from inside a node's step: the host stops performing it at once.
    func crashNow(node: Int, reason: String) -> ReplicaInterrupted {
        crash(node: node, reason: reason)
        return ReplicaInterrupted(reason: reason)
    }

    func restart(node: Int) {
        precondition(nodes[node].host == nil, "restarting running node n\(node + 1)")
        if nodes[node].awaitsRoomToRecover {
            nodes[node].awaitsRoomToRecover = !recoverWAL(node: node)
            guard !nodes[node].awaitsRoomToRecover else { return note("fault: n\(node + 1) stays down: no room on its disk to recover") }
        }
        if nodes[node].storage.isCorrupted {
            // Recovery found a record whose checksum fails before the log's tail: the node must not
            // guess which committed entries it lost, so it stays down until the operator replaces it.
            if !nodes[node].refusesToStart {
                if let wal = nodes[node].wal {
                    // The real recovery must find the flipped bit itself.
                    guard let refusal = wal.recoveryRefusal() else {
                        return checker.fail("wal: n\(node + 1) recovered a log with a flipped bit in an old record")
                    }
                    note("fault: n\(node + 1) recovery refused: \(refusal)")
                }
                note("fault: n\(node + 1) refuses to start: its log is corrupt")
            }
            nodes[node].refusesToStart = true
            return
        }
        let durable = nodes[node].storage.durableState
        // The service restores the durable snapshot before the engine runs.
        startHost(node: node, engine: Engine.start(id: nodeIDs[node], voters: bootstrapConfiguration(for: node), profile: profile, random: random.fork(), restoring: durable), snapshot: durable.snapshot)
        checker.restarted(node: node, durableCommit: Engine.commitIndex(of: durable.hardState))
        let snapshotText = durable.snapshot.map { ", \($0.metadata)" } ?? ""
        note("fault: n\(node + 1) restarted with \(durable.entries.count) entries, \(durable.hardState)\(snapshotText); \(nodes[node].engine!.membership)")
    }

    /// A node of the first configuration bootstraps from it; a replacement joins an existing group
    /// and knows no configuration until the leader's log or snapshot brings one, as etcd's
    /// `--initial-cluster-state existing` does.
    func bootstrapConfiguration(for node: Int) -> [NodeID] {
        nodeIDs[node] == bootstrapVoters[node] ? bootstrapVoters : []
    }

    /// The heal phase begins: the network is whole and calm and every node runs.
    func healEverything() {
        healed = true
        network.heal()
        var conditions = SimulatedNetwork.Conditions()
        conditions.reorderProbability = 0.02
        network.conditions = conditions
        for node in 0..<nodeCount where nodes[node].wal?.isFilled == true { nodes[node].wal!.makeRoom() }
        for node in crashedNodes { restart(node: node) }
        for node in 0..<nodeCount { nodes[node].armedCrash = nil }
        note("heal: network whole, all nodes running; progress now required")
    }

    func note(_ text: String) {
        trace.record(.note(text), at: now)
    }
}
