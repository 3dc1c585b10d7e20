import ConsensusCore
import Replica

/// The services a simulated node hosts, with one addition: after each call the replica host makes
/// into them, `afterCall` runs. The ZooKeeper simulation reads its clients' inboxes there, so what
/// a client does on a reply (its next request) happens once the service has finished answering.
final class DrainingApplication: ReplicaApplication {
    let inner: any ReplicaApplication
    let afterCall: () -> Void

    init(_ inner: any ReplicaApplication, afterCall: @escaping () -> Void) {
        self.inner = inner
        self.afterCall = afterCall
    }

    func apply(_ entries: [Entry], status: EngineStatus) {
        inner.apply(entries, status: status)
        afterCall()
    }

    func readReady(_ id: RequestID, index: LogIndex) {
        inner.readReady(id, index: index)
        afterCall()
    }

    func rejected(_ id: RequestID, _ reason: RequestRejection) {
        inner.rejected(id, reason)
        afterCall()
    }

    func snapshotWriter() -> @Sendable () -> [UInt8] { inner.snapshotWriter() }

    func restore(_ snapshot: Snapshot) {
        inner.restore(snapshot)
        afterCall()
    }

    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {
        inner.afterIteration(status: status, now: now)
        afterCall()
    }

    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? {
        defer { afterCall() }
        return inner.handlePeerRequest(payload, from: from, callID: callID)
    }

    func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {
        inner.handlePeerResponse(id: id, payload)
        afterCall()
    }

    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { inner.acceptsForwardedProposal(data) }

    func storageSpace(exhausted: Bool) {
        inner.storageSpace(exhausted: exhausted)
        afterCall()
    }

    func answerClient(_ client: ClientIdentity, index: LogIndex) {
        inner.answerClient(client, index: index)
        afterCall()
    }
}
