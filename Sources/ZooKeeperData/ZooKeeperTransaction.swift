import ZooKeeperWire

/// A ZooKeeper write as it travels through the log: who asked, the leader's clock when it was
/// proposed (ctime and mtime come from here, so every replica stamps the same times), and the
/// operation. Every transaction applied takes the next zxid, failed ones too, as in ZooKeeper.
///
/// Encoded as the service's tag (`ServiceTag.zookeeper`, 0x5A), a format version, the proposer's
/// flags, the connection and its write sequence (version 2 on), the request id, the session, the
/// time, the kind, then the body in jute.
public struct ZooKeeperTransaction: Equatable, Sendable {
    public static let tag: UInt8 = 0x5A
    public static let formatVersion: UInt8 = 2
    /// Entries written before the flags byte existed: read as having every flag off.
    static let formatVersionWithoutFlags: UInt8 = 1
    static let extendedTypesFlag: UInt8 = 1

    /// The proposer's request id, so the member the client asked answers it when the entry applies.
    public var requestID: UInt64
    /// The session that asked; for an expiry, the session expired.
    public var session: Int64
    /// Milliseconds since the epoch on the proposer's clock.
    public var time: Int64
    /// Who the session has proven to be (its `addAuth` digests, its address): what the node ACLs
    /// are checked against, on every replica alike.
    public var auth: [ZooKeeperID]
    /// Whether the proposing member allows TTL nodes (`--zk-extended-types`, ZooKeeper's
    /// `zookeeper.extendedTypesEnabled`). It travels with the write, as ZooKeeper's leader decides
    /// it before the transaction is logged, so every replica applies the same verdict even if the
    /// members' flags differ.
    public var extendedTypes: Bool
    /// The client connection that sent it (a member's random tag; 0 for the members' own
    /// transactions: expiry, container sweeps, and entries of format 1), and its number among
    /// that connection's writes (1, 2, …). A session's writes apply only from the connection
    /// that owns it and only in the order sent, as ZooKeeper's session ownership and FIFO client
    /// order have them: a write the log reordered or lost makes the ones after it fail.
    public var connection: UInt64
    public var sequence: UInt64
    public var operation: Operation

    public enum Operation: Equatable, Sendable {
        /// A new session. Its id and password are drawn by the member that accepted the connect
        /// and replicated, so the session is valid on every member.
        case createSession(id: Int64, timeoutMillis: Int32, password: [UInt8])
        /// A client's closeSession, or the leader's expiry of a session that went quiet.
        case closeSession(id: Int64)
        /// A client resumed the session on a new connection (`connection`), which owns it from
        /// now on: writes still in flight from its old connection fail as SESSIONMOVED.
        case claimSession(id: Int64)
        /// create, create2, createContainer, createTTL, delete, setData, setACL, check, multi.
        case write(ZooKeeperRequest)
        /// The leader's removal of a container that had children and has none left, or of a TTL
        /// node left childless and unmodified for its TTL (ZooKeeper's ContainerManager). Checked
        /// again when it applies, at the transaction's time: a child created or data set meanwhile
        /// keeps it.
        case deleteContainer(path: String)
    }

    public init(
        requestID: UInt64, session: Int64, time: Int64, auth: [ZooKeeperID] = [], extendedTypes: Bool = false,
        connection: UInt64 = 0, sequence: UInt64 = 0, operation: Operation
    ) {
        self.requestID = requestID
        self.session = session
        self.time = time
        self.auth = auth
        self.extendedTypes = extendedTypes
        self.connection = connection
        self.sequence = sequence
        self.operation = operation
    }

    /// Identities a transaction may carry: far more than any client proves.
    public static let authIDsMax = 64

    public var encoded: [UInt8] {
        var writer = JuteWriter()
        writer.writeRaw([Self.tag, Self.formatVersion, extendedTypes ? Self.extendedTypesFlag : 0])
        writer.writeLong(Int64(bitPattern: connection))
        writer.writeLong(Int64(bitPattern: sequence))
        writer.writeLong(Int64(bitPattern: requestID))
        writer.writeLong(session)
        writer.writeLong(time)
        writer.writeVector(auth) { writer, id in
            writer.writeString(id.scheme)
            writer.writeString(id.id)
        }
        switch operation {
        case .createSession(let id, let timeout, let password):
            writer.writeInt(0)
            writer.writeLong(id)
            writer.writeInt(timeout)
            writer.writeBuffer(password)
        case .closeSession(let id):
            writer.writeInt(1)
            writer.writeLong(id)
        case .write(let request):
            writer.writeInt(2)
            writer.writeInt(request.operation.rawValue)
            request.write(to: &writer)
        case .deleteContainer(let path):
            writer.writeInt(3)
            writer.writeString(path)
        case .claimSession(let id):
            writer.writeInt(4)
            writer.writeLong(id)
        }
        return writer.bytes
    }

    /// Whether a request may travel as a write transaction.
    public static func isWrite(_ request: ZooKeeperRequest) -> Bool {
        switch request {
        case .create, .delete, .setData, .setACL, .check, .multi: return true
        default: return false
        }
    }

    /// Decodes a transaction; total, whatever the bytes.
    public init(decoding bytes: [UInt8]) throws(JuteError) {
        guard bytes.count >= 2, bytes[0] == Self.tag else { throw .truncated(field: "transaction.tag") }
        var reader = JuteReader(bytes, from: 2)
        switch bytes[1] {
        case Self.formatVersionWithoutFlags:
            extendedTypes = false
            connection = 0
            sequence = 0
        case Self.formatVersion:
            guard bytes.count >= 3 else { throw .truncated(field: "transaction.flags") }
            guard bytes[2] & ~Self.extendedTypesFlag == 0 else { throw .unknownOperation(Int32(bytes[2])) }
            extendedTypes = bytes[2] == Self.extendedTypesFlag
            reader = JuteReader(bytes, from: 3)
            connection = UInt64(bitPattern: try reader.readLong("transaction.connection"))
            sequence = UInt64(bitPattern: try reader.readLong("transaction.sequence"))
        default:
            throw .unknownOperation(Int32(bytes[1]))
        }
        requestID = UInt64(bitPattern: try reader.readLong("transaction.requestID"))
        session = try reader.readLong("transaction.session")
        time = try reader.readLong("transaction.time")
        auth = try reader.readVector("transaction.auth", elementBytesMin: 8) { (reader: inout JuteReader) throws(JuteError) in
            ZooKeeperID(scheme: try reader.readText("auth.scheme"), id: try reader.readText("auth.id"))
        } ?? []
        guard auth.count <= Self.authIDsMax else { throw .lengthOverLimit(field: "transaction.auth", auth.count, limit: Self.authIDsMax) }
        switch try reader.readInt("transaction.kind") {
        case 0:
            let id = try reader.readLong("createSession.id")
            let timeout = try reader.readInt("createSession.timeout")
            let password = try reader.readBuffer("createSession.password") ?? []
            operation = .createSession(id: id, timeoutMillis: timeout, password: password)
        case 1:
            operation = .closeSession(id: try reader.readLong("closeSession.id"))
        case 2:
            let request = try ZooKeeperRequest.decode(operation: try reader.readInt("write.operation"), from: &reader)
            guard Self.isWrite(request) else { throw .unknownOperation(request.operation.rawValue) }
            operation = .write(request)
        case 3:
            operation = .deleteContainer(path: try reader.readText("deleteContainer.path"))
        case 4:
            operation = .claimSession(id: try reader.readLong("claimSession.id"))
        case let kind:
            throw .unknownOperation(kind)
        }
        try reader.expectEnd()
    }
}
