import ConsensusCore

/// One service on a replica: a front end (the etcd API, the ZooKeeper API) with the state machine
/// its entries drive. The host's `ServiceRouter` gives it only what is its own:
/// - `apply` gets every committed entry, in order, but an entry of another service arrives as a
///   no-op (same index and term, no data), so a service's applied index still follows the log's;
///   its own command entries keep their tag as their first byte;
/// - `readReady` and `rejected` get the requests whose ids carry its tag;
/// - `snapshotWriter` writes its part of the composite snapshot, and `restore` gets its part back
///   (empty data when the snapshot has none: the service then starts empty at that index);
/// - `handlePeerRequest` gets calls tagged for it (without the tag), `handlePeerResponse` answers
///   to call ids carrying its tag;
/// - `acceptsForwardedProposal` gets its own payloads, tag included.
public protocol HostedService: ReplicaApplication {
    var tag: ServiceTag { get }
    /// Whether `part` is a snapshot part this service can restore: a snapshot a leader sends is
    /// checked before the engine takes it.
    func acceptsSnapshotPart(_ part: [UInt8]) -> Bool
}
