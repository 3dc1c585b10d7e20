import BoltSnapshot
import ConsensusCore
import MVCC

/// Synod's store in etcd 3.4's backend layout (a bbolt file), and back: what Maintenance.Snapshot
/// streams, what `synod snapshot restore` reads (from Synod or from etcd), and what HashKV hashes,
/// so that etcd's tools and etcd itself read Synod's data and the other way round.
public enum EtcdBackendFormat {
    /// The store's contents as etcd's buckets hold them, as of raft index `consistentIndex`.
    public static func contents(of store: MVCCStore, consistentIndex: UInt64) -> EtcdBackendContents {
        EtcdBackendContents(
            revisions: store.revisionRecords.map(\.etcd),
            leases: store.leases.map { EtcdLease(id: $0.id, ttl: $0.ttlSeconds) },
            members: store.members.map { member in
                EtcdBackendMember(
                    id: member.id, name: member.attributes.name, peerURLs: member.attributes.peerURLs,
                    clientURLs: member.attributes.clientURLs, isLearner: member.isLearner)
            },
            removedMemberIDs: store.removedMembers.sorted(),
            consistentIndex: consistentIndex,
            finishedCompactRevision: store.lastCompaction,
            scheduledCompactRevision: store.lastCompaction,
            alarms: store.alarms.map { EtcdAlarm(memberID: $0.memberID, kind: $0.kind == .noSpace ? .noSpace : .corrupt) },
            clusterVersion: MaintenanceService.apiVersion)
    }

    /// The snapshot file etcd's Maintenance.Snapshot sends: the bbolt database, then its SHA-256.
    public static func snapshotFile(of store: MVCCStore, consistentIndex: UInt64) throws(BoltWriteError) -> [UInt8] {
        try EtcdBackend.encodeSnapshot(contents(of: store, consistentIndex: consistentIndex))
    }

    /// A store holding what an etcd backend holds: keys with every retained version, leases (with
    /// their full TTLs), the compaction, alarms. Members are left out: a restored cluster is the one
    /// the restore's flags name, as etcd's restore makes it.
    public static func store(from contents: EtcdBackendContents) throws(SnapshotDecodingError) -> MVCCStore {
        try MVCCStore(
            importing: contents.revisions.map(\.synod),
            revision: contents.currentRevision,
            compactedRevision: contents.finishedCompactRevision,
            leases: contents.leases.map { (id: $0.id, ttlSeconds: $0.ttl) },
            alarms: contents.alarms.compactMap { alarm in
                switch alarm.kind {
                case .noSpace: return Alarm(memberID: alarm.memberID, kind: .noSpace)
                case .corrupt: return Alarm(memberID: alarm.memberID, kind: .corrupt)
                case .none, .other: return nil
                }
            })
    }

    /// etcd 3.4's HashKV of the store at `revision` (0: the current one), with etcd's refusals.
    public static func hashKV(of store: MVCCStore, revision requested: Int64) -> Result<(hash: UInt32, compactRevision: Int64), MVCCError> {
        let compactRevision = store.lastCompaction ?? -1
        if requested > 0 && requested <= compactRevision { return .failure(.compacted(compactRevision: compactRevision)) }
        if requested > store.revision { return .failure(.futureRevision) }
        let revision = requested > 0 ? requested : store.revision
        let hash = EtcdHashKV.hash(revisions: store.revisionRecords.map(\.etcd), atRevision: revision, compactRevision: compactRevision)
        return .success((hash, compactRevision))
    }
}

extension RevisionRecord {
    var etcd: EtcdRevisionRecord {
        EtcdRevisionRecord(
            revision: EtcdRevision(main: main, sub: sub), isTombstone: isTombstone,
            keyValue: EtcdKeyValue(
                key: keyValue.key, createRevision: keyValue.createRevision, modRevision: keyValue.modRevision,
                version: keyValue.version, value: keyValue.value, lease: keyValue.lease))
    }
}

extension EtcdRevisionRecord {
    var synod: RevisionRecord {
        RevisionRecord(
            main: revision.main, sub: revision.sub, isTombstone: isTombstone,
            keyValue: KeyValue(
                key: keyValue.key, createRevision: keyValue.createRevision, modRevision: keyValue.modRevision,
                version: keyValue.version, value: keyValue.value, lease: keyValue.lease))
    }
}
