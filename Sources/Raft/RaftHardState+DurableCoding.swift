import ConsensusCore

extension RaftHardState: DurableCoding {
    /// Term, vote (0 for none) and commit, each a little-endian u64.
    public var durableBytes: [UInt8] {
        [term, vote?.rawValue ?? 0, commit].flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * UInt64($0))) } }
    }

    public init?(durableBytes bytes: [UInt8]) {
        guard bytes.count == 24 else { return nil }
        func number(_ slot: Int) -> UInt64 {
            (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[slot * 8 + $1]) << (8 * UInt64($1)) }
        }
        self.init(term: number(0), vote: number(1) == 0 ? nil : NodeID(number(1)), commit: number(2))
    }
}
