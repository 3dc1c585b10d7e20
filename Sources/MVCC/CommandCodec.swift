/// Why bytes are not a command.
public enum CommandDecodingError: Error, Equatable, Sendable {
    case empty
    /// The first byte names a format this build does not read.
    case unsupportedFormatVersion(UInt8)
    case malformed(WireFormatError)
    /// Txns nested deeper than `CommandCodec.txnNestingLevelsMax`.
    case nestingTooDeep(limit: Int)
    /// Bytes left over after a complete command.
    case trailingBytes(count: Int)
}

/// The log's encoding of `Command`, version 1:
///
///     command     = formatVersion:u8 tag:u8 body
///     put         = bytes(key) bytes(value) svarint(lease) flags:u8(previousKV, ignoreValue, ignoreLease)
///     deleteRange = bytes(key) bytes(rangeEnd) bool(previousKV)
///     txn         = count compare* count op* count op*          (compare, success, failure)
///     compare     = bytes(key) bytes(rangeEnd) result:u8 targetTag:u8 (bytes | svarint)
///     op          = tag:u8 (range | put | deleteRange | txn)
///     range       = bytes(key) bytes(rangeEnd) svarint(limit) svarint(revision) order:u8 target:u8
///                   flags:u8(keysOnly, countOnly) svarint(min mod) svarint(max mod)
///                   svarint(min create) svarint(max create)
///     compact     = svarint(revision);  leaseGrant = svarint(id) svarint(ttl);  leaseRevoke = svarint(id)
///     alarm       = action:u8 varint(memberID) kind:u8
///     memberAttributes = varint(id) bytes(name) count bytes(peerURL)* count bytes(clientURL)*
///
/// `bytes` is a varint length and the bytes; `count` a varint; `svarint` a zig-zag varint. Unused
/// flag bits and unknown tags are errors, so every accepted input re-encodes to itself.
package enum CommandCodec {
    static let formatVersion: UInt8 = 1

    /// The deepest txn nesting a valid command can have: each level's operations use up at least one
    /// of `txnOperationsMax` (see `MVCCStore.checkTxn`), so deeper input is refused while decoding,
    /// before it can exhaust the stack.
    package static let txnNestingLevelsMax = MVCCStore.txnOperationsMax + 1

    enum CommandTag: UInt8, CaseIterable {
        case put, deleteRange, txn, compact, leaseGrant, leaseRevoke, alarm, memberAttributes
    }

    enum OperationTag: UInt8, CaseIterable {
        case range, put, deleteRange, txn
    }

    enum CompareTargetTag: UInt8, CaseIterable {
        case value, version, createRevision, modRevision, lease
    }

    static let compareResults: [Compare.Result] = [.equal, .greater, .less, .notEqual]
    static let sortOrders: [SortOrder] = [.none, .ascend, .descend]
    static let sortTargets: [SortTarget] = [.key, .version, .create, .mod, .value]
}

extension Command {
    /// The command in the log's binary format (`CommandCodec`).
    public var encoded: [UInt8] {
        var writer = WireWriter(reservingCapacity: 32)
        writer.writeByte(CommandCodec.formatVersion)
        switch self {
        case .put(let put):
            writer.writeByte(CommandCodec.CommandTag.put.rawValue)
            writer.write(put)
        case .deleteRange(let delete):
            writer.writeByte(CommandCodec.CommandTag.deleteRange.rawValue)
            writer.write(delete)
        case .txn(let txn):
            writer.writeByte(CommandCodec.CommandTag.txn.rawValue)
            writer.write(txn)
        case .compact(let revision):
            writer.writeByte(CommandCodec.CommandTag.compact.rawValue)
            writer.writeSigned(revision)
        case .leaseGrant(let id, let ttlSeconds):
            writer.writeByte(CommandCodec.CommandTag.leaseGrant.rawValue)
            writer.writeSigned(id)
            writer.writeSigned(ttlSeconds)
        case .leaseRevoke(let id):
            writer.writeByte(CommandCodec.CommandTag.leaseRevoke.rawValue)
            writer.writeSigned(id)
        case .alarm(let action, let alarm):
            writer.writeByte(CommandCodec.CommandTag.alarm.rawValue)
            writer.writeByte(WireWriter.index(of: action, in: AlarmAction.allCases))
            writer.writeUnsigned(alarm.memberID)
            writer.writeByte(WireWriter.index(of: alarm.kind, in: Alarm.Kind.allCases))
        case .memberAttributes(let attributes):
            writer.writeByte(CommandCodec.CommandTag.memberAttributes.rawValue)
            writer.writeMemberAttributes(attributes)
        }
        return writer.bytes
    }

    /// Decodes `encoded`. Never traps: any other input gets a `CommandDecodingError`.
    public init(decoding bytes: [UInt8]) throws(CommandDecodingError) {
        guard let version = bytes.first else { throw .empty }
        guard version == CommandCodec.formatVersion else { throw .unsupportedFormatVersion(version) }
        var reader = WireReader(bytes)
        do {
            _ = try reader.readByte()
            self = try reader.readCommand()
        } catch let error as CommandDecodingError {
            throw error
        } catch let error as WireFormatError {
            throw .malformed(error)
        } catch {
            preconditionFailure("Command(decoding:): unexpected error \(error)")
        }
        guard reader.isAtEnd else { throw .trailingBytes(count: reader.remaining) }
    }
}

extension WireWriter {
    mutating func write(_ put: PutRequest) {
        writeBytes(put.key)
        writeBytes(put.value)
        writeSigned(put.lease)
        writeByte(Self.flags(put.previousKV, put.ignoreValue, put.ignoreLease))
    }

    mutating func write(_ delete: DeleteRangeRequest) {
        writeBytes(delete.key)
        writeBytes(delete.rangeEnd)
        writeBool(delete.previousKV)
    }

    mutating func write(_ range: RangeRequest) {
        writeBytes(range.key)
        writeBytes(range.rangeEnd)
        writeSigned(range.limit)
        writeSigned(range.revision)
        writeByte(Self.index(of: range.sortOrder, in: CommandCodec.sortOrders))
        writeByte(Self.index(of: range.sortTarget, in: CommandCodec.sortTargets))
        writeByte(Self.flags(range.keysOnly, range.countOnly))
        writeSigned(range.minModRevision)
        writeSigned(range.maxModRevision)
        writeSigned(range.minCreateRevision)
        writeSigned(range.maxCreateRevision)
    }

    mutating func write(_ txn: TxnRequest) {
        writeCount(txn.compare.count)
        for compare in txn.compare { write(compare) }
        for branch in [txn.success, txn.failure] {
            writeCount(branch.count)
            for operation in branch { write(operation) }
        }
    }

    mutating func write(_ compare: Compare) {
        writeBytes(compare.key)
        writeBytes(compare.rangeEnd)
        writeByte(Self.index(of: compare.result, in: CommandCodec.compareResults))
        switch compare.target {
        case .value(let value):
            writeByte(CommandCodec.CompareTargetTag.value.rawValue)
            writeBytes(value)
        case .version(let version):
            writeByte(CommandCodec.CompareTargetTag.version.rawValue)
            writeSigned(version)
        case .createRevision(let revision):
            writeByte(CommandCodec.CompareTargetTag.createRevision.rawValue)
            writeSigned(revision)
        case .modRevision(let revision):
            writeByte(CommandCodec.CompareTargetTag.modRevision.rawValue)
            writeSigned(revision)
        case .lease(let lease):
            writeByte(CommandCodec.CompareTargetTag.lease.rawValue)
            writeSigned(lease)
        }
    }

    mutating func write(_ operation: RequestOp) {
        switch operation {
        case .range(let range):
            writeByte(CommandCodec.OperationTag.range.rawValue)
            write(range)
        case .put(let put):
            writeByte(CommandCodec.OperationTag.put.rawValue)
            write(put)
        case .deleteRange(let delete):
            writeByte(CommandCodec.OperationTag.deleteRange.rawValue)
            write(delete)
        case .txn(let txn):
            writeByte(CommandCodec.OperationTag.txn.rawValue)
            write(txn)
        }
    }

    static func flags(_ bits: Bool...) -> UInt8 {
        var flags: UInt8 = 0
        for (position, bit) in bits.enumerated() where bit { flags |= 1 << UInt8(position) }
        return flags
    }

    static func index<Case: Equatable>(of value: Case, in cases: [Case]) -> UInt8 {
        guard let index = cases.firstIndex(of: value) else {
            preconditionFailure("CommandCodec: \(value) missing from its case table")
        }
        return UInt8(index)
    }
}

extension WireReader {
    mutating func readCommand() throws -> Command {
        let tag = try readTag(caseCount: UInt8(CommandCodec.CommandTag.allCases.count))
        switch CommandCodec.CommandTag(rawValue: tag)! {
        case .put: return .put(try readPut())
        case .deleteRange: return .deleteRange(try readDeleteRange())
        case .txn: return .txn(try readTxn(nestingLevel: 1))
        case .compact: return .compact(revision: try readSigned())
        case .leaseGrant: return .leaseGrant(id: try readSigned(), ttlSeconds: try readSigned())
        case .leaseRevoke: return .leaseRevoke(id: try readSigned())
        case .alarm:
            let action = AlarmAction.allCases[Int(try readTag(caseCount: UInt8(AlarmAction.allCases.count)))]
            let memberID = try readUnsigned()
            let kind = Alarm.Kind.allCases[Int(try readTag(caseCount: UInt8(Alarm.Kind.allCases.count)))]
            return .alarm(action, Alarm(memberID: memberID, kind: kind))
        case .memberAttributes:
            return .memberAttributes(try readMemberAttributes())
        }
    }

    mutating func readPut() throws(WireFormatError) -> PutRequest {
        let key = try readBytes()
        let value = try readBytes()
        let lease = try readSigned()
        let flags = try readFlags(flagCount: 3)
        return PutRequest(
            key: key, value: value, lease: lease, previousKV: flags & 1 != 0, ignoreValue: flags & 2 != 0,
            ignoreLease: flags & 4 != 0)
    }

    mutating func readDeleteRange() throws(WireFormatError) -> DeleteRangeRequest {
        DeleteRangeRequest(key: try readBytes(), rangeEnd: try readBytes(), previousKV: try readBool())
    }

    mutating func readRange() throws(WireFormatError) -> RangeRequest {
        let key = try readBytes()
        let rangeEnd = try readBytes()
        let limit = try readSigned()
        let revision = try readSigned()
        let sortOrder = CommandCodec.sortOrders[Int(try readTag(caseCount: UInt8(CommandCodec.sortOrders.count)))]
        let sortTarget = CommandCodec.sortTargets[Int(try readTag(caseCount: UInt8(CommandCodec.sortTargets.count)))]
        let flags = try readFlags(flagCount: 2)
        return RangeRequest(
            key: key, rangeEnd: rangeEnd, limit: limit, revision: revision, sortOrder: sortOrder,
            sortTarget: sortTarget, keysOnly: flags & 1 != 0, countOnly: flags & 2 != 0,
            minModRevision: try readSigned(), maxModRevision: try readSigned(),
            minCreateRevision: try readSigned(), maxCreateRevision: try readSigned())
    }

    mutating func readTxn(nestingLevel: Int) throws -> TxnRequest {
        guard nestingLevel <= CommandCodec.txnNestingLevelsMax else {
            throw CommandDecodingError.nestingTooDeep(limit: CommandCodec.txnNestingLevelsMax)
        }
        var compares: [Compare] = []
        for _ in 0..<(try readCount()) { compares.append(try readCompare()) }
        var branches: [[RequestOp]] = []
        for _ in 0..<2 {
            var operations: [RequestOp] = []
            for _ in 0..<(try readCount()) { operations.append(try readOperation(nestingLevel: nestingLevel)) }
            branches.append(operations)
        }
        return TxnRequest(compare: compares, success: branches[0], failure: branches[1])
    }

    mutating func readCompare() throws(WireFormatError) -> Compare {
        let key = try readBytes()
        let rangeEnd = try readBytes()
        let result = CommandCodec.compareResults[Int(try readTag(caseCount: UInt8(CommandCodec.compareResults.count)))]
        let targetTag = try readTag(caseCount: UInt8(CommandCodec.CompareTargetTag.allCases.count))
        let target: Compare.Target
        switch CommandCodec.CompareTargetTag(rawValue: targetTag)! {
        case .value: target = .value(try readBytes())
        case .version: target = .version(try readSigned())
        case .createRevision: target = .createRevision(try readSigned())
        case .modRevision: target = .modRevision(try readSigned())
        case .lease: target = .lease(try readSigned())
        }
        return Compare(key: key, rangeEnd: rangeEnd, result: result, target: target)
    }

    mutating func readOperation(nestingLevel: Int) throws -> RequestOp {
        let tag = try readTag(caseCount: UInt8(CommandCodec.OperationTag.allCases.count))
        switch CommandCodec.OperationTag(rawValue: tag)! {
        case .range: return .range(try readRange())
        case .put: return .put(try readPut())
        case .deleteRange: return .deleteRange(try readDeleteRange())
        case .txn: return .txn(try readTxn(nestingLevel: nestingLevel + 1))
        }
    }
}
