import ConsensusCore
import Raft
import Simulation

/// Raft in golden scripts and rule tests: script options map onto `RaftConfiguration`, `status`
/// prints the role and log, and Raft adds `campaign N`, `log N` and `membership` to the shared
/// commands.
extension RaftEngine: ScriptableEngine {
    public static func scripted(id: NodeID, voters: [NodeID], options: [String: String], random: SeededRandom, restoring: DurableState<RaftHardState>?) -> RaftEngine {
        var configuration = RaftConfiguration(id: id, voters: voters)
        apply(options, to: &configuration)
        return RaftEngine(configuration: configuration, random: random, restoring: restoring)
    }

    /// `pre-vote`, `check-quorum`, `read-mode=lease`, `inflight`, `entries-per-message`, `forward`,
    /// `snapshot-threshold`, `retain` and `chunk`.
    static func apply(_ options: [String: String], to configuration: inout RaftConfiguration) {
        if let value = options["pre-vote"] { configuration.preVote = value == "true" }
        if let value = options["check-quorum"] { configuration.checkQuorum = value == "true" }
        if options["read-mode"] == "lease" { configuration.readMode = .lease }
        if let value = options["inflight"].flatMap(Int.init) { configuration.inflightMessagesMax = value }
        if let value = options["entries-per-message"].flatMap(Int.init) { configuration.entriesPerMessageMax = value }
        if let value = options["forward"] { configuration.forwardProposals = value == "true" }
        if let value = options["snapshot-threshold"].flatMap(Int.init) { configuration.snapshotEntriesThreshold = value }
        if let value = options["retain"].flatMap(Int.init) { configuration.compactionRetainEntries = value }
        if let value = options["chunk"].flatMap(Int.init) { configuration.snapshotChunkBytesMax = value }
    }

    public var scriptStatus: String {
        "\(id) \(role.rawValue) term=\(term) leader=\(leader.map(\.description) ?? "-") last=\(log.lastIndex) commit=\(commitIndex) applied=\(appliedIndex)"
    }

    public static func runScriptCommand(_ command: ScriptCommand, on cluster: ScriptedCluster<RaftEngine>) throws(ScriptError) -> String? {
        switch command.name {
        case "campaign":
            cluster.campaign(try command.number(0))
            return ""
        case "log":
            let id = try command.number(0)
            guard let engine = cluster.node(id).engine else { throw ScriptError("n\(id) is not running") }
            return engine.log.entries.map(\.description).joined(separator: "\n")
        case "membership":
            return cluster.ids.map { id in
                guard let engine = cluster.nodes[id]!.engine else { return "\(id) crashed" }
                return "\(id) \(engine.membership) at \(engine.membershipIndex)"
            }.joined(separator: "\n")
        default:
            return nil
        }
    }
}

extension ScriptedCluster where Engine == RaftEngine {
    /// `nodeCount` voters, each configured by `configure`.
    public convenience init(nodeCount: Int, configure: @escaping (inout RaftConfiguration) -> Void = { _ in }) {
        self.init()
        let voters = (1...nodeCount).map { NodeID(UInt64($0)) }
        for id in voters { addRaftNode(id, voters: voters, configure: configure) }
    }

    /// Adds a node that joins an existing group: it knows no configuration until the leader's log
    /// or snapshot tells it.
    public func addJoiningNode(_ id: UInt64, configure: @escaping (inout RaftConfiguration) -> Void = { _ in }) {
        addRaftNode(NodeID(id), voters: [], configure: configure)
        log.append("n\(id) added")
    }

    private func addRaftNode(_ id: NodeID, voters: [NodeID], configure: @escaping (inout RaftConfiguration) -> Void) {
        addNode(id) { random, durable in
            var configuration = RaftConfiguration(id: id, voters: voters)
            configure(&configuration)
            return RaftEngine(configuration: configuration, random: random, restoring: durable)
        }
    }

    /// Starts an election at once, as if `id`'s election timeout had fired.
    public func campaign(_ id: UInt64) {
        log.append("n\(id) campaign")
        call(id) { $0.campaignNow() }
    }
}
