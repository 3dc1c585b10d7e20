import Foundation

/// Zero-fills the log's next segment in the background, so that appends overwrite blocks the file
/// system has already allocated and written.
///
/// Why: a segment grown with ftruncate is sparse, and one preallocated with fallocate holds
/// "unwritten" extents. Either way every append lands in blocks whose state the file system must
/// change, and each fdatasync must then also commit that change to its journal. On this project's
/// ext4 test machine that made a sync of 16 KiB take about 160 µs instead of 100, and of 256 KiB
/// about 300 µs instead of 190. Blocks written once with zeros and synced are plain overwrites
/// afterwards: fdatasync only writes data. The price, one sequential zero-fill per segment, is paid
/// off the append path, while the current segment fills.
///
/// A segment that a snapshot has released is better still: its blocks are allocated and written,
/// and reusing it costs no disk bandwidth, where a zero-fill writes every byte twice (at 256
/// appenders on the test machine that halved the log's throughput). So released segments are kept,
/// up to `recycledFilesMax`, and taken before any zero-filled one. Their old records stay in
/// them; the frame format lets recovery tell those from the new segment's (`WALFrame`).
///
/// A prepared file is named so that recovery never takes it for a segment, and uniquely per log
/// instance, so that a log abandoned after a (simulated) crash can never be zero-filling the file
/// its successor has made a segment. Opening a log removes leftovers. Running out of space surfaces
/// here, at rotation, before any record is written to the new segment.
///
/// The simulator runs the log over a `FaultyDirectory` and needs every run of a seed to be the same:
/// there the preparer works `inline`, on the caller's thread, and names its files by counting
/// (no log is ever abandoned mid-preparation there, as nothing runs in the background).
final class SegmentPreparer: @unchecked Sendable {
    static let filePrefix = "segment-prepared-"
    static let recycledPrefix = "segment-recycled-"
    /// Released segments kept for reuse. Two cover a log that releases one segment as it starts the
    /// next; more would only hold disk space.
    static let recycledFilesMax = 2

    let fileName: String

    private let directory: StorageDirectory
    private let bytes: Int
    /// Prepares on the caller's thread, with names that do not depend on a random UUID.
    private let inline: Bool
    private let condition = NSCondition()
    private var outcome: Result<StorageFile, StorageError>?
    private var preparing = false
    /// The last preparation's failure, kept through retries until one succeeds, so the disk does
    /// not look fine while a retry is under way.
    private var lastFailure: StorageError?
    /// Names of released segments waiting for reuse, oldest first. Touched by the log's thread only.
    private var recycled: [String] = []

    init(directory: StorageDirectory, bytes: Int, inline: Bool = false) {
        self.directory = directory
        self.bytes = bytes
        self.inline = inline
        fileName = Self.filePrefix + (inline ? "inline" : UUID().uuidString) + ".tmp"
    }

    /// A name with `prefix` that no file in the directory has: random on a node, counted inline.
    private func freshName(_ prefix: String) throws(StorageError) -> String {
        guard inline else { return prefix + UUID().uuidString + ".tmp" }
        let taken = Set(try directory.list())
        var number = 0
        while taken.contains(prefix + "\(number).tmp") { number += 1 }
        return prefix + "\(number).tmp"
    }

    /// Starts preparing a segment on a background thread (or now, inline), unless one is already prepared or under way.
    func prepareNext() {
        if !recycled.isEmpty { return }
        condition.lock()
        if preparing || outcome != nil {
            condition.unlock()
            return
        }
        preparing = true
        condition.unlock()
        if inline {
            finishPreparing()
        } else {
            Thread.detachNewThread { [self] in finishPreparing() }
        }
    }

    private func finishPreparing() {
        let prepared = Result { () throws(StorageError) in try prepare() }
        // A segment that could not be filled (a full disk) must not hold the space it got.
        if case .failure = prepared { try? directory.remove(fileName) }
        condition.lock()
        outcome = prepared
        preparing = false
        switch prepared {
        case .success: lastFailure = nil
        case .failure(let error): lastFailure = error
        }
        condition.broadcast()
        condition.unlock()
    }

    /// Why the last background preparation failed, if it did (a full disk, say): the log has room
    /// only for what fits in its current segment until a retry succeeds.
    var failure: StorageError? {
        condition.lock()
        defer { condition.unlock() }
        return lastFailure
    }

    /// Forgets a failed preparation and starts another: also one whose failure `take` already
    /// threw, which left no outcome behind but still counts as `failure`. A released file waiting
    /// to be reused is the next segment, so there is then nothing to prepare and no problem left.
    func retryAfterFailure() {
        condition.lock()
        var retry = false
        if !preparing, lastFailure != nil {
            if case .success? = outcome {} else {
                outcome = nil
                retry = true
            }
        }
        if retry && !recycled.isEmpty {
            lastFailure = nil
            retry = false
        }
        condition.unlock()
        if retry { prepareNext() }
    }

    /// Waits for the prepared segment (preparing it now if nobody asked earlier) and renames it to
    /// `name`. The caller syncs the directory before relying on the new name. A failure, such as a
    /// full disk, is thrown; the next call prepares afresh.
    func take(as name: String) throws(StorageError) -> StorageFile {
        if let reused = recycled.first {
            try directory.rename(reused, to: name)
            recycled.removeFirst()
            // Both renames, segment to recycled name and back, must be durable before new records
            // go in: otherwise a crash could leave the released segment's old name on a file that
            // holds the new segment's records, and recovery would refuse it.
            try directory.sync()
            return try directory.open(name, create: false)
        }
        prepareNext()  // Does nothing if one is prepared or under way.
        condition.lock()
        while preparing { condition.wait() }
        let prepared = outcome!
        outcome = nil
        condition.unlock()
        let file = try prepared.get()
        try directory.rename(fileName, to: name)
        return file
    }

    private func prepare() throws(StorageError) -> StorageFile {
        // A failed earlier attempt may have left its file.
        if (try? directory.list().contains(fileName)) == true { try directory.remove(fileName) }
        let file = try directory.open(fileName, create: true)
        try file.writeZeros(count: bytes)
        try file.sync()
        return file
    }

    /// Keeps a released segment's file for reuse, or removes it if enough are kept already. The
    /// caller syncs the directory before relying on either.
    func recycle(_ segmentName: String) throws(StorageError) {
        guard recycled.count < Self.recycledFilesMax else {
            try directory.remove(segmentName)
            return
        }
        let name = try freshName(Self.recycledPrefix)
        try directory.rename(segmentName, to: name)
        recycled.append(name)
    }

    /// Removes half-prepared files that earlier runs left behind, and adopts their recycled ones
    /// (those of this segment size) for reuse.
    func adoptLeftovers() throws(StorageError) {
        for name in try directory.list() {
            if name.hasPrefix(Self.filePrefix) {
                try directory.remove(name)
            } else if name.hasPrefix(Self.recycledPrefix) {
                let file = try directory.open(name, create: false)
                let size = try file.size()
                file.close()
                if size == bytes && recycled.count < Self.recycledFilesMax { recycled.append(name) } else { try directory.remove(name) }
            }
        }
    }
}
