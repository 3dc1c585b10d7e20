import ConsensusCore
import Storage
import Testing

@Suite struct CRC32CTests {
    /// The check value from the CRC catalogue (RFC 3720 uses the same polynomial).
    @Test func matchesTheStandardCheckValue() {
        #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
        #expect(CRC32C.checksum([UInt8]()) == 0)
    }

    @Test func updatingInPiecesEqualsOneChecksum() {
        let bytes = Array("the quick brown fox".utf8)
        #expect(CRC32C.update(CRC32C.checksum(bytes[..<7]), bytes[7...]) == CRC32C.checksum(bytes))
    }

    /// The definition, one bit at a time: slow, and obviously right.
    static func bitwise(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0x82F6_3B78 : crc >> 1 }
        }
        return ~crc
    }

    /// The hardware instruction and the slicing tables agree with the definition at every length
    /// and alignment, including the tails shorter than a word.
    @Test func hardwareAndTablePathsAgreeWithTheDefinition() {
        var random = SeededRandom(seed: 32)
        let buffer = (0..<600).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        for length in 0..<300 {
            let start = random.int(in: 0..<8)
            let bytes = Array(buffer[start..<(start + length)])
            let expected = Self.bitwise(bytes)
            #expect(CRC32C.checksum(bytes) == expected)
            #expect(CRC32C.softwareUpdate(0, bytes) == expected)
            #expect(CRC32C.update(CRC32C.checksum(bytes.prefix(length / 3)), bytes.dropFirst(length / 3)) == expected)
        }
    }
}

@Suite struct WALFrameTests {
    static let records: [WALRecord] = [
        .segmentHeader(previousChecksum: 0xDEAD_BEEF, segmentNumber: 7),
        .entry(Entry(index: 1, term: 1, kind: .noop)),
        .entry(Entry(index: 2, term: 1, kind: .command, data: Array("put k v".utf8))),
        .entry(Entry(index: 3, term: 2, kind: .configuration, data: [1, 2, 3])),
        .hardState(hardState(2, 3, 2)),
        .snapshotMarker(index: 2, term: 1),
        .truncate(after: 7),
    ]

    static let segmentNumber: UInt64 = 7

    /// Encodes the records back to back from `offset`, as segment `number` holds them.
    static func segment(_ records: [WALRecord], number: UInt64 = segmentNumber, from offset: Int = 0) -> (bytes: [UInt8], checksums: [UInt32]) {
        var bytes: [UInt8] = []
        var checksums: [UInt32] = []
        for record in records {
            let encoded = WALFrame.encode(record, segment: number, offset: offset + bytes.count)
            bytes += encoded.bytes
            checksums.append(encoded.checksum)
        }
        return (bytes, checksums)
    }

    /// Reads records until the end or the first problem.
    static func readAll(_ bytes: [UInt8], number: UInt64 = segmentNumber) -> (records: [WALRecord], stop: WALFrame.Decoded) {
        var records: [WALRecord] = []
        var offset = 0
        while true {
            let decoded = WALFrame.decode(bytes, at: offset, segment: number)
            guard case .record(let record, let next, _) = decoded else { return (records, decoded) }
            records.append(record)
            offset = next
        }
    }

    @Test func recordsRoundTrip() {
        let (bytes, _) = Self.segment(Self.records)
        let (decoded, stop) = Self.readAll(bytes)
        #expect(decoded == Self.records)
        #expect(stop == .end)
    }

    @Test func aZeroFilledTailIsTheEnd() {
        let (bytes, _) = Self.segment(Self.records)
        let (decoded, stop) = Self.readAll(bytes + [UInt8](repeating: 0, count: 4096))
        #expect(decoded == Self.records)
        #expect(stop == .end)
    }

    /// A torn write: every proper prefix of the last record reads as incomplete, never as a record
    /// and never as corruption, so recovery can truncate it.
    @Test func everyTruncationOfTheLastRecordIsIncomplete() {
        let (bytes, _) = Self.segment(Self.records)
        let lastStart = Self.segment(Array(Self.records.dropLast())).bytes.count
        for cut in (lastStart + 1)..<bytes.count {
            let (decoded, stop) = Self.readAll(Array(bytes[..<cut]))
            #expect(decoded == Array(Self.records.dropLast()))
            #expect(stop == .incomplete, "cut at \(cut) gave \(stop)")
        }
    }

    /// In a preallocated segment a torn write leaves a full-length record whose unwritten bytes are
    /// zeros. The frame decoder reports it as a checksum failure at that offset; recovery treats such
    /// a failure as a torn tail only when nothing but zeros follows it.
    @Test func aTornRecordInAZeroFilledSegmentFailsItsChecksum() {
        let records = Array(Self.records.prefix(3))
        let (bytes, _) = Self.segment(records)
        let lastStart = Self.segment(Array(records.dropLast())).bytes.count
        var torn = Array(bytes[..<(bytes.count - 3)]) + [0, 0, 0]
        torn += [UInt8](repeating: 0, count: 64)
        let (decoded, stop) = Self.readAll(torn)
        #expect(decoded == Array(records.dropLast()))
        guard case .corrupt(let corruption) = stop, case .checksumMismatch = corruption.reason else {
            Issue.record("a torn record was not caught by its checksum: \(stop)")
            return
        }
        #expect(corruption.offset == lastStart)
    }

    /// Every single-bit flip anywhere is detected: as corruption, or (for a flip that makes the
    /// length larger than what is there) as an incomplete record. It never yields different records.
    @Test func everyBitFlipIsDetected() {
        let (bytes, _) = Self.segment(Self.records)
        for position in bytes.indices {
            for bit in 0..<8 {
                var damaged = bytes
                damaged[position] ^= UInt8(1 << bit)
                let (decoded, stop) = Self.readAll(damaged)
                #expect(Self.records.starts(with: decoded), "flip at \(position).\(bit) produced records that were never written")
                #expect(decoded.count < Self.records.count, "flip at \(position).\(bit) went unnoticed")
                switch stop {
                case .corrupt, .incomplete: break
                case .end, .record, .otherSegment: Issue.record("flip at \(position).\(bit) ended as \(stop)")
                }
            }
        }
    }

    /// The checksum binds a frame to its offset: a record moved from elsewhere in the segment, even
    /// intact, fails its checksum here, as it would break a checksum chain.
    @Test func aRecordOutOfPlaceFailsItsChecksum() {
        let first = Self.segment(Array(Self.records[0..<3])).bytes
        let replayed = WALFrame.encode(Self.records[1], segment: Self.segmentNumber, offset: 0).bytes
        let (decoded, stop) = Self.readAll(first + replayed)
        #expect(decoded == Array(Self.records[0..<3]))
        guard case .corrupt(let corruption) = stop, case .checksumMismatch = corruption.reason else {
            Issue.record("a replayed record was accepted: \(stop)")
            return
        }
        #expect(corruption.offset == first.count)
    }

    @Test func absurdLengthsAreRefusedBeforeReading() {
        var bytes = WALFrame.encode(Self.records[1], segment: Self.segmentNumber, offset: 0).bytes
        bytes[0] = 0xff; bytes[1] = 0xff; bytes[2] = 0xff; bytes[3] = 0xff
        guard case .corrupt(let corruption) = WALFrame.decode(bytes, at: 0, segment: Self.segmentNumber), case .lengthOverLimit = corruption.reason else {
            Issue.record("a 4 GiB length was not refused")
            return
        }
    }

    /// A recycled file: an intact frame an earlier segment wrote at this very offset is recognised
    /// as that segment's, never read as one of this segment's records.
    @Test func anIntactFrameOfAnotherSegmentIsRecognised() {
        let old = Self.segment(Self.records, number: 3).bytes
        let fresh = Self.segment(Array(Self.records.prefix(2))).bytes
        // The new segment's two records overwrite the start of the old segment's frames; the old
        // segment's third frame starts exactly where the new records end only if the lengths match,
        // so lay the old frames after the new ones at the offsets they were written for.
        let tail = Self.segment(Array(Self.records.suffix(3)), number: 3, from: fresh.count).bytes
        let (decoded, stop) = Self.readAll(fresh + tail)
        #expect(decoded == Array(Self.records.prefix(2)))
        #expect(stop == .otherSegment(3))
        #expect(WALFrame.firstFrame(of: Self.segmentNumber, in: fresh + tail, from: 1) == Self.segment(Array(Self.records.prefix(1))).bytes.count)
        #expect(WALFrame.firstFrame(of: Self.segmentNumber, in: fresh + tail, from: fresh.count) == nil)
        #expect(WALFrame.firstFrame(of: 3, in: old, from: 0) == 0)
    }

    /// Fuzz: random and mutated bytes never trap, and essentially never decode.
    @Test func randomBytesNeverTrap() {
        var random = SeededRandom(seed: 2024)
        let (valid, _) = Self.segment(Self.records)
        var accepted = 0
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<random.int(in: 0..<64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = valid
                for _ in 0..<random.int(in: 1..<6) { bytes[random.int(in: 0..<bytes.count)] = UInt8(truncatingIfNeeded: random.next()) }
                bytes = Array(bytes.prefix(random.int(in: 0..<(bytes.count + 1))))
            }
            let (decoded, _) = Self.readAll(bytes)
            if round % 2 == 0 { accepted += decoded.count } else { #expect(Self.records.starts(with: decoded)) }
        }
        #expect(accepted == 0)
    }
}
