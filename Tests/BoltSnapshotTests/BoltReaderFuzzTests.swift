import BoltSnapshot
import Bytes
import XCTest

/// Damaged files must end in an error or a result, never a trap or a hang. A trap would end the
/// test process, so reaching the end of each loop is the assertion; each case prints its seed.
final class BoltReaderFuzzTests: XCTestCase {
    static let seed: UInt64 = 0x5EED_B017

    /// A small file with several pages: branch levels, an overflow value, sub-buckets, and etcd's
    /// buckets, so that damage can land on every kind of structure.
    static func sampleFile() throws -> [UInt8] {
        var contents = EtcdInteropTests.historyWithEveryFeature()
        // A value of two pages instead of the fixture's 200 kB, to keep the file small.
        contents.revisions[8].keyValue.value = [UInt8](repeating: 7, count: 6000)
        for index in 0..<400 {
            contents.revisions.append(.put(EtcdRevision(main: 100 + Int64(index)), key: Array("k\(index)".utf8), value: [UInt8(index & 0xFF)], createRevision: 100 + Int64(index), version: 1))
        }
        contents.otherEntries = [BoltBucket(name: "extra", pairs: [BoltPair(key: [1], value: [2])], buckets: [BoltBucket(name: "nested", pairs: [BoltPair(key: [3], value: [4])])])]
        return try EtcdBackend.encode(contents)
    }

    func testEveryTruncationIsRefused() throws {
        let file = try Self.sampleFile()
        XCTAssertNoThrow(try BoltReader.decode(file))
        for length in 0..<file.count {
            let truncated = Array(file[0..<length])
            XCTAssertThrowsError(try BoltReader.decode(truncated), "truncated to \(length) of \(file.count) bytes")
        }
    }

    func testRandomBitFlipsEndInAnErrorOrAResult() throws {
        let file = try Self.sampleFile()
        var generator = SeededGenerator(seed: Self.seed)
        var outcomes = (errors: 0, results: 0)
        for iteration in 0..<2000 {
            var damaged = file
            let flips = Int.random(in: 1...4, using: &generator)
            for _ in 0..<flips {
                let offset = Self.structuralOffset(in: file.count, using: &generator)
                damaged[offset] ^= 1 << UInt8.random(in: 0..<8, using: &generator)
            }
            Self.decodeBothWays(damaged, outcomes: &outcomes, context: "seed \(Self.seed) iteration \(iteration)")
        }
        XCTAssertGreaterThan(outcomes.errors, 0)
        XCTAssertGreaterThan(outcomes.results, 0)
    }

    func testRandomByteOverwritesEndInAnErrorOrAResult() throws {
        let file = try Self.sampleFile()
        var generator = SeededGenerator(seed: Self.seed ^ 0xFFFF)
        var outcomes = (errors: 0, results: 0)
        for iteration in 0..<2000 {
            var damaged = file
            let offset = Self.structuralOffset(in: file.count, using: &generator)
            let length = min(Int.random(in: 1...24, using: &generator), file.count - offset)
            for index in offset..<(offset + length) {
                // Small numbers and all-ones are the values most likely to pass a bounds check.
                damaged[index] = [0, 1, 2, 0xFF, UInt8.random(in: 0...255, using: &generator)].randomElement(using: &generator) ?? 0
            }
            Self.decodeBothWays(damaged, outcomes: &outcomes, context: "seed \(Self.seed ^ 0xFFFF) iteration \(iteration)")
        }
        XCTAssertGreaterThan(outcomes.errors, 0)
    }

    func testPageReferencesPointingAnywhereAreRefused() throws {
        // Rewrites each branch child and bucket root to every other page id, including itself
        // (a cycle), the meta pages and the freelist.
        let file = try BoltWriter.encode([BoltBucket(name: "b", pairs: (0..<600).map { BoltPair(key: Array("key\($0)".utf8), value: Array("v".utf8)) })])
        let pageCount = file.count / BoltLayout.pageSize
        var tried = 0
        for pageID in 2..<pageCount where file.loadLittleEndian(UInt16.self, at: pageID * 4096 + 8) == BoltLayout.branchPageFlag {
            let childOffset = pageID * 4096 + 16 + 8
            let originalChild = file.loadLittleEndian(UInt64.self, at: childOffset)
            for target in [0, 1, 2, pageID, pageCount, Int(UInt32.max)] + Array(3..<pageCount) where UInt64(target) != originalChild {
                var damaged = file
                damaged.storeLittleEndian(UInt64(target), at: childOffset)
                XCTAssertThrowsError(try BoltReader.decode(damaged), "page \(pageID)'s first child pointed at page \(target)")
                tried += 1
            }
        }
        XCTAssertGreaterThan(tried, 0, "the file has a branch page")
    }

    func testRandomBytesAreRefused() {
        var generator = SeededGenerator(seed: Self.seed &+ 1)
        for iteration in 0..<300 {
            let bytes = generator.bytes(count: Int.random(in: 0...20_000, using: &generator))
            XCTAssertThrowsError(try BoltReader.decode(bytes), "seed \(Self.seed &+ 1) iteration \(iteration)")
        }
    }

    /// Page headers, element arrays and meta fields are where damage changes the walk; most of a
    /// page is data or zero padding. Half the offsets land in the first 96 bytes of some page.
    static func structuralOffset(in count: Int, using generator: inout SeededGenerator) -> Int {
        if Bool.random(using: &generator) {
            return Int.random(in: 0..<count, using: &generator)
        }
        let page = Int.random(in: 0..<(count / BoltLayout.pageSize), using: &generator)
        return page * BoltLayout.pageSize + Int.random(in: 0..<96, using: &generator)
    }

    /// Decodes as bbolt and as an etcd backend; both must return.
    static func decodeBothWays(_ bytes: [UInt8], outcomes: inout (errors: Int, results: Int), context: String) {
        do {
            _ = try BoltReader.decode(bytes)
            outcomes.results += 1
        } catch {
            outcomes.errors += 1
            XCTAssertFalse("\(error)".isEmpty, context)
        }
        _ = try? EtcdBackend.decode(bytes)
        _ = try? EtcdSnapshotStatus.of(bytes)
    }
}
