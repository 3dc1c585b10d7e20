import ConsensusCore

/// A service's view of the replica that hosts it beside others (`ServiceRouter`): its peer calls
/// are tagged so the peer's router finds the same service, and a proposal it makes with another
/// service's tag is refused with a clear reason instead of being applied by the wrong one.
///
/// Sendable like any handle: its stored properties never change, and the router is read only in
/// work run on the replica's thread.
public final class ServiceHandle: ReplicaHandle, @unchecked Sendable {
    public let tag: ServiceTag
    public let replica: any ReplicaHandle
    private weak var router: ServiceRouter?

    init(tag: ServiceTag, replica: any ReplicaHandle, router: ServiceRouter) {
        self.tag = tag
        self.replica = replica
        self.router = router
    }

    public var status: EngineStatus { replica.status }
    public var durableSnapshotIndex: UInt64 { replica.durableSnapshotIndex }

    public func propose(_ proposal: Proposal) -> Bool {
        guard ServiceTag(owningPayload: proposal.data) == tag else {
            let reason = RequestRejection.invalidProposal("a \(tag) proposal must start with its tag, 0x\(String(tag.rawValue, radix: 16))")
            return replica.perform { [weak router] in router?.rejected(proposal.id, reason) }
        }
        return replica.propose(proposal)
    }

    public func read(_ id: RequestID) -> Bool { replica.read(id) }
    public func changeMembership(_ id: RequestID, _ change: MembershipChange) -> Bool { replica.changeMembership(id, change) }
    public func transferLeadership(_ id: RequestID, to target: NodeID) -> Bool { replica.transferLeadership(id, to: target) }
    public func snapshotNow() -> Bool { replica.snapshotNow() }
    public func perform(_ work: @escaping () -> Void) -> Bool { replica.perform(work) }
    public func performAlways(_ work: @escaping () -> Void) { replica.performAlways(work) }

    public func call(_ peer: NodeID, callID: UInt64, payload: [UInt8]) {
        replica.call(peer, callID: callID, payload: [tag.rawValue] + payload)
    }

    public func respond(to peer: NodeID, callID: UInt64, payload: [UInt8]) {
        replica.respond(to: peer, callID: callID, payload: payload)
    }
}
