/// A hard state payload for tests: three little-endian numbers, as Raft encodes term, vote, commit.
func hardState(_ term: UInt64, _ vote: UInt64, _ commit: UInt64) -> [UInt8] {
    [term, vote, commit].flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }
}
