import ConsensusCore
import Foundation

/// An in-memory directory that models a disk honestly and injects the faults real disks have:
/// unsynced writes lost at a crash, a torn last write (a prefix of what was not synced survives),
/// bit flips in old data, and a full disk. Deterministic: faults come from a seeded generator.
/// One lock guards it all, as group commit writes from one thread while it syncs from another.
public final class FaultyDirectory: StorageDirectory, @unchecked Sendable {
    let lock = NSLock()

    final class File: StorageFile {
        /// An operation since the last sync, in order; a crash keeps a prefix of them and may tear
        /// the first one it drops.
        enum Operation {
            case write(offset: Int, bytes: [UInt8])
            case truncate(size: Int)
        }

        let name: String
        unowned let directory: FaultyDirectory
        /// What a crash keeps.
        var durable: [UInt8] = []
        /// What reads see now.
        var current: [UInt8] = []
        var unsynced: [Operation] = []
        var isOpen = true

        init(name: String, directory: FaultyDirectory) {
            self.name = name
            self.directory = directory
        }

        static func apply(_ operation: Operation, to bytes: inout [UInt8]) {
            switch operation {
            case .write(let offset, let data):
                let end = offset + data.count
                if end > bytes.count { bytes += [UInt8](repeating: 0, count: end - bytes.count) }
                bytes.replaceSubrange(offset..<end, with: data)
            case .truncate(let size):
                if size < bytes.count { bytes.removeSubrange(size...) } else { bytes += [UInt8](repeating: 0, count: size - bytes.count) }
            }
        }

        func write(_ bytes: [UInt8], at offset: Int) throws(StorageError) {
            directory.lock.lock()
            defer { directory.lock.unlock() }
            let growth = max(0, offset + bytes.count - current.count)
            guard directory.usedBytes + growth <= directory.capacityBytes else { throw .diskFull(path: name) }
            let operation = Operation.write(offset: offset, bytes: bytes)
            Self.apply(operation, to: &current)
            unsynced.append(operation)
        }

        func read(at offset: Int, count: Int) throws(StorageError) -> [UInt8] {
            directory.lock.lock()
            defer { directory.lock.unlock() }
            guard offset < current.count else { return [] }
            return Array(current[offset..<min(current.count, offset + count)])
        }

        func size() throws(StorageError) -> Int {
            directory.lock.lock()
            defer { directory.lock.unlock() }
            return current.count
        }

        func truncate(to size: Int) throws(StorageError) {
            directory.lock.lock()
            defer { directory.lock.unlock() }
            guard size <= current.count || directory.usedBytes + size - current.count <= directory.capacityBytes else { throw .diskFull(path: name) }
            let operation = Operation.truncate(size: size)
            Self.apply(operation, to: &current)
            unsynced.append(operation)
        }

        func sync() throws(StorageError) {
            directory.lock.lock()
            defer { directory.lock.unlock() }
            directory.syncCount += 1
            if directory.ignoresFileSyncs { return }
            durable = current
            unsynced = []
        }

        func close() { isOpen = false }

        /// What the disk holds after a power cut: the synced state, a prefix of the later
        /// operations, and perhaps the start of the next write (a torn write).
        func survivingBytes(random: inout SeededRandom) -> [UInt8] {
            var bytes = durable
            let kept = random.int(in: 0..<(unsynced.count + 1))
            for operation in unsynced.prefix(kept) { Self.apply(operation, to: &bytes) }
            if kept < unsynced.count, case .write(let offset, let data) = unsynced[kept], random.chance(0.5) {
                Self.apply(.write(offset: offset, bytes: Array(data.prefix(random.int(in: 0..<(data.count + 1))))), to: &bytes)
            }
            return bytes
        }
    }

    public let path = "faulty"
    var files: [String: File] = [:]
    /// Names whose creation, removal or rename is durable.
    var durableNames: [String: File] = [:]
    var random: SeededRandom
    public var capacityBytes: Int
    public private(set) var syncCount = 0
    /// A disk whose volatile cache acknowledges a file's fsync without writing it: what a crash
    /// then keeps is only what happened to reach the platter. Real disks have done this; here it
    /// shows that the checkers above the log notice acknowledged data going missing.
    public var ignoresFileSyncs = false
    /// A disk on which `flipBit` changes nothing: for showing that a check expecting recovery to
    /// refuse a flipped bit notices when it does not.
    public var hidesBitFlips = false

    public init(seed: UInt64, capacityBytes: Int = .max) {
        self.random = SeededRandom(seed: seed)
        self.capacityBytes = capacityBytes
    }

    /// Bytes the files hold now; read with the lock held.
    var usedBytes: Int { files.values.reduce(0) { $0 + $1.current.count } }

    /// Bytes the files hold now, for a caller that wants to leave the disk a given room.
    public var bytesInUse: Int {
        lock.lock()
        defer { lock.unlock() }
        return usedBytes
    }

    public func list() throws(StorageError) -> [String] {
        lock.lock()
        defer { lock.unlock() }
        return files.keys.sorted()
    }

    public func open(_ name: String, create: Bool) throws(StorageError) -> StorageFile {
        lock.lock()
        defer { lock.unlock() }
        if let file = files[name] { return file }
        guard create else { throw .system(operation: "open", path: name, errno: 2) }
        let file = File(name: name, directory: self)
        files[name] = file
        return file
    }

    public func remove(_ name: String) throws(StorageError) {
        lock.lock()
        defer { lock.unlock() }
        guard files.removeValue(forKey: name) != nil else { throw .system(operation: "remove", path: name, errno: 2) }
    }

    public func rename(_ source: String, to destination: String) throws(StorageError) {
        lock.lock()
        defer { lock.unlock() }
        guard let file = files.removeValue(forKey: source) else { throw .system(operation: "rename", path: source, errno: 2) }
        files[destination] = file
    }

    public func sync() throws(StorageError) {
        lock.lock()
        defer { lock.unlock() }
        durableNames = files
        syncCount += 1
    }

    /// A power cut: names not made durable by a directory sync vanish or reappear, and each file
    /// keeps its synced bytes plus a prefix of its later operations, the last perhaps torn.
    public func crash() {
        lock.lock()
        defer { lock.unlock() }
        var survivors: [String: File] = [:]
        for (name, file) in durableNames.sorted(by: { $0.key < $1.key }) {
            let revived = File(name: name, directory: self)
            revived.durable = file.survivingBytes(random: &random)
            revived.current = revived.durable
            survivors[name] = revived
        }
        files = survivors
        durableNames = survivors
    }

    /// Flips one bit of the durable contents of `name` at `offset`: silent corruption of old data.
    public func flipBit(in name: String, at offset: Int, bit: Int = 0) {
        lock.lock()
        defer { lock.unlock() }
        guard !hidesBitFlips, let file = files[name], offset < file.current.count else { return }
        file.current[offset] ^= UInt8(1 << bit)
        file.durable = file.current
    }

    public func contents(of name: String) -> [UInt8]? {
        lock.lock()
        defer { lock.unlock() }
        return files[name]?.current
    }
}
