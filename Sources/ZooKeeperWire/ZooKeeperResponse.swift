/// A reply body, by operation (zookeeper.jute's `*Response` records). It follows a reply header
/// whose error is 0; an error reply is the header alone.
public enum ZooKeeperResponse: Equatable, Sendable {
    /// create (the path made, with its sequence suffix if any).
    case created(path: String)
    /// create2, createContainer, createTTL.
    case createdWithStat(path: String, stat: ZooKeeperStat)
    /// delete, check, sync's absence of a body aside, setWatches, checkWatches, removeWatches,
    /// closeSession, ping, auth.
    case empty
    case stat(ZooKeeperStat)
    /// getData: the node's data (nil when it was set null) and Stat.
    case data([UInt8]?, stat: ZooKeeperStat)
    case acl([ZooKeeperACL], stat: ZooKeeperStat)
    case children([String])
    case childrenWithStat([String], stat: ZooKeeperStat)
    case path(String)
    case multi([MultiResult])
    case paths([String])
    case number(Int32)
    case clientInfo([ClientInfo])

    /// One operation's result inside a multi's reply.
    public enum MultiResult: Equatable, Sendable {
        case success(operation: ZooKeeperOperation, ZooKeeperResponse)
        /// The op failed (its code), or was not run because an earlier one failed (-2,
        /// RUNTIMEINCONSISTENCY), or ran before the failure and was rolled back (0).
        case error(Int32)
    }

    public struct ClientInfo: Equatable, Sendable {
        public var authScheme: String
        public var user: String

        public init(authScheme: String, user: String) {
            self.authScheme = authScheme
            self.user = user
        }
    }

    public var encoded: [UInt8] {
        var writer = JuteWriter()
        write(to: &writer)
        return writer.bytes
    }

    public func write(to writer: inout JuteWriter) {
        switch self {
        case .created(let path), .path(let path):
            writer.writeString(path)
        case .createdWithStat(let path, let stat):
            writer.writeString(path)
            stat.write(to: &writer)
        case .empty:
            break
        case .stat(let stat):
            stat.write(to: &writer)
        case .data(let data, let stat):
            writer.writeBuffer(data)
            stat.write(to: &writer)
        case .acl(let acl, let stat):
            ZooKeeperACL.writeList(acl, to: &writer)
            stat.write(to: &writer)
        case .children(let names), .paths(let names):
            writer.writeStrings(names)
        case .childrenWithStat(let names, let stat):
            writer.writeStrings(names)
            stat.write(to: &writer)
        case .number(let value):
            writer.writeInt(value)
        case .clientInfo(let infos):
            writer.writeVector(infos) { writer, info in
                writer.writeString(info.authScheme)
                writer.writeString(info.user)
            }
        case .multi(let results):
            for result in results {
                switch result {
                case .success(let operation, let response):
                    MultiHeader.write(type: operation.rawValue, done: false, error: 0, to: &writer)
                    response.write(to: &writer)
                case .error(let code):
                    MultiHeader.write(type: ZooKeeperOperation.error.rawValue, done: false, error: code, to: &writer)
                    writer.writeInt(code)  // The ErrorResponse that follows an error's header.
                }
            }
            MultiHeader.writeEnd(to: &writer)
        }
    }

    /// Decodes the body of a successful reply to `operation` (a client's side of the codec).
    public static func decode(for operation: ZooKeeperOperation, from reader: inout JuteReader) throws(JuteError) -> ZooKeeperResponse {
        let response = try decodeBody(for: operation, from: &reader)
        try reader.expectEnd()
        return response
    }

    static func decodeBody(for operation: ZooKeeperOperation, from reader: inout JuteReader) throws(JuteError) -> ZooKeeperResponse {
        switch operation {
        case .create: return .created(path: try reader.readText("create.path"))
        case .create2, .createContainer, .createTTL:
            return .createdWithStat(path: try reader.readText("create2.path"), stat: try ZooKeeperStat(from: &reader))
        case .delete, .deleteContainer, .check, .ping, .closeSession, .auth, .setWatches, .setWatches2, .checkWatches, .removeWatches,
             .notification, .reconfig, .sasl, .createSession, .error:
            return .empty
        case .exists, .setData, .setACL: return .stat(try ZooKeeperStat(from: &reader))
        case .getData: return .data(try reader.readBuffer("getData.data"), stat: try ZooKeeperStat(from: &reader))
        case .getACL: return .acl(try ZooKeeperACL.readList(&reader), stat: try ZooKeeperStat(from: &reader))
        case .getChildren: return .children(try reader.readStrings("getChildren.children"))
        case .getChildren2: return .childrenWithStat(try reader.readStrings("getChildren2.children"), stat: try ZooKeeperStat(from: &reader))
        case .sync: return .path(try reader.readText("sync.path"))
        case .getEphemerals: return .paths(try reader.readStrings("getEphemerals.ephemerals"))
        case .getAllChildrenNumber, .addWatch: return .number(try reader.readInt("number"))
        case .whoAmI:
            let infos = try reader.readVector("whoAmI.clientInfo", elementBytesMin: 8) { (reader: inout JuteReader) throws(JuteError) in
                ClientInfo(authScheme: try reader.readText("clientInfo.authScheme"), user: try reader.readText("clientInfo.user"))
            }
            return .clientInfo(infos ?? [])
        case .multi, .multiRead:
            var results: [MultiResult] = []
            while true {
                let type = try reader.readInt("multi.type")
                let done = try reader.readBool("multi.done")
                let error = try reader.readInt("multi.err")
                if done { return .multi(results) }
                guard results.count < ZooKeeperRequest.multiOperationsMax else {
                    throw .lengthOverLimit(field: "multi", results.count + 1, limit: ZooKeeperRequest.multiOperationsMax)
                }
                if type == ZooKeeperOperation.error.rawValue {
                    _ = try reader.readInt("multi.errorResponse.err")
                    results.append(.error(error))
                    continue
                }
                guard let operation = ZooKeeperOperation(rawValue: type), operation != .multi, operation != .multiRead else {
                    throw .operationNotAllowedInMulti(type)
                }
                results.append(.success(operation: operation, try decodeBody(for: operation, from: &reader)))
            }
        }
    }
}
