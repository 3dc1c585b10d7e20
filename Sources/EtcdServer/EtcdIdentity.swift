import ConsensusCore

/// Who a node is in etcd's terms: member ids derived from the peer URLs and cluster token (as etcd
/// derives them), a cluster id from all members, and what `MemberList` reports.
public struct EtcdMember: Sendable, Equatable {
    public var id: NodeID
    public var name: String
    public var peerURLs: [String]
    public var clientURLs: [String]

    public init(id: NodeID, name: String, peerURLs: [String], clientURLs: [String]) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
    }

    /// A stable, nonzero id from what identifies the member: its peer URLs and the cluster token.
    public static func memberID(peerURLs: [String], clusterToken: String) -> NodeID {
        NodeID(nonzeroHash(peerURLs.sorted().joined(separator: ",") + "|" + clusterToken))
    }

    public static func clusterID(members: [NodeID], clusterToken: String) -> UInt64 {
        nonzeroHash(members.sorted().map { String($0.rawValue, radix: 16) }.joined(separator: ",") + "|" + clusterToken)
    }

    /// FNV-1a, 64 bits: stable across processes and platforms, unlike `Hasher`.
    static func nonzeroHash(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 { hash = (hash ^ UInt64(byte)) &* 0x0000_0100_0000_01b3 }
        return hash == 0 ? 1 : hash
    }
}
