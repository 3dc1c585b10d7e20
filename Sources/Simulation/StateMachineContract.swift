import ConsensusCore
import Replica

/// The contract every `StateMachine` keeps, checked over a sequence of committed entries: applying
/// is deterministic (two machines given the same entries end in the same state), and a snapshot
/// taken at any index, restored elsewhere, continues exactly as the original does. Each state
/// machine's tests run it over entries of their own.
public enum StateMachineContract {
    /// What broke the contract, or nil. `restoreAt` lists the indexes to snapshot and restore at
    /// (every index when nil).
    public static func violation<Machine: StateMachine>(
        _ make: () -> Machine, entries: [Entry], restoreAt: [LogIndex]? = nil
    ) -> String? {
        var reference = make()
        var twin = make()
        var states: [LogIndex: [UInt8]] = [0: reference.snapshot()]
        for entry in entries {
            _ = reference.apply(entry)
            _ = twin.apply(entry)
            let state = reference.snapshot()
            guard state == twin.snapshot() else { return "two machines differ after applying \(entry.index)" }
            guard reference.appliedIndex == entry.index else { return "applied index \(reference.appliedIndex) after applying \(entry.index)" }
            states[entry.index] = state
        }
        let last = entries.last?.index ?? 0
        let term = entries.last?.term ?? 0
        for index in restoreAt ?? entries.map(\.index) {
            guard let state = states[index] else { continue }
            var restored: Machine
            do {
                restored = try Machine(restoring: Snapshot(metadata: SnapshotMetadata(index: index, term: term, membership: Membership(voters: [])), data: state))
            } catch {
                return "the snapshot at \(index) does not restore: \(error)"
            }
            guard restored.appliedIndex == index else { return "restored at \(index) but reports \(restored.appliedIndex)" }
            for entry in entries where entry.index > index { _ = restored.apply(entry) }
            guard restored.snapshot() == states[last] else { return "restored at \(index), then applied to \(last), it differs from the original" }
        }
        return nil
    }
}
