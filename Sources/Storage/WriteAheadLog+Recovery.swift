import ConsensusCore

extension WriteAheadLog {
    /// Reads every segment in order and rebuilds the log's state, verifying every checksum.
    ///
    /// - A record that stops early, or fails its checks with only zeros after it, at the end of the
    ///   last segment is a torn write: it was never acknowledged, so it is cut off and reported.
    /// - Any other bad record stops recovery with an error naming the file and offset: the log
    ///   never skips past data that may have been acknowledged.
    func recover() throws(StorageError) -> Recovered {
        let names = try directory.list()
            .filter { $0.hasPrefix(Self.segmentPrefix) && $0.hasSuffix(Self.segmentSuffix) }
            .sorted()
        var recovered = Recovered()
        var previousSegmentChecksum: UInt32?
        for (position, name) in names.enumerated() {
            let number = UInt64(name.dropFirst(Self.segmentPrefix.count).dropLast(Self.segmentSuffix.count)) ?? 0
            if let last = segments.last, number != last.number + 1 {
                throw .missingSegment(expected: last.number + 1, found: number)
            }
            let segmentFile = try directory.open(name, create: false)
            let bytes = try segmentFile.read(at: 0, count: try segmentFile.size())
            let isLast = position == names.count - 1
            segments.append(Segment(number: number, name: name, lastEntryIndex: 0))
            var offset = 0
            var chain: UInt32 = 0
            reading: while true {
                let decoded = WALFrame.decode(bytes, at: offset, previousChecksum: chain)
                switch decoded {
                case .record(let record, let next, let recordChecksum):
                    if offset == 0 {
                        guard case .segmentHeader(let previous, let headerNumber) = record, headerNumber == number else {
                            throw .corruptRecord(file: name, offset: 0, reason: .malformedPayload("segment does not start with its own header"))
                        }
                        if let expected = previousSegmentChecksum, previous != expected {
                            throw .corruptRecord(file: name, offset: 0, reason: .checksumMismatch(expected: expected, found: previous))
                        }
                    }
                    try apply(record, to: &recovered, file: name, offset: offset)
                    offset = next
                    chain = recordChecksum
                case .end:
                    break reading
                case .incomplete, .corrupt:
                    let tornAtTail = isLast && offset > 0 && Self.onlyZeros(bytes, after: offset, decoded: decoded)
                    guard tornAtTail else {
                        if case .corrupt(let corruption) = decoded {
                            throw .corruptRecord(file: name, offset: corruption.offset, reason: corruption.reason)
                        }
                        throw .corruptRecord(file: name, offset: offset, reason: .malformedPayload("record cut short before the last segment"))
                    }
                    // Zero the torn bytes (cheaply: shrink, then grow back), so appends start clean.
                    try segmentFile.truncate(to: offset)
                    try segmentFile.truncate(to: max(segmentBytesMax, offset))
                    try segmentFile.sync()
                    recovered.tornTailValue = .init(file: name, offset: offset)
                    break reading
                }
            }
            previousSegmentChecksum = chain
            if isLast {
                file = segmentFile
                writeOffset = offset
                checksum = chain
            } else {
                segmentFile.close()
            }
        }
        if let first = recovered.entries.first, first.index > (recovered.snapshotValue?[0] ?? 0) + 1 {
            throw .corruptRecord(file: segments.first?.name ?? "", offset: 0, reason: .malformedPayload("entries start at \(first.index) but no snapshot covers what precedes them"))
        }
        return recovered
    }

    /// A bad record is a torn tail only if nothing but zeros follows the part of it that was written.
    static func onlyZeros(_ bytes: [UInt8], after offset: Int, decoded: WALFrame.Decoded) -> Bool {
        var reader = offset + WALFrame.headerBytes
        if offset + 4 <= bytes.count {
            let length = bytes[offset..<offset + 4].enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
            if length <= Int(WALFrame.payloadBytesMax) { reader += length }
        }
        return bytes[min(reader, bytes.count)...].allSatisfy { $0 == 0 }
    }

    private func apply(_ record: WALRecord, to recovered: inout Recovered, file: String, offset: Int) throws(StorageError) {
        switch record {
        case .segmentHeader:
            break
        case .hardState(let bytes):
            recovered.hardState = bytes
            lastHardState = record
        case .truncate(let index):
            recovered.entries.removeAll { $0.index > index }
        case .snapshotMarker(let index, let term):
            recovered.snapshotValue = [index, term]
            recovered.entries.removeAll { $0.index <= index }
            lastSnapshotMarker = record
        case .entry(let entry):
            let snapshotIndex = recovered.snapshotValue?[0] ?? 0
            guard entry.index > snapshotIndex else { return }
            if let first = recovered.entries.first, entry.index <= recovered.entries.last!.index {
                // A later entry at an earlier index overwrites the conflicting suffix.
                recovered.entries.removeSubrange(Int(entry.index - first.index)...)
            }
            // The first segment left may follow released ones, so its first entry may start past the
            // snapshot marker that appears later in it; `recover` checks that no gap remains.
            let startsRecovery = recovered.entries.isEmpty && segments.count == 1 && segments[0].number > 1
            let expected = (recovered.entries.last?.index ?? snapshotIndex) + 1
            guard entry.index == expected || startsRecovery else {
                throw .corruptRecord(file: file, offset: offset, reason: .malformedPayload("entry \(entry.index) leaves a gap after \(expected - 1)"))
            }
            recovered.entries.append(entry)
            segments[segments.count - 1].lastEntryIndex = max(segments[segments.count - 1].lastEntryIndex, entry.index)
        }
    }
}
