import ConsensusCore

/// What a `ReplicaHost` asks of the world around it: a disk and a network. The node performs these
/// on real files and sockets (`ReplicaLoop`); the simulator performs them in virtual time, where a
/// write may tear and a crash may strike between a write and its sync.
public protocol ReplicaEffects<Engine> {
    associatedtype Engine: ConsensusEngine

    /// Writes a persist, not yet durable. Throws `ReplicaInterrupted` when the process dies here.
    mutating func write(_ request: PersistRequest<Engine.HardState>) throws(ReplicaInterrupted)
    /// Makes every write so far durable.
    mutating func sync() throws(ReplicaInterrupted)
    /// Every persist of a batch overlapped its sends (`PersistRequest.overlapsSends`) and the sends
    /// are out: makes the writes through `index` of `term` durable. Returns true when they are
    /// durable now (the host then steps `persisted` itself), false when the caller will step
    /// `EngineEvent.persisted` once its disk finishes.
    mutating func syncAfterSends(through index: LogIndex, term: Term) throws(ReplicaInterrupted) -> Bool
    /// Sends messages, in order.
    mutating func send(_ messages: [Engine.Message])
    /// Serialises a snapshot with `writer` and stores it durably. Returns the snapshot when that is
    /// done now (the host hands it to the engine); returns nil when it is done elsewhere, and the
    /// caller steps `snapshotCreated` once the file is durable.
    mutating func saveSnapshot(_ metadata: SnapshotMetadata, writer: @escaping @Sendable () -> [UInt8]) -> Snapshot?
}

/// The process stopped in the middle of performing a step (the simulator's crash between a write
/// and its sync): nothing after that point was performed.
public struct ReplicaInterrupted: Error, Sendable {
    public var reason: String
    public init(reason: String) { self.reason = reason }
}
