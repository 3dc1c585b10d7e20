import EtcdServer
import Testing

/// `/metrics` speaks etcd's names, types and label values.
@Suite struct EtcdMetricsTests {
    func lines(_ metrics: EtcdMetrics, _ sample: EtcdMetrics.Sample) -> Set<String> {
        Set(String(decoding: metrics.render(sample), as: UTF8.self).split(separator: "\n").map(String.init))
    }

    let sample = EtcdMetrics.Sample(
        hasLeader: true, isLeader: false, committedIndex: 41, appliedIndex: 40,
        pendingProposals: 3, storeBytes: 12_345, quotaBytes: 2 << 30
    )

    @Test func aSampleIsRenderedUnderEtcdsNamesAndTypes() {
        let rendered = lines(EtcdMetrics(memberID: 0x80a0_b33f_60be_63b1, serverVersion: "3.4.0"), sample)
        for expected in [
            "# TYPE etcd_server_has_leader gauge", "etcd_server_has_leader 1.0",
            "# TYPE etcd_server_is_leader gauge", "etcd_server_is_leader 0.0",
            "# TYPE etcd_server_proposals_committed_total gauge", "etcd_server_proposals_committed_total 41.0",
            "# TYPE etcd_server_proposals_applied_total gauge", "etcd_server_proposals_applied_total 40.0",
            "# TYPE etcd_server_proposals_pending gauge", "etcd_server_proposals_pending 3.0",
            "etcd_mvcc_db_total_size_in_bytes 12345.0", "etcd_mvcc_db_total_size_in_use_in_bytes 12345.0",
            "etcd_server_quota_backend_bytes 2147483648.0",
            "etcd_server_id{server_id=\"80a0b33f60be63b1\"} 1.0",
            "etcd_server_version{server_version=\"3.4.0\"} 1.0",
            "etcd_cluster_version{cluster_version=\"3.4\"} 1.0",
            "# TYPE etcd_server_leader_changes_seen_total counter", "etcd_server_leader_changes_seen_total 0",
        ] {
            #expect(rendered.contains(expected), "missing: \(expected)")
        }
    }

    /// The log's syncs land in etcd's buckets, in seconds; failed proposals are counted.
    @Test func syncDurationsAndFailedProposalsAreRecorded() {
        let metrics = EtcdMetrics(memberID: 1, serverVersion: "3.4.0")
        metrics.walFsyncDurations.record(.microseconds(1_500))
        metrics.walFsyncDurations.record(.milliseconds(600))
        metrics.proposalsFailed.increment(by: Int64(2))
        let rendered = lines(metrics, sample)
        for expected in [
            "# TYPE etcd_disk_wal_fsync_duration_seconds histogram",
            "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.001\"} 0",
            "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.002\"} 1",
            "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"0.512\"} 1",
            "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"1.024\"} 2",
            "etcd_disk_wal_fsync_duration_seconds_bucket{le=\"8.192\"} 2",
            "etcd_disk_wal_fsync_duration_seconds_count 2",
            "# TYPE etcd_server_proposals_failed_total counter", "etcd_server_proposals_failed_total 2",
        ] {
            #expect(rendered.contains(expected), "missing: \(expected)")
        }
    }

    /// Leader changes are counted as they happen; the rest follows the latest sample.
    @Test func theLeaderChangeCounterKeepsCountingAcrossScrapes() {
        let metrics = EtcdMetrics(memberID: 1, serverVersion: "3.4.0")
        metrics.leaderChangesSeen.increment()
        _ = metrics.render(sample)
        metrics.leaderChangesSeen.increment()
        var later = sample
        later.isLeader = true
        let rendered = lines(metrics, later)
        #expect(rendered.contains("etcd_server_leader_changes_seen_total 2"))
        #expect(rendered.contains("etcd_server_is_leader 1.0"))
    }
}
