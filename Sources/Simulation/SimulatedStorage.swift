import ConsensusCore

/// A node's disk, modelled honestly: writes land in a volatile buffer and only `sync` makes them
/// durable. A crash keeps what was synced, plus possibly a prefix of what was not, in write order
/// (entries before hard state), as a real page cache might have flushed part of it.
public struct SimulatedStorage<HardState: Sendable & Equatable>: Sendable {
    public private(set) var hardState: HardState
    public private(set) var entries: [Entry] = []
    /// prefixDigests[i] summarises entries[0...i]; equal digests mean equal log prefixes. The
    /// log-matching checker compares these instead of whole logs.
    public private(set) var prefixDigests: [UInt64] = []

    private var pendingEntries: [Entry] = []
    private var pendingHardState: HardState?

    public init(hardState: HardState) {
        self.hardState = hardState
    }

    public var lastIndex: LogIndex { LogIndex(entries.count) }

    public var hasUnsyncedWrites: Bool { !pendingEntries.isEmpty || pendingHardState != nil }

    public func term(at index: LogIndex) -> Term? {
        if index == 0 { return 0 }
        guard index <= lastIndex else { return nil }
        return entries[Int(index) - 1].term
    }

    public func prefixDigest(at index: LogIndex) -> UInt64? {
        if index == 0 { return 0 }
        guard index <= lastIndex else { return nil }
        return prefixDigests[Int(index) - 1]
    }

    public var durableState: DurableState<HardState> { DurableState(hardState: hardState, entries: entries) }

    public mutating func write(_ request: PersistRequest<HardState>) {
        precondition(!hasUnsyncedWrites, "a write began before the previous one was synced")
        pendingEntries = request.entries
        pendingHardState = request.hardState
    }

    public mutating func sync() {
        keep(entryCount: pendingEntries.count, hardState: true)
    }

    /// A crash: unsynced writes are lost, except perhaps a prefix chosen by `random`.
    public mutating func crash(random: inout SeededRandom) {
        guard hasUnsyncedWrites else { return }
        let survivingEntries = random.int(in: 0..<(pendingEntries.count + 1))
        let hardStateSurvives = survivingEntries == pendingEntries.count && random.chance(0.5)
        keep(entryCount: survivingEntries, hardState: hardStateSurvives)
    }

    private mutating func keep(entryCount: Int, hardState keepHardState: Bool) {
        if entryCount > 0 {
            let first = pendingEntries[0].index
            precondition(first >= 1 && first <= lastIndex + 1, "write of \(first) leaves a gap after \(lastIndex)")
            entries.removeSubrange(Int(first - 1)...)
            prefixDigests.removeSubrange(Int(first - 1)...)
            for entry in pendingEntries.prefix(entryCount) {
                precondition(entry.index == lastIndex + 1, "non-contiguous write of \(entry.index) after \(lastIndex)")
                let previous = prefixDigests.last ?? 0
                entries.append(entry)
                prefixDigests.append(Digest.combine(previous, Digest.of(entry)))
            }
        }
        if keepHardState, let pendingHardState { hardState = pendingHardState }
        pendingEntries = []
        pendingHardState = nil
    }
}

/// A small non-cryptographic digest (FNV-1a over 64 bits), stable across processes unlike `Hasher`,
/// so traces and checkers give the same answer on every run of a seed.
public enum Digest {
    public static let offset: UInt64 = 0xcbf2_9ce4_8422_2325

    public static func combine(_ digest: UInt64, _ value: UInt64) -> UInt64 {
        var result = digest
        var remaining = value
        for _ in 0..<8 {
            result = (result ^ (remaining & 0xff)) &* 0x0000_0100_0000_01b3
            remaining >>= 8
        }
        return result
    }

    public static func of(_ bytes: [UInt8], seed: UInt64 = offset) -> UInt64 {
        var result = seed
        for byte in bytes { result = (result ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return result
    }

    public static func of(_ string: String, seed: UInt64 = offset) -> UInt64 {
        var result = seed
        for byte in string.utf8 { result = (result ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return result
    }

    public static func of(_ entry: Entry) -> UInt64 {
        combine(combine(of(entry.data), entry.term), UInt64(entry.kind.rawValue))
    }
}
