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

extension Array where Element == Entry {
    /// The position of the first entry above `index`, in entries sorted by index (contiguous, or
    /// with the holes slot writes leave): by arithmetic when contiguous, else by binary search.
    public func position(after index: LogIndex) -> Int {
        guard let first, let last else { return 0 }
        if index < first.index { return 0 }
        if index >= last.index { return count }
        if last.index - first.index + 1 == LogIndex(count) { return Int(index - first.index + 1) }
        var low = 0
        var high = count
        while low < high {
            let middle = (low + high) / 2
            if self[middle].index <= index { low = middle + 1 } else { high = middle }
        }
        return low
    }

    /// Writes `entry` at its own index (`PersistRequest.slots`): replaces the entry there, or
    /// inserts it in index order, leaving every other entry where it is.
    public mutating func placeSlot(_ entry: Entry) {
        let position = entry.index == 0 ? 0 : position(after: entry.index - 1)
        if position < count, self[position].index == entry.index {
            self[position] = entry
        } else {
            insert(entry, at: position)
        }
    }
}
