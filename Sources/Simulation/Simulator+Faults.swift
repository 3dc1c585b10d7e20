import ConsensusCore

extension Simulator {
    /// Faults arrive at random intervals during the fault phase only.
    func scheduleNextFault() {
        let delayTicks = UInt64(random.int(in: 3..<40))
        let time = now + delayTicks * options.tickMicros
        if time < healTime { schedule(.fault, at: time) }
    }

    var liveNodes: [Int] { (0..<nodeCount).filter { nodes[$0].engine != nil } }
    var crashedNodes: [Int] { (0..<nodeCount).filter { nodes[$0].engine == nil } }

    func injectFault() {
        report.faults += 1
        switch random.int(in: 0..<100) {
        case 0..<25:
            let kind = PartitionKind.allCases[random.int(in: 0..<PartitionKind.allCases.count)]
            // Half the partitions single out the leader: leadership changes are where bugs live.
            let focus = random.chance(0.5) ? currentLeader : nil
            network.partition(kind, focus: focus, random: &random)
            note("fault: partition \(kind.rawValue) \(network.partitionDescription)")
        case 25..<40:
            network.heal()
            note("fault: network healed")
        case 40..<60:
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

    /// The running node that leads the highest term, if any.
    var currentLeader: Int? {
        liveNodes.filter { nodes[$0].engine!.status.isLeader }.max { nodes[$0].engine!.status.term < nodes[$1].engine!.status.term }
    }

    func restartSomeNode() {
        let crashed = crashedNodes
        guard !crashed.isEmpty else { return }
        restart(node: crashed[random.int(in: 0..<crashed.count)])
    }

    func crash(node: Int, reason: String) {
        nodes[node].engine = nil
        nodes[node].armedCrash = nil
        nodes[node].storage.crash(random: &random)
        // Volatile state dies with the process; clients waiting on it time out and retry elsewhere.
        nodes[node].stateMachine = KeyValueStateMachine()
        nodes[node].awaitingWrites.removeAll()
        nodes[node].readsAwaitingApply.removeAll()
        nodes[node].requestOwners.removeAll()
        note("fault: n\(node + 1) crashed (\(reason))")
    }

    func restart(node: Int) {
        precondition(nodes[node].engine == nil, "restarting running node n\(node + 1)")
        let durable = nodes[node].storage.durableState
        nodes[node].engine = Engine.start(id: voters[node], voters: voters, profile: profile, random: random.fork(), restoring: durable)
        checker.restarted(node: node, durableCommit: Engine.commitIndex(of: durable.hardState))
        note("fault: n\(node + 1) restarted with \(durable.entries.count) entries, \(durable.hardState)")
    }

    /// The heal phase begins: the network is whole and calm and every node runs.
    func healEverything() {
        healed = true
        network.heal()
        var conditions = SimulatedNetwork.Conditions()
        conditions.reorderProbability = 0.02
        network.conditions = conditions
        for node in crashedNodes { restart(node: node) }
        for node in 0..<nodeCount { nodes[node].armedCrash = nil }
        note("heal: network whole, all nodes running; progress now required")
    }

    func note(_ text: String) {
        trace.record(.note(text), at: now)
    }
}
