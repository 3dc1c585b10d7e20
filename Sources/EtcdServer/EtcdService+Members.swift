import ConsensusCore
import Foundation
import MVCC
import Node

/// Membership: etcd's Cluster service on top of the engine's membership changes.
///
/// A member's peer URLs are staged in the store first (`Command.memberAttributes`), so every node
/// can dial the new member by the time the configuration entry that adds it applies; then the
/// engine changes the configuration (joint consensus for voters, directly for learners). Only the
/// leader's engine takes a change, so a follower forwards it as a peer call, and the leader tells
/// it only of a refusal: the final configuration entry carries the request id, and the follower
/// answers its client when it applies that entry itself.
extension EtcdService {
    /// Peer-call kinds after the lease calls (1 and 2).
    enum MemberCall: UInt8 {
        /// Follower to leader: request id, change kind, member id.
        case change = 3
        /// Leader to follower: request id, the engine's refusal.
        case refused = 4
    }

    /// At least one URL, at most `MemberAttributes.urlsMax`, each one a listener address.
    static func arePeerURLsValid(_ urls: [String]) -> Bool {
        !urls.isEmpty && urls.count <= MemberAttributes.urlsMax && urls.allSatisfy { (try? HostPort(url: $0)) != nil }
    }

    /// etcd 3.4's `maxLearners`: at most one learner at a time.
    static let learnersMax = 1

    // MARK: The four changes (gRPC handlers)

    /// MemberAdd: the new member and every member after the change.
    func addMember(peerURLs: [String], isLearner: Bool) async -> Result<(added: Member, members: [Member]), EtcdError> {
        guard Self.arePeerURLsValid(peerURLs) else {
            return .failure(.member(.badURLs))
        }
        let id = EtcdMember.memberID(peerURLs: peerURLs, clusterToken: clusterToken).rawValue
        let check: EtcdError.MemberProblem? = await onLoop { service in
            let store = service.store
            if store.removedMembers.contains(id) { return .idRemoved }
            let members = store.members
            if members.contains(where: { $0.id == id || !Set($0.attributes.peerURLs).isDisjoint(with: peerURLs) }) { return .peerURLExists }
            if isLearner && members.filter(\.isLearner).count >= Self.learnersMax { return .tooManyLearners }
            return nil
        } ?? .some(.busy)
        if let check { return .failure(.member(check)) }
        if case .failure(let error) = await write(.memberAttributes(MemberAttributes(id: id, name: "", peerURLs: peerURLs, clientURLs: []))) {
            return .failure(error)
        }
        let change: MembershipChange = isLearner ? .addLearner(NodeID(id)) : .addVoter(NodeID(id))
        switch await changeMembership(change) {
        case .failure(let error): return .failure(error)
        case .success(let members):
            let added = members.first { $0.id == id } ?? Member(attributes: MemberAttributes(id: id, name: "", peerURLs: peerURLs, clientURLs: []), isLearner: isLearner)
            return .success((added, members))
        }
    }

    /// MemberRemove.
    func removeMember(_ id: UInt64) async -> Result<[Member], EtcdError> {
        if let problem = await memberProblem(id, learnerRequired: false) { return .failure(.member(problem)) }
        return await changeMembership(.remove(NodeID(id)))
    }

    /// MemberPromote: only a learner, and only once it is in sync with the leader.
    func promoteMember(_ id: UInt64) async -> Result<[Member], EtcdError> {
        if let problem = await memberProblem(id, learnerRequired: true) { return .failure(.member(problem)) }
        return await changeMembership(.promoteLearner(NodeID(id)))
    }

    /// MemberUpdate: new peer URLs, through the log; every node dials the member there once it applies.
    func updateMember(_ id: UInt64, peerURLs: [String]) async -> Result<[Member], EtcdError> {
        guard Self.arePeerURLsValid(peerURLs) else {
            return .failure(.member(.badURLs))
        }
        let found: Result<MemberAttributes, EtcdError.MemberProblem> = await onLoop { service in
            let members = service.store.members
            guard let member = members.first(where: { $0.id == id }) else { return .failure(.notFound) }
            if members.contains(where: { $0.id != id && !Set($0.attributes.peerURLs).isDisjoint(with: peerURLs) }) { return .failure(.peerURLExists) }
            return .success(member.attributes)
        } ?? .failure(.busy)
        switch found {
        case .failure(let problem): return .failure(.member(problem))
        case .success(var attributes):
            attributes.peerURLs = peerURLs
            if case .failure(let error) = await write(.memberAttributes(attributes)) { return .failure(error) }
            return .success(members)
        }
    }

    private func memberProblem(_ id: UInt64, learnerRequired: Bool) async -> EtcdError.MemberProblem? {
        await onLoop { service in
            let store = service.store
            if store.removedMembers.contains(id) { return .idRemoved }
            guard let member = store.members.first(where: { $0.id == id }) else { return .notFound }
            if learnerRequired && !member.isLearner { return .notLearner }
            return nil
        } ?? .some(.busy)
    }

    /// Asks the leader's engine for `change` and waits until the final configuration entry
    /// applies here; returns the members then.
    private func changeMembership(_ change: MembershipChange) async -> Result<[Member], EtcdError> {
        let id = nextRequestID()
        let answer: WriteAnswer = await withCheckedContinuation { continuation in
            guard pendingWrites.register(id, deadline: deadline, context: (), { continuation.resume(returning: $0) }) else {
                return continuation.resume(returning: .failure(.tooManyRequests))
            }
            let status = replica.status
            if status.isLeader {
                if !replica.changeMembership(id, change) { pendingWrites.resolve(id, .failure(.tooManyRequests)) }
            } else if let leader = status.leader {
                replica.call(leader, callID: id.rawValue, payload: Self.encodeChangeCall(id, change))
            } else {
                pendingWrites.resolve(id, .failure(.noLeader))
            }
        }
        switch answer {
        case .failure(let error): return .failure(error)
        case .success: return .success(members)
        }
    }

    // MARK: Peer calls (loop thread)

    static func encodeChangeCall(_ id: RequestID, _ change: MembershipChange) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(MemberCall.change.rawValue)
        writer.write(id.rawValue)
        switch change {
        case .addLearner(let node): writer.write(UInt8(1)); writer.write(node.rawValue)
        case .promoteLearner(let node): writer.write(UInt8(2)); writer.write(node.rawValue)
        case .addVoter(let node): writer.write(UInt8(3)); writer.write(node.rawValue)
        case .remove(let node): writer.write(UInt8(4)); writer.write(node.rawValue)
        case .replace: preconditionFailure("the etcd API never replaces the configuration wholesale")
        }
        return writer.bytes
    }

    /// A member call from a peer: a change to hand to this leader's engine, or a refusal of one
    /// this node forwarded. Neither is answered on the spot.
    func memberCall(_ call: MemberCall, _ reader: inout ByteReader, from peer: NodeID) {
        guard let raw = reader.readUInt64(), raw != 0 else { return }
        let id = RequestID(raw)
        switch call {
        case .change:
            guard let kind = reader.readByte(), let node = reader.readUInt64(), node != 0, reader.remaining == 0 else { return }
            let change: MembershipChange
            switch kind {
            case 1: change = .addLearner(NodeID(node))
            case 2: change = .promoteLearner(NodeID(node))
            case 3: change = .addVoter(NodeID(node))
            case 4: change = .remove(NodeID(node))
            default: return
            }
            guard replica.status.isLeader, forwardedMemberChanges.count < Self.forwardedMemberChangesMax else {
                return refuseForwardedChange(id, to: peer, .notLeader(leader: replica.status.leader))
            }
            forwardedMemberChanges[id] = peer
            if !replica.changeMembership(id, change) {
                forwardedMemberChanges[id] = nil
                refuseForwardedChange(id, to: peer, .tooManyPendingRequests(limit: ReplicaLoopLimits.inboxMax))
            }
        case .refused:
            guard let reason = try? RequestRejection(from: &reader), reader.remaining == 0 else { return }
            pendingWrites.resolve(id, .failure(EtcdError(reason)))
        }
    }

    /// Changes forwarded to this leader and not yet applied or refused.
    static let forwardedMemberChangesMax = 64

    func refuseForwardedChange(_ id: RequestID, to peer: NodeID, _ reason: RequestRejection) {
        var writer = ByteWriter()
        writer.write(MemberCall.refused.rawValue)
        writer.write(id.rawValue)
        reason.encode(to: &writer)
        replica.call(peer, callID: id.rawValue, payload: writer.bytes)
    }

    // MARK: Applying (loop thread)

    /// A configuration entry applied (the store's member table follows it): the transport is
    /// told, and once the change is final, whoever waits for it here is answered.
    func appliedConfiguration(_ configuration: ConfigurationEntry) {
        let membership = configuration.membership
        membersChanged()
        guard let requestID = configuration.requestID else { return }
        if membership.isJoint {
            // A member the change removes is not sent the final configuration, so it would never
            // answer its client; once the joint configuration has committed the change is decided
            // (Raft always finishes it), so the member being removed answers now.
            let own = identity.id
            guard !membership.voters.contains(own), !membership.learners.contains(own) else { return }
        }
        forwardedMemberChanges[requestID] = nil
        pendingWrites.resolve(requestID, .success((.memberAttributes, store.revision)))
    }

    /// The store's member table changed (a configuration or attributes applied, or a snapshot
    /// restored): publish it for handlers and point the transport at every member's peer URL.
    func membersChanged() {
        let members = store.members
        guard !members.isEmpty else { return }
        membersLock.lock()
        replicatedMembers = members
        membersLock.unlock()
        var addresses: [PeerAddress] = []
        // Members staged by a change not yet applied are dialled too: the leader's engine sends to
        // a new member as soon as it appends the entry that adds it.
        for attributes in store.memberAttributeRecords {
            guard let url = attributes.peerURLs.first, let address = try? HostPort(url: url) else { continue }
            addresses.append(PeerAddress(id: NodeID(attributes.id), host: address.host, port: address.port))
        }
        // A member whose attributes are not in the store yet (a founder that has not published)
        // keeps the link its flags gave.
        peersChanged?(addresses, Set(members.map { NodeID($0.id) }))
    }

    /// As etcd's `publish`: once a leader exists, a member writes its name and client URLs to the
    /// log if the store does not hold them yet, so every member lists them. Retried until it shows.
    func publishAttributesIfNeeded(status: EngineStatus, now: ContinuousClock.Instant) {
        guard status.leader != nil, now - lastPublishAttempt >= Self.publishRetryInterval else { return }
        // Peer URLs are the cluster's to change (MemberUpdate): a member publishes only its name
        // and client URLs, keeping the peer URLs the store holds.
        let stored = store.memberAttributes(identity.id.rawValue)
        let own = MemberAttributes(
            id: identity.id.rawValue, name: identity.name, peerURLs: stored?.peerURLs ?? identity.peerURLs, clientURLs: identity.clientURLs)
        guard store.members.contains(where: { $0.id == own.id }), stored != own else { return }
        lastPublishAttempt = now
        let proposal = EtcdProposal(requestID: RequestID(0), command: .memberAttributes(own))
        replica.propose(Proposal(id: nextRequestID(), data: proposal.encoded))
    }

    static var publishRetryInterval: Duration { .seconds(2) }
}

extension EtcdService {
    /// MoveLeader: etcd refuses it on a follower, and for a target that is not a voter.
    func moveLeader(to target: UInt64) async -> Result<Void, EtcdError> {
        let status = replica.status
        guard status.isLeader else { return .failure(.notLeader) }
        if target == identity.id.rawValue { return .success(()) }
        guard members.contains(where: { $0.id == target && !$0.isLearner }) else { return .failure(.badLeaderTransferee) }
        let id = nextRequestID()
        // The engine answers a transfer only with a refusal; success shows as the target leading.
        let refusal: WriteAnswer? = await withCheckedContinuation { continuation in
            guard pendingWrites.register(id, deadline: now + transferWait, context: (), { continuation.resume(returning: $0) }) else {
                return continuation.resume(returning: .failure(.tooManyRequests))
            }
            guard replica.transferLeadership(id, to: NodeID(target)) else {
                pendingWrites.resolve(id, .failure(.tooManyRequests))
                return
            }
            Task { [self] in
                let deadline = now + transferWait
                while now < deadline {
                    if replica.status.leader == NodeID(target) {
                        pendingWrites.resolve(id, .success((.memberAttributes, 0)))
                        return
                    }
                    try? await Task.sleep(for: .milliseconds(10))
                }
                pendingWrites.resolve(id, .failure(.transferTimedOut))
            }
        }
        switch refusal {
        case .failure(let error)?: return .failure(error)
        default: return .success(())
        }
    }

    /// How long MoveLeader waits for the target to lead: two election timeouts (the engine gives
    /// up after one).
    var transferWait: Duration { electionTimeout * 2 }
}
