import ConsensusCore
import HeapModule

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

/// The simulator's agenda: events by time, then by scheduling order. The heap holds small keys and
/// the events wait in a slab beside it, so sifting moves 24 bytes rather than whole events, message
/// and all (copying events through the heap took an eighth of the simulator's time).
struct EventQueue<Message: EngineMessage> {
    typealias Event = ScheduledEvent<Message>

    var heap = Heap<EventQueueKey>()
    var slab: [Event.Kind?] = []
    /// Slots of the slab whose events have been taken.
    var freeSlots: [Int] = []

    var count: Int { heap.count }

    mutating func insert(_ event: Event) {
        let slot: Int
        if let reused = freeSlots.popLast() {
            slot = reused
            slab[slot] = event.kind
        } else {
            slot = slab.count
            slab.append(event.kind)
        }
        heap.insert(EventQueueKey(time: event.time, order: event.order, slot: slot))
    }

    mutating func popMin() -> Event? {
        guard let key = heap.popMin(), let kind = slab[key.slot].take() else { return nil }
        freeSlots.append(key.slot)
        return Event(time: key.time, order: key.order, kind: kind)
    }
}

/// Where an event waits in `EventQueue`'s slab, and when it is due. Not nested in the generic queue:
/// a nested type would be generic too, and the heap's sifting would look its metadata up at every
/// comparison instead of being specialised.
struct EventQueueKey: Comparable {
    var time: UInt64
    var order: UInt64
    var slot: Int

    static func < (lhs: EventQueueKey, rhs: EventQueueKey) -> Bool {
        lhs.time != rhs.time ? lhs.time < rhs.time : lhs.order < rhs.order
    }

    static func == (lhs: EventQueueKey, rhs: EventQueueKey) -> Bool { lhs.time == rhs.time && lhs.order == rhs.order }
}
