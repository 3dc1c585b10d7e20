import ConsensusCore
import Raft
import RaftTestKit
import Simulation
import Testing

/// Raft thesis §10.2.1: a leader may write its new entries to its own disk in parallel with sending
/// them to followers. Its own copy then counts towards a commit quorum only once durable.
@Suite struct OverlappingWriteRuleTests {
    static func overlapping(_ configuration: inout RaftConfiguration) {
        configuration.overlapWritesWithSends = true
    }

    static func persists(_ actions: [RaftAction]) -> [PersistRequest<RaftHardState>] {
        actions.compactMap { if case .persist(let request) = $0 { return request } else { return nil } }
    }

    /// A lone leader commits nothing until its shell reports the write durable.
    @Test func aSingleNodeCommitsOnlyOnceItsWriteIsDurable() throws {
        var configuration = RaftConfiguration(id: NodeID(1), voters: [NodeID(1)])
        Self.overlapping(&configuration)
        var engine = RaftEngine(configuration: configuration, random: SeededRandom(seed: 1))
        let election = engine.campaignNow()
        #expect(engine.role == .leader)
        // Becoming candidate changed term and vote: that write, which also holds the no-op, may not
        // overlap anything, so the no-op counts as durable at once.
        #expect(Self.persists(election).map(\.overlapsSends) == [false])
        #expect(engine.commitIndex == 1)

        let actions = engine.step(.propose(RequestID(7), Array("x".utf8)))
        let write = try #require(Self.persists(actions).first)
        #expect(write.overlapsSends)
        #expect(!actions.contains { if case .apply = $0 { return true } else { return false } })
        let last = try #require(write.lastEntry)
        let afterSync = engine.step(.persisted(last.index, term: last.term))
        #expect(engine.commitIndex == last.index)
        #expect(afterSync.contains { if case .apply(let entries) = $0 { return entries.last?.index == last.index } else { return false } })
    }

    /// With one follower cut off, the leader's unsynced copy plus one follower is not a majority of
    /// three; it becomes one when the leader's disk reports the write.
    @Test func theLeaderCountsItselfOnlyAfterItsOwnSync() {
        var cluster = RaftTestCluster(nodeCount: 3, configure: Self.overlapping)
        cluster.campaign(1)
        cluster.stabilize()
        let committed = cluster.engine(1).commitIndex
        #expect(committed >= 1, "two followers' acknowledgements commit the no-op without the leader's own")
        cluster.isolate(3)
        cluster.propose(1, "x")
        cluster.stabilize()
        let index = cluster.engine(1).log.lastIndex
        #expect(cluster.engine(2).log.lastIndex == index)
        #expect(cluster.engine(1).commitIndex == committed, "committed with the leader's unsynced copy")
        cluster.step(1, .persisted(index, term: cluster.engine(1).term))
        #expect(cluster.engine(1).commitIndex == index)
    }

    /// A report naming an entry the log no longer holds (a write of an earlier term) counts for nothing.
    @Test func aStaleDurabilityReportIsIgnored() {
        var cluster = RaftTestCluster(nodeCount: 3, configure: Self.overlapping)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.isolate(3)
        cluster.propose(1, "x")
        cluster.stabilize()
        let index = cluster.engine(1).log.lastIndex
        let committed = cluster.engine(1).commitIndex
        cluster.step(1, .persisted(index, term: cluster.engine(1).term + 1))
        cluster.step(1, .persisted(index + 1, term: cluster.engine(1).term))
        #expect(cluster.engine(1).commitIndex == committed)
    }

    /// Followers acknowledge only what is on their disk, so their writes of entries never overlap
    /// their sends. (A write that only records a newer commit index may: nothing is acknowledged on
    /// the strength of it.)
    @Test func followersWritesOfEntriesNeverOverlap() {
        var cluster = RaftTestCluster(nodeCount: 3, configure: Self.overlapping)
        cluster.campaign(1)
        cluster.stabilize()
        cluster.propose(1, "x")
        cluster.stabilize()
        let followerWrites = cluster.log.filter { ($0.hasPrefix("  n2 persist") || $0.hasPrefix("  n3 persist")) && $0.contains("entries=") }
        #expect(!followerWrites.isEmpty)
        #expect(followerWrites.allSatisfy { !$0.contains("overlapping") })
        #expect(cluster.log.contains { $0.hasPrefix("  n1 persist") && $0.contains("overlapping") })
    }
}
