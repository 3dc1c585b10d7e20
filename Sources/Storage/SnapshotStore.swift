import ConsensusCore
import Foundation

/// Snapshots as files: written to a temporary name, synced, renamed into place, and the directory
/// synced, so a crash leaves either the old set or the new one, never half a snapshot. The newest
/// `keepCount` are kept; older ones are removed only after a newer one is durable.
///
/// File format (little-endian):
///
///     0   "SYNODSNP"   magic
///     8   u8           format version
///     9   u64, u64     index, term
///     25  u32, bytes   membership (a `ConfigurationEntry` encoding)
///     ..  u64, bytes   state machine data
///     ..  u32          CRC-32C of everything before it
public struct SnapshotStore {
    public let directory: StorageDirectory
    public let keepCount: Int

    static let magic = Array("SYNODSNP".utf8)
    static let formatVersion: UInt8 = 1
    static let suffix = ".snap"
    static let temporarySuffix = ".snap.tmp"
    /// A snapshot's data goes to the disk in pieces of this size, each written back as soon as it
    /// is written, with at most two pieces in flight. Written whole and synced at the end, a
    /// 200 MB snapshot queued every fdatasync of the log behind it: 0.2 to 0.9 s stalls for every
    /// write of the cluster while the three members saved theirs (docs/PERFORMANCE.md).
    public static let writePieceBytes = 4 << 20
    /// How fast a snapshot the node makes in the background is written, so it leaves the disk's
    /// bandwidth to the log. A snapshot from the leader, which the engine waits for, is not paced.
    public static let backgroundWriteBytesPerSecond = 64 << 20

    public init(directory: StorageDirectory, keepCount: Int = 2) {
        precondition(keepCount >= 1, "at least one snapshot must be kept")
        self.directory = directory
        self.keepCount = keepCount
    }

    static func fileName(index: LogIndex, term: Term) -> String {
        "snapshot-\(String(index).leftPadded(to: 20))-\(String(term).leftPadded(to: 20))" + suffix
    }

    /// Saves `snapshot`; `bytesPerSecond`, when given, paces the writing of its data.
    public func save(_ snapshot: Snapshot, bytesPerSecond: Int? = nil) throws(StorageError) {
        let name = Self.fileName(index: snapshot.metadata.index, term: snapshot.metadata.term)
        let temporary = name + ".tmp"
        do {
            try write(snapshot, to: temporary, bytesPerSecond: bytesPerSecond)
        } catch {
            // A half-written file (a full disk) must not keep the space it took.
            try? directory.remove(temporary)
            throw error
        }
        try directory.rename(temporary, to: name)
        try directory.sync()
        // Only now, with the new one durable, may older snapshots go.
        let names = try snapshotNames()
        for old in names.dropLast(keepCount) { try directory.remove(old) }
        if names.count > keepCount { try directory.sync() }
    }

    private func write(_ snapshot: Snapshot, to temporary: String, bytesPerSecond: Int?) throws(StorageError) {
        let file = try directory.open(temporary, create: true)
        try file.truncate(to: 0)
        // Header, data and checksum are written apart: the data can be hundreds of megabytes, and
        // one encoded buffer would copy all of it once more.
        let header = Self.encodeHeader(snapshot)
        let checksum = CRC32C.update(CRC32C.checksum(header), snapshot.data)
        try file.write(header, at: 0)
        try writePieces(snapshot.data, to: file, at: header.count, bytesPerSecond: bytesPerSecond)
        var trailer = ByteWriter()
        trailer.write(checksum)
        try file.write(trailer.bytes, at: header.count + snapshot.data.count)
        try file.sync()
        file.close()
    }

    /// Writes `data` piece by piece, starting each piece's write-back at once and waiting for the
    /// piece before it, so the page cache never holds more than two pieces of it unwritten.
    private func writePieces(_ data: [UInt8], to file: StorageFile, at start: Int, bytesPerSecond: Int?) throws(StorageError) {
        let began = ContinuousClock.now
        var written = 0
        var previous: (offset: Int, count: Int)?
        while written < data.count {
            let count = min(Self.writePieceBytes, data.count - written)
            let offset = start + written
            try file.write(count == data.count ? data : Array(data[written..<written + count]), at: offset)
            try file.startWriteBack(at: offset, count: count)
            if let previous { try file.awaitWriteBack(at: previous.offset, count: previous.count) }
            previous = (offset, count)
            written += count
            if let bytesPerSecond, bytesPerSecond > 0 {
                let due = began + .seconds(Double(written) / Double(bytesPerSecond))
                let ahead = due - ContinuousClock.now
                if ahead > .zero { Thread.sleep(forTimeInterval: ahead / .seconds(1)) }
            }
        }
    }

    /// The newest snapshot, verified, or nil when there is none. A damaged newest snapshot is an
    /// error naming the file: the log behind it may already be gone, so it is never skipped.
    public func loadNewest() throws(StorageError) -> Snapshot? {
        for leftover in try directory.list() where leftover.hasSuffix(Self.temporarySuffix) {
            try directory.remove(leftover)  // An interrupted save; the rename never happened.
        }
        guard let newest = try snapshotNames().last else { return nil }
        let file = try directory.open(newest, create: false)
        let bytes = try file.read(at: 0, count: try file.size())
        file.close()
        switch Self.decode(bytes) {
        case .success(let snapshot): return snapshot
        case .failure(let reason): throw .corruptSnapshot(file: newest, reason: reason.text)
        }
    }

    func snapshotNames() throws(StorageError) -> [String] {
        try directory.list().filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(Self.suffix) }.sorted()
    }

    /// Whether the snapshot with this metadata is already on disk: the replica loop saves its own
    /// snapshots off its thread, before the engine asks for them to be persisted.
    public func holds(_ metadata: SnapshotMetadata) throws(StorageError) -> Bool {
        try snapshotNames().contains(Self.fileName(index: metadata.index, term: metadata.term))
    }

    /// Everything before the data: magic, version, index, term, membership, data length.
    static func encodeHeader(_ snapshot: Snapshot) -> [UInt8] {
        var writer = ByteWriter()
        writer.write(magic)
        writer.write(formatVersion)
        writer.write(snapshot.metadata.index)
        writer.write(snapshot.metadata.term)
        let membership = ConfigurationEntry(membership: snapshot.metadata.membership, requestID: nil, origin: nil).encoded
        writer.write(UInt32(membership.count))
        writer.write(membership)
        writer.write(UInt64(snapshot.data.count))
        return writer.bytes
    }

    struct DecodeFailure: Error {
        var text: String
    }

    static func decode(_ bytes: [UInt8]) -> Result<Snapshot, DecodeFailure> {
        guard bytes.count >= magic.count + 1 + 16 + 4 + 8 + 4 else { return .failure(DecodeFailure(text: "\(bytes.count) bytes is too short")) }
        let body = bytes[..<(bytes.count - 4)]
        var trailer = ByteReader(bytes, from: bytes.count - 4)
        guard trailer.readUInt32() == CRC32C.checksum(body) else { return .failure(DecodeFailure(text: "checksum mismatch")) }
        guard Array(bytes.prefix(magic.count)) == magic else { return .failure(DecodeFailure(text: "not a snapshot file")) }
        var reader = ByteReader(bytes, from: magic.count, to: bytes.count - 4)
        guard reader.readByte() == formatVersion, let index = reader.readUInt64(), let term = reader.readUInt64(),
              let membershipLength = reader.readUInt32(), Int(membershipLength) <= reader.remaining
        else { return .failure(DecodeFailure(text: "malformed header")) }
        var membershipReader = ByteReader(bytes, from: reader.position, to: reader.position + Int(membershipLength))
        guard let configuration = ConfigurationEntry(decoding: membershipReader.readRest()) else {
            return .failure(DecodeFailure(text: "malformed membership"))
        }
        reader = ByteReader(bytes, from: reader.position + Int(membershipLength), to: bytes.count - 4)
        guard let dataLength = reader.readUInt64(), dataLength == UInt64(reader.remaining) else {
            return .failure(DecodeFailure(text: "data length does not match the file"))
        }
        let metadata = SnapshotMetadata(index: index, term: term, membership: configuration.membership)
        return .success(Snapshot(metadata: metadata, data: reader.readRest()))
    }
}

/// The replica loop saves its own snapshots on a background thread. Both directories are safe to
/// use from several threads (`PosixDirectory` makes only system calls, `FaultyDirectory` locks),
/// and a store has no other state.
extension SnapshotStore: @unchecked Sendable {}
