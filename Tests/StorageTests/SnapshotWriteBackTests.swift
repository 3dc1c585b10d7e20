import ConsensusCore
import Foundation
import Storage
import Testing

/// A large snapshot goes to the disk piece by piece, so the log's fdatasync never queues behind
/// hundreds of megabytes of it (SnapshotStore.writePieceBytes).
@Suite struct SnapshotWriteBackTests {
    static let pieceBytes = SnapshotStore.writePieceBytes

    func snapshot(dataBytes: Int) -> Snapshot {
        var random = SeededRandom(seed: 42)
        return Snapshot(
            metadata: SnapshotMetadata(index: 7, term: 3, membership: Membership(voters: [NodeID(1)], learners: [])),
            data: (0..<dataBytes).map { _ in UInt8(truncatingIfNeeded: random.next()) }
        )
    }

    /// Through real files and `sync_file_range`: the pieces land where they belong.
    @Test func aSnapshotOfSeveralPiecesRoundTripsThroughRealFiles() throws {
        let path = NSTemporaryDirectory() + "synod-snapshot-writeback-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let store = SnapshotStore(directory: try PosixDirectory(path: path))
        let saved = snapshot(dataBytes: 2 * Self.pieceBytes + 12_345)
        try store.save(saved, bytesPerSecond: 1 << 30)
        #expect(try store.loadNewest() == saved)
    }

    /// Every byte of the data is written back once, in order, and each piece is awaited only after
    /// the next one has started: two pieces in flight at most.
    @Test func theDataIsWrittenBackInOrderWithAtMostTwoPiecesInFlight() throws {
        let directory = WriteBackRecordingDirectory(FaultyDirectory(seed: 5))
        let saved = snapshot(dataBytes: 3 * Self.pieceBytes + 1)
        try SnapshotStore(directory: directory).save(saved)
        let started = directory.calls.filter { $0.kind == .start }
        let awaited = directory.calls.filter { $0.kind == .await }
        #expect(started.map(\.count).reduce(0, +) == saved.data.count)
        #expect(started.count == 4 && awaited.count == 3)
        for (earlier, later) in zip(started, started.dropFirst()) {
            #expect(later.offset == earlier.offset + earlier.count, "pieces are contiguous")
        }
        // The calls alternate start, start, await(first), start, await(second), ...
        var inFlight = 0
        for call in directory.calls {
            inFlight += call.kind == .start ? 1 : -1
            #expect((0...2).contains(inFlight))
        }
        #expect(awaited.map(\.offset) == started.dropLast().map(\.offset))
        #expect(try SnapshotStore(directory: directory).loadNewest() == saved)
    }
}

/// Passes everything to a `FaultyDirectory` and records the write-back calls of its files.
final class WriteBackRecordingDirectory: StorageDirectory {
    struct Call { enum Kind { case start, await }; var kind: Kind; var offset: Int; var count: Int }

    let inner: StorageDirectory
    var calls: [Call] = []

    init(_ inner: StorageDirectory) { self.inner = inner }

    var path: String { inner.path }
    func list() throws(StorageError) -> [String] { try inner.list() }
    func open(_ name: String, create: Bool) throws(StorageError) -> StorageFile { RecordingFile(try inner.open(name, create: create), directory: self) }
    func remove(_ name: String) throws(StorageError) { try inner.remove(name) }
    func rename(_ source: String, to destination: String) throws(StorageError) { try inner.rename(source, to: destination) }
    func sync() throws(StorageError) { try inner.sync() }

    final class RecordingFile: StorageFile {
        let inner: StorageFile
        unowned let directory: WriteBackRecordingDirectory

        init(_ inner: StorageFile, directory: WriteBackRecordingDirectory) {
            self.inner = inner
            self.directory = directory
        }

        func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) { try inner.write(bytes, at: offset) }
        func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] { try inner.read(at: offset, count: count) }
        func size() throws(StorageError) -> Int { try inner.size() }
        func truncate(to size: Int) throws(StorageError) { try inner.truncate(to: size) }
        func sync() throws(StorageError) { try inner.sync() }
        func close() { inner.close() }
        func writeZeros(count: Int) throws(StorageError) { try inner.writeZeros(count: count) }
        func startWriteBack(at offset: Int, count: Int) throws(StorageError) { directory.calls.append(Call(kind: .start, offset: offset, count: count)) }
        func awaitWriteBack(at offset: Int, count: Int) throws(StorageError) { directory.calls.append(Call(kind: .await, offset: offset, count: count)) }
    }
}
