import BoltSnapshot
import Foundation
import XCTest

final class HashTests: XCTestCase {
    // MARK: - SHA-256

    func testSHA256MatchesFIPSVectors() {
        XCTAssertEqual(hex(SHA256.hash([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        XCTAssertEqual(hex(SHA256.hash(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(
            hex(SHA256.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        XCTAssertEqual(
            hex(SHA256.hash(Array("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu".utf8))),
            "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1")
        XCTAssertEqual(hex(SHA256.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))), "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0")
    }

    func testIncrementalUpdatesMatchOneShot() {
        var generator = SeededGenerator(seed: 99)
        let bytes = generator.bytes(count: 1000)
        for split in [0, 1, 55, 56, 63, 64, 65, 128, 999, 1000] {
            var hasher = SHA256()
            hasher.update(Array(bytes[0..<split]))
            hasher.update(Array(bytes[split...]))
            XCTAssertEqual(hasher.finalize(), SHA256.hash(bytes), "split at \(split)")
        }
    }

    func testSHA256MatchesSha256sum() throws {
        let directory = try ProcessHarness.makeTemporaryDirectory("sha")
        defer { try? FileManager.default.removeItem(at: directory) }
        var generator = SeededGenerator(seed: 2024)
        // Every length across the padding boundaries, then a few larger ones.
        for length in Array(0...130) + [4096, 20_512, 300_001] {
            let bytes = generator.bytes(count: length)
            let url = directory.appendingPathComponent("input-\(length)")
            try Data(bytes).write(to: url)
            let output = try ProcessHarness.run("/usr/bin/sha256sum", [url.path])
            XCTAssertEqual(output.status, 0, output.stderr)
            XCTAssertEqual(String(output.stdout.prefix(64)), hex(SHA256.hash(bytes)), "length \(length)")
        }
    }

    // MARK: - Snapshot framing

    func testSnapshotHashIsAppendedAndVerified() throws {
        let database = try BoltWriter.encode([BoltBucket(name: "b", pairs: [BoltPair(key: [1], value: [2])])])
        XCTAssertFalse(SnapshotHash.hasTrailingHash(byteCount: database.count), "a bbolt file is whole pages")
        let snapshot = SnapshotHash.appendingSnapshotHash(database)
        XCTAssertEqual(snapshot.count, database.count + 32)
        XCTAssertTrue(SnapshotHash.hasTrailingHash(byteCount: snapshot.count))
        XCTAssertEqual(try SnapshotHash.verifiedSnapshot(snapshot), database)
        XCTAssertEqual(try SnapshotHash.verifiedSnapshot(database), database, "a file without a hash is taken as it is")

        var damaged = snapshot
        damaged[5000] ^= 1
        XCTAssertThrowsError(try SnapshotHash.verifiedSnapshot(damaged)) { error in
            XCTAssertTrue("\(error)".contains("mismatch"), "\(error)")
        }
    }

    // MARK: - CRC-32C

    func testCRC32CMatchesKnownValues() {
        XCTAssertEqual(CastagnoliCRC32.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CastagnoliCRC32.checksum([UInt8]()), 0)
        // RFC 3720 (iSCSI), appendix B.4.
        XCTAssertEqual(CastagnoliCRC32.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CastagnoliCRC32.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CastagnoliCRC32.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        var incremental = CastagnoliCRC32()
        incremental.update(Array("1234".utf8))
        incremental.update(Array("56789".utf8))
        XCTAssertEqual(incremental.value, 0xE306_9283)
    }

    private func hex(_ bytes: [UInt8]) -> String {
        bytes.map { $0 < 16 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}
