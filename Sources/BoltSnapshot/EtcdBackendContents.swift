/// What an etcd 3.4 backend (the bbolt file a snapshot carries) holds, as plain values.
///
/// Buckets and keys, as etcd 3.4 writes them:
/// - "key": revision key (see `EtcdRevision`) → mvccpb.KeyValue; every version of every key that
///   compaction has not removed, tombstones included.
/// - "meta": "consistent_index" → u64 big-endian, the last applied raft index;
///   "scheduledCompactRev" / "finishedCompactRev" → revision key (sub 0) of the last compaction.
/// - "lease": u64 big-endian lease ID → leasepb.Lease.
/// - "members": hex member ID → member JSON; "members_removed": hex member ID → "removed".
/// - "cluster": "clusterVersion" → e.g. "3.4.0".
/// - "alarm": etcdserverpb.AlarmMember → empty.
/// - "auth", "authUsers", "authRoles": auth state, which this module passes through unread.
public struct EtcdBackendContents: Equatable, Sendable {
    /// The "key" bucket, in bucket order, which for etcd's positive revisions is revision order.
    public var revisions: [EtcdRevisionRecord]
    public var leases: [EtcdLease]
    public var members: [EtcdBackendMember]
    public var removedMemberIDs: [UInt64]
    /// The raft index of the last entry applied to this backend.
    public var consistentIndex: UInt64
    /// The main revision of the last completed compaction; nil when there was none.
    public var finishedCompactRevision: Int64?
    /// The main revision of the last requested compaction; equal to the finished one once it has
    /// run, and nil when there was none.
    public var scheduledCompactRevision: Int64?
    public var alarms: [EtcdAlarm]
    /// The "clusterVersion" entry, such as "3.4.0"; nil before the cluster has decided one.
    public var clusterVersion: String?
    /// Entries this module does not interpret, grouped by bucket: the auth buckets' contents,
    /// unknown keys of known buckets, and unknown buckets. Written back as they are, so that a
    /// decode-then-encode keeps them.
    public var otherEntries: [BoltBucket]

    public init(
        revisions: [EtcdRevisionRecord] = [],
        leases: [EtcdLease] = [],
        members: [EtcdBackendMember] = [],
        removedMemberIDs: [UInt64] = [],
        consistentIndex: UInt64 = 0,
        finishedCompactRevision: Int64? = nil,
        scheduledCompactRevision: Int64? = nil,
        alarms: [EtcdAlarm] = [],
        clusterVersion: String? = "3.4.0",
        otherEntries: [BoltBucket] = []
    ) {
        self.revisions = revisions
        self.leases = leases
        self.members = members
        self.removedMemberIDs = removedMemberIDs
        self.consistentIndex = consistentIndex
        self.finishedCompactRevision = finishedCompactRevision
        self.scheduledCompactRevision = scheduledCompactRevision
        self.alarms = alarms
        self.clusterVersion = clusterVersion
        self.otherEntries = otherEntries
    }

    /// The revision etcd reports for this backend after a restart: the highest main revision in
    /// the "key" bucket, or the compacted revision when compaction removed everything above it.
    public var currentRevision: Int64 {
        let highest = revisions.lazy.filter { $0.revision.main >= 1 }.map(\.revision.main).max() ?? 1
        return max(highest, finishedCompactRevision ?? 1)
    }
}
