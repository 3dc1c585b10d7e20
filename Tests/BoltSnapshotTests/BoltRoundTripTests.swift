import BoltSnapshot
import Bytes
import XCTest

final class BoltRoundTripTests: XCTestCase {
    func testEmptyDatabaseIsFourPagesAndReadsBackEmpty() throws {
        let file = try BoltWriter.encode([])
        XCTAssertEqual(file.count, 4 * BoltLayout.pageSize, "two metas, the freelist, and an empty root leaf")
        let database = try BoltReader.decode(file)
        XCTAssertEqual(database.buckets, [])
        XCTAssertEqual(database.pageSize, 4096)
        XCTAssertEqual(database.transactionID, 2)
    }

    func testSmallBucketsReadBackSortedWithEmptyBuckets() throws {
        let buckets = [
            BoltBucket(name: "zeta", pairs: [pair("b", "2"), pair("a", "1"), pair("c", "")]),
            BoltBucket(name: "alpha"),
            BoltBucket(name: "mid", pairs: [pair("k", "v")], buckets: [BoltBucket(name: "inner", pairs: [pair("x", "y")])]),
        ]
        let database = try BoltReader.decode(try BoltWriter.encode(buckets))
        XCTAssertEqual(database.buckets.map { String(decoding: $0.name, as: UTF8.self) }, ["alpha", "mid", "zeta"])
        XCTAssertEqual(database.bucket(named: "zeta")?.pairs, [pair("a", "1"), pair("b", "2"), pair("c", "")])
        XCTAssertEqual(database.bucket(named: "alpha")?.pairs, [])
        XCTAssertEqual(database.bucket(named: "mid")?.pairs, [pair("k", "v")])
        XCTAssertEqual(database.bucket(named: "mid")?.bucket(named: "inner")?.pairs, [pair("x", "y")])
    }

    func testTensOfThousandsOfKeysBuildABranchedTree() throws {
        var generator = SeededGenerator(seed: 7)
        let keyCount = 40_000
        let pairs = (0..<keyCount).map { index in
            BoltPair(key: Array("key/\(index)".utf8), value: generator.bytes(count: Int.random(in: 0...40, using: &generator)))
        }
        let file = try BoltWriter.encode([BoltBucket(name: "many", pairs: pairs.shuffled(using: &generator)), BoltBucket(name: "few", pairs: [pair("a", "b")])])
        let database = try BoltReader.decode(file)
        let expected = pairs.sorted { bytewiseLess($0.key, $1.key) }
        XCTAssertEqual(database.bucket(named: "many")?.pairs, expected)
        XCTAssertEqual(database.bucket(named: "few")?.pairs, [pair("a", "b")])
        XCTAssertGreaterThanOrEqual(treeDepth(file, bucket: "many"), 3, "40,000 keys need a leaf level and at least two branch levels")
        XCTAssertEqual(file.count % BoltLayout.pageSize, 0)
    }

    func testValuesOfSeveralMebibytesSpanOverflowPages() throws {
        var generator = SeededGenerator(seed: 11)
        let big = generator.bytes(count: 5 << 20)
        let medium = generator.bytes(count: 3 << 20 + 17)
        let pairs = [
            BoltPair(key: Array("a-small".utf8), value: [1, 2, 3]),
            BoltPair(key: Array("b-big".utf8), value: big),
            BoltPair(key: Array("c-small".utf8), value: [4]),
            BoltPair(key: Array("d-medium".utf8), value: medium),
            BoltPair(key: Array("e-page-exactly".utf8), value: generator.bytes(count: BoltLayout.pageSize - 16 - 16 - 14)),
        ]
        let file = try BoltWriter.encode([BoltBucket(name: "blobs", pairs: pairs)])
        let database = try BoltReader.decode(file)
        XCTAssertEqual(database.bucket(named: "blobs")?.pairs, pairs)
        XCTAssertGreaterThan(file.count, (5 << 20) + (3 << 20))
    }

    func testLargestEtcdValueFits() throws {
        let value = [UInt8](repeating: 0xAB, count: 64 << 20)
        let file = try BoltWriter.encode([BoltBucket(name: "key", pairs: [BoltPair(key: [1], value: value)])])
        let database = try BoltReader.decode(file)
        XCTAssertEqual(database.bucket(named: "key")?.pairs.first?.value.count, 64 << 20)
        XCTAssertTrue(database.bucket(named: "key")?.pairs.first?.value == value)
    }

    func testWriterRefusesWhatBboltCannotHold() {
        XCTAssertThrowsError(try BoltWriter.encode([BoltBucket(name: [])]))
        XCTAssertThrowsError(try BoltWriter.encode([BoltBucket(name: "a"), BoltBucket(name: "a")]))
        XCTAssertThrowsError(try BoltWriter.encode([BoltBucket(name: "a", pairs: [pair("k", "1"), pair("k", "2")])]))
        XCTAssertThrowsError(try BoltWriter.encode([BoltBucket(name: "a", pairs: [pair("k", "1")], buckets: [BoltBucket(name: "k")])]))
        XCTAssertThrowsError(try BoltWriter.encode([BoltBucket(name: "a", pairs: [pair("", "1")])]))
        XCTAssertThrowsError(try BoltWriter.encode([BoltBucket(name: "a", pairs: [BoltPair(key: [UInt8](repeating: 1, count: BoltLayout.keyBytesMax + 1), value: [])])]))
        var deep = BoltBucket(name: "leaf")
        for _ in 0..<BoltWriter.bucketDepthMax {
            deep = BoltBucket(name: "level", buckets: [deep])
        }
        XCTAssertThrowsError(try BoltWriter.encode([deep]))
    }

    func testMetaPagesCarryChecksummedFields() throws {
        let file = try BoltWriter.encode([BoltBucket(name: "b", pairs: [pair("k", "v")])])
        let meta0 = try BoltMeta.decode(file, at: 16, pageDescription: "meta 0")
        let meta1 = try BoltMeta.decode(file, at: 4096 + 16, pageDescription: "meta 1")
        XCTAssertEqual(meta0.transactionID, 2)
        XCTAssertEqual(meta1.transactionID, 1)
        XCTAssertEqual(meta0.freelistPageID, 2)
        XCTAssertEqual(meta0.highWaterPageID, UInt64(file.count / 4096))
        XCTAssertEqual(meta0.rootPageID, meta1.rootPageID)
        // FNV-64a of the empty input and of "a", from the reference implementation.
        XCTAssertEqual(FNV64a.hash([UInt8]()), 0xCBF2_9CE4_8422_2325)
        XCTAssertEqual(FNV64a.hash(Array("a".utf8)), 0xAF63_DC4C_8601_EC8C)
    }

    func testReaderFallsBackToTheOtherMetaWhenTheNewerIsDamaged() throws {
        var file = try BoltWriter.encode([BoltBucket(name: "b", pairs: [pair("k", "v")])])
        file[16 + 20] ^= 0xFF  // Inside meta 0's root page id: its checksum no longer matches.
        let database = try BoltReader.decode(file)
        XCTAssertEqual(database.transactionID, 1)
        XCTAssertEqual(database.bucket(named: "b")?.pairs, [pair("k", "v")])
        file[4096 + 16 + 20] ^= 0xFF
        XCTAssertThrowsError(try BoltReader.decode(file)) { error in
            XCTAssertTrue("\(error)".contains("no valid meta page"), "\(error)")
        }
    }

    func testInlineBucketsAreRead() throws {
        // bbolt stores a small bucket inside its parent's leaf: a bucket header with root 0, then
        // a leaf page. The writer never produces one, so the test lays it out by hand.
        let inlinePairs = [pair("one", "1"), pair("two", "22")]
        var inlinePage = BoltPageAppender(pageSize: BoltLayout.pageSize)
        _ = try inlinePage.appendLeafPage(inlinePairs.map { BoltLeafEntry(key: $0.key, value: $0.value, isBucket: false) }[...])
        let used = 16 + 2 * 16 + 3 + 1 + 3 + 2
        let inlineValue = BoltWriter.bucketHeader(rootPageID: 0) + inlinePage.takeBytes().prefix(used)

        var pages = BoltPageAppender(pageSize: BoltLayout.pageSize)
        try pages.reserve(pageCount: 3)
        let root = try pages.appendLeafPage([
            BoltLeafEntry(key: Array("inline".utf8), value: inlineValue, isBucket: true),
        ][...])
        let file = BoltWriter.finish(&pages, rootPageID: root)
        let database = try BoltReader.decode(file)
        XCTAssertEqual(database.bucket(named: "inline")?.pairs, inlinePairs)
    }

    func testErrorsNameThePageAndElement() throws {
        var file = try BoltWriter.encode([BoltBucket(name: "b", pairs: [pair("k", "v"), pair("l", "w")])])
        // Page 3 is bucket "b"'s leaf; its second element's key size is made huge.
        file.storeLittleEndian(UInt32(100_000), at: 3 * 4096 + 16 + 16 + 8)
        XCTAssertThrowsError(try BoltReader.decode(file)) { error in
            XCTAssertEqual((error as? BoltFormatError)?.message.hasPrefix("bucket \"b\": page 3: element 1 runs past the page end"), true, "\(error)")
        }
    }

    // MARK: - Helpers

    private func pair(_ key: String, _ value: String) -> BoltPair {
        BoltPair(key: Array(key.utf8), value: Array(value.utf8))
    }

    /// Levels from the bucket's root page down to its leaves, following first children.
    private func treeDepth(_ file: [UInt8], bucket name: String) -> Int {
        guard let database = try? BoltReader.decode(file), database.bucket(named: name) != nil,
              let rootPage = try? BoltMeta.decode(file, at: 16, pageDescription: "meta").rootPageID
        else { return 0 }
        // Find the bucket's header in the root leaf (one page for a handful of buckets).
        let rootStart = Int(rootPage) * 4096
        let count = Int(file.loadLittleEndian(UInt16.self, at: rootStart + 10) ?? 0)
        var pageID: UInt64 = 0
        for index in 0..<count {
            let element = rootStart + 16 + index * 16
            let position = Int(file.loadLittleEndian(UInt32.self, at: element + 4) ?? 0)
            let keySize = Int(file.loadLittleEndian(UInt32.self, at: element + 8) ?? 0)
            if Array(file[(element + position)..<(element + position + keySize)]) == Array(name.utf8) {
                pageID = file.loadLittleEndian(UInt64.self, at: element + position + keySize) ?? 0
            }
        }
        var depth = 1
        while depth < 64, file.loadLittleEndian(UInt16.self, at: Int(pageID) * 4096 + 8) == BoltLayout.branchPageFlag {
            let element = Int(pageID) * 4096 + 16
            pageID = file.loadLittleEndian(UInt64.self, at: element + 8) ?? 0
            depth += 1
        }
        return depth
    }
}
