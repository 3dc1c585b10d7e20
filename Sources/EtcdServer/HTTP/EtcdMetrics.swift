import Prometheus

/// The node's metrics under etcd's names, types and help texts, served at `/metrics` in
/// Prometheus's text format. Each value here is one the node keeps anyway (the engine's status,
/// the store's size, the requests waiting), read when Prometheus scrapes: recording costs the
/// request path nothing. Only `leaderChangesSeen` is counted as it happens, once per change.
final class EtcdMetrics: Sendable {
    /// What a scrape reads from the node, on its loop.
    struct Sample: Sendable {
        var hasLeader: Bool
        var isLeader: Bool
        var committedIndex: UInt64
        var appliedIndex: UInt64
        var pendingProposals: Int
        var storeBytes: Int
        var quotaBytes: Int
    }

    let registry = PrometheusCollectorRegistry()
    let leaderChangesSeen: Counter
    private let hasLeader: Gauge
    private let isLeader: Gauge
    private let committed: Gauge
    private let applied: Gauge
    private let pending: Gauge
    private let storeSize: Gauge
    private let storeSizeInUse: Gauge
    private let quota: Gauge

    init(memberID: UInt64, serverVersion: String) {
        registry.makeGauge(name: "etcd_server_id", labels: [("server_id", String(memberID, radix: 16))], help: "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID.").set(to: 1)
        registry.makeGauge(name: "etcd_server_version", labels: [("server_version", serverVersion)], help: "Which version is running. 1 for 'server_version' label with current version.").set(to: 1)
        let clusterVersion = serverVersion.split(separator: ".").prefix(2).joined(separator: ".")
        registry.makeGauge(name: "etcd_cluster_version", labels: [("cluster_version", clusterVersion)], help: "Which version is running. 1 for 'cluster_version' label with current cluster version").set(to: 1)
        hasLeader = registry.makeGauge(name: "etcd_server_has_leader", help: "Whether or not a leader exists. 1 is existence, 0 is not.")
        isLeader = registry.makeGauge(name: "etcd_server_is_leader", help: "Whether or not this member is a leader. 1 if is, 0 otherwise.")
        leaderChangesSeen = registry.makeCounter(name: "etcd_server_leader_changes_seen_total", help: "The number of leader changes seen.")
        // etcd 3.4 declares these two as gauges, though their names end in _total.
        committed = registry.makeGauge(name: "etcd_server_proposals_committed_total", help: "The total number of consensus proposals committed.")
        applied = registry.makeGauge(name: "etcd_server_proposals_applied_total", help: "The total number of consensus proposals applied.")
        pending = registry.makeGauge(name: "etcd_server_proposals_pending", help: "The current number of pending proposals to commit.")
        storeSize = registry.makeGauge(name: "etcd_mvcc_db_total_size_in_bytes", help: "Total size of the underlying database physically allocated in bytes.")
        storeSizeInUse = registry.makeGauge(name: "etcd_mvcc_db_total_size_in_use_in_bytes", help: "Total size of the underlying database logically in use in bytes.")
        quota = registry.makeGauge(name: "etcd_server_quota_backend_bytes", help: "Current backend storage quota size in bytes.")
    }

    /// The exposition text with `sample`'s values.
    func render(_ sample: Sample) -> [UInt8] {
        hasLeader.set(to: sample.hasLeader ? 1 : 0)
        isLeader.set(to: sample.isLeader ? 1 : 0)
        committed.set(to: Double(sample.committedIndex))
        applied.set(to: Double(sample.appliedIndex))
        pending.set(to: Double(sample.pendingProposals))
        // Synod's store is in memory and gives space back at compaction: what it holds is both
        // what is allocated and what is in use (as Status reports).
        storeSize.set(to: Double(sample.storeBytes))
        storeSizeInUse.set(to: Double(sample.storeBytes))
        quota.set(to: Double(sample.quotaBytes))
        return registry.emitToBuffer()
    }
}
