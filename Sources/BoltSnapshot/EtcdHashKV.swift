/// etcd 3.4's HashKV (`mvcc.store.HashByRev`): a CRC-32C over the "key" bucket as stored, which
/// members of a cluster compare to detect divergence. Synod answers HashKV with the same number as
/// etcd for the same history only if it hashes the same bytes in the same order, so this follows
/// etcd 3.4.23 exactly:
///
/// 1. Hash the bucket name "key".
/// 2. For each "key" bucket entry in bucket order whose revision is below `(atRevision + 1, 0)`:
///    if its main revision is at or below `compactRevision`, and the keep set is not empty, skip
///    it unless the keep set holds its revision; otherwise hash its key bytes, then its value bytes.
///
/// etcd's keep set is `kvindex.Keep(atRevision)` (not, as one might expect, the revisions kept by
/// the compaction at `compactRevision`): for each key, the newest revision at or before
/// `atRevision` in the generation that is live at `atRevision`, unless that revision is the
/// tombstone ending the generation. `keepSet(revisions:atRevision:)` computes it from the bucket.
public enum EtcdHashKV {
    /// The hash etcd returns for `HashKV(atRevision)`. `revisions` is the "key" bucket in bucket
    /// order; `compactRevision` is the last compaction's main revision, or -1 when there was none
    /// (as etcd keeps it). etcd refuses `atRevision <= compactRevision` and revisions beyond the
    /// current one; that check is the caller's.
    public static func hash(revisions: [EtcdRevisionRecord], atRevision: Int64, compactRevision: Int64, keep: Set<EtcdRevision>) -> UInt32 {
        // Wrapping, like Go's int64 arithmetic: etcd refuses a revision of Int64.max (a future
        // revision) before it gets here, so the wrapped bound is never a real answer.
        let upper = EtcdRevision(main: atRevision &+ 1)
        let lower = EtcdRevision(main: compactRevision &+ 1)
        var crc = CastagnoliCRC32()
        crc.update(Array(EtcdBackendNames.keyBucket.utf8))
        for record in inBucketOrder(revisions) {
            let revision = record.revision
            guard revision < upper else { continue }
            if revision < lower, !keep.isEmpty, !keep.contains(revision) {
                continue
            }
            crc.update(record.bucketKey)
            crc.update(record.bucketValue)
        }
        return crc.value
    }

    /// `hash` with etcd's own keep set, computed from the bucket.
    public static func hash(revisions: [EtcdRevisionRecord], atRevision: Int64, compactRevision: Int64) -> UInt32 {
        let ordered = inBucketOrder(revisions)
        return hash(revisions: ordered, atRevision: atRevision, compactRevision: compactRevision, keep: keepSet(revisions: ordered, atRevision: atRevision))
    }

    /// The hash of a decoded backend at its current revision, as `etcdctl endpoint hashkv` would
    /// report after etcd restarted on it.
    public static func hash(of contents: EtcdBackendContents) -> UInt32 {
        hash(revisions: contents.revisions, atRevision: contents.currentRevision, compactRevision: contents.finishedCompactRevision ?? -1)
    }

    /// etcd's `treeIndex.Keep(atRevision)` over the index that etcd rebuilds from the "key" bucket
    /// when it starts (`restoreIntoIndex`). After a completed compaction this is the index etcd
    /// had in memory too: compaction removes the same revisions from both.
    public static func keepSet(revisions: [EtcdRevisionRecord], atRevision: Int64) -> Set<EtcdRevision> {
        var histories: [[UInt8]: EtcdKeyHistory] = [:]
        for record in inBucketOrder(revisions) where record.revision.main >= 1 {
            // etcd starts its restore range at revision 1, so earlier entries never reach the index.
            histories[record.keyValue.key, default: EtcdKeyHistory()].apply(record)
        }
        var keep = Set<EtcdRevision>()
        for history in histories.values {
            if let kept = history.revisionKept(atRevision: atRevision) {
                keep.insert(kept)
            }
        }
        return keep
    }

    /// Records are hashed in bbolt's order, bytewise by bucket key; a list already in that order
    /// (the usual case) is used as is.
    private static func inBucketOrder(_ revisions: [EtcdRevisionRecord]) -> [EtcdRevisionRecord] {
        let keys = revisions.map(\.bucketKey)
        let isOrdered = zip(keys, keys.dropFirst()).allSatisfy { bytewiseLess($0, $1) }
        if isOrdered { return revisions }
        return zip(keys, revisions).sorted { bytewiseLess($0.0, $1.0) }.map(\.1)
    }
}

/// One key's generations as etcd's keyIndex holds them: each generation runs from a create to
/// the tombstone that ends it; the last generation is open and may be empty.
package struct EtcdKeyHistory {
    package private(set) var generations: [[EtcdRevision]] = []

    /// Adds a "key" bucket entry as etcd's restore does: a put extends the open generation (or
    /// starts the history); a tombstone closes the open generation, and is ignored when the key
    /// has no open generation (etcd's ErrRevisionNotFound) or no history at all.
    package mutating func apply(_ record: EtcdRevisionRecord) {
        if generations.isEmpty {
            if !record.isTombstone {
                generations = [[record.revision]]
            }
            return
        }
        let open = generations.count - 1
        if record.isTombstone {
            guard !generations[open].isEmpty else { return }
            generations[open].append(record.revision)
            generations.append([])
        } else {
            generations[open].append(record.revision)
        }
    }

    /// keyIndex.keep(atRevision): the revision a compaction at `atRevision` would keep, if any.
    package func revisionKept(atRevision: Int64) -> EtcdRevision? {
        guard let lastGeneration = generations.last, !(generations.count == 1 && lastGeneration.isEmpty) else {
            return nil
        }
        // The first generation whose tombstone lies after atRevision, else the open one.
        var generationIndex = 0
        while generationIndex < generations.count - 1 {
            if let tombstone = generations[generationIndex].last, tombstone.main > atRevision {
                break
            }
            generationIndex += 1
        }
        let generation = generations[generationIndex]
        guard let revisionIndex = generation.lastIndex(where: { $0.main <= atRevision }) else {
            return nil
        }
        let isTombstone = revisionIndex == generation.count - 1 && generationIndex != generations.count - 1
        return isTombstone ? nil : generation[revisionIndex]
    }
}
