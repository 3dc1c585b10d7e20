/// The payload of a `.configuration` log entry: the membership it installs, and the request that
/// asked for it so the asking shell can answer its caller when the entry applies.
public struct ConfigurationEntry: Sendable, Hashable {
    public var membership: Membership
    public var requestID: RequestID?
    /// The node whose operator asked, so only that node answers.
    public var origin: NodeID?

    public init(membership: Membership, requestID: RequestID?, origin: NodeID?) {
        self.membership = membership
        self.requestID = requestID
        self.origin = origin
    }

    /// A compact binary form: a version byte, then length-prefixed node lists and two optional ids.
    public var encoded: [UInt8] {
        var writer = ByteWriter(bytes: [ConfigurationEntry.formatVersion])
        for set in [membership.voters, membership.outgoingVoters, membership.learners] {
            writer.write(UInt64(set.count))
            for node in set.sorted() { writer.write(node.rawValue) }
        }
        writer.write(requestID?.rawValue ?? 0)
        writer.write(origin?.rawValue ?? 0)
        return writer.bytes
    }

    static let formatVersion: UInt8 = 1
    /// More members than any group has; a count above this is corruption.
    static let membersMax: UInt64 = 1024

    /// Decodes an entry, or returns nil when the bytes are not one (never traps on bad input).
    public init?(decoding bytes: [UInt8]) {
        var reader = ByteReader(bytes)
        guard reader.readByte() == ConfigurationEntry.formatVersion else { return nil }
        var sets: [Set<NodeID>] = []
        for _ in 0..<3 {
            guard let count = reader.readUInt64(), count <= ConfigurationEntry.membersMax else { return nil }
            var set = Set<NodeID>()
            for _ in 0..<count {
                guard let raw = reader.readUInt64(), raw != 0 else { return nil }
                set.insert(NodeID(raw))
            }
            sets.append(set)
        }
        guard let request = reader.readUInt64(), let origin = reader.readUInt64(), reader.remaining == 0 else { return nil }
        guard !sets[0].isEmpty else { return nil }
        membership = Membership(voters: sets[0], learners: sets[2], outgoingVoters: sets[1])
        requestID = request == 0 ? nil : RequestID(request)
        self.origin = origin == 0 ? nil : NodeID(origin)
    }
}
