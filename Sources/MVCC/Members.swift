/// What etcd's backend keeps about the cluster in its `members` and `members_removed` buckets: who
/// is in the configuration, what each member published about itself, and which ids were removed.
///
/// The configuration part follows the consensus log's configuration entries as they apply
/// (`applyConfiguration`); the attributes are written by commands (`Command.memberAttributes`): an
/// operator's `MemberAdd` and `MemberUpdate` stage a member's peer URLs, and every member publishes
/// its name and client URLs once it has started, as etcd's `publish` does. Keeping both in the store
/// puts them in every snapshot, so a member that joins by snapshot lists the same members as the
/// rest, and the etcd-format backend written from a store carries them.
public struct MemberAttributes: Sendable, Hashable {
    public var id: UInt64
    /// Empty until the member has started and published it.
    public var name: String
    public var peerURLs: [String]
    /// Empty until the member has started and published them.
    public var clientURLs: [String]

    public init(id: UInt64, name: String, peerURLs: [String], clientURLs: [String]) {
        self.id = id
        self.name = name
        self.peerURLs = peerURLs
        self.clientURLs = clientURLs
    }

    /// The most URLs of either kind one member may list.
    public static let urlsMax = 16
    /// The longest name or URL, in bytes.
    public static let textBytesMax = 1024
    /// The most members with attributes the store keeps, configured or staged.
    public static let membersMax = 1024
}

/// A member as `MemberList` reports it.
public struct Member: Sendable, Hashable {
    public var attributes: MemberAttributes
    public var isLearner: Bool

    public init(attributes: MemberAttributes, isLearner: Bool) {
        self.attributes = attributes
        self.isLearner = isLearner
    }

    public var id: UInt64 { attributes.id }
}

extension MVCCStore {
    /// Sets the configuration a cluster starts with (from `--initial-cluster`), which no log entry
    /// records: every member of a new cluster computes the same set from the same flags. Their
    /// attributes are not set here: each member publishes its own through the log, so a member that
    /// joins later and replays the log holds the same table as the founders.
    public mutating func bootstrapMembers(voters: Set<UInt64>) {
        for id in voters { configuredMembers[id] = false }
    }

    /// Follows a configuration entry of the log as it applies: the members in it (learners
    /// marked), and every member it drops recorded as removed, as etcd's `members_removed` does.
    /// Attributes of removed members are dropped; staged ones stay for the change that needs them.
    public mutating func applyConfiguration(voters: Set<UInt64>, learners: Set<UInt64>) {
        let next = voters.union(learners)
        for id in configuredMembers.keys where !next.contains(id) {
            removedMemberIDs.insert(id)
            memberAttributeTable[id] = nil
        }
        configuredMembers = [:]
        for id in voters { configuredMembers[id] = false }
        for id in learners where !voters.contains(id) { configuredMembers[id] = true }
    }

    mutating func applyMemberAttributes(_ attributes: MemberAttributes) throws(MVCCError) {
        if memberAttributeTable[attributes.id] == nil && memberAttributeTable.count >= MemberAttributes.membersMax {
            throw .invalidMember("more than \(MemberAttributes.membersMax) members")
        }
        memberAttributeTable[attributes.id] = attributes
    }

    /// The members of the configuration in force, by id, with what is known of each.
    public var members: [Member] {
        configuredMembers.keys.sorted().map { id in
            Member(
                attributes: memberAttributeTable[id] ?? MemberAttributes(id: id, name: "", peerURLs: [], clientURLs: []),
                isLearner: configuredMembers[id] ?? false)
        }
    }

    /// Everything known of members, configured or staged, by ascending id.
    public var memberAttributeRecords: [MemberAttributes] {
        memberAttributeTable.keys.sorted().map { memberAttributeTable[$0]! }
    }

    /// What is known of a member, configured or staged.
    public func memberAttributes(_ id: UInt64) -> MemberAttributes? { memberAttributeTable[id] }

    /// Ids removed from the configuration, which may never return (etcd's `ErrIDRemoved`).
    public var removedMembers: Set<UInt64> { removedMemberIDs }

    static func checkMemberAttributes(_ attributes: MemberAttributes) throws(MVCCError) {
        if attributes.id == 0 { throw .invalidMember("member id 0") }
        if attributes.peerURLs.count > MemberAttributes.urlsMax || attributes.clientURLs.count > MemberAttributes.urlsMax {
            throw .invalidMember("more than \(MemberAttributes.urlsMax) URLs")
        }
        for text in [attributes.name] + attributes.peerURLs + attributes.clientURLs where text.utf8.count > MemberAttributes.textBytesMax {
            throw .invalidMember("a name or URL longer than \(MemberAttributes.textBytesMax) bytes")
        }
    }
}

extension WireWriter {
    mutating func writeMemberAttributes(_ attributes: MemberAttributes) {
        writeUnsigned(attributes.id)
        writeBytes(Array(attributes.name.utf8))
        for urls in [attributes.peerURLs, attributes.clientURLs] {
            writeCount(urls.count)
            for url in urls { writeBytes(Array(url.utf8)) }
        }
    }
}

extension WireReader {
    /// Reads attributes, refusing more URLs than `MemberAttributes.urlsMax` before reading them.
    mutating func readMemberAttributes() throws(WireFormatError) -> MemberAttributes {
        let id = try readUnsigned()
        let name = try readText()
        var lists: [[String]] = []
        for _ in 0..<2 {
            let start = offset
            let count = try readCount()
            guard count <= MemberAttributes.urlsMax else { throw .lengthOutOfBounds(UInt64(count), offset: start) }
            var urls: [String] = []
            for _ in 0..<count { urls.append(try readText()) }
            lists.append(urls)
        }
        return MemberAttributes(id: id, name: name, peerURLs: lists[0], clientURLs: lists[1])
    }

    /// UTF-8 text; anything else is refused, so every accepted input re-encodes to itself.
    mutating func readText() throws(WireFormatError) -> String {
        let start = offset
        guard let text = String(validating: try readBytes(), as: UTF8.self) else { throw .invalidText(offset: start) }
        return text
    }
}
