import ConsensusCore

/// The forwarded proposals a node has seen lately, by sender and request id, so a duplicated
/// message appends nothing twice: an etcd put has no session to make a second apply harmless.
/// Bounded: the oldest are forgotten first.
struct RecentProposals: Sendable {
    struct Key: Hashable, Sendable {
        var origin: NodeID
        var request: RequestID
    }

    static let capacity = 4096
    private var seen: Set<Key> = []
    private var order: [Key] = []
    private var oldest = 0

    /// Records a proposal; false when it was seen already.
    mutating func firstSight(of request: RequestID, from origin: NodeID) -> Bool {
        let key = Key(origin: origin, request: request)
        guard seen.insert(key).inserted else { return false }
        if order.count < Self.capacity {
            order.append(key)
        } else {
            seen.remove(order[oldest])
            order[oldest] = key
            oldest = (oldest + 1) % Self.capacity
        }
        return true
    }
}
