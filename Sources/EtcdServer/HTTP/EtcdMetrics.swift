import Prometheus
import Synchronization

/// The node's metrics under etcd's names, types and help texts, served at `/metrics` in
/// Prometheus's text format. Each value here is one the node keeps anyway (the engine's status,
/// the store's size, the requests waiting), read when Prometheus scrapes: recording costs the
/// request path nothing. Counted as they happen: `leaderChangesSeen` (once per change),
/// `proposalsFailed` (once per failed write) and `walFsyncDurations` (once per log sync, which
/// serves a whole batch of writes).
package final class EtcdMetrics: Sendable {
    /// What a scrape reads from the node, on its loop.
    package struct Sample: Sendable {
        package var hasLeader: Bool
        package var isLeader: Bool
        package var committedIndex: UInt64
        package var appliedIndex: UInt64
        package var pendingProposals: Int
        package var storeBytes: Int
        package var quotaBytes: Int
        package var watchers = 0
        package var slowWatchers = 0
        package var droppedPeerFrames = 0

        package init(
            hasLeader: Bool, isLeader: Bool, committedIndex: UInt64, appliedIndex: UInt64, pendingProposals: Int,
            storeBytes: Int, quotaBytes: Int, watchers: Int = 0, slowWatchers: Int = 0, droppedPeerFrames: Int = 0
        ) {
            self.hasLeader = hasLeader
            self.isLeader = isLeader
            self.committedIndex = committedIndex
            self.appliedIndex = appliedIndex
            self.pendingProposals = pendingProposals
            self.storeBytes = storeBytes
            self.quotaBytes = quotaBytes
            self.watchers = watchers
            self.slowWatchers = slowWatchers
            self.droppedPeerFrames = droppedPeerFrames
        }
    }

    package let registry = PrometheusCollectorRegistry()
    package let leaderChangesSeen: Counter
    package let proposalsFailed: Counter
    package let walFsyncDurations: DurationHistogram
    package let backendCommitDurations: DurationHistogram
    package let slowApplies: Counter
    private let heartbeatFailures: Counter
    /// The transport's count at the last scrape, so the counter moves by what was dropped since.
    private let heartbeatFailuresReported = Mutex(0)
    /// One histogram per peer, made when the peer is first measured.
    private let peerRoundTrips = Mutex<[UInt64: DurationHistogram]>([:])
    private let watchers: Gauge
    private let slowWatchers: Gauge
    private let hasLeader: Gauge
    private let isLeader: Gauge
    private let committed: Gauge
    private let applied: Gauge
    private let pending: Gauge
    private let storeSize: Gauge
    private let storeSizeInUse: Gauge
    private let quota: Gauge

    package init(memberID: UInt64, serverVersion: String) {
        let clusterVersion = serverVersion.split(separator: ".").prefix(2).joined(separator: ".")
        // Info gauges: always 1, the information is in the label.
        for (name, label, value, help) in [
            ("etcd_server_id", "server_id", String(memberID, radix: 16), "Server or member ID in hexadecimal format. 1 for 'server_id' label with current ID."),
            ("etcd_server_version", "server_version", serverVersion, "Which version is running. 1 for 'server_version' label with current version."),
            ("etcd_cluster_version", "cluster_version", clusterVersion, "Which version is running. 1 for 'cluster_version' label with current cluster version"),
        ] {
            registry.makeGauge(descriptor: Self.named(name, help), labels: [(label, value)]).set(to: 1)
        }
        hasLeader = registry.makeGauge(descriptor: Self.named("etcd_server_has_leader", "Whether or not a leader exists. 1 is existence, 0 is not."))
        isLeader = registry.makeGauge(descriptor: Self.named("etcd_server_is_leader", "Whether or not this member is a leader. 1 if is, 0 otherwise."))
        leaderChangesSeen = registry.makeCounter(descriptor: Self.named("etcd_server_leader_changes_seen_total", "The number of leader changes seen."))
        // etcd 3.4 declares these two as gauges, though their names end in _total.
        committed = registry.makeGauge(descriptor: Self.named("etcd_server_proposals_committed_total", "The total number of consensus proposals committed."))
        applied = registry.makeGauge(descriptor: Self.named("etcd_server_proposals_applied_total", "The total number of consensus proposals applied."))
        proposalsFailed = registry.makeCounter(descriptor: Self.named("etcd_server_proposals_failed_total", "The total number of failed proposals seen."))
        // etcd's buckets: 1 ms doubling to 8.192 s.
        walFsyncDurations = registry.makeDurationHistogram(
            descriptor: Self.named("etcd_disk_wal_fsync_duration_seconds", "The latency distributions of fsync called by WAL."),
            buckets: (0..<14).map { .microseconds(1000 << $0) })
        // etcd's backend commit; Synod's durable commit of the store is a snapshot save.
        backendCommitDurations = registry.makeDurationHistogram(
            descriptor: Self.named("etcd_disk_backend_commit_duration_seconds", "The latency distributions of commit called by backend."),
            buckets: (0..<14).map { .microseconds(1000 << $0) })
        slowApplies = registry.makeCounter(descriptor: Self.named("etcd_server_slow_apply_total", "The total number of slow apply requests (likely overloaded from slow disk)."))
        // Counted by the transport (every peer frame dropped: a full queue to an unreachable or slow
        // peer, or no link yet), brought up to date at each scrape.
        heartbeatFailures = registry.makeCounter(descriptor: Self.named("etcd_server_heartbeat_send_failures_total", "The total number of leader heartbeat send failures (likely overloaded from slow disk)."))
        watchers = registry.makeGauge(descriptor: Self.named("etcd_debugging_mvcc_watcher_total", "Total number of watchers."))
        slowWatchers = registry.makeGauge(descriptor: Self.named("etcd_debugging_mvcc_slow_watcher_total", "Total number of unsynced slow watchers."))
        pending = registry.makeGauge(descriptor: Self.named("etcd_server_proposals_pending", "The current number of pending proposals to commit."))
        storeSize = registry.makeGauge(descriptor: Self.named("etcd_mvcc_db_total_size_in_bytes", "Total size of the underlying database physically allocated in bytes."))
        storeSizeInUse = registry.makeGauge(descriptor: Self.named("etcd_mvcc_db_total_size_in_use_in_bytes", "Total size of the underlying database logically in use in bytes."))
        quota = registry.makeGauge(descriptor: Self.named("etcd_server_quota_backend_bytes", "Current backend storage quota size in bytes."))
    }

    /// The round-trip histogram to `peer` (etcd's buckets: 0.1 ms doubling to 3.2768 s).
    package func peerRoundTrip(to peer: UInt64) -> DurationHistogram {
        peerRoundTrips.withLock { histograms in
            if let histogram = histograms[peer] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: Self.named("etcd_network_peer_round_trip_time_seconds", "Round-Trip-Time histogram between peers"),
                labels: [("To", String(peer, radix: 16))],
                buckets: (0..<16).map { .microseconds(100 << $0) })
            histograms[peer] = histogram
            return histogram
        }
    }

    /// etcd's full metric names, given whole rather than in namespace, subsystem and unit parts.
    private static func named(_ name: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
    }

    /// The exposition text with `sample`'s values.
    package func render(_ sample: Sample) -> [UInt8] {
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
        watchers.set(to: Double(sample.watchers))
        slowWatchers.set(to: Double(sample.slowWatchers))
        let newlyDropped = heartbeatFailuresReported.withLock { reported in
            defer { reported = max(reported, sample.droppedPeerFrames) }
            return max(0, sample.droppedPeerFrames - reported)
        }
        if newlyDropped > 0 { heartbeatFailures.increment(by: Int64(newlyDropped)) }
        return registry.emitToBuffer()
    }
}
