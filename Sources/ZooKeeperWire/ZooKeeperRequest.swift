/// A client's request body, by operation (zookeeper.jute's `*Request` records). Decoding is total:
/// an unknown operation or malformed body is a `JuteError`, which the server answers with an error
/// reply (or by closing the connection), never a trap.
public enum ZooKeeperRequest: Equatable, Sendable {
    /// create, create2 and createContainer share a body; `operation` tells them apart.
    case create(Create)
    case delete(path: String, version: Int32)
    case exists(path: String, watch: Bool)
    case getData(path: String, watch: Bool)
    case setData(path: String, data: [UInt8]?, version: Int32)
    case getACL(path: String)
    case setACL(path: String, acl: [ZooKeeperACL], version: Int32)
    case getChildren(path: String, watch: Bool)
    case getChildren2(path: String, watch: Bool)
    case sync(path: String)
    case ping
    case check(path: String, version: Int32)
    case multi([ZooKeeperRequest])
    case multiRead([ZooKeeperRequest])
    case closeSession
    case auth(type: Int32, scheme: String, auth: [UInt8])
    case setWatches(SetWatches)
    case getEphemerals(prefix: String)
    case getAllChildrenNumber(path: String)
    case addWatch(path: String, mode: Int32)
    case checkWatches(path: String, type: Int32)
    case removeWatches(path: String, type: Int32)
    case whoAmI

    public struct Create: Equatable, Sendable {
        /// create (1), create2 (15), createContainer (19) or createTTL (21).
        public var operation: ZooKeeperOperation
        public var path: String
        /// nil is the null buffer (length -1), which ZooKeeper keeps apart from an empty one.
        public var data: [UInt8]?
        public var acl: [ZooKeeperACL]
        /// `CreateMode` bits: 1 ephemeral, 2 sequential; containers and TTL nodes have their own values.
        public var flags: Int32
        /// Milliseconds, for createTTL only.
        public var ttl: Int64?

        public init(operation: ZooKeeperOperation = .create, path: String, data: [UInt8]?, acl: [ZooKeeperACL] = ZooKeeperACL.openUnsafe, flags: Int32, ttl: Int64? = nil) {
            self.operation = operation
            self.path = path
            self.data = data
            self.acl = acl
            self.flags = flags
            self.ttl = ttl
        }
    }

    /// SetWatches (101) and SetWatches2 (105): the watches a reconnecting client had, to be
    /// re-armed or fired against `relativeZxid`.
    public struct SetWatches: Equatable, Sendable {
        public var relativeZxid: Int64
        public var data: [String]
        public var exist: [String]
        public var child: [String]
        /// Only in SetWatches2.
        public var persistent: [String]?
        public var persistentRecursive: [String]?

        public init(relativeZxid: Int64, data: [String], exist: [String], child: [String], persistent: [String]? = nil, persistentRecursive: [String]? = nil) {
            self.relativeZxid = relativeZxid
            self.data = data
            self.exist = exist
            self.child = child
            self.persistent = persistent
            self.persistentRecursive = persistentRecursive
        }
    }

    /// The operation code this body goes under.
    public var operation: ZooKeeperOperation {
        switch self {
        case .create(let create): return create.operation
        case .delete: return .delete
        case .exists: return .exists
        case .getData: return .getData
        case .setData: return .setData
        case .getACL: return .getACL
        case .setACL: return .setACL
        case .getChildren: return .getChildren
        case .getChildren2: return .getChildren2
        case .sync: return .sync
        case .ping: return .ping
        case .check: return .check
        case .multi: return .multi
        case .multiRead: return .multiRead
        case .closeSession: return .closeSession
        case .auth: return .auth
        case .setWatches(let watches): return watches.persistent == nil ? .setWatches : .setWatches2
        case .getEphemerals: return .getEphemerals
        case .getAllChildrenNumber: return .getAllChildrenNumber
        case .addWatch: return .addWatch
        case .checkWatches: return .checkWatches
        case .removeWatches: return .removeWatches
        case .whoAmI: return .whoAmI
        }
    }

    /// Operations bounded per multi: ZooKeeper has no count limit but the packet's, whose
    /// smallest op (a check of a one-byte path) takes 26 bytes.
    public static let multiOperationsMax = ZooKeeperFrame.defaultPacketBytesMax / 26

    /// Decodes the body of a request whose header named `operation`, from `reader` to the end.
    public static func decode(operation code: Int32, from reader: inout JuteReader) throws(JuteError) -> ZooKeeperRequest {
        guard let operation = ZooKeeperOperation(rawValue: code) else { throw .unknownOperation(code) }
        let request = try decodeBody(operation, from: &reader)
        try reader.expectEnd()
        return request
    }

    static func decodeBody(_ operation: ZooKeeperOperation, from reader: inout JuteReader) throws(JuteError) -> ZooKeeperRequest {
        switch operation {
        case .create, .create2, .createContainer, .createTTL:
            let path = try reader.readText("create.path")
            let data = try reader.readBuffer("create.data")
            let acl = try ZooKeeperACL.readList(&reader)
            let flags = try reader.readInt("create.flags")
            let ttl = operation == .createTTL ? try reader.readLong("create.ttl") : nil
            return .create(Create(operation: operation, path: path, data: data, acl: acl, flags: flags, ttl: ttl))
        case .delete, .deleteContainer:
            let path = try reader.readText("delete.path")
            return .delete(path: path, version: operation == .delete ? try reader.readInt("delete.version") : -1)
        case .exists: return .exists(path: try reader.readText("exists.path"), watch: try reader.readBool("exists.watch"))
        case .getData: return .getData(path: try reader.readText("getData.path"), watch: try reader.readBool("getData.watch"))
        case .setData:
            return .setData(path: try reader.readText("setData.path"), data: try reader.readBuffer("setData.data"), version: try reader.readInt("setData.version"))
        case .getACL: return .getACL(path: try reader.readText("getACL.path"))
        case .setACL:
            return .setACL(path: try reader.readText("setACL.path"), acl: try ZooKeeperACL.readList(&reader), version: try reader.readInt("setACL.version"))
        case .getChildren: return .getChildren(path: try reader.readText("getChildren.path"), watch: try reader.readBool("getChildren.watch"))
        case .getChildren2: return .getChildren2(path: try reader.readText("getChildren2.path"), watch: try reader.readBool("getChildren2.watch"))
        case .sync: return .sync(path: try reader.readText("sync.path"))
        case .ping: return .ping
        case .check: return .check(path: try reader.readText("check.path"), version: try reader.readInt("check.version"))
        case .multi, .multiRead:
            let operations = try decodeMultiOperations(from: &reader, reading: operation == .multiRead)
            return operation == .multi ? .multi(operations) : .multiRead(operations)
        case .closeSession: return .closeSession
        case .auth:
            return .auth(type: try reader.readInt("auth.type"), scheme: try reader.readText("auth.scheme"), auth: try reader.readBuffer("auth.auth") ?? [])
        case .setWatches, .setWatches2:
            let relativeZxid = try reader.readLong("setWatches.relativeZxid")
            let data = try reader.readStrings("setWatches.dataWatches")
            let exist = try reader.readStrings("setWatches.existWatches")
            let child = try reader.readStrings("setWatches.childWatches")
            guard operation == .setWatches2 else { return .setWatches(SetWatches(relativeZxid: relativeZxid, data: data, exist: exist, child: child)) }
            let persistent = try reader.readStrings("setWatches.persistentWatches")
            let recursive = try reader.readStrings("setWatches.persistentRecursiveWatches")
            return .setWatches(SetWatches(relativeZxid: relativeZxid, data: data, exist: exist, child: child, persistent: persistent, persistentRecursive: recursive))
        case .getEphemerals: return .getEphemerals(prefix: try reader.readText("getEphemerals.prefixPath"))
        case .getAllChildrenNumber: return .getAllChildrenNumber(path: try reader.readText("getAllChildrenNumber.path"))
        case .addWatch: return .addWatch(path: try reader.readText("addWatch.path"), mode: try reader.readInt("addWatch.mode"))
        case .checkWatches: return .checkWatches(path: try reader.readText("checkWatches.path"), type: try reader.readInt("checkWatches.type"))
        case .removeWatches: return .removeWatches(path: try reader.readText("removeWatches.path"), type: try reader.readInt("removeWatches.type"))
        case .whoAmI: return .whoAmI
        case .notification, .reconfig, .sasl, .createSession, .error:
            throw .unknownOperation(operation.rawValue)
        }
    }

    /// A multi's body: (MultiHeader, op) pairs until a header with done set.
    static func decodeMultiOperations(from reader: inout JuteReader, reading: Bool) throws(JuteError) -> [ZooKeeperRequest] {
        var operations: [ZooKeeperRequest] = []
        while true {
            let type = try reader.readInt("multi.type")
            let done = try reader.readBool("multi.done")
            _ = try reader.readInt("multi.err")
            if done { return operations }
            guard operations.count < multiOperationsMax else { throw .lengthOverLimit(field: "multi", operations.count + 1, limit: multiOperationsMax) }
            let allowed: [ZooKeeperOperation] = reading ? [.getChildren, .getData] : [.create, .create2, .createContainer, .createTTL, .delete, .setData, .check]
            guard let operation = ZooKeeperOperation(rawValue: type), allowed.contains(operation) else { throw .operationNotAllowedInMulti(type) }
            operations.append(try decodeBody(operation, from: &reader))
        }
    }

    /// The body, encoded (what a client sends after the header).
    public var encoded: [UInt8] {
        var writer = JuteWriter()
        write(to: &writer)
        return writer.bytes
    }

    public func write(to writer: inout JuteWriter) {
        switch self {
        case .create(let create):
            writer.writeString(create.path)
            writer.writeBuffer(create.data)
            ZooKeeperACL.writeList(create.acl, to: &writer)
            writer.writeInt(create.flags)
            if create.operation == .createTTL { writer.writeLong(create.ttl ?? 0) }
        case .delete(let path, let version), .check(let path, let version):
            writer.writeString(path)
            writer.writeInt(version)
        case .exists(let path, let watch), .getData(let path, let watch), .getChildren(let path, let watch), .getChildren2(let path, let watch):
            writer.writeString(path)
            writer.writeBool(watch)
        case .setData(let path, let data, let version):
            writer.writeString(path)
            writer.writeBuffer(data)
            writer.writeInt(version)
        case .getACL(let path), .sync(let path), .getEphemerals(let path), .getAllChildrenNumber(let path):
            writer.writeString(path)
        case .setACL(let path, let acl, let version):
            writer.writeString(path)
            ZooKeeperACL.writeList(acl, to: &writer)
            writer.writeInt(version)
        case .ping, .closeSession, .whoAmI:
            break
        case .multi(let operations), .multiRead(let operations):
            for operation in operations {
                MultiHeader.write(type: operation.operation.rawValue, done: false, error: -1, to: &writer)
                operation.write(to: &writer)
            }
            MultiHeader.writeEnd(to: &writer)
        case .auth(let type, let scheme, let auth):
            writer.writeInt(type)
            writer.writeString(scheme)
            writer.writeBuffer(auth)
        case .setWatches(let watches):
            writer.writeLong(watches.relativeZxid)
            writer.writeStrings(watches.data)
            writer.writeStrings(watches.exist)
            writer.writeStrings(watches.child)
            if let persistent = watches.persistent {
                writer.writeStrings(persistent)
                writer.writeStrings(watches.persistentRecursive ?? [])
            }
        case .addWatch(let path, let mode), .checkWatches(let path, let mode), .removeWatches(let path, let mode):
            writer.writeString(path)
            writer.writeInt(mode)
        }
    }
}
