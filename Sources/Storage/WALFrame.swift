import ConsensusCore
/// The framing of a record on disk:
///
///     0   u32  payload length (little-endian)
///     4   u8   tag (WALRecord.Tag; 0 means "nothing written here")
///     5   u32  CRC-32C of the previous record's checksum chained over tag, length and payload
///     9   ...  payload
///
/// The checksum covers the length, so a flipped length bit is caught rather than misframing the
/// rest of the segment; chaining makes a dropped or reordered record break every later checksum.
public enum WALFrame {
    public static let headerBytes = 9
    /// A bound on one record: the largest entry etcd accepts is 1.5 MiB; this leaves room for
    /// larger configured limits while refusing absurd lengths read from a damaged disk.
    public static let payloadBytesMax: UInt32 = 64 << 20

    /// The outcome of reading at one offset.
    public enum Decoded: Sendable, Equatable {
        case record(WALRecord, nextOffset: Int, checksum: UInt32)
        /// Only zeros from here on: the written part of the segment ended cleanly.
        case end
        /// The bytes stop in the middle of a record: a torn write at the tail, or corruption if
        /// anything valid follows. The caller decides which by where it is.
        case incomplete
        case corrupt(WALCorruption)
    }

    public static func encode(_ record: WALRecord, previousChecksum: UInt32) -> (bytes: [UInt8], checksum: UInt32) {
        var bytes: [UInt8] = []
        let checksum = append(record, previousChecksum: previousChecksum, to: &bytes)
        return (bytes, checksum)
    }

    /// Appends the framed record to `buffer` and returns its checksum. The payload is written in
    /// place and checksummed where it lies: no copy of it is made on the log's hot path.
    public static func append(_ record: WALRecord, previousChecksum: UInt32, to buffer: inout [UInt8]) -> UInt32 {
        let start = buffer.count
        buffer.appendLittleEndian(UInt32(0))  // Length, patched below.
        buffer.append(record.tag.rawValue)
        buffer.appendLittleEndian(UInt32(0))  // Checksum, patched below.
        record.writePayload(to: &buffer)
        let length = buffer.count - start - headerBytes
        precondition(length <= Int(payloadBytesMax), "record of \(length) bytes exceeds the \(payloadBytesMax)-byte bound")
        let checksum = buffer.withUnsafeMutableBytes { raw -> UInt32 in
            raw.storeBytes(of: UInt32(length).littleEndian, toByteOffset: start, as: UInt32.self)
            let payload = UnsafeRawBufferPointer(rebasing: raw[(start + headerBytes)...])
            let checksum = chainedChecksum(previous: previousChecksum, tag: record.tag.rawValue, length: UInt32(length), payload: payload)
            raw.storeBytes(of: checksum.littleEndian, toByteOffset: start + 5, as: UInt32.self)
            return checksum
        }
        return checksum
    }

    /// Decodes the record at `offset`. Never traps, whatever the bytes.
    public static func decode(_ bytes: [UInt8], at offset: Int, previousChecksum: UInt32) -> Decoded {
        guard offset < bytes.count else { return .end }
        var reader = ByteReader(bytes, from: offset)
        guard let length = reader.readUInt32(), let tagByte = reader.readByte(), let stored = reader.readUInt32() else {
            return bytes[offset...].allSatisfy { $0 == 0 } ? .end : .incomplete
        }
        if tagByte == 0 && length == 0 && stored == 0 {
            return bytes[offset...].allSatisfy { $0 == 0 } ? .end : .corrupt(WALCorruption(offset: offset, reason: .unknownTag(0)))
        }
        guard let tag = WALRecord.Tag(rawValue: tagByte) else { return .corrupt(WALCorruption(offset: offset, reason: .unknownTag(tagByte))) }
        guard length <= payloadBytesMax else { return .corrupt(WALCorruption(offset: offset, reason: .lengthOverLimit(length))) }
        guard reader.remaining >= Int(length) else { return .incomplete }
        let payloadStart = offset + headerBytes
        let payload = bytes[payloadStart..<(payloadStart + Int(length))]
        let computed = chainedChecksum(previous: previousChecksum, tag: tagByte, length: length, payload: payload)
        guard computed == stored else {
            return .corrupt(WALCorruption(offset: offset, reason: .checksumMismatch(expected: computed, found: stored)))
        }
        switch WALRecord.decode(tag: tag, payload: Array(payload)) {
        case .success(let record): return .record(record, nextOffset: payloadStart + Int(length), checksum: stored)
        case .failure(let reason): return .corrupt(WALCorruption(offset: offset, reason: reason))
        }
    }

    static func chainedChecksum(previous: UInt32, tag: UInt8, length: UInt32, payload: ArraySlice<UInt8>) -> UInt32 {
        payload.withUnsafeBytes { chainedChecksum(previous: previous, tag: tag, length: length, payload: $0) }
    }

    /// CRC-32C over the previous checksum, the tag and the length (9 bytes, little-endian), then
    /// the payload.
    static func chainedChecksum(previous: UInt32, tag: UInt8, length: UInt32, payload: UnsafeRawBufferPointer) -> UInt32 {
        var header: (UInt32, UInt8, UInt32) = (0, 0, 0)
        return withUnsafeMutableBytes(of: &header) { raw in
            raw.storeBytes(of: previous.littleEndian, toByteOffset: 0, as: UInt32.self)
            raw.storeBytes(of: tag, toByteOffset: 4, as: UInt8.self)
            raw.storeBytes(of: length.littleEndian, toByteOffset: 5, as: UInt32.self)
            return CRC32C.update(CRC32C.update(0, UnsafeRawBufferPointer(rebasing: raw[0..<9])), payload)
        }
    }
}
