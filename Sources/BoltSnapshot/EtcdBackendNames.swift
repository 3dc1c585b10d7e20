/// The bucket and key names of etcd 3.4's backend.
package enum EtcdBackendNames {
    package static let keyBucket = "key"
    package static let metaBucket = "meta"
    package static let leaseBucket = "lease"
    package static let membersBucket = "members"
    package static let membersRemovedBucket = "members_removed"
    package static let clusterBucket = "cluster"
    package static let alarmBucket = "alarm"
    package static let authBucket = "auth"
    package static let authUsersBucket = "authUsers"
    package static let authRolesBucket = "authRoles"

    /// Every bucket a running etcd 3.4 creates, which the encoder therefore always writes.
    package static let allBuckets = [
        alarmBucket, authBucket, authRolesBucket, authUsersBucket, clusterBucket, keyBucket,
        leaseBucket, membersBucket, membersRemovedBucket, metaBucket,
    ]

    package static let consistentIndexKey = "consistent_index"
    package static let scheduledCompactKey = "scheduledCompactRev"
    package static let finishedCompactKey = "finishedCompactRev"
    package static let clusterVersionKey = "clusterVersion"
    /// The value etcd writes for a removed member; only the key matters.
    package static let removedMemberValue = "removed"
}
