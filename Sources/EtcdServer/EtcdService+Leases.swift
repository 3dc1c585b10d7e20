import ConsensusCore
import MVCC

/// Leases: grants and revocations go through the log; keep-alives and time-to-live queries are the
/// leader's, since only it tracks expiry. A follower forwards them to the leader as peer calls.
extension EtcdService {
    enum LeaseCall: UInt8 {
        case keepAlive = 1
        case timeToLive = 2
    }

    /// Answers meaning "ask again": this node is not the leader.
    static let notLeaderAnswer: Int64 = -2

    /// A lease call's whole answer meaning "ask again".
    static var notLeaderPayload: [UInt8] {
        var writer = ByteWriter()
        writer.write(notLeaderAnswer)
        writer.write(Int64(0))
        return writer.bytes
    }

    /// Loop state hook: keeps the lessor in step with what the log applied.
    func applied(_ command: Command, _ result: Result<CommandOutcome, MVCCError>) {
        guard case .success = result else { return }
        switch command {
        case .leaseGrant(let id, let ttl): lessor.granted(id, ttlSeconds: ttl, now: now)
        case .leaseRevoke(let id): lessor.revoked(id)
        case .memberAttributes: membersChanged()
        case .put, .deleteRange, .txn, .compact, .alarm: break
        }
    }

    /// Leader only: proposes the revocation of every lease past its expiry.
    func revokeExpiredLeases(now: ContinuousClock.Instant) {
        for id in lessor.takeExpired(now: now) {
            let proposal = EtcdProposal(requestID: RequestID(0), command: .leaseRevoke(id: id))
            replica.propose(Proposal(id: nextRequestID(), data: proposal.encoded))
        }
    }

    func grantLease(id requested: Int64, ttlSeconds: Int64) async -> Result<(id: Int64, ttl: Int64, revision: Int64), EtcdError> {
        await withCheckedContinuation { continuation in
            grantLease(id: requested, ttlSeconds: ttlSeconds) { continuation.resume(returning: $0) }
        }
    }

    /// `grantLease`, answering through `completion`.
    func grantLease(id requested: Int64, ttlSeconds: Int64, completion: @escaping @Sendable (Result<(id: Int64, ttl: Int64, revision: Int64), EtcdError>) -> Void) {
        var id = requested
        if id == 0 {
            // The proposing node picks the id; a collision is refused at apply as "lease exists".
            id = Int64(bitPattern: environment.random() >> 1) | 1
        }
        let ttl = max(ttlSeconds, minimumLeaseTTLSeconds)
        let chosen = id
        write(.leaseGrant(id: chosen, ttlSeconds: ttl)) { answer in
            completion(answer.map { (chosen, ttl, $0.revision) })
        }
    }

    /// Renews a lease at the leader; returns the TTL, 0 for an unknown lease (as etcd answers).
    func keepAlive(_ id: Int64) async -> Result<Int64, EtcdError> {
        await withCheckedContinuation { continuation in keepAlive(id) { continuation.resume(returning: $0) } }
    }

    /// `keepAlive`, answering through `completion`.
    func keepAlive(_ id: Int64, completion: @escaping @Sendable (Result<Int64, EtcdError>) -> Void) {
        leaderCall(.keepAlive, id) { completion($0.map { $0[0] }) }
    }

    /// Seconds left and the granted TTL; nil for an unknown lease.
    func timeToLive(_ id: Int64) async -> Result<(remaining: Int64, granted: Int64)?, EtcdError> {
        switch await leaderCall(.timeToLive, id) {
        case .success(let values): return .success(values[0] < 0 ? nil : (values[0], values[1]))
        case .failure(let error): return .failure(error)
        }
    }

    private func leaderCall(_ call: LeaseCall, _ id: Int64) async -> Result<[Int64], EtcdError> {
        await withCheckedContinuation { continuation in leaderCall(call, id) { continuation.resume(returning: $0) } }
    }

    /// A lease call answered by the leader: here on the loop when this node leads, else as a peer
    /// call to the leader.
    private func leaderCall(_ call: LeaseCall, _ id: Int64, completion: @escaping @Sendable (Result<[Int64], EtcdError>) -> Void) {
        var writer = ByteWriter()
        writer.write(call.rawValue)
        writer.write(id)
        let payload = writer.bytes
        let status = replica.status
        if status.isLeader {
            if !replica.perform({ [self] in completion(Self.leaseAnswer(leaseCall(payload))) }) { completion(.failure(.timeout)) }
        } else if let leader = status.leader {
            let callID = nextRequestID()
            guard pendingCalls.register(callID, deadline: deadline, context: (), { completion(Self.leaseAnswer($0)) }) else {
                return completion(.failure(.timeout))
            }
            replica.call(leader, callID: callID.rawValue, payload: payload)
        } else {
            completion(.failure(.noLeader))
        }
    }

    /// Decodes a lease call's answer (nil: none came in time).
    private static func leaseAnswer(_ answer: [UInt8]?) -> Result<[Int64], EtcdError> {
        guard let answer else { return .failure(.timeout) }
        var reader = ByteReader(answer)
        var values: [Int64] = []
        while let value = reader.readInt64() { values.append(value) }
        guard values.count == 2 else { return .failure(.timeout) }
        if values[0] == Self.notLeaderAnswer { return .failure(.leaderChanged) }
        return .success(values)
    }

    /// Loop thread: answers a lease call, from this node or forwarded by a follower.
    func leaseCall(_ payload: [UInt8]) -> [UInt8] {
        var reader = ByteReader(payload)
        var writer = ByteWriter()
        // A call this node cannot answer (it is not the leader, or the payload is unreadable) tells
        // the caller to ask again, wherever the leader is now. A new leader answers only once it
        // has applied an entry of its own term: until then, a revocation its predecessor proposed
        // may still be committed, and a renewal answered now would be undone by it.
        let status = replica.status
        guard let rawCall = reader.readByte(), let call = LeaseCall(rawValue: rawCall), let id = reader.readInt64(),
              status.isLeader, appliedTerm == status.term else {
            return Self.notLeaderPayload
        }
        let now = self.now
        switch call {
        case .keepAlive:
            // The `ignoreLeaseRenewals` fault answers as if renewed, and renews nothing.
            writer.write((faults.ignoreLeaseRenewals ? lessor.ttl(id) : lessor.renew(id, now: now)) ?? 0)
            writer.write(Int64(0))
        case .timeToLive:
            writer.write(lessor.remainingSeconds(id, now: now) ?? -1)
            writer.write(lessor.ttl(id) ?? 0)
        }
        return writer.bytes
    }
}
