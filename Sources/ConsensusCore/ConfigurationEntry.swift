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
        var bytes: [UInt8] = [ConfigurationEntry.formatVersion]
        for set in [membership.voters, membership.outgoingVoters, membership.learners] {
            appendInteger(UInt64(set.count), to: &bytes)
            for node in set.sorted() { appendInteger(node.rawValue, to: &bytes) }
        }
        appendInteger(requestID?.rawValue ?? 0, to: &bytes)
        appendInteger(origin?.rawValue ?? 0, to: &bytes)
        return bytes
    }

    static let formatVersion: UInt8 = 1
    /// More members than any group has; a count above this is corruption.
    static let membersMax: UInt64 = 1024

    /// Decodes an entry, or returns nil when the bytes are not one (never traps on bad input).
    public init?(decoding bytes: [UInt8]) {
        guard bytes.first == ConfigurationEntry.formatVersion else { return nil }
        var position = 1
        var sets: [Set<NodeID>] = []
        for _ in 0..<3 {
            guard let count = readInteger(bytes, &position), count <= ConfigurationEntry.membersMax else { return nil }
            var set = Set<NodeID>()
            for _ in 0..<count {
                guard let raw = readInteger(bytes, &position), raw != 0 else { return nil }
                set.insert(NodeID(raw))
            }
            sets.append(set)
        }
        guard let request = readInteger(bytes, &position), let origin = readInteger(bytes, &position), position == bytes.count else { return nil }
        guard !sets[0].isEmpty else { return nil }
        membership = Membership(voters: sets[0], learners: sets[2], outgoingVoters: sets[1])
        requestID = request == 0 ? nil : RequestID(request)
        self.origin = origin == 0 ? nil : NodeID(origin)
    }
}

private func appendInteger(_ value: UInt64, to bytes: inout [UInt8]) {
    withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
}

private func readInteger(_ bytes: [UInt8], _ position: inout Int) -> UInt64? {
    guard position + 8 <= bytes.count else { return nil }
    var value: UInt64 = 0
    for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << (8 * UInt64(offset)) }
    position += 8
    return value
}
