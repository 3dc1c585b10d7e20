import MVCC

/// When each lease expires. Only the leader acts on it (it proposes the revocation, which every
/// replica applies); followers keep it too, so a new leader starts from something sensible. Times
/// are local monotonic instants and never replicated, as in etcd.
struct Lessor {
    /// How long a proposed revocation may stay unapplied before the leader proposes it again.
    static let revokeRetry: Duration = .seconds(3)
    /// Revocations proposed per loop iteration: a burst of expiries cannot flood the log (etcd
    /// rate-limits the same way).
    static let revocationsPerIterationMax = 100

    private var ttlSeconds: [Int64: Int64] = [:]
    private var expiry: [Int64: ContinuousClock.Instant] = [:]
    private var revokeProposedAt: [Int64: ContinuousClock.Instant] = [:]

    mutating func granted(_ id: Int64, ttlSeconds ttl: Int64, now: ContinuousClock.Instant) {
        ttlSeconds[id] = ttl
        expiry[id] = now + .seconds(ttl)
    }

    mutating func revoked(_ id: Int64) {
        ttlSeconds.removeValue(forKey: id)
        expiry.removeValue(forKey: id)
        revokeProposedAt.removeValue(forKey: id)
    }

    /// Renews a lease; returns its TTL, or nil when it does not exist (or is being revoked).
    mutating func renew(_ id: Int64, now: ContinuousClock.Instant) -> Int64? {
        guard let ttl = ttlSeconds[id], revokeProposedAt[id] == nil else { return nil }
        expiry[id] = now + .seconds(ttl)
        return ttl
    }

    /// Whole seconds left, rounded up, or nil for an unknown lease.
    func remainingSeconds(_ id: Int64, now: ContinuousClock.Instant) -> Int64? {
        guard let end = expiry[id] else { return nil }
        let left = end - now
        guard left > .zero else { return 0 }
        let (seconds, attoseconds) = left.components
        return seconds + (attoseconds > 0 ? 1 : 0)
    }

    func ttl(_ id: Int64) -> Int64? { ttlSeconds[id] }

    mutating func extendAll(now: ContinuousClock.Instant) {
        for (id, ttl) in ttlSeconds { expiry[id] = now + .seconds(ttl) }
        revokeProposedAt.removeAll()
    }

    /// Leases past their expiry whose revocation is not already on its way.
    mutating func takeExpired(now: ContinuousClock.Instant) -> [Int64] {
        var due: [Int64] = []
        for (id, end) in expiry where end <= now {
            if let proposed = revokeProposedAt[id], now - proposed < Self.revokeRetry { continue }
            due.append(id)
            if due.count == Self.revocationsPerIterationMax { break }
        }
        for id in due { revokeProposedAt[id] = now }
        return due.sorted()
    }

    /// Rebuilds from a store restored from a snapshot: every lease gets its full TTL from now.
    mutating func restore(from store: MVCCStore, now: ContinuousClock.Instant) {
        self = Lessor()
        for lease in store.leases { granted(lease.id, ttlSeconds: lease.ttlSeconds, now: now) }
    }
}
