/// A replicated command: what the log carries. Applying the same commands in the same order to equal
/// stores gives equal stores and equal outcomes on every replica.
///
/// Reads are not commands: a linearizable read waits for the applied index and then calls
/// `MVCCStore.range`. A transaction that only reads may still be applied as a command; it changes
/// nothing and does not advance the revision.
public enum Command: Sendable, Equatable {
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    case txn(TxnRequest)
    case compact(revision: Int64)
    /// The node picks a nonzero `id` before proposing, so every replica grants the same lease.
    case leaseGrant(id: Int64, ttlSeconds: Int64)
    case leaseRevoke(id: Int64)
    /// Raises or clears an alarm (etcd's `AlarmRequest`, ACTIVATE or DEACTIVATE).
    case alarm(AlarmAction, Alarm)
    /// Stages or updates what is known of a member (`MemberAdd`, `MemberUpdate`, a member's own
    /// publication of its name and client URLs). It writes no key.
    case memberAttributes(MemberAttributes)
}

/// What applying a command produced, one case per `Command` case.
public enum CommandOutcome: Sendable, Equatable {
    case put(PutResult)
    case deleteRange(DeleteRangeResult)
    case txn(TxnResult)
    case compact
    case leaseGrant(Lease)
    case leaseRevoke
    /// The alarms the command changed.
    case alarm([Alarm])
    case memberAttributes
}
