/// The file operations the log needs, behind a protocol so that tests run the same log over a
/// fault-injecting in-memory directory (`FaultyDirectory`) and production over POSIX files.
public protocol StorageFile: AnyObject {
    /// Writes `bytes` at `offset`. Not durable until `sync`.
    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError)
    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8]
    func size() throws(StorageError) -> Int
    /// Shrinks or grows the file; growth reads as zeros.
    func truncate(to size: Int) throws(StorageError)
    /// Makes every write so far durable (fdatasync).
    func sync() throws(StorageError)
    func close()
    /// Writes zeros over the first `count` bytes, so that the file system allocates and writes
    /// every block now. Not durable until `sync`.
    func writeZeros(count: Int) throws(StorageError)
    /// Starts writing the range's dirty pages to the disk, without waiting (`sync_file_range`).
    /// Not a durability promise: only `sync` is.
    func startWriteBack(at offset: Int, count: Int) throws(StorageError)
    /// Waits until the range's pages, written back or not yet, have reached the disk.
    func awaitWriteBack(at offset: Int, count: Int) throws(StorageError)
}

extension StorageFile {
    public func writeZeros(count: Int) throws(StorageError) { try writeZerosByWriting(count: count) }
    // In memory, and where the system has no such call, there is nothing to start early.
    public func startWriteBack(at offset: Int, count: Int) throws(StorageError) {}
    public func awaitWriteBack(at offset: Int, count: Int) throws(StorageError) {}

    /// Zero-fills with ordinary writes of a zeroed chunk.
    func writeZerosByWriting(count: Int) throws(StorageError) {
        let chunkBytes = 1 << 20
        let zeros = [UInt8](repeating: 0, count: chunkBytes)
        var offset = 0
        while offset < count {
            let length = min(chunkBytes, count - offset)
            try write(length == chunkBytes ? zeros : Array(zeros.prefix(length)), at: offset)
            offset += length
        }
    }
}

public protocol StorageDirectory: AnyObject {
    var path: String { get }
    func list() throws(StorageError) -> [String]
    func open(_ name: String, create: Bool) throws(StorageError) -> StorageFile
    func remove(_ name: String) throws(StorageError)
    /// Atomically replaces `destination` with `source`.
    func rename(_ source: String, to destination: String) throws(StorageError)
    /// Makes creations, renames and removals in the directory durable (fsync of the directory).
    func sync() throws(StorageError)
}

/// What can go wrong below the log. Every case names the file and, where it matters, the offset.
public enum StorageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The disk is full: the write did not happen, and nothing was acknowledged.
    case diskFull(path: String)
    case system(operation: String, path: String, errno: Int32)
    /// A record that is not at the tail failed its checks: the log cannot be trusted past it.
    case corruptRecord(file: String, offset: Int, reason: WALCorruption.Reason)
    case corruptSnapshot(file: String, reason: String)
    case missingSegment(expected: UInt64, found: UInt64)

    public var description: String {
        switch self {
        case .diskFull(let path): return "disk full writing \(path)"
        case .system(let operation, let path, let errno): return "\(operation) \(path) failed: errno \(errno)"
        case .corruptRecord(let file, let offset, let reason): return "corrupt record in \(file) at offset \(offset): \(reason)"
        case .corruptSnapshot(let file, let reason): return "corrupt snapshot \(file): \(reason)"
        case .missingSegment(let expected, let found): return "segment \(expected) is missing (found \(found) next)"
        }
    }
}
