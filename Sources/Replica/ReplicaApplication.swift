import ConsensusCore

/// What the replica loop asks of the service it hosts (the etcd state machine, or any other). Every
/// method runs on the loop's thread, in the order the engine's actions require, so the application
/// needs no locks of its own.
public protocol ReplicaApplication: AnyObject {
    /// Committed entries, contiguous and in index order.
    func apply(_ entries: [Entry], status: EngineStatus)
    /// A linearizable read may be served once the state machine has applied `index`.
    func readReady(_ id: RequestID, index: LogIndex)
    /// A proposal or read was refused; it had no effect.
    func rejected(_ id: RequestID, _ reason: RequestRejection)
    /// Returns what serialises the state machine as of the last applied entry. The loop runs it
    /// on another thread, so it must capture an immutable copy (a copy-on-write value) now: a large
    /// store then takes its snapshot without stalling the loop.
    func snapshotWriter() -> @Sendable () -> [UInt8]
    /// Replaces the state machine with a snapshot's (from the leader, or from disk at start).
    func restore(_ snapshot: Snapshot)
    /// Called once per loop iteration with the engine's status, after the iteration's actions:
    /// leadership changes, lease expiry and request deadlines are the application's to notice.
    func afterIteration(status: EngineStatus, now: ContinuousClock.Instant)
    /// A node-level call from a peer (`PeerEnvelope.request`); returns the response payload, or nil
    /// when the call is answered later (`ReplicaLoop.respond` with `callID`), or not at all.
    func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]?
    /// The answer to a call this node made with `ReplicaLoop.call`.
    func handlePeerResponse(id: UInt64, _ payload: [UInt8])
    /// Whether a proposal another node forwarded is one this application can apply. Called on a
    /// transport thread before the engine sees the proposal, so an entry that would not decode is
    /// never appended (it would be refused by every replica at every restart).
    func acceptsForwardedProposal(_ data: [UInt8]) -> Bool
    /// The disk has no room for the log's next segment or for a snapshot (`exhausted`), or has room
    /// again. While exhausted, the application must stop accepting writes that add data: the log
    /// has only what is left of its current segment.
    func storageSpace(exhausted: Bool)
    /// The entry at `index`, applied, executed `client`'s request: answer the client from this
    /// replica (PBFT's f + 1 matching replies). Engines that answer from one node never ask.
    func answerClient(_ client: ClientIdentity, index: LogIndex)
}

extension ReplicaApplication {
    public func answerClient(_ client: ClientIdentity, index: LogIndex) {}
}
