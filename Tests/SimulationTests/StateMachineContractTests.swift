import ConsensusCore
import Replica
import Simulation
import Testing

/// The state-machine contract (`StateMachineContract`) over the simulator's key-value machine, and
/// shown to catch a machine whose snapshot forgets part of its state.
@Suite struct StateMachineContractTests {
    static func commands(count: Int, seed: UInt64) -> [Entry] {
        var random = SeededRandom(seed: seed)
        return (1...count).map { index in
            let client = random.int(in: 0..<3)
            let key = "k\(random.int(in: 0..<4))"
            let operation: KeyValueCommand.Operation = random.chance(0.5)
                ? .put(key: key, value: "v\(index)")
                : .compareAndSet(key: key, expected: random.chance(0.5) ? nil : "v\(index - 1)", new: "w\(index)")
            let command = KeyValueCommand(client: client, sequence: UInt64(index), operation: operation)
            // Every fifth entry is a no-op, as a new leader's would be.
            return index % 5 == 0 ? Entry(index: LogIndex(index), term: 1, kind: .noop) : Entry(index: LogIndex(index), term: 1, data: command.encoded)
        }
    }

    @Test(arguments: [1, 2, 3] as [UInt64])
    func theKeyValueMachineKeepsTheContract(seed: UInt64) {
        #expect(StateMachineContract.violation({ KeyValueStateMachine() }, entries: Self.commands(count: 60, seed: seed)) == nil, "seed \(seed)")
    }

    /// Counts commands, but its snapshot keeps only the applied index.
    struct ForgetfulCounter: StateMachine {
        var appliedIndex: LogIndex = 0
        var count = 0
        init() {}
        mutating func apply(_ entry: Entry) {
            appliedIndex = entry.index
            if entry.kind == .command { count += 1 }
        }
        func snapshot() -> [UInt8] { withUnsafeBytes(of: appliedIndex.littleEndian) { Array($0) } + withUnsafeBytes(of: count.littleEndian) { Array($0) } }
        init(restoring snapshot: Snapshot) { appliedIndex = snapshot.metadata.index }
    }

    @Test func aSnapshotThatLosesStateIsCaught() {
        let violation = StateMachineContract.violation({ ForgetfulCounter() }, entries: Self.commands(count: 10, seed: 1))
        #expect(violation?.contains("differs from the original") == true, "\(violation ?? "no violation")")
    }
}
