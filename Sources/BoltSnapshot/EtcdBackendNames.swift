/// The bucket and key names of etcd 3.4's backend.
enum EtcdBackendNames {
    static let keyBucket = "key"
    static let metaBucket = "meta"
    static let leaseBucket = "lease"
    static let membersBucket = "members"
    static let membersRemovedBucket = "members_removed"
    static let clusterBucket = "cluster"
    static let alarmBucket = "alarm"
    static let authBucket = "auth"
    static let authUsersBucket = "authUsers"
    static let authRolesBucket = "authRoles"

    /// Every bucket a running etcd 3.4 creates, which the encoder therefore always writes.
    static let allBuckets = [
        alarmBucket, authBucket, authRolesBucket, authUsersBucket, clusterBucket, keyBucket,
        leaseBucket, membersBucket, membersRemovedBucket, metaBucket,
    ]

    static let consistentIndexKey = "consistent_index"
    static let scheduledCompactKey = "scheduledCompactRev"
    static let finishedCompactKey = "finishedCompactRev"
    static let clusterVersionKey = "clusterVersion"
    /// The value etcd writes for a removed member; only the key matters.
    static let removedMemberValue = "removed"
}
