import MVCC

/// Lease safety, checked where revocations apply:
/// - a lease kept alive is never revoked: a revocation applies no earlier than the TTL after the
///   invocation of the last renewal that succeeded, less `staleLeaderAllowance`. The allowance is
///   a known gap, shared with etcd 3.4: a deposed leader that has not yet heard of its successor
///   still answers renewals (up to an election timeout, with check-quorum), while the successor's
///   lessor runs from its own promotion. Confirming leadership (a ReadIndex round) before
///   answering a renewal would close it (found by this checker, seed 700946);
/// - a key attached to an expired lease is gone: the revocation's revision deletes it;
/// - and, once the cluster has healed, a lease nobody renews is revoked within its TTL and a
///   margin for leader changes.
struct LeaseChecker {
    struct Lease {
        var ttl: Duration
        /// The key put with the lease; nil until that put applied.
        var key: [UInt8]?
        /// Renewed by its client (or abandoned, to expire).
        var keptAlive: Bool
        /// The invocation of the grant, or of the last renewal that succeeded.
        var renewedAt: ContinuousClock.Instant
        var revoked = false
    }

    private(set) var leases: [Int64: Lease] = [:]
    let staleLeaderAllowance: Duration
    private(set) var violations: [String] = []
    /// Revocations seen (each lease once).
    private(set) var expiries = 0

    init(staleLeaderAllowance: Duration) { self.staleLeaderAllowance = staleLeaderAllowance }

    mutating func granted(_ id: Int64, ttlSeconds: Int64, keptAlive: Bool, invokedAt: ContinuousClock.Instant) {
        guard leases[id] == nil else { return }
        leases[id] = Lease(ttl: .seconds(ttlSeconds), keptAlive: keptAlive, renewedAt: invokedAt)
    }

    mutating func attached(_ key: [UInt8], to id: Int64) {
        leases[id]?.key = key
    }

    mutating func renewed(_ id: Int64, ttlSeconds: Int64, invokedAt: ContinuousClock.Instant) {
        guard ttlSeconds > 0, var lease = leases[id], !lease.revoked else { return }
        if invokedAt > lease.renewedAt { lease.renewedAt = invokedAt }
        lease.ttl = .seconds(ttlSeconds)
        leases[id] = lease
    }

    /// A member applied the revocation of `id` with `events` at `now`.
    mutating func revoked(_ id: Int64, events: [Event], at now: ContinuousClock.Instant) {
        guard var lease = leases[id], !lease.revoked else { return }
        lease.revoked = true
        leases[id] = lease
        expiries += 1
        if lease.keptAlive && now < lease.renewedAt + lease.ttl - staleLeaderAllowance {
            fail("lease \(id), renewed with a TTL of \(lease.ttl), was revoked \(now - lease.renewedAt) after the renewal was invoked")
        }
        if let key = lease.key, !events.contains(where: { $0.kind == .delete && $0.kv.key == key }) {
            fail("lease \(id) was revoked but its key \(String(decoding: key, as: UTF8.self)) was not deleted at that revision")
        }
    }

    /// At the end: a lease nobody renewed since `since` (the heal, or later) must be gone once its
    /// TTL and `margin` have passed.
    mutating func checkExpired(now: ContinuousClock.Instant, healedAt: ContinuousClock.Instant, margin: Duration) {
        for (id, lease) in leases.sorted(by: { $0.key < $1.key }) where !lease.keptAlive && !lease.revoked {
            let since = max(lease.renewedAt, healedAt)
            if now - since > lease.ttl + margin {
                fail("lease \(id) with a TTL of \(lease.ttl), not renewed since \(since - healedAt) after healing, was never revoked")
            }
        }
    }

    mutating func fail(_ message: String) {
        if violations.count < 10 { violations.append(message) }
    }
}
