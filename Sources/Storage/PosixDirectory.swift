#if canImport(Glibc)
import Glibc

private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { Glibc.open(path, flags, mode) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { Glibc.rename(source, destination) }
private func systemClose(_ descriptor: Int32) { _ = Glibc.close(descriptor) }
#elseif canImport(Darwin)
import Darwin

private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t = 0) -> Int32 { Darwin.open(path, flags, mode) }
private func systemRename(_ source: String, _ destination: String) -> Int32 { Darwin.rename(source, destination) }
private func systemClose(_ descriptor: Int32) { _ = Darwin.close(descriptor) }
private func fdatasync(_ descriptor: Int32) -> Int32 { fsync(descriptor) }
#endif

/// A real directory: POSIX calls, `fdatasync` for file data and `fsync` on the directory for names.
public final class PosixDirectory: StorageDirectory {
    public let path: String

    /// Opens `path`, creating it if needed.
    public init(path: String) throws(StorageError) {
        self.path = path
        if mkdir(path, 0o755) != 0 && errno != EEXIST { throw Self.failure("mkdir", path) }
    }

    func fullPath(_ name: String) -> String { path + "/" + name }

    public func list() throws(StorageError) -> [String] {
        guard let handle = opendir(path) else { throw Self.failure("opendir", path) }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }

    public func open(_ name: String, create: Bool) throws(StorageError) -> StorageFile {
        let descriptor = systemOpen(fullPath(name), O_RDWR | (create ? O_CREAT : 0) | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw Self.failure("open", fullPath(name)) }
        return PosixFile(descriptor: descriptor, path: fullPath(name))
    }

    public func remove(_ name: String) throws(StorageError) {
        guard unlink(fullPath(name)) == 0 else { throw Self.failure("unlink", fullPath(name)) }
    }

    public func rename(_ source: String, to destination: String) throws(StorageError) {
        guard systemRename(fullPath(source), fullPath(destination)) == 0 else { throw Self.failure("rename", fullPath(source)) }
    }

    public func sync() throws(StorageError) {
        let descriptor = systemOpen(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard descriptor >= 0 else { throw Self.failure("open", path) }
        defer { systemClose(descriptor) }
        guard fsync(descriptor) == 0 else { throw Self.failure("fsync", path) }
    }

    static func failure(_ operation: String, _ path: String) -> StorageError {
        errno == ENOSPC ? .diskFull(path: path) : .system(operation: operation, path: path, errno: errno)
    }
}

final class PosixFile: StorageFile {
    let descriptor: Int32
    let path: String
    var isOpen = true

    init(descriptor: Int32, path: String) {
        self.descriptor = descriptor
        self.path = path
    }

    deinit { close() }

    func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                pwrite(descriptor, buffer.baseAddress! + written, bytes.count - written, off_t(offset + written))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw PosixDirectory.failure("pwrite", path)
            }
            written += result
        }
    }

    func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let result = bytes.withUnsafeMutableBytes { buffer in
                pread(descriptor, buffer.baseAddress! + done, count - done, off_t(offset + done))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw PosixDirectory.failure("pread", path)
            }
            if result == 0 { break }
            done += result
        }
        return Array(bytes.prefix(done))
    }

    func size() throws(StorageError) -> Int {
        var status = stat()
        guard fstat(descriptor, &status) == 0 else { throw PosixDirectory.failure("fstat", path) }
        return Int(status.st_size)
    }

    /// Growing preallocates the blocks (so a full disk shows up now, not at a later write);
    /// shrinking releases them.
    func truncate(to size: Int) throws(StorageError) {
        let current = try self.size()
        #if canImport(Glibc)
        if size > current {
            let result = posix_fallocate(descriptor, off_t(current), off_t(size - current))
            guard result == 0 else {
                throw result == ENOSPC ? .diskFull(path: path) : .system(operation: "posix_fallocate", path: path, errno: result)
            }
            return
        }
        #endif
        guard ftruncate(descriptor, off_t(size)) == 0 else { throw PosixDirectory.failure("ftruncate", path) }
    }

    func sync() throws(StorageError) {
        guard fdatasync(descriptor) == 0 else { throw PosixDirectory.failure("fdatasync", path) }
    }

    #if os(Linux)
    // sync_file_range and its flags, which Swift's Glibc module does not export (it is a GNU
    // extension), looked up once. Without it, write-back simply starts at the final sync.
    private typealias SyncFileRange = @convention(c) (Int32, Int64, Int64, UInt32) -> Int32
    nonisolated(unsafe) private static let syncFileRange: SyncFileRange? = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "sync_file_range")
        .map { unsafeBitCast($0, to: SyncFileRange.self) }
    private static let waitBefore: UInt32 = 1, writePages: UInt32 = 2, waitAfter: UInt32 = 4

    func startWriteBack(at offset: Int, count: Int) throws(StorageError) {
        try syncRange(offset, count, Self.writePages)
    }

    func awaitWriteBack(at offset: Int, count: Int) throws(StorageError) {
        try syncRange(offset, count, Self.waitBefore | Self.writePages | Self.waitAfter)
    }

    private func syncRange(_ offset: Int, _ count: Int, _ flags: UInt32) throws(StorageError) {
        guard let call = Self.syncFileRange else { return }
        guard call(descriptor, Int64(offset), Int64(count), flags) == 0 else {
            throw PosixDirectory.failure("sync_file_range", path)
        }
    }
    #endif

    /// Zero-fills with direct I/O where the file system offers it: the zeros go from one aligned
    /// buffer to the disk without being copied into the page cache. Copying 64 MiB of zeros per
    /// segment through the page cache cost a busy node about a tenth of its CPU. Falls back to
    /// ordinary writes (tmpfs, say, refuses O_DIRECT).
    func writeZeros(count: Int) throws(StorageError) {
        #if os(Linux)
        let chunkBytes = 1 << 20
        let direct = systemOpen(path, O_WRONLY | Self.directFlag | O_CLOEXEC)
        guard direct >= 0 else { return try writeZerosByWriting(count: count) }
        defer { systemClose(direct) }
        guard let buffer = aligned(chunkBytes) else { return try writeZerosByWriting(count: count) }
        defer { free(buffer) }
        memset(buffer, 0, chunkBytes)
        var offset = 0
        while offset < count {
            // Direct I/O wants whole blocks; a tail that is not one is written the ordinary way.
            let length = min(chunkBytes, count - offset)
            guard length % 4096 == 0 else { break }
            let result = pwrite(direct, buffer, length, off_t(offset))
            if result < 0 {
                if errno == EINTR { continue }
                if errno == EINVAL && offset == 0 { return try writeZerosByWriting(count: count) }
                throw PosixDirectory.failure("pwrite (direct)", path)
            }
            offset += result
        }
        if offset < count { try write([UInt8](repeating: 0, count: count - offset), at: offset) }
        #else
        try writeZerosByWriting(count: count)
        #endif
    }

    #if os(Linux)
    /// O_DIRECT, which Swift's Glibc module does not export.
    static var directFlag: Int32 {
        #if arch(x86_64)
        return 0o40000
        #else
        return 0o200000
        #endif
    }

    private func aligned(_ bytes: Int) -> UnsafeMutableRawPointer? {
        var pointer: UnsafeMutableRawPointer?
        return posix_memalign(&pointer, 4096, bytes) == 0 ? pointer : nil
    }
    #endif

    func close() {
        guard isOpen else { return }
        isOpen = false
        systemClose(descriptor)
    }
}
