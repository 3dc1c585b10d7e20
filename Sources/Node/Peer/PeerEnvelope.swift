import ConsensusCore

/// What one node says to another. Engine messages travel as `engine`; `hello` opens every
/// connection, so a node from another cluster is turned away, and tells the peer where this node
/// serves clients; `request`/`response` carry the
/// node-level calls a follower makes of the leader (lease keep-alives and time-to-live queries),
/// opaque to the transport.
public enum PeerEnvelope<Message: WireCodable>: WireCodable {
    case hello(clusterID: UInt64, from: NodeID, clientURLs: [String])
    case engine(Message)
    case request(id: UInt64, from: NodeID, payload: [UInt8])
    case response(id: UInt64, payload: [UInt8])

    static var clientURLsMax: Int { 16 }

    /// Bound of one request or response payload.
    static var callBytesMax: Int { 1 << 20 }

    public func encode(to writer: inout ByteWriter) {
        switch self {
        case .hello(let cluster, let from, let urls):
            HelloFrame.encode(clusterID: cluster, from: from, clientURLs: urls, to: &writer)
        case .engine(let message):
            writer.write(UInt8(2))
            message.encode(to: &writer)
        case .request(let id, let from, let payload):
            writer.write(UInt8(3))
            writer.write(id)
            writer.write(from.rawValue)
            writer.writeBytes(payload)
        case .response(let id, let payload):
            writer.write(UInt8(4))
            writer.write(id)
            writer.writeBytes(payload)
        }
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        let tag = try reader.require(reader.readByte(), "envelope tag")
        switch tag {
        case 1:
            let cluster = try reader.require(reader.readUInt64(), "cluster id")
            let from = try reader.nodeID("sender")
            let count = Int(try reader.require(reader.readUInt32(), "url count"))
            guard count <= Self.clientURLsMax else { throw WireDecodingError("\(count) client URLs") }
            var urls: [String] = []
            for _ in 0..<count {
                urls.append(String(decoding: try reader.require(reader.readBytes(maxCount: WireBounds.textBytesMax), "client URL"), as: UTF8.self))
            }
            self = .hello(clusterID: cluster, from: from, clientURLs: urls)
        case 2: self = .engine(try Message(from: &reader))
        case 3:
            let id = try reader.require(reader.readUInt64(), "call id")
            let from = try reader.nodeID("caller")
            self = .request(id: id, from: from, payload: try reader.require(reader.readBytes(maxCount: Self.callBytesMax), "request"))
        case 4:
            let id = try reader.require(reader.readUInt64(), "call id")
            self = .response(id: id, payload: try reader.require(reader.readBytes(maxCount: Self.callBytesMax), "response"))
        default: throw WireDecodingError("unknown envelope tag \(tag)")
        }
    }
}

/// A hello's bytes, which do not depend on the engine's message type, so the untyped outbound
/// link can build its own.
enum HelloFrame {
    static func encode(clusterID: UInt64, from: NodeID, clientURLs: [String], to writer: inout ByteWriter) {
        writer.write(UInt8(1))
        writer.write(clusterID)
        writer.write(from.rawValue)
        writer.write(UInt32(clientURLs.count))
        for url in clientURLs { writer.writeBytes(Array(url.utf8)) }
    }

    static func bytes(clusterID: UInt64, from: NodeID, clientURLs: [String]) -> [UInt8] {
        var writer = ByteWriter()
        encode(clusterID: clusterID, from: from, clientURLs: clientURLs, to: &writer)
        return writer.bytes
    }
}
