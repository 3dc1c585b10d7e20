import ConsensusCore

/// One thing the simulator will do at a point in virtual time. Ties break by scheduling order, so
/// the run is a pure function of the seed.
struct ScheduledEvent<Message: EngineMessage>: Comparable {
    enum Kind {
        case tick(node: Int)
        case deliver(Message, node: Int)
        /// The disk of `node` finished an overlapping write whose last entry is `index` of `term`.
        case diskSynced(node: Int, incarnation: UInt64, index: LogIndex, term: Term)
        case clientWake(client: Int, generation: UInt64)
        case fault
        case heal
        case scriptedTransfer
        /// An input from `node`'s service (or a peer's call) for the process `incarnation` of it.
        case host(node: Int, incarnation: UInt64, HostInput<Message>)
    }

    var time: UInt64
    var order: UInt64
    var kind: Kind

    static func < (lhs: ScheduledEvent, rhs: ScheduledEvent) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.order < rhs.order
    }

    static func == (lhs: ScheduledEvent, rhs: ScheduledEvent) -> Bool {
        lhs.time == rhs.time && lhs.order == rhs.order
    }
}
