import BoltSnapshot
import XCTest

final class EtcdBackendTests: XCTestCase {
    // MARK: - Records, byte for byte as etcd writes them

    func testKeyValueEncodingMatchesGogoProtobuf() {
        let keyValue = EtcdKeyValue(key: Array("a".utf8), createRevision: 2, modRevision: 2, version: 1, value: Array("1".utf8))
        XCTAssertEqual(keyValue.encoded(), [0x0A, 0x01, 0x61, 0x10, 0x02, 0x18, 0x02, 0x20, 0x01, 0x2A, 0x01, 0x31])
        XCTAssertEqual(EtcdKeyValue(key: Array("gone".utf8)).encoded(), [0x0A, 0x04] + Array("gone".utf8), "a tombstone's record is the key alone")
        let negativeLease = EtcdKeyValue(key: [1], lease: -1).encoded()
        XCTAssertEqual(negativeLease, [0x0A, 0x01, 0x01, 0x30] + [UInt8](repeating: 0xFF, count: 9) + [0x01])
        XCTAssertEqual(try EtcdKeyValue.decode(negativeLease, message: "test").lease, -1)
    }

    func testKeyValueDecodingSkipsUnknownFieldsAndRefusesDamage() throws {
        let known = EtcdKeyValue(key: [9], createRevision: 5, modRevision: 6, version: 2, value: [1, 2], lease: 77)
        // Field 15 as varint, field 16 length-delimited, field 17 fixed64 and field 18 fixed32.
        let unknown: [UInt8] = [0x78, 0x05, 0x82, 0x01, 0x02, 0xAA, 0xBB, 0x89, 0x01] + [UInt8](repeating: 0, count: 8) + [0x95, 0x01, 0, 0, 0, 0]
        XCTAssertEqual(try EtcdKeyValue.decode(known.encoded() + unknown, message: "test"), known)
        XCTAssertThrowsError(try EtcdKeyValue.decode([0x0A, 0x05, 0x01], message: "test"))
        XCTAssertThrowsError(try EtcdKeyValue.decode([0x10] + [UInt8](repeating: 0x80, count: 11), message: "test"))
        XCTAssertThrowsError(try EtcdKeyValue.decode([0x10, 0x80], message: "test"))
        XCTAssertThrowsError(try EtcdKeyValue.decode([0x0B], message: "test"), "wire type 3 (groups) is refused")
        XCTAssertThrowsError(try EtcdKeyValue.decode([0x12, 0x00], message: "test"), "create_revision must be a varint")
        XCTAssertThrowsError(try EtcdKeyValue.decode([0x00, 0x00], message: "test"), "field number 0")
    }

    func testRevisionKeysSortAsRevisions() {
        XCTAssertEqual(EtcdRevision(main: 2, sub: 1).encoded(), [0, 0, 0, 0, 0, 0, 0, 2, 0x5F, 0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertEqual(EtcdRevision(main: 2).encoded(tombstone: true).last, UInt8(ascii: "t"))
        let decoded = EtcdRevision.decode(EtcdRevision(main: 300, sub: 4).encoded(tombstone: true))
        XCTAssertEqual(decoded?.revision, EtcdRevision(main: 300, sub: 4))
        XCTAssertEqual(decoded?.isTombstone, true)
        XCTAssertNil(EtcdRevision.decode(Array("short".utf8)))
        XCTAssertNil(EtcdRevision.decode(EtcdRevision(main: 1).encoded() + [UInt8(ascii: "x")]))
    }

    func testMemberJSONMatchesEtcd() throws {
        // As etcd 3.4.23 wrote it in a snapshot taken for this test's reference.
        let member = EtcdBackendMember(id: 17_227_010_664_766_480_024, name: "probe", peerURLs: ["http://127.0.0.1:45380"], clientURLs: ["http://127.0.0.1:45379"])
        XCTAssertEqual(
            String(decoding: member.encodedJSON(), as: UTF8.self),
            #"{"id":17227010664766480024,"peerURLs":["http://127.0.0.1:45380"],"name":"probe","clientURLs":["http://127.0.0.1:45379"]}"#)
        XCTAssertEqual(String(decoding: member.bucketKey, as: UTF8.self), "ef12a2ed4f459e98")
        let learner = EtcdBackendMember(id: 1, name: "", peerURLs: [], isLearner: true)
        XCTAssertEqual(String(decoding: learner.encodedJSON(), as: UTF8.self), #"{"id":1,"peerURLs":[],"isLearner":true}"#)
        let odd = EtcdBackendMember(id: 2, name: "a<b>&\"c\"\\\n\u{1}\u{2028}é😀", peerURLs: ["x"])
        XCTAssertEqual(
            String(decoding: odd.encodedJSON(), as: UTF8.self),
            #"{"id":2,"peerURLs":["x"],"name":"a\u003cb\u003e\u0026\"c\"\\\n\u0001\u2028é😀"}"#)
        for each in [member, learner, odd] {
            XCTAssertEqual(try EtcdBackendMember.decode(key: each.bucketKey, json: each.encodedJSON()), each)
        }
        let spaced = Array(#" { "peerURLs" : null , "id" : 2, "name":"\ud83d\ude00\/", "extra": [{"a": [1, true, null]}] } "#.utf8)
        XCTAssertEqual(try EtcdBackendMember.decode(key: Array("2".utf8), json: spaced), EtcdBackendMember(id: 2, name: "😀/", peerURLs: []))
        XCTAssertThrowsError(try EtcdBackendMember.decode(key: Array("3".utf8), json: member.encodedJSON()), "key and record disagree")
        XCTAssertThrowsError(try EtcdBackendMember.decode(key: Array("2".utf8), json: Array(#"{"id":2,"peerURLs":"x"}"#.utf8)))
        XCTAssertThrowsError(try EtcdBackendMember.decode(key: Array("2".utf8), json: Array(String(repeating: "[", count: 100).utf8)))
    }

    func testJSONParserIsTotalOnRandomInput() {
        var generator = SeededGenerator(seed: 4242)
        let alphabet = Array(#"{}[]",:\"truefalsnul0123456789-+.eE \u00"#.utf8)
        for _ in 0..<3000 {
            let length = Int.random(in: 0...40, using: &generator)
            let bytes = (0..<length).map { _ in alphabet.randomElement(using: &generator) ?? 0 }
            _ = try? JSONValue.parse(bytes)
            _ = try? EtcdBackendMember.decode(key: Array("1".utf8), json: bytes)
        }
    }

    // MARK: - Whole backends

    func testContentsRoundTripThroughABoltFile() throws {
        var contents = EtcdInteropTests.historyWithEveryFeature()
        contents.removedMemberIDs = [0x1234, 0xFEDCBA9876543210]
        // In bucket order, as a decode returns them: by encoded key.
        contents.alarms = [EtcdAlarm(memberID: 7, kind: .other(9)), EtcdAlarm(memberID: 0xABCDEF, kind: .noSpace)]
        contents.otherEntries = [
            BoltBucket(name: "auth", pairs: [BoltPair(key: Array("authRevision".utf8), value: [0, 0, 0, 0, 0, 0, 0, 1])]),
            BoltBucket(name: "meta", pairs: [BoltPair(key: Array("term".utf8), value: [0, 0, 0, 0, 0, 0, 0, 3])]),
            BoltBucket(name: [0xFF, 0x00], pairs: [BoltPair(key: [1], value: [])]),
        ]
        let file = try EtcdBackend.encode(contents)
        let decoded = try EtcdBackend.decode(file)
        assertSameContents(decoded, contents)
        let names = try BoltReader.decode(file).buckets.map { String(decoding: $0.name, as: UTF8.self) }
        XCTAssertEqual(Array(names.prefix(10)), ["alarm", "auth", "authRoles", "authUsers", "cluster", "key", "lease", "members", "members_removed", "meta"])
        XCTAssertTrue(try EtcdBackend.decodeSnapshot(EtcdBackend.encodeSnapshot(contents)) == contents)
    }

    /// Field by field, so that a failure names the field instead of printing every value.
    func assertSameContents(_ actual: EtcdBackendContents, _ expected: EtcdBackendContents, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.revisions.count, expected.revisions.count, "revision count", file: file, line: line)
        for (actualRecord, expectedRecord) in zip(actual.revisions, expected.revisions) where actualRecord != expectedRecord {
            XCTFail("revision \(expectedRecord.revision) differs", file: file, line: line)
        }
        XCTAssertEqual(actual.leases, expected.leases, file: file, line: line)
        XCTAssertEqual(actual.members, expected.members, file: file, line: line)
        XCTAssertEqual(actual.removedMemberIDs, expected.removedMemberIDs, file: file, line: line)
        XCTAssertEqual(actual.consistentIndex, expected.consistentIndex, file: file, line: line)
        XCTAssertEqual(actual.finishedCompactRevision, expected.finishedCompactRevision, file: file, line: line)
        XCTAssertEqual(actual.scheduledCompactRevision, expected.scheduledCompactRevision, file: file, line: line)
        XCTAssertEqual(actual.alarms, expected.alarms, file: file, line: line)
        XCTAssertEqual(actual.clusterVersion, expected.clusterVersion, file: file, line: line)
        XCTAssertEqual(actual.otherEntries, expected.otherEntries, file: file, line: line)
    }

    func testEmptyBackendHasEveryEtcdBucket() throws {
        let decoded = try EtcdBackend.decode(try EtcdBackend.encode(EtcdBackendContents()))
        XCTAssertEqual(decoded, EtcdBackendContents())
        XCTAssertEqual(decoded.currentRevision, 1)
    }

    func testMalformedEtcdRecordsAreRefusedWithTheirPlace() throws {
        func refuse(_ bucket: String, _ pair: BoltPair, containing expected: String) throws {
            let file = try BoltWriter.encode([BoltBucket(name: bucket, pairs: [pair])])
            XCTAssertThrowsError(try EtcdBackend.decode(file)) { error in
                XCTAssertTrue("\(error)".contains(expected), "\(error)")
            }
        }
        try refuse("key", BoltPair(key: Array("not-a-revision".utf8), value: []), containing: "key bucket")
        try refuse("key", BoltPair(key: EtcdRevision(main: 3).encoded(), value: [0x0A, 0x09]), containing: "revision 3_0")
        try refuse("lease", BoltPair(key: [1, 2], value: []), containing: "lease bucket")
        try refuse("lease", BoltPair(key: [0, 0, 0, 0, 0, 0, 0, 5], value: EtcdLease(id: 6, ttl: 1).encoded()), containing: "lease 5")
        try refuse("meta", BoltPair(key: Array("consistent_index".utf8), value: [1]), containing: "consistent_index")
        try refuse("meta", BoltPair(key: Array("finishedCompactRev".utf8), value: [1]), containing: "finishedCompactRev")
        try refuse("members", BoltPair(key: Array("zz".utf8), value: []), containing: "members bucket")
        try refuse("members_removed", BoltPair(key: Array("zz".utf8), value: []), containing: "members_removed")
        try refuse("alarm", BoltPair(key: [0x08], value: []), containing: "alarm bucket")
    }

    // MARK: - HashKV

    func testKeepSetFollowsEtcdsKeyIndex() {
        let a = Array("a".utf8)
        let b = Array("b".utf8)
        let revisions: [EtcdRevisionRecord] = [
            .put(EtcdRevision(main: 2), key: a, value: [1], createRevision: 2, version: 1),
            .put(EtcdRevision(main: 3), key: b, value: [1], createRevision: 3, version: 1),
            .tombstone(EtcdRevision(main: 4), key: b),
            .put(EtcdRevision(main: 5), key: a, value: [2], createRevision: 2, version: 2),
            .put(EtcdRevision(main: 6), key: b, value: [2], createRevision: 6, version: 1),
            .tombstone(EtcdRevision(main: 7), key: a),
        ]
        XCTAssertEqual(EtcdHashKV.keepSet(revisions: revisions, atRevision: 2), [EtcdRevision(main: 2)])
        XCTAssertEqual(EtcdHashKV.keepSet(revisions: revisions, atRevision: 3), [EtcdRevision(main: 2), EtcdRevision(main: 3)])
        // b's tombstone at 4 is the newest at 4 and ends its generation: not kept.
        XCTAssertEqual(EtcdHashKV.keepSet(revisions: revisions, atRevision: 4), [EtcdRevision(main: 2)])
        XCTAssertEqual(EtcdHashKV.keepSet(revisions: revisions, atRevision: 6), [EtcdRevision(main: 5), EtcdRevision(main: 6)])
        XCTAssertEqual(EtcdHashKV.keepSet(revisions: revisions, atRevision: 7), [EtcdRevision(main: 6)])
        // A tombstone seen before any put of its key never reaches etcd's index.
        XCTAssertEqual(EtcdHashKV.keepSet(revisions: [.tombstone(EtcdRevision(main: 9), key: a)], atRevision: 9), [])
    }

    func testHashSkipsCompactedRevisionsOutsideTheKeepSet() {
        let a = Array("a".utf8)
        let revisions: [EtcdRevisionRecord] = [
            .put(EtcdRevision(main: 2), key: a, value: [1], createRevision: 2, version: 1),
            .put(EtcdRevision(main: 4), key: a, value: [2], createRevision: 2, version: 2),
        ]
        func crc(_ records: [EtcdRevisionRecord]) -> UInt32 {
            var crc = CastagnoliCRC32()
            crc.update(Array("key".utf8))
            for record in records {
                crc.update(record.bucketKey)
                crc.update(record.bucketValue)
            }
            return crc.value
        }
        // No compaction: everything up to the revision.
        XCTAssertEqual(EtcdHashKV.hash(revisions: revisions, atRevision: 4, compactRevision: -1), crc(revisions))
        XCTAssertEqual(EtcdHashKV.hash(revisions: revisions, atRevision: 3, compactRevision: -1), crc([revisions[0]]))
        // Compacted at 3: revision 2 is at or below it and not in Keep(4) = {4}, so it is skipped.
        XCTAssertEqual(EtcdHashKV.hash(revisions: revisions, atRevision: 4, compactRevision: 3), crc([revisions[1]]))
        // An empty keep set skips nothing.
        XCTAssertEqual(EtcdHashKV.hash(revisions: revisions, atRevision: 4, compactRevision: 3, keep: []), crc(revisions))
        // Order of the input does not matter: bucket order is restored.
        XCTAssertEqual(EtcdHashKV.hash(revisions: revisions.reversed(), atRevision: 4, compactRevision: -1), crc(revisions))
    }
}
