import Testing
import EtcdServer

/// Lease expiry: in deadline order, renewals honoured, a revocation retried, and the cost in
/// proportion to what expires.
@Suite struct LessorTests {
    let start = ContinuousClock.now

    @Test func onlyLeasesPastTheirExpiryAreTaken() {
        var lessor = Lessor()
        lessor.granted(1, ttlSeconds: 5, now: start)
        lessor.granted(2, ttlSeconds: 10, now: start)
        #expect(lessor.takeExpired(now: start + .seconds(4)).isEmpty)
        #expect(lessor.takeExpired(now: start + .seconds(5)) == [1])
        #expect(lessor.takeExpired(now: start + .seconds(6)).isEmpty, "a revocation on its way is not proposed again at once")
        // Lease 1's revocation has not applied within `revokeRetry`: it is proposed again.
        #expect(lessor.takeExpired(now: start + .seconds(10)) == [1, 2])
    }

    @Test func aRenewedLeaseExpiresFromItsRenewal() {
        var lessor = Lessor()
        lessor.granted(1, ttlSeconds: 5, now: start)
        #expect(lessor.renew(1, now: start + .seconds(4)) == 5)
        #expect(lessor.takeExpired(now: start + .seconds(8)).isEmpty)
        #expect(lessor.takeExpired(now: start + .seconds(9)) == [1])
        #expect(lessor.renew(1, now: start + .seconds(9)) == nil, "a lease being revoked cannot be renewed")
    }

    @Test func aRevocationThatDidNotApplyIsProposedAgain() {
        var lessor = Lessor()
        lessor.granted(1, ttlSeconds: 5, now: start)
        #expect(lessor.takeExpired(now: start + .seconds(5)) == [1])
        #expect(lessor.takeExpired(now: start + .seconds(5) + Lessor.revokeRetry) == [1])
        lessor.revoked(1)
        #expect(lessor.takeExpired(now: start + .seconds(60)).isEmpty)
    }

    /// 100,000 leases, 10 of them short: taking the expired ones pops only their deadlines.
    @Test func expiryTouchesOnlyWhatExpires() {
        var lessor = Lessor()
        for id in 1...100_000 { lessor.granted(Int64(id), ttlSeconds: id <= 10 ? 2 : 3600, now: start) }
        let before = lessor.deadlineCount
        #expect(lessor.takeExpired(now: start + .seconds(3)) == Array(1...10))
        // Each expired lease's deadline was replaced by its retry deadline: the rest were untouched.
        #expect(lessor.deadlineCount == before)
    }

    /// Renewing the same lease again and again leaves stale deadlines behind; the heap is rebuilt
    /// before they outgrow their bound.
    @Test func staleDeadlinesAreBounded() {
        var lessor = Lessor()
        lessor.granted(1, ttlSeconds: 60, now: start)
        for second in 1...100_000 { _ = lessor.renew(1, now: start + .milliseconds(second)) }
        #expect(lessor.deadlineCount <= (1 + 256) * Lessor.staleDeadlinesPerLeaseMax + 1)
        #expect(lessor.takeExpired(now: start + .milliseconds(100_000) + .seconds(60)) == [1])
    }

    /// A new leader gives every lease its full TTL again.
    @Test func extendAllRestartsEveryLease() {
        var lessor = Lessor()
        lessor.granted(1, ttlSeconds: 5, now: start)
        lessor.granted(2, ttlSeconds: 5, now: start)
        #expect(lessor.takeExpired(now: start + .seconds(5)) == [1, 2])
        lessor.extendAll(now: start + .seconds(6))
        #expect(lessor.takeExpired(now: start + .seconds(10)).isEmpty)
        #expect(lessor.takeExpired(now: start + .seconds(11)) == [1, 2])
    }
}
