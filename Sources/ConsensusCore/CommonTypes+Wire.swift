/// The wire forms of the types every engine's messages share: entries, snapshot metadata and the
/// reasons a request is refused. An engine's own messages are coded in its wire module.

extension Entry: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(index)
        writer.write(term)
        writer.write(kind.rawValue)
        writer.writeBytes(data)
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        let index = try reader.require(reader.readUInt64(), "entry index")
        let term = try reader.require(reader.readUInt64(), "entry term")
        let rawKind = try reader.require(reader.readByte(), "entry kind")
        guard let kind = EntryKind(rawValue: rawKind) else { throw WireDecodingError("unknown entry kind \(rawKind)") }
        let data = try reader.require(reader.readBytes(maxCount: WireBounds.entryBytesMax), "entry data")
        self.init(index: index, term: term, kind: kind, data: data)
    }
}

extension SnapshotMetadata: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        writer.write(index)
        writer.write(term)
        writer.writeBytes(ConfigurationEntry(membership: membership, requestID: nil, origin: nil).encoded)
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        let index = try reader.require(reader.readUInt64(), "snapshot index")
        let term = try reader.require(reader.readUInt64(), "snapshot term")
        let membershipBytes = try reader.require(reader.readBytes(maxCount: WireBounds.entryBytesMax), "membership")
        guard let configuration = ConfigurationEntry(decoding: membershipBytes) else { throw WireDecodingError("undecodable membership") }
        self.init(index: index, term: term, membership: configuration.membership)
    }
}

extension RequestRejection: WireCodable {
    public func encode(to writer: inout ByteWriter) {
        func node(_ id: NodeID?) { writer.write(id?.rawValue ?? 0) }
        switch self {
        case .notLeader(let leader): writer.write(UInt8(1)); node(leader)
        case .noLeader: writer.write(UInt8(2))
        case .proposalTooLarge(let bytes, let limit): writer.write(UInt8(3)); writer.write(UInt64(truncatingIfNeeded: bytes)); writer.write(UInt64(truncatingIfNeeded: limit))
        case .uncommittedLogFull(let limit): writer.write(UInt8(4)); writer.write(UInt64(truncatingIfNeeded: limit))
        case .tooManyPendingRequests(let limit): writer.write(UInt8(5)); writer.write(UInt64(truncatingIfNeeded: limit))
        case .leaderChanged: writer.write(UInt8(6))
        case .timedOut: writer.write(UInt8(7))
        case .membershipChangeInProgress: writer.write(UInt8(8))
        case .learnerNotCaughtUp(let learner, let match, let last): writer.write(UInt8(9)); node(learner); writer.write(match); writer.write(last)
        case .invalidMembershipChange(let reason): writer.write(UInt8(10)); writer.writeBytes(Array(reason.utf8.prefix(WireBounds.textBytesMax)))
        case .leadershipTransferInProgress(let target): writer.write(UInt8(11)); node(target)
        case .transferTargetNotVoter(let target): writer.write(UInt8(12)); node(target)
        case .notMember(let member): writer.write(UInt8(13)); node(member)
        case .notEnoughActiveMembers(let active, let needed): writer.write(UInt8(14)); writer.write(UInt64(truncatingIfNeeded: active)); writer.write(UInt64(truncatingIfNeeded: needed))
        case .invalidProposal(let reason): writer.write(UInt8(15)); writer.writeBytes(Array(reason.utf8.prefix(WireBounds.textBytesMax)))
        case .engineSpecific(let rejection):
            writer.write(UInt8(16))
            writer.writeBytes(Array(rejection.engine.utf8.prefix(WireBounds.textBytesMax)))
            writer.write(UInt32(rejection.code))
            writer.writeBytes(Array(rejection.message.utf8.prefix(WireBounds.textBytesMax)))
        }
    }

    public init(from reader: inout ByteReader) throws(WireDecodingError) {
        func count() throws(WireDecodingError) -> Int {
            let value = try reader.require(reader.readUInt64(), "count")
            guard value <= UInt64(Int.max) else { throw WireDecodingError("count \(value)") }
            return Int(value)
        }
        func optionalNode() throws(WireDecodingError) -> NodeID? {
            let raw = try reader.require(reader.readUInt64(), "node")
            return raw == 0 ? nil : NodeID(raw)
        }
        func text(_ what: String) throws(WireDecodingError) -> String {
            String(decoding: try reader.require(reader.readBytes(maxCount: WireBounds.textBytesMax), what), as: UTF8.self)
        }
        let code = try reader.require(reader.readByte(), "rejection code")
        switch code {
        case 1: self = .notLeader(leader: try optionalNode())
        case 2: self = .noLeader
        case 3: self = .proposalTooLarge(bytes: try count(), limitBytes: try count())
        case 4: self = .uncommittedLogFull(limitBytes: try count())
        case 5: self = .tooManyPendingRequests(limit: try count())
        case 6: self = .leaderChanged
        case 7: self = .timedOut
        case 8: self = .membershipChangeInProgress
        case 9: self = .learnerNotCaughtUp(try reader.nodeID("learner"), matchIndex: try reader.require(reader.readUInt64(), "match"), leaderLastIndex: try reader.require(reader.readUInt64(), "last"))
        case 10: self = .invalidMembershipChange(try text("reason"))
        case 11: self = .leadershipTransferInProgress(to: try reader.nodeID("target"))
        case 12: self = .transferTargetNotVoter(try reader.nodeID("target"))
        case 13: self = .notMember(try reader.nodeID("member"))
        case 14: self = .notEnoughActiveMembers(active: try count(), needed: try count())
        case 15: self = .invalidProposal(try text("reason"))
        case 16:
            let engine = try text("engine")
            let code = try reader.require(reader.readUInt32(), "code")
            guard code <= UInt32(UInt16.max) else { throw WireDecodingError("rejection code \(code)") }
            self = .engineSpecific(EngineRejection(engine: engine, code: UInt16(code), message: try text("message")))
        default: throw WireDecodingError("unknown rejection code \(code)")
        }
    }
}
