import EtcdServer
import Testing

/// etcd's `--auto-compaction-mode` / `--auto-compaction-retention`, decided by the leader.
@Suite struct AutoCompactionTests {
    let start = ContinuousClock.now

    @Test func flagValuesParseAsEtcdReadsThem() throws {
        #expect(try AutoCompaction.parse(mode: "periodic", retention: "0") == nil)
        #expect(try AutoCompaction.parse(mode: "revision", retention: "0") == nil)
        #expect(try AutoCompaction.parse(mode: "periodic", retention: "1")?.mode == .periodic(.seconds(3_600)))
        #expect(try AutoCompaction.parse(mode: "periodic", retention: "1h30m")?.mode == .periodic(.seconds(5_400)))
        #expect(try AutoCompaction.parse(mode: "periodic", retention: "30m")?.mode == .periodic(.seconds(1_800)))
        #expect(try AutoCompaction.parse(mode: "revision", retention: "1000")?.mode == .revision(1_000))
        #expect(throws: EtcdNodeConfiguration.Problem.self) { try AutoCompaction.parse(mode: "revision", retention: "1h") }
        #expect(throws: EtcdNodeConfiguration.Problem.self) { try AutoCompaction.parse(mode: "periodic", retention: "soon") }
        #expect(throws: EtcdNodeConfiguration.Problem.self) { try AutoCompaction.parse(mode: "hourly", retention: "1") }
        var configuration = EtcdNodeConfiguration()
        configuration.autoCompactionRetention = "ten"
        #expect(throws: EtcdNodeConfiguration.Problem.self) { try configuration.checkedInitialMembers() }
    }

    /// Revision mode: every five minutes, compact to the current revision minus the retention, and
    /// never to a revision already compacted.
    @Test func revisionModeKeepsTheLastRevisionsEveryFiveMinutes() {
        var policy = AutoCompaction(mode: .revision(100))
        #expect(policy.due(now: start, revision: 1_000, compacted: 0) == nil)
        #expect(policy.due(now: start + .seconds(299), revision: 1_000, compacted: 0) == nil)
        #expect(policy.due(now: start + .seconds(300), revision: 1_000, compacted: 0) == 900)
        #expect(policy.due(now: start + .seconds(400), revision: 5_000, compacted: 900) == nil)
        #expect(policy.due(now: start + .seconds(600), revision: 950, compacted: 900) == nil)
        #expect(policy.due(now: start + .seconds(900), revision: 5_000, compacted: 900) == 4_900)
    }

    /// Periodic mode: history newer than the window is always kept; once a window has passed, the
    /// store is compacted to the revision it had (as sampled) a window ago, once per window.
    @Test func periodicModeKeepsATimeWindow() {
        var policy = AutoCompaction(mode: .periodic(.seconds(600)))
        var compacted: Int64 = 0
        var compactions: [(second: Int, revision: Int64)] = []
        // One revision a second for an hour, checked every second as the leader's loop would.
        for second in 0...3_600 {
            let revision = Int64(second) + 1
            if let target = policy.due(now: start + .seconds(second), revision: revision, compacted: compacted) {
                #expect(target > compacted)
                // Never past what was current a full window ago.
                #expect(target <= max(1, revision - 600), "at \(second)s compacted to \(target), inside the window")
                compacted = target
                compactions.append((second, target))
            }
        }
        #expect(compactions.count >= 5 && compactions.count <= 6, "\(compactions)")
        #expect(compactions.first?.second == 600)
        // And the history the window keeps is no older than a window plus one sampling step.
        #expect(compacted >= 3_601 - 600 - 60)
    }

    /// A node that is not the leader forgets its samples and starts over when it leads again.
    @Test func resetStartsTheWindowOver() {
        var policy = AutoCompaction(mode: .periodic(.seconds(600)))
        _ = policy.due(now: start, revision: 1, compacted: 0)
        policy.reset()
        #expect(policy.due(now: start + .seconds(600), revision: 601, compacted: 0) == nil)
        #expect(policy.due(now: start + .seconds(1_200), revision: 1_201, compacted: 0) == 601)
    }
}
