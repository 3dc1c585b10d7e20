import HeapModule
import MVCC

/// When each lease expires. Only the leader acts on it (it proposes the revocation, which every
/// replica applies); followers keep it too, so a new leader starts from something sensible. Times
/// are local monotonic instants and never replicated, as in etcd.
///
/// Expiry costs time in proportion to the leases that expire, not to all leases: deadlines wait in
/// a min-heap, as in etcd's `LeaseQueue`. A renewal pushes a new deadline and leaves the old one to
/// be discarded when it reaches the top (it no longer matches `nextCheck`), so a renewal is
/// O(log n) and nothing is searched.
package struct Lessor {
    package init() {}

    /// How long a proposed revocation may stay unapplied before the leader proposes it again.
    package static let revokeRetry: Duration = .seconds(3)
    /// Revocations proposed per loop iteration: a burst of expiries cannot flood the log (etcd
    /// rate-limits the same way).
    package static let revocationsPerIterationMax = 100
    /// Stale heap entries tolerated per live lease before the heap is rebuilt, which bounds the
    /// heap's memory whatever the renewal rate.
    package static let staleDeadlinesPerLeaseMax = 4

    struct Deadline: Comparable {
        var at: ContinuousClock.Instant
        var id: Int64
        static func < (left: Deadline, right: Deadline) -> Bool { (left.at, left.id) < (right.at, right.id) }
    }

    private var ttlSeconds: [Int64: Int64] = [:]
    private var expiry: [Int64: ContinuousClock.Instant] = [:]
    private var revokeProposedAt: [Int64: ContinuousClock.Instant] = [:]
    /// The one deadline in `deadlines` that counts for each lease: its expiry, or when to retry a
    /// revocation that has not applied.
    private var nextCheck: [Int64: ContinuousClock.Instant] = [:]
    private var deadlines = Heap<Deadline>()

    package var count: Int { ttlSeconds.count }

    package mutating func granted(_ id: Int64, ttlSeconds ttl: Int64, now: ContinuousClock.Instant) {
        ttlSeconds[id] = ttl
        setExpiry(id, now + .seconds(ttl))
    }

    package mutating func revoked(_ id: Int64) {
        ttlSeconds.removeValue(forKey: id)
        expiry.removeValue(forKey: id)
        revokeProposedAt.removeValue(forKey: id)
        nextCheck.removeValue(forKey: id)
    }

    /// Renews a lease; returns its TTL, or nil when it does not exist (or is being revoked).
    package mutating func renew(_ id: Int64, now: ContinuousClock.Instant) -> Int64? {
        guard let ttl = ttlSeconds[id], revokeProposedAt[id] == nil else { return nil }
        setExpiry(id, now + .seconds(ttl))
        return ttl
    }

    /// Whole seconds left, rounded up, or nil for an unknown lease.
    package func remainingSeconds(_ id: Int64, now: ContinuousClock.Instant) -> Int64? {
        guard let end = expiry[id] else { return nil }
        let left = end - now
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        return seconds + (attoseconds > 0 ? 1 : 0)
    }

    package func ttl(_ id: Int64) -> Int64? { ttlSeconds[id] }

    package mutating func extendAll(now: ContinuousClock.Instant) {
        revokeProposedAt.removeAll()
        for (id, ttl) in ttlSeconds {
            expiry[id] = now + .seconds(ttl)
            nextCheck[id] = now + .seconds(ttl)
        }
        rebuildDeadlines()
    }

    /// Leases past their expiry whose revocation is not already on its way, at most
    /// `revocationsPerIterationMax`, in id order.
    package mutating func takeExpired(now: ContinuousClock.Instant) -> [Int64] {
        var due: [Int64] = []
        while due.count < Self.revocationsPerIterationMax, let first = deadlines.min, first.at <= now {
            deadlines.removeMin()
            guard nextCheck[first.id] == first.at, let end = expiry[first.id], end <= now else { continue }
            due.append(first.id)
            revokeProposedAt[first.id] = now
            schedule(first.id, now + Self.revokeRetry)
        }
        return due.sorted()
    }

    /// Rebuilds from a store restored from a snapshot: every lease gets its full TTL from now.
    package mutating func restore(from store: MVCCStore, now: ContinuousClock.Instant) {
        self = Lessor()
        for lease in store.leases { granted(lease.id, ttlSeconds: lease.ttlSeconds, now: now) }
    }

    private mutating func setExpiry(_ id: Int64, _ end: ContinuousClock.Instant) {
        expiry[id] = end
        schedule(id, end)
    }

    private mutating func schedule(_ id: Int64, _ at: ContinuousClock.Instant) {
        nextCheck[id] = at
        deadlines.insert(Deadline(at: at, id: id))
        if deadlines.count > (nextCheck.count + 256) * Self.staleDeadlinesPerLeaseMax { rebuildDeadlines() }
    }

    private mutating func rebuildDeadlines() {
        deadlines = Heap(nextCheck.map { Deadline(at: $0.value, id: $0.key) })
    }

    /// Heap entries, live and stale, for tests of the bound.
    package var deadlineCount: Int { deadlines.count }
}
