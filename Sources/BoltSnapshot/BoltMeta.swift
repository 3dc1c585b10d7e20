import Bytes

/// The contents of a meta page: which tree is current and how far the file extends.
package struct BoltMeta: Equatable {
    package var pageSize: UInt32
    package var flags: UInt32 = 0
    package var rootPageID: UInt64
    package var rootSequence: UInt64 = 0
    package var freelistPageID: UInt64
    /// One past the highest page id in use: the file holds exactly this many pages.
    package var highWaterPageID: UInt64
    package var transactionID: UInt64

    /// The meta struct's 64 bytes, checksum included.
    package func encoded() -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(BoltLayout.metaBytes)
        bytes.appendLittleEndian(BoltLayout.magic)
        bytes.appendLittleEndian(BoltLayout.version)
        bytes.appendLittleEndian(pageSize)
        bytes.appendLittleEndian(flags)
        bytes.appendLittleEndian(rootPageID)
        bytes.appendLittleEndian(rootSequence)
        bytes.appendLittleEndian(freelistPageID)
        bytes.appendLittleEndian(highWaterPageID)
        bytes.appendLittleEndian(transactionID)
        bytes.appendLittleEndian(FNV64a.hash(bytes))
        return bytes
    }

    /// Decodes and validates the meta struct at `offset`, the way bbolt's `meta.validate` does:
    /// magic, version, then checksum. Like bbolt, a zero checksum is taken as "not computed".
    package static func decode(_ file: [UInt8], at offset: Int, pageDescription: String) throws(BoltFormatError) -> BoltMeta {
        guard offset >= 0, offset <= file.count - BoltLayout.metaBytes,
              let magic = file.loadLittleEndian(UInt32.self, at: offset),
              let version = file.loadLittleEndian(UInt32.self, at: offset + 4),
              let pageSize = file.loadLittleEndian(UInt32.self, at: offset + 8),
              let flags = file.loadLittleEndian(UInt32.self, at: offset + 12),
              let rootPageID = file.loadLittleEndian(UInt64.self, at: offset + 16),
              let rootSequence = file.loadLittleEndian(UInt64.self, at: offset + 24),
              let freelistPageID = file.loadLittleEndian(UInt64.self, at: offset + 32),
              let highWaterPageID = file.loadLittleEndian(UInt64.self, at: offset + 40),
              let transactionID = file.loadLittleEndian(UInt64.self, at: offset + 48),
              let checksum = file.loadLittleEndian(UInt64.self, at: offset + 56)
        else {
            throw BoltFormatError("\(pageDescription): the file ends inside the meta struct (file is \(file.count) bytes)")
        }
        guard magic == BoltLayout.magic else {
            throw BoltFormatError("\(pageDescription): magic is 0x\(String(magic, radix: 16)), not 0x\(String(BoltLayout.magic, radix: 16)) (not a bbolt file?)")
        }
        guard version == BoltLayout.version else {
            throw BoltFormatError("\(pageDescription): format version \(version) is not the supported version \(BoltLayout.version)")
        }
        let computed = FNV64a.hash(file[offset..<(offset + BoltLayout.metaChecksummedBytes)])
        guard checksum == 0 || checksum == computed else {
            throw BoltFormatError("\(pageDescription): checksum 0x\(String(checksum, radix: 16)) does not match the contents (0x\(String(computed, radix: 16)))")
        }
        return BoltMeta(
            pageSize: pageSize, flags: flags, rootPageID: rootPageID, rootSequence: rootSequence,
            freelistPageID: freelistPageID, highWaterPageID: highWaterPageID, transactionID: transactionID)
    }
}
