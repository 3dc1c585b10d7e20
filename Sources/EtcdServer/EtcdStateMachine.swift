import ConsensusCore
import MVCC
import Replica

/// The etcd keyspace as the replicated log computes it: the MVCC store (keys, revisions, leases,
/// members, alarms), and the index and term of the last entry applied. Every replica holds the
/// same state at the same index. What clients see of it, answers, watches, lease timers, the
/// member list the transport dials, is the front end's (`EtcdService`), which owns one of these.
public struct EtcdStateMachine: StateMachine, Sendable {
    public enum Outcome {
        /// A no-op, or an entry of no kind this machine applies.
        case noEffect
        /// A command applied, or refused by the store alike on every replica; `events` are the
        /// watch events it made.
        case command(EtcdProposal, Result<CommandOutcome, MVCCError>, events: [Event])
        /// A membership configuration took effect: the member table follows it.
        case configuration(ConfigurationEntry)
        /// A committed entry that does not decode: skipped on every replica alike.
        case skipped(reason: String)
    }

    public private(set) var store: MVCCStore
    public private(set) var appliedIndex: LogIndex = 0
    /// The term of the last entry applied (a leader serves lease calls once it is its own).
    public private(set) var appliedTerm: Term = 0
    /// `SYNOD_STORE_FAULT=alter-puts`: every put is applied with its value changed, a deliberately
    /// diverging replica for testing the corruption check. Never set in production.
    var altersPuts = false

    public init(store: MVCCStore = MVCCStore()) {
        self.store = store
    }

    public init(restoring snapshot: Snapshot) throws {
        // A snapshot with no etcd part (taken where no etcd service ran) is an empty store.
        store = snapshot.data.isEmpty ? MVCCStore() : try MVCCStore(snapshot: snapshot.data)
        appliedIndex = snapshot.metadata.index
        appliedTerm = snapshot.metadata.term
    }

    public func snapshot() -> [UInt8] { store.snapshot() }

    /// Replaces the state with a snapshot's, keeping this member's deliberate defects.
    public mutating func restore(_ snapshot: Snapshot) throws {
        let altersPuts = self.altersPuts
        self = try EtcdStateMachine(restoring: snapshot)
        self.altersPuts = altersPuts
    }

    public mutating func apply(_ entry: Entry) -> Outcome {
        precondition(entry.index == appliedIndex + 1, "applying \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        appliedTerm = entry.term
        switch entry.kind {
        case .configuration:
            guard let configuration = ConfigurationEntry(decoding: entry.data) else { return .skipped(reason: "configuration entry does not decode") }
            let membership = configuration.membership
            store.applyConfiguration(voters: Set(membership.allVoters.map(\.rawValue)), learners: Set(membership.learners.map(\.rawValue)))
            return .configuration(configuration)
        case .command:
            let proposal: EtcdProposal
            do {
                proposal = try EtcdProposal(decoding: entry.data)
            } catch {
                return .skipped(reason: "\(error)")
            }
            let result = store.apply(altersPuts ? Self.altered(proposal.command) : proposal.command)
            return .command(proposal, result, events: store.lastAppliedEvents)
        case .noop:
            return .noEffect
        }
    }

    /// A new cluster's first member table, from the flags (no log entry records it); also for a
    /// snapshot from before the store kept members.
    public mutating func bootstrapMembers(voters: Set<UInt64>) {
        store.bootstrapMembers(voters: voters)
    }

    /// The command a deliberately diverging member applies instead (see `altersPuts`).
    static func altered(_ command: Command) -> Command {
        guard case .put(var put) = command, !put.ignoreValue else { return command }
        put.value.append(UInt8(ascii: "!"))
        return .put(put)
    }
}
