import ConsensusCore

/// Which hosted service (front end and its state machine) a log entry, a snapshot part, a peer
/// call or a request belongs to: several services share one log and one engine, and the host's
/// `ServiceRouter` sends each its own.
///
/// A command entry's payload starts with its service's tag. Request and call ids carry the tag
/// in their top byte, so an answer (read ready, refusal, peer response) finds its service without
/// the router keeping a table of ids.
public struct ServiceTag: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// The etcd v3 API over the MVCC store.
    public static let etcd = ServiceTag(rawValue: 0x45)  // "E"
    /// The ZooKeeper data tree.
    public static let zookeeper = ServiceTag(rawValue: 0x5A)  // "Z"
    /// The simulator's text key-value service.
    public static let keyValue = ServiceTag(rawValue: 0x4B)  // "K"

    public var description: String {
        switch self {
        case .etcd: return "etcd"
        case .zookeeper: return "zookeeper"
        case .keyValue: return "key-value"
        default: return "service 0x" + String(rawValue, radix: 16)
        }
    }

    /// The bits of a request id below the tag.
    public static let requestCounterMask: UInt64 = (1 << 56) - 1

    /// A request id of this service: `counter` (wrapped to 56 bits) under the tag.
    public func requestID(_ counter: UInt64) -> RequestID {
        RequestID(UInt64(rawValue) << 56 | counter & Self.requestCounterMask)
    }

    /// The service a request or call id belongs to.
    public init(requestID: UInt64) { rawValue = UInt8(truncatingIfNeeded: requestID >> 56) }
}
