import ConsensusCore
import Foundation
import Storage
import Testing

@Suite struct SegmentPreparationTests {
    func scratch() throws -> String {
        let path = NSTemporaryDirectory() + "synod-prepare-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    /// Blocks the file system has actually allocated to `path`, in bytes (st_blocks is in 512s).
    func allocatedBytes(_ path: String) -> Int {
        var info = stat()
        guard stat(path, &info) == 0 else { return -1 }
        return Int(info.st_blocks) * 512
    }

    /// A segment the log moves to was zero-filled beforehand: every block is allocated and written,
    /// so appends overwrite rather than allocate (a sparse file would hold almost no blocks).
    @Test func aNewSegmentIsFullyWrittenBeforeTheLogMovesToIt() throws {
        let path = try scratch()
        defer { try? FileManager.default.removeItem(atPath: path) }
        let segmentBytes = 1 << 20
        let (log, _) = try WriteAheadLog.open(directory: try PosixDirectory(path: path), segmentBytesMax: segmentBytes)
        let payload = [UInt8](repeating: 0x33, count: 1000)
        var index: LogIndex = 0
        while log.segmentCount < 2 {
            index += 1
            try log.append([.entry(Entry(index: index, term: 1, data: payload))])
        }
        try log.sync()
        let second = try FileManager.default.contentsOfDirectory(atPath: path).filter { $0.hasSuffix(".wal") }.sorted()[1]
        #expect(allocatedBytes(path + "/" + second) >= segmentBytes)
        let (_, recovered) = try WriteAheadLog.open(directory: try PosixDirectory(path: path), segmentBytesMax: segmentBytes)
        #expect(recovered.entries.map(\.index) == Array(1...index))
    }

    /// A preparation cut short by a crash leaves a file that is not a segment: the next open
    /// ignores it for recovery and removes it.
    @Test func leftoverPreparedFilesAreRemovedAtOpen() throws {
        let directory = FaultyDirectory(seed: 11)
        do {
            let (log, _) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
            try log.append([.entry(Entry(index: 1, term: 1, data: [1, 2, 3]))])
            try log.sync()
        }
        let leftover = try directory.open("segment-prepared-0000.tmp", create: true)
        try leftover.write([UInt8](repeating: 0, count: 100), at: 0)
        try directory.sync()
        let (_, recovered) = try WriteAheadLog.open(directory: directory, segmentBytesMax: 4096)
        #expect(recovered.entries.map(\.index) == [1])
        #expect(try directory.list().allSatisfy { !$0.hasPrefix("segment-prepared-") })
    }
}
