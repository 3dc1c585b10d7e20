import ConsensusCore

/// A replicated state machine: what every replica computes alike from the committed log. It is
/// pure (no clock, thread, disk or randomness), so the same entries in the same order give the
/// same state on every replica, and a snapshot restores exactly that state.
///
/// A service on the host (`HostedService`) is a front end that owns one: the etcd service owns
/// `EtcdStateMachine` and answers its clients, runs watches and lease timers, and tells the
/// transport where members listen, while everything replicas must agree on is in the machine. A
/// second service brings its own machine and never touches the first (`ServiceRouter`).
public protocol StateMachine {
    /// What applying one entry tells the front end: its proposer's answer, events to deliver.
    associatedtype Outcome

    /// The index of the last entry applied or restored.
    var appliedIndex: LogIndex { get }

    /// Applies the next committed entry (`appliedIndex + 1`). No-ops and entries that are not
    /// commands still advance `appliedIndex`; a command that does not decode is skipped alike on
    /// every replica (its proposal should have been refused), never a trap.
    mutating func apply(_ entry: Entry) -> Outcome

    /// The state as of `appliedIndex`, encoded; equal states give equal bytes.
    func snapshot() -> [UInt8]

    /// The state a snapshot holds, as of its index. Throws on bytes that do not decode.
    init(restoring snapshot: Snapshot) throws
}
