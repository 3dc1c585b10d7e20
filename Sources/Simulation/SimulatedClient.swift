import ConsensusCore
import Linearizability

/// A client of the simulated key-value service. It runs one operation at a time, retries an attempt
/// that fails or times out (at the same session sequence number, so a retried write applies at most
/// once), and gives up at the operation's deadline.
struct SimulatedClient {
    struct Operation {
        var input: KeyValueModel.Input
        var sequence: UInt64
        var invokedAt: UInt64
        /// After this time the client gives up; the operation is then indeterminate, or, if it was
        /// issued after healing, a liveness violation.
        var deadline: UInt64
        var mustComplete: Bool
        /// Requests of this operation still awaiting an answer, by the node they went to.
        var attempts: [RequestID: Int] = [:]
        var currentAttemptDeadline: UInt64 = 0
        /// A write that reached any engine may be applied, even if every attempt seems to have failed.
        var mayHaveTakenEffect = false
    }

    let index: Int
    var sequence: UInt64 = 0
    var operation: Operation?
    /// The node the client talks to; updated from leader hints and failures.
    var preferredNode: Int
    /// Only the most recently scheduled wake-up acts; earlier ones are stale.
    var wakeGeneration: UInt64 = 0
    /// The last value the client saw for each key, to make compare-and-set likely to succeed.
    var lastSeen: [String: String] = [:]

    init(index: Int, preferredNode: Int) {
        self.index = index
        self.preferredNode = preferredNode
    }

    /// Draws the next operation: reads, puts and compare-and-sets over a few keys, with values
    /// unique per write so the linearizability search stays sharp; with `multiKey`, also deletes
    /// and atomic puts and reads of the first two keys (`multiKeyGroup`).
    mutating func nextInput(keyCount: Int, multiKey: Bool, random: inout SeededRandom) -> KeyValueModel.Input {
        sequence += 1
        let key = "k\(random.int(in: 0..<keyCount))"
        let value = "v\(index).\(sequence)"
        switch random.int(in: 0..<(multiKey ? 13 : 10)) {
        case 0..<4: return .get(key: key)
        case 4..<8: return .put(key: key, value: value)
        case 8, 9: return .compareAndSet(key: key, expected: lastSeen[key], new: value)
        case 10: return .delete(key: key)
        case 11: return .putAll(keys: Self.multiKeyGroup(keyCount: keyCount), value: value)
        default: return .getAll(keys: Self.multiKeyGroup(keyCount: keyCount))
        }
    }

    /// The keys multi-key operations touch: the first two (one key alone when there is one).
    static func multiKeyGroup(keyCount: Int) -> [String] { (0..<min(2, max(1, keyCount))).map { "k\($0)" } }

    /// The linearizability model's partitions for multi-key operations.
    static func multiKeyPartitions(keyCount: Int) -> [String: String] {
        let group = multiKeyGroup(keyCount: keyCount)
        return Dictionary(uniqueKeysWithValues: group.map { ($0, group.joined(separator: "+")) })
    }
}
