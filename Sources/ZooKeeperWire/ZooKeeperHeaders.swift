/// What precedes every request and every reply, and the watch event a server pushes.

public struct ZooKeeperRequestHeader: Equatable, Sendable {
    /// The client's sequence number for the request; replies come back in xid order. Negative
    /// values are reserved (`ZooKeeperXid`).
    public var xid: Int32
    /// The operation code (`ZooKeeperOperation`), kept raw so that an unknown one can be answered
    /// with UNIMPLEMENTED under the right xid.
    public var operation: Int32

    public init(xid: Int32, operation: Int32) {
        self.xid = xid
        self.operation = operation
    }

    public init(from reader: inout JuteReader) throws(JuteError) {
        xid = try reader.readInt("header.xid")
        operation = try reader.readInt("header.type")
    }

    public func write(to writer: inout JuteWriter) {
        writer.writeInt(xid)
        writer.writeInt(operation)
    }
}

public struct ZooKeeperReplyHeader: Equatable, Sendable {
    public var xid: Int32
    /// The zxid the server had applied when it answered (the write's own zxid for a write).
    public var zxid: Int64
    /// 0, or a `ZooKeeperErrorCode`; an error reply is this header alone.
    public var error: Int32

    public init(xid: Int32, zxid: Int64, error: Int32) {
        self.xid = xid
        self.zxid = zxid
        self.error = error
    }

    public init(from reader: inout JuteReader) throws(JuteError) {
        xid = try reader.readInt("reply.xid")
        zxid = try reader.readLong("reply.zxid")
        error = try reader.readInt("reply.err")
    }

    public func write(to writer: inout JuteWriter) {
        writer.writeInt(xid)
        writer.writeLong(zxid)
        writer.writeInt(error)
    }
}

/// A watch firing, sent under xid -1 (`ZooKeeperXid.notification`).
public struct ZooKeeperWatcherEvent: Equatable, Sendable {
    public enum EventType: Int32, Sendable {
        case none = -1
        case nodeCreated = 1
        case nodeDeleted = 2
        case nodeDataChanged = 3
        case nodeChildrenChanged = 4
        case dataWatchRemoved = 5
        case childWatchRemoved = 6
        case persistentWatchRemoved = 7
    }

    /// `Watcher.Event.KeeperState.SyncConnected`: the state every event on a live session carries.
    public static let syncConnected: Int32 = 3

    public var type: Int32
    public var state: Int32
    public var path: String

    public init(type: EventType, state: Int32 = syncConnected, path: String) {
        self.type = type.rawValue
        self.state = state
        self.path = path
    }

    public init(from reader: inout JuteReader) throws(JuteError) {
        type = try reader.readInt("event.type")
        state = try reader.readInt("event.state")
        path = try reader.readText("event.path")
    }

    public func write(to writer: inout JuteWriter) {
        writer.writeInt(type)
        writer.writeInt(state)
        writer.writeString(path)
    }
}

/// What precedes each operation of a multi, and its results (zookeeper.jute's `MultiHeader`); a
/// header with `done` set, type and error -1, ends the list.
enum MultiHeader {
    static func write(type: Int32, done: Bool, error: Int32, to writer: inout JuteWriter) {
        writer.writeInt(type)
        writer.writeBool(done)
        writer.writeInt(error)
    }

    static func writeEnd(to writer: inout JuteWriter) { write(type: -1, done: true, error: -1, to: &writer) }
}
