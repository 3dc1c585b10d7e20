/// Deliberate defects, for showing that the simulator's checkers catch a broken ZooKeeper service.
/// All off in production; only the simulator's sensitivity tests set them.
public struct ZooKeeperServiceFaults: Sendable {
    /// Reads are answered from the tree as it is when they arrive, not after the session's earlier
    /// writes and syncs: a read pipelined behind a sync or a write may miss it.
    public var readsSkipSessionOrder = false
    /// A sync is answered at once, without waiting for the leader's read index: a member cut off
    /// from the leader serves what it has.
    public var syncsSkipReadIndex = false

    public init(readsSkipSessionOrder: Bool = false, syncsSkipReadIndex: Bool = false) {
        self.readsSkipSessionOrder = readsSkipSessionOrder
        self.syncsSkipReadIndex = syncsSkipReadIndex
    }
}
