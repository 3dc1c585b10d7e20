import ZooKeeperWire

/// One znode as the tree keeps it. The child count and the pzxid live on the node, so a stat never
/// scans children; `childCreates` counts creates under it for sequence suffixes, which on 3.8 are
/// not the cversion (that counts deletes too, `../shared/reference/ZOOKEEPER-NOTES.md`).
public struct ZooKeeperNode: Equatable, Sendable {
    /// nil when created or set with the null buffer: a reader gets null back, as from ZooKeeper.
    public var data: [UInt8]?
    public var acl: [ZooKeeperACL]
    public var czxid: Int64
    public var mzxid: Int64
    public var pzxid: Int64
    public var ctime: Int64
    public var mtime: Int64
    public var version: Int32
    public var cversion: Int32
    public var aversion: Int32
    public var ephemeralOwner: Int64
    public var children: Set<String>
    public var childCreates: Int32

    public init(data: [UInt8]?, acl: [ZooKeeperACL], zxid: Int64, time: Int64, ephemeralOwner: Int64) {
        self.data = data
        self.acl = acl
        czxid = zxid
        mzxid = zxid
        pzxid = zxid
        ctime = time
        mtime = time
        version = 0
        cversion = 0
        aversion = 0
        self.ephemeralOwner = ephemeralOwner
        children = []
        childCreates = 0
    }

    public var stat: ZooKeeperStat {
        var stat = ZooKeeperStat()
        stat.czxid = czxid
        stat.mzxid = mzxid
        stat.ctime = ctime
        stat.mtime = mtime
        stat.version = version
        stat.cversion = cversion
        stat.aversion = aversion
        // Clients see a session's id or 0: ZooKeeper hides a container's or a TTL node's owner
        // field (DataNode's getClientEphemeralOwner).
        stat.ephemeralOwner = ZooKeeperDataTree.isSessionOwner(ephemeralOwner) ? ephemeralOwner : 0
        stat.dataLength = Int32(truncatingIfNeeded: data?.count ?? 0)
        stat.numChildren = Int32(truncatingIfNeeded: children.count)
        stat.pzxid = pzxid
        return stat
    }
}
