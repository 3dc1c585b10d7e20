/// The session handshake: the first packet a client sends on a connection, and the server's answer.
///
/// Clients before 3.3 send 44 bytes, without `readOnly`, and expect an answer without it; newer
/// ones send 45. The answer matches the request's form (ZOOKEEPER-4814 is the regression where a
/// server did not).
public struct ZooKeeperConnectRequest: Equatable, Sendable {
    public var protocolVersion: Int32
    /// The last zxid the client has seen: a server behind it must refuse the connection.
    public var lastZxidSeen: Int64
    /// The session timeout the client asks for, in milliseconds.
    public var timeoutMillis: Int32
    /// 0 for a new session; otherwise the session to resume.
    public var sessionID: Int64
    public var password: [UInt8]
    /// nil in the 44-byte form.
    public var readOnly: Bool?

    public init(protocolVersion: Int32 = 0, lastZxidSeen: Int64, timeoutMillis: Int32, sessionID: Int64, password: [UInt8], readOnly: Bool?) {
        self.protocolVersion = protocolVersion
        self.lastZxidSeen = lastZxidSeen
        self.timeoutMillis = timeoutMillis
        self.sessionID = sessionID
        self.password = password
        self.readOnly = readOnly
    }

    /// The largest password a client may send: ZooKeeper's are 16 bytes.
    public static let passwordBytesMax = 64

    public init(decoding payload: [UInt8]) throws(JuteError) {
        var reader = JuteReader(payload)
        protocolVersion = try reader.readInt("connect.protocolVersion")
        lastZxidSeen = try reader.readLong("connect.lastZxidSeen")
        timeoutMillis = try reader.readInt("connect.timeOut")
        sessionID = try reader.readLong("connect.sessionId")
        password = try reader.readBuffer("connect.passwd") ?? []
        guard password.count <= Self.passwordBytesMax else {
            throw .lengthOverLimit(field: "connect.passwd", password.count, limit: Self.passwordBytesMax)
        }
        readOnly = reader.isAtEnd ? nil : try reader.readBool("connect.readOnly")
        try reader.expectEnd()
    }

    public var encoded: [UInt8] {
        var writer = JuteWriter()
        writer.writeInt(protocolVersion)
        writer.writeLong(lastZxidSeen)
        writer.writeInt(timeoutMillis)
        writer.writeLong(sessionID)
        writer.writeBuffer(password)
        if let readOnly { writer.writeBool(readOnly) }
        return writer.bytes
    }
}

public struct ZooKeeperConnectResponse: Equatable, Sendable {
    public var protocolVersion: Int32
    /// The negotiated timeout in milliseconds; 0 refuses the session (expired or invalid).
    public var timeoutMillis: Int32
    public var sessionID: Int64
    public var password: [UInt8]
    /// nil to answer a 44-byte request in kind.
    public var readOnly: Bool?

    public init(protocolVersion: Int32 = 0, timeoutMillis: Int32, sessionID: Int64, password: [UInt8], readOnly: Bool?) {
        self.protocolVersion = protocolVersion
        self.timeoutMillis = timeoutMillis
        self.sessionID = sessionID
        self.password = password
        self.readOnly = readOnly
    }

    /// What an expired or unknown session gets before the connection closes: timeout 0, session
    /// 0 and 16 zero bytes of password.
    public static func refused(readOnly: Bool?) -> ZooKeeperConnectResponse {
        ZooKeeperConnectResponse(timeoutMillis: 0, sessionID: 0, password: [UInt8](repeating: 0, count: 16), readOnly: readOnly.map { _ in false })
    }

    public var encoded: [UInt8] {
        var writer = JuteWriter()
        writer.writeInt(protocolVersion)
        writer.writeInt(timeoutMillis)
        writer.writeLong(sessionID)
        writer.writeBuffer(password)
        if let readOnly { writer.writeBool(readOnly) }
        return writer.bytes
    }

    public init(decoding payload: [UInt8]) throws(JuteError) {
        var reader = JuteReader(payload)
        protocolVersion = try reader.readInt("connectResponse.protocolVersion")
        timeoutMillis = try reader.readInt("connectResponse.timeOut")
        sessionID = try reader.readLong("connectResponse.sessionId")
        password = try reader.readBuffer("connectResponse.passwd") ?? []
        readOnly = reader.isAtEnd ? nil : try reader.readBool("connectResponse.readOnly")
        try reader.expectEnd()
    }
}
