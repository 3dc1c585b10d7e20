/// etcd's multi-version key-value store and lease table as one deterministic state machine.
///
/// Every replica applies the same committed `Command`s in the same order and reaches the same state:
/// `apply` reads no clock, no randomness and no I/O. Each command that writes advances `revision` by
/// exactly one, however many keys it touches; one that fails, or writes nothing, leaves the store
/// unchanged. Past revisions stay readable (`range` with a revision, `events`) until a `compact`
/// command discards them.
///
/// The store is a value: copying it is cheap (the key index shares nodes until written), so a shell
/// may hand a copy to readers while it keeps applying.
///
/// Naming follows etcd's `mvcc` package: a key's history is its `keyIndex`, a delete writes a
/// tombstone, and "compacted revision" is etcd's `compactMainRev`.
public struct MVCCStore: Sendable {
    /// etcd's `--max-txn-ops` default: the most compares, or operations per branch, in one txn.
    public static let txnOperationsMax = 128
    /// etcd's `lease.MaxLeaseTTL`: the longest TTL, in seconds, a lease may be granted.
    public static let leaseTTLMaxSeconds: Int64 = 9_000_000_000

    /// The current revision. A fresh store is at 1, as etcd reports for an empty cluster; the first
    /// write happens at revision 2.
    public private(set) var revision: Int64 = 1

    /// The revision of the last compaction, 0 before the first. Reads below it fail with
    /// `MVCCError.compacted`.
    public private(set) var compactedRevision: Int64 = 0

    /// Whether a compaction has happened. etcd starts its compacted revision at -1, so that a first
    /// `compact(revision: 0)` succeeds and a second one fails; this flag keeps that distinction.
    package private(set) var hasCompacted = false

    /// The events produced by the most recent `apply`, in the order they happened; empty after a
    /// command that failed or wrote nothing.
    public private(set) var lastAppliedEvents: [Event] = []

    /// Live keys.
    public private(set) var keyCount = 0

    /// Approximate bytes held by keys, retained versions and their values (etcd's `dbSize`).
    public private(set) var sizeBytes = 0

    /// Every key with retained history, in key order.
    package var keyIndex = OrderedMap<KeyHistory>()

    /// Granted leases by id, with the keys attached to each. Never iterated in its own (hash) order
    /// where the result is observable: `leases` and revocation sort.
    package var leaseTable: [Int64: LeaseRecord] = [:]

    /// Raised alarms (etcd's `alarm` bucket); see `Alarm`.
    package var alarmSet: Set<Alarm> = []

    /// The cluster's members (etcd's `members` and `members_removed` buckets); see `Members.swift`.
    package var memberAttributeTable: [UInt64: MemberAttributes] = [:]
    /// The configuration in force as applied: member id to whether it is a learner.
    package var configuredMembers: [UInt64: Bool] = [:]
    package var removedMemberIDs: Set<UInt64> = []

    /// Every retained change at or after the compacted revision, in revision order, so that `events`
    /// can replay a range of revisions without visiting every key.
    package var changeLog = ChunkedLog<ChangeLogEntry>()

    public init() {}

    /// etcd's `compactMainRev`: the oldest revision still readable, -1 before the first compaction.
    package var firstReadableRevision: Int64 { hasCompacted ? compactedRevision : -1 }

    public func lease(_ id: Int64) -> Lease? {
        leaseTable[id].map { $0.lease(id: id) }
    }

    /// Every granted lease, in ascending id order.
    public var leases: [Lease] {
        leaseTable.keys.sorted().map { id in leaseTable[id]!.lease(id: id) }
    }
}

/// One granted lease inside the store.
package struct LeaseRecord: Sendable, Equatable {
    package var ttlSeconds: Int64
    package var keys: Set<[UInt8]> = []

    package func lease(id: Int64) -> Lease {
        Lease(id: id, ttlSeconds: ttlSeconds, keys: keys.sorted(by: ByteOrder.precedes))
    }
}

/// One change in `MVCCStore.changeLog`: which key changed at which revision.
package struct ChangeLogEntry: Sendable, Equatable {
    package var revision: Revision
    package var key: [UInt8]
}

extension MVCCStore {
    /// A store from its replicated state, deriving the change log and the counters; used by the
    /// snapshot decoder, which has checked the state's invariants.
    package init(
        revision: Int64, compactedRevision: Int64, hasCompacted: Bool, keyIndex: OrderedMap<KeyHistory>,
        leaseTable: [Int64: LeaseRecord]
    ) {
        self.revision = revision
        self.compactedRevision = compactedRevision
        self.hasCompacted = hasCompacted
        self.keyIndex = keyIndex
        self.leaseTable = leaseTable
        var changes: [ChangeLogEntry] = []
        var liveKeys = 0
        var bytes = 0
        let firstReadable = hasCompacted ? compactedRevision : -1
        keyIndex.forEach { key, history in
            bytes += StoreSizing.bytes(ofKey: key)
            for entry in history.entries {
                bytes += StoreSizing.bytes(of: entry)
                // A version kept from below the compacted revision is readable but is no event.
                if entry.modRevision >= firstReadable {
                    changes.append(ChangeLogEntry(revision: entry.revision, key: key))
                }
            }
            if history.live != nil { liveKeys += 1 }
        }
        changes.sort { $0.revision < $1.revision }
        self.changeLog = ChunkedLog(changes)
        self.keyCount = liveKeys
        self.sizeBytes = bytes
    }

    /// Resets `lastAppliedEvents` at the start of an apply.
    package mutating func clearLastAppliedEvents() {
        lastAppliedEvents = []
    }

    /// Ends a write transaction: if it changed anything, the store moves to its revision and its
    /// events become `lastAppliedEvents` (etcd's `storeTxnWrite.End`).
    package mutating func commit(_ transaction: WriteTransaction) {
        precondition(
            transaction.beginRevision == revision,
            "MVCCStore.commit: transaction began at \(transaction.beginRevision), store is at \(revision)")
        guard !transaction.events.isEmpty else { return }
        precondition(revision < Int64.max, "MVCCStore.commit: revision space exhausted at \(revision)")
        revision += 1
        lastAppliedEvents = transaction.events
    }

    package mutating func recordCompaction(at compactRevision: Int64) {
        compactedRevision = compactRevision
        hasCompacted = true
    }

    package mutating func adjustSize(by delta: Int) {
        sizeBytes += delta
    }

    package mutating func adjustKeyCount(by delta: Int) {
        keyCount += delta
        precondition(keyCount >= 0, "MVCCStore: live key count went negative (\(keyCount))")
    }
}
