/// A granted lease as the replicated state holds it: its id, the TTL it was granted with, and the
/// keys attached to it in ascending byte order.
///
/// Expiry is not decided here: the leader's shell tracks time and proposes `Command.leaseRevoke`.
public struct Lease: Sendable, Equatable {
    public var id: Int64
    public var ttlSeconds: Int64
    public var keys: [[UInt8]]

    public init(id: Int64, ttlSeconds: Int64, keys: [[UInt8]] = []) {
        self.id = id
        self.ttlSeconds = ttlSeconds
        self.keys = keys
    }
}
