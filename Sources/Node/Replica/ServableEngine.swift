import ConsensusCore

/// An engine a node can serve with: how a node's flags become the engine's configuration, and the
/// hard states a data directory starts from. Front ends build their nodes over any conforming engine,
/// so neither they nor `Node` name one; each engine's conformance lives beside its registry entry.
public protocol ServableEngine: ConsensusEngine where HardState: DurableCoding, Message: WireCodable {
    /// The hard state of a data directory nothing was written to yet.
    static var emptyHardState: HardState { get }
    /// The hard state of a data directory restored from a snapshot at `index` of `term` (`synod
    /// snapshot restore`): the snapshot counts as committed.
    static func hardState(restoredAt index: LogIndex, term: Term) -> HardState
    /// Starts the node's engine from what its disk holds.
    static func serving(id: NodeID, voters: [NodeID], settings: NodeEngineSettings, random: SeededRandom, restoring: DurableState<HardState>) -> Self
}

/// What a node's flags decide about its engine, in the terms every engine shares; each engine maps
/// them onto its own tunables.
public struct NodeEngineSettings: Sendable {
    /// Ticks without hearing from a leader before a node stands for election (a tick is one
    /// heartbeat interval).
    public var electionTimeoutTicks: Int
    /// Entries applied since the last snapshot that make the engine ask for a new one.
    public var snapshotEntriesThreshold: Int
    /// Entries kept behind a snapshot for followers that are slightly behind.
    public var compactionRetainEntries: Int
    /// The largest proposal the engine appends.
    public var proposalBytesMax: Int
    /// Refuse a membership change that would leave too few voters answering.
    public var strictReconfigurationCheck: Bool
    /// Checks a complete snapshot from the leader before the engine takes it: the node's services
    /// each check their part, so a snapshot they cannot restore is refused rather than installed.
    public var acceptsSnapshot: @Sendable ([UInt8]) -> Bool

    public init(
        electionTimeoutTicks: Int, snapshotEntriesThreshold: Int, compactionRetainEntries: Int, proposalBytesMax: Int,
        strictReconfigurationCheck: Bool, acceptsSnapshot: @escaping @Sendable ([UInt8]) -> Bool
    ) {
        self.electionTimeoutTicks = electionTimeoutTicks
        self.snapshotEntriesThreshold = snapshotEntriesThreshold
        self.compactionRetainEntries = compactionRetainEntries
        self.proposalBytesMax = proposalBytesMax
        self.strictReconfigurationCheck = strictReconfigurationCheck
        self.acceptsSnapshot = acceptsSnapshot
    }
}
