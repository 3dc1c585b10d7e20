import ConsensusCore

/// One record of the write-ahead log.
public enum WALRecord: Sendable, Equatable {
    /// Starts every segment: the checksum the previous segment ended with, so segments chain too.
    case segmentHeader(previousChecksum: UInt32, segmentNumber: UInt64)
    case entry(Entry)
    /// The engine's hard state in its own encoding (`DurableCoding`); the newest one wins.
    case hardState([UInt8])
    /// A snapshot through `index` (of `term`) is durable; entries at or below it may be dropped.
    case snapshotMarker(index: LogIndex, term: Term)
    /// Every entry after `index` is void: a follower's log that an installed snapshot replaced.
    case truncate(after: LogIndex)
    /// An entry at its own index, replacing only that index (`PersistRequest.slots`): holes allowed.
    case slot(Entry)

    /// Type tags on disk. Zero is reserved: a preallocated segment is zero-filled, and a zero tag
    /// marks where the written part ends.
    enum Tag: UInt8 {
        case segmentHeader = 1
        case entry = 2
        case hardState = 3
        case snapshotMarker = 4
        case truncate = 5
        case slot = 6
    }

    var tag: Tag {
        switch self {
        case .segmentHeader: return .segmentHeader
        case .entry: return .entry
        case .hardState: return .hardState
        case .snapshotMarker: return .snapshotMarker
        case .truncate: return .truncate
        case .slot: return .slot
        }
    }

    var payload: [UInt8] {
        var bytes: [UInt8] = []
        writePayload(to: &bytes)
        return bytes
    }

    /// Appends the payload to `bytes` in place: the log's hot path writes records straight into the
    /// buffer it hands to the disk.
    func writePayload(to bytes: inout [UInt8]) {
        switch self {
        case .segmentHeader(let previous, let number):
            bytes.appendLittleEndian(previous)
            bytes.appendLittleEndian(number)
        case .entry(let entry), .slot(let entry):
            bytes.appendLittleEndian(entry.index)
            bytes.appendLittleEndian(entry.term)
            bytes.append(entry.kind.rawValue)
            bytes.append(contentsOf: entry.data)
        case .hardState(let hardState):
            bytes.append(contentsOf: hardState)
        case .snapshotMarker(let index, let term):
            bytes.appendLittleEndian(index)
            bytes.appendLittleEndian(term)
        case .truncate(let index):
            bytes.appendLittleEndian(index)
        }
    }

    /// Decodes a payload whose checksum already matched, or returns why it is malformed.
    static func decode(tag: Tag, payload: [UInt8]) -> Result<WALRecord, WALCorruption.Reason> {
        var reader = ByteReader(payload)
        let record: WALRecord?
        switch tag {
        case .segmentHeader:
            record = reader.readUInt32().flatMap { previous in reader.readUInt64().map { .segmentHeader(previousChecksum: previous, segmentNumber: $0) } }
        case .entry, .slot:
            guard let index = reader.readUInt64(), let term = reader.readUInt64(), let rawKind = reader.readByte() else {
                return .failure(.malformedPayload("entry shorter than its header"))
            }
            guard let kind = EntryKind(rawValue: rawKind) else { return .failure(.malformedPayload("unknown entry kind \(rawKind)")) }
            guard index > 0 else { return .failure(.malformedPayload("entry index 0")) }
            let entry = Entry(index: index, term: term, kind: kind, data: reader.readRest())
            return .success(tag == .slot ? .slot(entry) : .entry(entry))
        case .hardState:
            return .success(.hardState(reader.readRest()))
        case .truncate:
            record = reader.readUInt64().map { .truncate(after: $0) }
        case .snapshotMarker:
            record = reader.readUInt64().flatMap { index in reader.readUInt64().map { .snapshotMarker(index: index, term: $0) } }
        }
        guard let record, reader.remaining == 0 else { return .failure(.malformedPayload("\(tag) payload of \(payload.count) bytes")) }
        return .success(record)
    }
}

/// Where and why the log stopped making sense.
public struct WALCorruption: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Reason: Error, Sendable, Equatable {
        case checksumMismatch(expected: UInt32, found: UInt32)
        case unknownTag(UInt8)
        case lengthOverLimit(UInt32)
        case malformedPayload(String)
    }

    public var offset: Int
    public var reason: Reason

    public var description: String { "corrupt record at offset \(offset): \(reason)" }
}
