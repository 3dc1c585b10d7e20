import ConsensusCore

extension WriteAheadLog {
    /// Reads every segment in order and rebuilds the log's state, verifying every checksum.
    ///
    /// A segment's records end at the first offset that holds none of its records: zeros in a
    /// zero-filled file, or whatever an earlier segment left in a recycled one.
    /// - A bad record with no intact record of its segment anywhere after it, at the end of the last
    ///   segment, is a torn write: it was never acknowledged, so it is cut off and reported.
    /// - Any other bad record stops recovery with an error naming the file and offset: the log
    ///   never skips past data that may have been acknowledged. An earlier segment was synced
    ///   whole before the next began, and the next one's header repeats the checksum its last
    ///   record must have, so an earlier segment that reads short is caught too.
    func recover() throws(StorageError) -> Recovered {
        let names = try Self.segmentNames(in: directory)
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
            var lastChecksum = previousSegmentChecksum ?? 0
            reading: while true {
                let decoded = WALFrame.decode(bytes, at: offset, segment: number)
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
                    lastChecksum = recordChecksum
                case .end:
                    break reading
                case .otherSegment, .incomplete, .corrupt:
                    /// The error for this bad record: its own corruption if it has one, else `otherwise`.
                    func refusal(_ otherwise: String) -> StorageError {
                        guard case .corrupt(let corruption) = decoded else {
                            return .corruptRecord(file: name, offset: offset, reason: .malformedPayload(otherwise))
                        }
                        return .corruptRecord(file: name, offset: corruption.offset, reason: corruption.reason)
                    }
                    if let later = WALFrame.firstFrame(of: number, in: bytes, from: offset + 1) {
                        throw refusal("bad record before an intact one at \(later)")
                    }
                    guard Self.startedRecord(
                        of: number, in: bytes, at: offset, decoded: decoded, segmentBytesMax: segmentBytesMax, headerRegionBytes: headerRegionBytes)
                    else {
                        break reading  // The clean end of a recycled file's new contents.
                    }
                    guard isLast else { throw refusal("record cut short before the last segment") }
                    if offset > 0 {
                        // Zero the torn bytes (cheaply: shrink, then grow back), so appends start clean.
                        // A torn header (offset 0) leaves the segment empty; it is dropped below.
                        try segmentFile.truncate(to: offset)
                        try segmentFile.truncate(to: max(segmentBytesMax, offset))
                        try segmentFile.sync()
                    }
                    recovered.tornTailValue = .init(file: name, offset: offset)
                    break reading
                }
            }
            if isLast && offset == 0 {
                // Rotation renamed this file into place but its header never reached the disk whole:
                // the segment holds nothing. Dropping it lets `open` start it afresh, header first.
                segmentFile.close()
                try directory.remove(name)
                segments.removeLast()
                checksum = lastChecksum
                nextSegmentNumber = number
                break
            }
            nextSegmentNumber = number + 1
            previousSegmentChecksum = lastChecksum
            if isLast {
                file = segmentFile
                writeOffset = offset
                checksum = lastChecksum
            } else {
                segmentFile.close()
            }
        }
        if !recovered.holdsSlots, let first = recovered.entries.first, first.index > (recovered.snapshotValue?[0] ?? 0) + 1 {
            throw .corruptRecord(file: segments.first?.name ?? "", offset: 0, reason: .malformedPayload("entries start at \(first.index) but no snapshot covers what precedes them"))
        }
        return recovered
    }

    /// Whether the bad bytes at `offset` are a record of this segment that a write began: a frame
    /// header naming this segment. Anything else (zeros, or what an earlier segment left in a
    /// recycled file) lies past this segment's end; if a torn write lost the page holding a
    /// header, the rest of that record is no frame of this segment and does no harm either.
    ///
    /// Where the file ends before the header's segment field, the field cannot say. The writer
    /// starts a record only where all of it fits before `segmentBytesMax`, or in the header region
    /// of a fresh segment (a record larger than a segment): a cut-off header anywhere else is what
    /// a recycled file held. Without this rule a crash could leave a sealed segment whose records
    /// end within a frame header's length of its end, over an old frame, and recovery would refuse
    /// a sound log (found by `synod sim --disk wal`, seed 7077).
    package static func startedRecord(
        of segment: UInt64, in bytes: [UInt8], at offset: Int, decoded: WALFrame.Decoded, segmentBytesMax: Int, headerRegionBytes: Int
    ) -> Bool {
        if case .otherSegment = decoded { return false }
        let segmentField = offset + 5..<offset + 9
        guard segmentField.upperBound <= bytes.count else {
            let writerCouldStartHere = offset <= headerRegionBytes || offset + WALFrame.headerBytes <= segmentBytesMax
            return writerCouldStartHere && bytes[offset...].contains { $0 != 0 }
        }
        let stored = bytes[segmentField].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        return stored == UInt32(truncatingIfNeeded: segment)
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
        case .slot(let entry):
            recovered.holdsSlots = true
            guard entry.index > recovered.snapshotValue?[0] ?? 0 else { return }
            recovered.entries.placeSlot(entry)
            segments[segments.count - 1].lastEntryIndex = max(segments[segments.count - 1].lastEntryIndex, entry.index)
        case .snapshotMarker(let index, let term):
            recovered.snapshotValue = [index, term]
            recovered.entries.removeAll { $0.index <= index }
            lastSnapshotMarker = record
        case .entry(let entry):
            let snapshotIndex = recovered.snapshotValue?[0] ?? 0
            guard entry.index > snapshotIndex else { return }
            if let last = recovered.entries.last, entry.index <= last.index {
                // A later entry at an earlier index overwrites the conflicting suffix.
                recovered.entries.removeSubrange(recovered.entries.position(after: entry.index - 1)...)
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
