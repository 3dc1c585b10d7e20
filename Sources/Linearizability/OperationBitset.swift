/// A set of operation indices within one partition, stored as 64-bit words.
///
/// The search adds or removes one index per step and stores a snapshot in its memo after every
/// successful step, so the set keeps a fingerprint up to date in O(1) per change: hashing a snapshot
/// then costs one word instead of a pass over all of them. Equality still compares the words, so a
/// fingerprint collision costs time, never correctness.
package struct OperationBitset: Hashable {
    private static let bitsPerWord = 64

    package private(set) var words: [UInt64]
    /// The XOR of ``scramble(_:)`` over the members.
    package private(set) var fingerprint: UInt64 = 0
    package let capacity: Int

    package init(capacity: Int) {
        precondition(capacity >= 0, "negative bitset capacity \(capacity)")
        self.capacity = capacity
        words = Array(repeating: 0, count: (capacity + Self.bitsPerWord - 1) / Self.bitsPerWord)
    }

    package func contains(_ index: Int) -> Bool {
        checkBounds(index)
        return words[index / Self.bitsPerWord] & Self.mask(index) != 0
    }

    package mutating func insert(_ index: Int) {
        precondition(!contains(index), "operation \(index) inserted twice into the linearized set")
        words[index / Self.bitsPerWord] |= Self.mask(index)
        fingerprint ^= Self.scramble(index)
    }

    package mutating func remove(_ index: Int) {
        precondition(contains(index), "operation \(index) removed from the linearized set but absent")
        words[index / Self.bitsPerWord] &= ~Self.mask(index)
        fingerprint ^= Self.scramble(index)
    }

    /// True when every member of this set is a member of `other`; both must have the same capacity.
    package func isSubset(of other: OperationBitset) -> Bool {
        precondition(capacity == other.capacity, "subset test across capacities \(capacity) and \(other.capacity)")
        for index in words.indices where words[index] & ~other.words[index] != 0 {
            return false
        }
        return true
    }

    package static func == (left: OperationBitset, right: OperationBitset) -> Bool {
        left.fingerprint == right.fingerprint && left.words == right.words
    }

    package func hash(into hasher: inout Hasher) {
        hasher.combine(fingerprint)
    }

    private func checkBounds(_ index: Int) {
        precondition(index >= 0 && index < capacity, "operation \(index) outside bitset of \(capacity)")
    }

    private static func mask(_ index: Int) -> UInt64 { 1 << UInt64(index % bitsPerWord) }

    /// The SplitMix64 finalizer, so that neighbouring indices get unrelated fingerprints and the XOR
    /// of a set rarely collides with that of another set.
    private static func scramble(_ index: Int) -> UInt64 {
        var mixed = UInt64(index) &+ 0x9E37_79B9_7F4A_7C15
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
