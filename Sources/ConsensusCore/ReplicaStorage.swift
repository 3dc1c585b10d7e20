/// A hard state that can be written to disk: an engine's own fixed encoding, so storage stays
/// engine-agnostic.
public protocol DurableCoding {
    var durableBytes: [UInt8] { get }
    init?(durableBytes: [UInt8])
}

/// Where an engine's `persist` actions go. The simulator's in-memory storage and the disk storage
/// implement the same interface, so engines and the code that drives them do not change between
/// the two worlds.
///
/// Contract: `write` accepts a request (not yet durable), `sync` makes every accepted request
/// durable, and `durableState` is exactly what a process restarted now would see.
public protocol ReplicaStorage {
    associatedtype HardState: Sendable & Equatable
    mutating func write(_ request: PersistRequest<HardState>) throws
    mutating func sync() throws
    var durableState: DurableState<HardState> { get }
}
