import EtcdServer
import Testing

/// etcd's flag semantics for the cluster a node belongs to.
@Suite struct NodeConfigurationTests {
    @Test func memberIDsAreStableAndDependOnPeerURLsAndToken() {
        let a = EtcdMember.memberID(peerURLs: ["http://127.0.0.1:2380"], clusterToken: "t")
        #expect(a == EtcdMember.memberID(peerURLs: ["http://127.0.0.1:2380"], clusterToken: "t"))
        #expect(a != EtcdMember.memberID(peerURLs: ["http://127.0.0.1:2381"], clusterToken: "t"))
        #expect(a != EtcdMember.memberID(peerURLs: ["http://127.0.0.1:2380"], clusterToken: "u"))
    }

    @Test func aNodeMissingFromItsInitialClusterIsAConfigurationError() {
        var configuration = EtcdNodeConfiguration()
        configuration.name = "s9"
        configuration.initialCluster = [("s1", "http://127.0.0.1:2380")]
        #expect(throws: EtcdNodeConfiguration.Problem.self) { try configuration.checkedInitialMembers() }
    }

    @Test func anElectionTimeoutTooCloseToTheHeartbeatIsRefused() {
        var configuration = EtcdNodeConfiguration()
        configuration.heartbeatIntervalMillis = 100
        configuration.electionTimeoutMillis = 200
        #expect(throws: EtcdNodeConfiguration.Problem.self) { try configuration.checkedInitialMembers() }
    }

    /// Every value an operator can get wrong is refused with an error naming its flag, never a
    /// trap later (an empty URL list, an overflowing interval, a request larger than the log takes).
    nonisolated(unsafe) static let badValues: [(String, (inout EtcdNodeConfiguration) -> Void)] = [
        ("--listen-client-urls", { (c: inout EtcdNodeConfiguration) in c.listenClientURLs = [] }),
        ("--listen-client-urls", { (c: inout EtcdNodeConfiguration) in c.listenClientURLs = [""] }),
        ("--listen-client-urls", { (c: inout EtcdNodeConfiguration) in c.listenClientURLs = ["http://127.0.0.1:99999"] }),
        ("--listen-peer-urls", { (c: inout EtcdNodeConfiguration) in c.listenPeerURLs = ["notaurl"] }),
        ("--advertise-client-urls", { (c: inout EtcdNodeConfiguration) in c.advertiseClientURLs = [] }),
        ("--heartbeat-interval", { (c: inout EtcdNodeConfiguration) in c.heartbeatIntervalMillis = 0 }),
        ("--election-timeout", { (c: inout EtcdNodeConfiguration) in c.electionTimeoutMillis = Int.max }),
        ("--election-timeout", { (c: inout EtcdNodeConfiguration) in c.heartbeatIntervalMillis = Int.max }),
        ("--max-request-bytes", { (c: inout EtcdNodeConfiguration) in c.maxRequestBytes = 200_000_000 }),
        ("--max-request-bytes", { (c: inout EtcdNodeConfiguration) in c.maxRequestBytes = 0 }),
        ("--snapshot-count", { (c: inout EtcdNodeConfiguration) in c.snapshotCount = -1 }),
        ("--quota-backend-bytes", { (c: inout EtcdNodeConfiguration) in c.quotaBackendBytes = -1 }),
        ("--quota-backend-bytes", { (c: inout EtcdNodeConfiguration) in c.quotaBackendBytes = Int64.max }),
        ("--client-threads", { (c: inout EtcdNodeConfiguration) in c.clientThreads = 0 }),
        ("--auto-compaction-retention", { (c: inout EtcdNodeConfiguration) in c.autoCompactionRetention = "inf" }),
        ("--auto-compaction-retention", { (c: inout EtcdNodeConfiguration) in c.autoCompactionRetention = "nan" }),
        ("--auto-compaction-retention", { (c: inout EtcdNodeConfiguration) in c.autoCompactionRetention = "1e300" }),
        ("--auto-compaction-retention", { (c: inout EtcdNodeConfiguration) in c.autoCompactionRetention = "99999999999999h" }),
        ("--name", { (c: inout EtcdNodeConfiguration) in c.name = "" }),
        ("--initial-cluster", { (c: inout EtcdNodeConfiguration) in c.initialCluster = [("default", "http://127.0.0.1:2380"), ("other", "http://127.0.0.1:2380")] }),
        ("--initial-cluster-state", { (c: inout EtcdNodeConfiguration) in c.initialClusterState = "bogus" }),
    ]

    @Test func aBadValueIsRefusedNamingItsFlag() {
        for (flag, change) in Self.badValues {
            var configuration = EtcdNodeConfiguration()
            change(&configuration)
            do {
                _ = try configuration.checkedInitialMembers()
                Issue.record("\(flag): accepted")
            } catch {
                #expect("\(error)".contains(flag), "\(flag): \(error)")
            }
        }
    }

    @Test func theDefaultsAndEtcdsLimitsAreAccepted() throws {
        var configuration = EtcdNodeConfiguration()
        _ = try configuration.checkedInitialMembers()
        configuration.electionTimeoutMillis = EtcdNodeConfiguration.electionTimeoutMillisMax
        configuration.maxRequestBytes = EtcdNodeConfiguration.maxRequestBytesMax
        configuration.quotaBackendBytes = EtcdNodeConfiguration.quotaBackendBytesMax
        configuration.autoCompactionRetention = "87600h"
        _ = try configuration.checkedInitialMembers()
    }
}
