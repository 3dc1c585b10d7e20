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
}
