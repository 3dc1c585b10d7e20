import ConsensusCore
/// The framing of a record on disk:
///
///     0   u32  payload length (little-endian)
///     4   u8   tag (WALRecord.Tag; 0 means "nothing written here")
///     5   u32  segment number (its low 32 bits)
///     9   u32  CRC-32C over the frame's file offset (u64), bytes 0..<9, then the payload
///     13  ...  payload
///
/// The checksum covers the length, so a flipped length bit is caught rather than misframing the
/// rest of the segment. It also covers where the frame lies, its segment and its offset, so a
/// record replayed, moved or dropped breaks the frames around it, as a checksum chain would; unlike
/// a chain, a frame can be checked on its own. That is what lets the log reuse the files of
/// released segments without zero-filling them: a frame an earlier segment left in a recycled file
/// is intact but names that segment, so recovery can tell it from this segment's records, and a
/// scan for this segment's frames past a bad one tells a torn tail from damage in the middle.
public enum WALFrame {
    public static let headerBytes = 13
    /// A bound on one record: the largest entry etcd accepts is 1.5 MiB; this leaves room for
    /// larger configured limits while refusing absurd lengths read from a damaged disk.
    public static let payloadBytesMax: UInt32 = 64 << 20

    /// The outcome of reading at one offset.
    public enum Decoded: Sendable, Equatable {
        case record(WALRecord, nextOffset: Int, checksum: UInt32)
        /// Only zeros from here on: the written part of the segment ended cleanly.
        case end
        /// An intact frame of another segment: this file was recycled, and the records written since
        /// end before it (or are damaged, if any frame of this segment follows).
        case otherSegment(UInt32)
        /// The bytes stop in the middle of a record: a torn write at the tail, or corruption if
        /// anything valid follows. The caller decides which by where it is.
        case incomplete
        case corrupt(WALCorruption)
    }

    public static func encode(_ record: WALRecord, segment: UInt64, offset: Int) -> (bytes: [UInt8], checksum: UInt32) {
        var bytes: [UInt8] = []
        let checksum = append(record, segment: segment, fileOffset: offset, to: &bytes)
        return (bytes, checksum)
    }

    /// Appends the framed record to `buffer` and returns its checksum. `fileOffset` is where the
    /// frame will lie in the segment file. The payload is written in place and checksummed where it
    /// lies: no copy of it is made on the log's hot path.
    public static func append(_ record: WALRecord, segment: UInt64, fileOffset: Int, to buffer: inout [UInt8]) -> UInt32 {
        let start = buffer.count
        buffer.appendLittleEndian(UInt32(0))  // Length, patched below.
        buffer.append(record.tag.rawValue)
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: segment))
        buffer.appendLittleEndian(UInt32(0))  // Checksum, patched below.
        record.writePayload(to: &buffer)
        let length = buffer.count - start - headerBytes
        precondition(length <= Int(payloadBytesMax), "record of \(length) bytes exceeds the \(payloadBytesMax)-byte bound")
        return buffer.withUnsafeMutableBytes { raw -> UInt32 in
            raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: start, as: UInt32.self)
            let checksum = frameChecksum(UnsafeRawBufferPointer(rebasing: raw[start...]), fileOffset: fileOffset, length: length)
            raw.storeBytes(of: checksum.littleEndian, toByteOffset: start + 9, as: UInt32.self)
            return checksum
        }
    }

    /// Decodes the record at `offset` of a file holding `segment`. Never traps, whatever the bytes.
    public static func decode(_ bytes: [UInt8], at offset: Int, segment: UInt64) -> Decoded {
        guard offset < bytes.count else { return .end }
        var reader = ByteReader(bytes, from: offset)
        guard let length = reader.readUInt32(), let tagByte = reader.readByte(), let storedSegment = reader.readUInt32(), let stored = reader.readUInt32() else {
            return bytes[offset...].allSatisfy { $0 == 0 } ? .end : .incomplete
        }
        if tagByte == 0 && length == 0 && storedSegment == 0 && stored == 0 {
            return bytes[offset...].allSatisfy { $0 == 0 } ? .end : .corrupt(WALCorruption(offset: offset, reason: .unknownTag(0)))
        }
        guard let tag = WALRecord.Tag(rawValue: tagByte) else { return .corrupt(WALCorruption(offset: offset, reason: .unknownTag(tagByte))) }
        guard length <= payloadBytesMax else { return .corrupt(WALCorruption(offset: offset, reason: .lengthOverLimit(length))) }
        guard reader.remaining >= Int(length) else { return .incomplete }
        let computed = bytes.withUnsafeBytes { frameChecksum(UnsafeRawBufferPointer(rebasing: $0[offset...]), fileOffset: offset, length: Int(length)) }
        guard computed == stored else {
            return .corrupt(WALCorruption(offset: offset, reason: .checksumMismatch(expected: computed, found: stored)))
        }
        guard storedSegment == UInt32(truncatingIfNeeded: segment) else { return .otherSegment(storedSegment) }
        let payloadStart = offset + headerBytes
        switch WALRecord.decode(tag: tag, payload: Array(bytes[payloadStart..<(payloadStart + Int(length))])) {
        case .success(let record): return .record(record, nextOffset: payloadStart + Int(length), checksum: stored)
        case .failure(let reason): return .corrupt(WALCorruption(offset: offset, reason: reason))
        }
    }

    /// The offset of the first intact frame of `segment` at or after `offset`, if any. Recovery
    /// asks this past a bad record: finding one means the bad record is damage in the middle of
    /// the segment, not a torn tail. The segment-number field filters candidates before any
    /// checksum is computed, so scanning a whole segment is cheap.
    public static func firstFrame(of segment: UInt64, in bytes: [UInt8], from offset: Int) -> Int? {
        let wanted = UInt32(truncatingIfNeeded: segment).littleEndian
        return bytes.withUnsafeBytes { raw -> Int? in
            var candidate = max(offset, 0)
            while candidate + headerBytes <= raw.count {
                defer { candidate += 1 }
                guard raw.loadUnaligned(fromByteOffset: candidate + 5, as: UInt32.self) == wanted else { continue }
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: candidate, as: UInt32.self)))
                guard WALRecord.Tag(rawValue: raw[candidate + 4]) != nil, length <= Int(payloadBytesMax),
                      candidate + headerBytes + length <= raw.count else { continue }
                let stored = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: candidate + 9, as: UInt32.self))
                if frameChecksum(UnsafeRawBufferPointer(rebasing: raw[candidate...]), fileOffset: candidate, length: length) == stored {
                    return candidate
                }
            }
            return nil
        }
    }

    /// CRC-32C over the file offset (u64, little-endian), the first 9 header bytes (length, tag,
    /// segment) and the `length` payload bytes of the frame starting at `frame`.
    static func frameChecksum(_ frame: UnsafeRawBufferPointer, fileOffset: Int, length: Int) -> UInt32 {
        var position = UInt64(fileOffset).littleEndian
        let seeded = withUnsafeBytes(of: &position) { CRC32C.update(0, $0) }
        let header = CRC32C.update(seeded, UnsafeRawBufferPointer(rebasing: frame[frame.startIndex..<(frame.startIndex + 9)]))
        let payloadStart = frame.startIndex + headerBytes
        return CRC32C.update(header, UnsafeRawBufferPointer(rebasing: frame[payloadStart..<(payloadStart + length)]))
    }
}
