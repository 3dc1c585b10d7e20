import ConsensusCore
import Node
import Prometheus

/// etcd's `etcd_network_peer_round_trip_time_seconds`: once a second every member sends each other
/// member a ping through the peer transport, which answers it at once from its loop; the time
/// until the answer arrives is the round trip, loops included, as etcd's prober measures it over
/// its peer HTTP.
extension EtcdService {
    /// The peer-call kind of a ping (after lease 1, 2, member 3, 4 and HashKV 5).
    static let pingCallKind: UInt8 = 7
    static var pingInterval: Duration { .seconds(1) }
    /// Pings awaiting an answer; older ones are forgotten (the peer is down).
    static let pingsInFlightMax = 256

    /// Loop thread: pings every other member when a second has passed since the last round.
    func pingPeersIfDue(now: ContinuousClock.Instant) {
        guard now - lastPingRound >= Self.pingInterval else { return }
        lastPingRound = now
        if pingsInFlight.count > Self.pingsInFlightMax { pingsInFlight.removeAll() }
        for member in store.members where member.id != identity.id.rawValue {
            let callID = nextRequestID().rawValue
            pingsInFlight[callID] = (NodeID(member.id), now)
            replica.call(NodeID(member.id), callID: callID, payload: [Self.pingCallKind])
        }
    }

    /// Loop thread: an answer to a ping; false when `callID` is not one.
    func pingAnswered(_ callID: UInt64) -> Bool {
        guard let (peer, sentAt) = pingsInFlight.removeValue(forKey: callID) else { return false }
        metrics.peerRoundTrip(to: peer.rawValue).record(now - sentAt)
        return true
    }
}
