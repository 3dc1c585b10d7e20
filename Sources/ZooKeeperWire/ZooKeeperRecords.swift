/// The records a znode is described by on the wire (zookeeper.jute's `org.apache.zookeeper.data`).

/// A node's metadata, as every read and write reply carries it.
public struct ZooKeeperStat: Equatable, Hashable, Sendable {
    /// The zxid of the create.
    public var czxid: Int64 = 0
    /// The zxid of the last setData (or the create).
    public var mzxid: Int64 = 0
    /// Milliseconds since the epoch, as the leader's clock said at the create.
    public var ctime: Int64 = 0
    public var mtime: Int64 = 0
    /// Data changes since the create.
    public var version: Int32 = 0
    /// Child creates and deletes since the create.
    public var cversion: Int32 = 0
    /// ACL changes since the create.
    public var aversion: Int32 = 0
    /// The owning session of an ephemeral node; 0 otherwise (and special values for containers and
    /// TTL nodes).
    public var ephemeralOwner: Int64 = 0
    public var dataLength: Int32 = 0
    public var numChildren: Int32 = 0
    /// The zxid of the last child create or delete (or the create).
    public var pzxid: Int64 = 0

    public init() {}

    public static let encodedBytes = 68

    public func write(to writer: inout JuteWriter) {
        writer.writeLong(czxid)
        writer.writeLong(mzxid)
        writer.writeLong(ctime)
        writer.writeLong(mtime)
        writer.writeInt(version)
        writer.writeInt(cversion)
        writer.writeInt(aversion)
        writer.writeLong(ephemeralOwner)
        writer.writeInt(dataLength)
        writer.writeInt(numChildren)
        writer.writeLong(pzxid)
    }

    public init(from reader: inout JuteReader) throws(JuteError) {
        czxid = try reader.readLong("stat.czxid")
        mzxid = try reader.readLong("stat.mzxid")
        ctime = try reader.readLong("stat.ctime")
        mtime = try reader.readLong("stat.mtime")
        version = try reader.readInt("stat.version")
        cversion = try reader.readInt("stat.cversion")
        aversion = try reader.readInt("stat.aversion")
        ephemeralOwner = try reader.readLong("stat.ephemeralOwner")
        dataLength = try reader.readInt("stat.dataLength")
        numChildren = try reader.readInt("stat.numChildren")
        pzxid = try reader.readLong("stat.pzxid")
    }
}

/// Who an ACL entry is for: a scheme ("world", "auth", "digest", "ip") and an id in it.
public struct ZooKeeperID: Equatable, Hashable, Sendable {
    public var scheme: String
    public var id: String

    public init(scheme: String, id: String) {
        self.scheme = scheme
        self.id = id
    }

    public static let anyone = ZooKeeperID(scheme: "world", id: "anyone")
}

/// One entry of a node's access control list.
public struct ZooKeeperACL: Equatable, Hashable, Sendable {
    /// Permission bits (`Permission`).
    public var permissions: Int32
    public var id: ZooKeeperID

    public init(permissions: Int32, id: ZooKeeperID) {
        self.permissions = permissions
        self.id = id
    }

    public enum Permission {
        public static let read: Int32 = 1
        public static let write: Int32 = 2
        public static let create: Int32 = 4
        public static let delete: Int32 = 8
        public static let admin: Int32 = 16
        public static let all: Int32 = 31
    }

    /// `ZooDefs.Ids.OPEN_ACL_UNSAFE`: everything, for anyone.
    public static let openUnsafe = [ZooKeeperACL(permissions: Permission.all, id: .anyone)]

    /// An int, two strings: the least an entry takes on the wire.
    static let encodedBytesMin = 12

    public func write(to writer: inout JuteWriter) {
        writer.writeInt(permissions)
        writer.writeString(id.scheme)
        writer.writeString(id.id)
    }

    public init(from reader: inout JuteReader) throws(JuteError) {
        permissions = try reader.readInt("acl.perms")
        id = ZooKeeperID(scheme: try reader.readText("acl.id.scheme"), id: try reader.readText("acl.id.id"))
    }

    public static func readList(_ reader: inout JuteReader) throws(JuteError) -> [ZooKeeperACL] {
        try reader.readVector("acl", elementBytesMin: encodedBytesMin) { (reader: inout JuteReader) throws(JuteError) in
            try ZooKeeperACL(from: &reader)
        } ?? []
    }

    public static func writeList(_ list: [ZooKeeperACL], to writer: inout JuteWriter) {
        writer.writeVector(list) { writer, entry in entry.write(to: &writer) }
    }
}

