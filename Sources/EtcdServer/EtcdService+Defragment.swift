import ConsensusCore

extension EtcdService {
    /// How long Defragment waits for its snapshot to be durable: a large store is written at
    /// `SnapshotStore.backgroundWriteBytesPerSecond`, so this covers a few GiB.
    static let defragmentWaitMax: Duration = .seconds(120)

    /// Snapshots everything applied and waits until the snapshot is durable and the log behind it
    /// released (see `MaintenanceService.defragment`).
    func defragment() async -> Result<Void, EtcdError> {
        guard let target = await onLoop({ $0.appliedIndex }) else { return .failure(.tooManyRequests) }
        if replica.durableSnapshotIndex >= target { return .success(()) }
        guard replica.snapshotNow() else { return .failure(.tooManyRequests) }
        let deadline = now + Self.defragmentWaitMax
        while now < deadline {
            if replica.durableSnapshotIndex >= target { return .success(()) }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return .failure(.timeout)
    }
}
