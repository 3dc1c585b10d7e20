import ConsensusCore

/// Watches every step of every node for violations of the properties consensus promises. It looks
/// only at what engines report and what the shell observes (persists, sends, applies), never at engine
/// internals, so it judges any engine the same way.
struct SafetyChecker<Engine: SimulatableEngine> {
    internal(set) var violations: [String] = []

    /// The one leader seen in each term (Election Safety).
    var leaderOfTerm: [Term: Int] = [:]
    /// The term each node last led, to notice a node becoming leader.
    var ledTerm: [Term?]
    /// Prefix digest of each (index, term) pair any node has stored (Log Matching).
    var prefixDigestOf: [IndexTerm: UInt64] = [:]
    /// The committed log as applied anywhere: entry digest and prefix digest by index (State Machine
    /// Safety, Leader Completeness).
    var appliedDigests: [UInt64] = []
    var appliedTerms: [Term] = []
    /// The state machine digest at indexes where some node took or restored a snapshot: every node's
    /// state at that index must match it.
    var stateDigests: [LogIndex: UInt64] = [:]
    var appliedPrefixDigests: [UInt64] = []
    /// Per node and incarnation, the last commit index seen, to check monotonicity.
    var lastCommit: [LogIndex]

    struct IndexTerm: Hashable {
        var index: LogIndex
        var term: Term
    }

    /// The engine's own properties this checker checks (`SimulatableEngine.safetyProperties`), read
    /// once: asking the set on every step hashed a quarter of a microsecond away each time.
    let checksLogMatching: Bool
    let checksElectionSafety: Bool
    let checksLeaderCompleteness: Bool
    let checksProtocolRules: Bool

    init(nodeCount: Int) {
        ledTerm = Array(repeating: nil, count: nodeCount)
        lastCommit = Array(repeating: 0, count: nodeCount)
        let promised = Engine.safetyProperties
        checksLogMatching = promised.contains(.logMatching)
        checksElectionSafety = promised.contains(.electionSafety)
        checksLeaderCompleteness = promised.contains(.leaderCompleteness)
        checksProtocolRules = promised.contains(.protocolRules)
    }

    var committedLength: LogIndex { LogIndex(appliedDigests.count) }
    var leadersElected: Int { leaderOfTerm.count }

    mutating func fail(_ message: String) {
        if violations.count < 20 { violations.append(message) }
    }

    /// A node restarted: its commit index restarts from what it synced.
    mutating func restarted(node: Int, durableCommit: LogIndex) {
        lastCommit[node] = durableCommit
        ledTerm[node] = nil
    }

    func committedPrefixDigest(at index: LogIndex) -> UInt64? {
        guard index >= 1, index <= committedLength else { return nil }
        return appliedPrefixDigests[Int(index) - 1]
    }

    func hasRecordedState(at index: LogIndex) -> Bool { stateDigests[index] != nil }

    /// A state machine image at `index`, from a snapshot taken, restored or reached by applying:
    /// all must agree ("a restored snapshot equals the leader's state at that index").
    mutating func recordState(node: Int, index: LogIndex, digest: UInt64, source: String) {
        if let known = stateDigests[index] {
            if known != digest { fail("snapshot state: n\(node + 1)'s \(source) at \(index) differs from another node's state at that index") }
        } else {
            stateDigests[index] = digest
        }
    }

    /// A snapshot may only cover committed entries, and must name the committed term at its index.
    mutating func checkSnapshotMetadata(node: Int, _ metadata: SnapshotMetadata) {
        guard metadata.index >= 1 else { return }
        guard metadata.index <= committedLength else {
            fail("snapshot: n\(node + 1) stores a snapshot at \(metadata.index) beyond the committed log \(committedLength)")
            return
        }
        if appliedTerms[Int(metadata.index) - 1] != metadata.term {
            fail("snapshot: n\(node + 1) stores a snapshot at \(metadata.term)/\(metadata.index), but term \(appliedTerms[Int(metadata.index) - 1]) committed there")
        }
    }

    /// After storage of `node` changed: every stored (index, term) must sit on the same prefix as on
    /// every other node that stored it.
    mutating func checkLogMatching(node: Int, storage: SimulatedStorage<Engine.HardState>, from firstIndex: LogIndex) {
        guard checksLogMatching else { return }
        let start = max(firstIndex, storage.offsetIndex + 1)
        guard start <= storage.lastIndex else { return }
        for index in start...storage.lastIndex {
            let key = IndexTerm(index: index, term: storage.term(at: index)!)
            let digest = storage.prefixDigest(at: index)!
            if let known = prefixDigestOf[key] {
                if known != digest { fail("log matching: n\(node + 1) holds \(key.term)/\(key.index) on a different prefix than another node") }
            } else {
                prefixDigestOf[key] = digest
            }
        }
    }

    /// Before the message leaves: it must not depend on anything not yet durable.
    mutating func checkSend(node: Int, message: Engine.Message, storage: SimulatedStorage<Engine.HardState>) {
        if let problem = Engine.durabilityViolation(of: message, durable: storage) {
            fail("persisted before sent: n\(node + 1) \(problem): \(message)")
        }
    }

    /// An entry applied by `node`: the same index must hold the same command everywhere.
    mutating func checkApply(node: Int, entry: Entry) {
        let position = Int(entry.index) - 1
        let digest = Digest.of(entry)
        if position < appliedDigests.count {
            if appliedDigests[position] != digest {
                fail("state machine safety: n\(node + 1) applied \(entry) at \(entry.index), another node applied a different entry")
            }
        } else if position == appliedDigests.count {
            appliedDigests.append(digest)
            appliedTerms.append(entry.term)
            appliedPrefixDigests.append(Digest.combine(appliedPrefixDigests.last ?? 0, digest))
        } else {
            fail("apply gap: n\(node + 1) applied \(entry.index) but only \(appliedDigests.count) are known applied")
        }
    }

    /// After each step of `node`.
    /// - Parameter storage: read only when the node has just become leader, so the common path does
    ///   not copy the node's storage.
    mutating func checkStatus(node: Int, status: EngineStatus, applied: LogIndex, storage: () -> SimulatedStorage<Engine.HardState>) {
        if status.isLeader, checksElectionSafety {
            if let other = leaderOfTerm[status.term], other != node {
                fail("election safety: n\(other + 1) and n\(node + 1) both lead term \(status.term)")
            }
            leaderOfTerm[status.term] = node
            if ledTerm[node] != status.term, checksLeaderCompleteness {
                ledTerm[node] = status.term
                checkLeaderCompleteness(node: node, term: status.term, storage: storage())
            }
        }
        let previous = lastCommit[node]
        if status.commitIndex < previous {
            fail("commit index of n\(node + 1) went back from \(previous) to \(status.commitIndex)")
        }
        lastCommit[node] = status.commitIndex
        if applied > status.commitIndex {
            fail("n\(node + 1) applied \(applied) beyond its commit index \(status.commitIndex)")
        }
        if status.appliedIndex > status.commitIndex {
            fail("n\(node + 1) reports applied \(status.appliedIndex) beyond commit \(status.commitIndex)")
        }
    }

    /// A new leader must hold every entry committed so far (§5.4, Leader Completeness).
    mutating func checkLeaderCompleteness(node: Int, term: Term, storage: SimulatedStorage<Engine.HardState>) {
        let committed = committedLength
        guard committed > 0 else { return }
        if storage.lastIndex < committed || storage.prefixDigest(at: committed).map({ !samePrefix($0, committed) }) ?? true {
            fail("leader completeness: n\(node + 1) leads term \(term) without every committed entry (committed \(committed), log ends \(storage.lastIndex))")
        }
    }

    /// Storage digests chain entry digests the same way the applied record does.
    func samePrefix(_ storageDigest: UInt64, _ length: LogIndex) -> Bool {
        storageDigest == appliedPrefixDigests[Int(length) - 1]
    }
}
