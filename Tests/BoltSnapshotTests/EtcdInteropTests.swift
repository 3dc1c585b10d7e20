import BoltSnapshot
import Foundation
import XCTest

/// Proves the format against the real thing: etcd 3.4 and etcdctl 3.4 at /usr/bin. These tests
/// fail, not skip, when the binaries are missing. Ports are on loopback, 45100-45199.
final class EtcdInteropTests: XCTestCase {
    // MARK: - Our file, read and restored by etcd

    func testEtcdRestoresAndServesAFileWeWrote() throws {
        try ProcessHarness.requireEtcdBinaries()
        let directory = try ProcessHarness.makeTemporaryDirectory("restore")
        defer { try? FileManager.default.removeItem(at: directory) }

        let contents = Self.historyWithEveryFeature()
        let snapshotURL = directory.appendingPathComponent("ours.db")
        let snapshot = try EtcdBackend.encodeSnapshot(contents)
        try Data(snapshot).write(to: snapshotURL)

        // snapshot status: etcdctl opens the file with bbolt, runs bbolt's consistency check, and
        // hashes every bucket; its numbers must be the ones we compute.
        let statusJSON = try ProcessHarness.etcdctl(["snapshot", "status", "-w", "json", snapshotURL.path])
        let status = try XCTUnwrap(ProcessHarness.parseJSON(statusJSON) as? [String: Any], statusJSON)
        let ours = try EtcdSnapshotStatus.of(snapshot)
        XCTAssertEqual(int64(status["revision"]), 11)
        XCTAssertEqual(int64(status["revision"]), ours.revision)
        XCTAssertEqual(int64(status["totalKey"]), Int64(ours.totalKey))
        XCTAssertEqual(int64(status["hash"]), Int64(ours.hash))
        XCTAssertEqual(int64(status["totalSize"]), ours.totalSize)

        let clientPort = 45101
        let peerPort = 45102
        let dataDirectory = directory.appendingPathComponent("restored.etcd")
        try ProcessHarness.etcdctl([
            "snapshot", "restore", snapshotURL.path, "--data-dir", dataDirectory.path, "--name", "restored",
            "--initial-cluster", "restored=http://127.0.0.1:\(peerPort)",
            "--initial-advertise-peer-urls", "http://127.0.0.1:\(peerPort)",
        ])

        // What restore did to the backend: it rewrote the consistent index to the new cluster's
        // member count and left the old "members" bucket alone (etcd 3.4 reads membership from
        // its v2 store).
        let restoredBackend = try EtcdBackend.decode(Array(Data(contentsOf: dataDirectory.appendingPathComponent("member/snap/db"))))
        XCTAssertEqual(restoredBackend.consistentIndex, 1)
        XCTAssertEqual(restoredBackend.members, contents.members)
        XCTAssertTrue(restoredBackend.revisions == contents.revisions, "restore keeps the key bucket")
        XCTAssertEqual(restoredBackend.leases, contents.leases)

        let server = try EtcdServerProcess(name: "restored", dataDirectory: dataDirectory, clientPort: clientPort, peerPort: peerPort, logDirectory: directory)
        defer { server.stop() }

        let served = try rangeAll(server)
        XCTAssertEqual(served.revision, 11)
        XCTAssertTrue(served.keyValues == Self.liveKeyValues(contents.revisions), "served: \(served.keyValues.map(\.modRevision))")

        // History survives: a revision after the compaction is readable, one before is not.
        XCTAssertEqual(try server.etcdctl(["get", "multi", "--rev", "4", "--print-value-only"]), "v2\n")
        XCTAssertThrowsError(try server.etcdctl(["get", "multi", "--rev", "3"])) { error in
            XCTAssertTrue("\(error)".contains("compacted"), "\(error)")
        }
        let leaseJSON = try server.etcdctl(["lease", "timetolive", String(Self.leaseID, radix: 16), "--keys", "-w", "json"])
        let lease = try XCTUnwrap(ProcessHarness.parseJSON(leaseJSON) as? [String: Any], leaseJSON)
        XCTAssertEqual(int64(lease["granted-ttl"]), 600)
        XCTAssertEqual((lease["keys"] as? [String])?.compactMap { Data(base64Encoded: $0) }, [Data("leased".utf8)])

        // etcd's HashKV over the restored store is the one we compute from our own contents.
        let hashJSON = try server.etcdctl(["endpoint", "hashkv", "-w", "json"])
        XCTAssertEqual(try hashKV(hashJSON), EtcdHashKV.hash(of: contents))
    }

    func testEtcdServesAndUpdatesABranchedTreeWeWrote() throws {
        try ProcessHarness.requireEtcdBinaries()
        let directory = try ProcessHarness.makeTemporaryDirectory("branched")
        defer { try? FileManager.default.removeItem(at: directory) }

        // 3,000 keys written three times each: 9,000 revisions, a key bucket of several branch
        // levels, and one value of 2 MiB spanning hundreds of pages.
        let keyCount = 3000
        var revisions: [EtcdRevisionRecord] = []
        var revision: Int64 = 1
        for round in 1...3 {
            for index in 0..<keyCount {
                revision += 1
                let key = Array("key/\(index)".utf8)
                let value = index == 7 && round == 3 ? [UInt8](repeating: 0x5A, count: 2 << 20) : Array("value \(round) of \(index)".utf8)
                revisions.append(.put(EtcdRevision(main: revision), key: key, value: value, createRevision: Int64(index) + 2, version: Int64(round)))
            }
        }
        let contents = EtcdBackendContents(revisions: revisions, consistentIndex: 9000)
        let snapshotURL = directory.appendingPathComponent("branched.db")
        try Data(EtcdBackend.encodeSnapshot(contents)).write(to: snapshotURL)

        let dataDirectory = directory.appendingPathComponent("branched.etcd")
        try ProcessHarness.etcdctl([
            "snapshot", "restore", snapshotURL.path, "--data-dir", dataDirectory.path, "--name", "branched",
            "--initial-cluster", "branched=http://127.0.0.1:45122", "--initial-advertise-peer-urls", "http://127.0.0.1:45122",
        ])
        let server = try EtcdServerProcess(name: "branched", dataDirectory: dataDirectory, clientPort: 45121, peerPort: 45122, logDirectory: directory)
        defer { server.stop() }

        let countJSON = try server.etcdctl(["get", "key/", "--prefix", "--keys-only", "-w", "json"])
        XCTAssertEqual(int64((try ProcessHarness.parseJSON(countJSON) as? [String: Any])?["count"]), Int64(keyCount))
        // Point reads seek through the branch pages; old revisions are still there.
        for index in [0, 1, 999, 1500, 2999] {
            XCTAssertEqual(try server.etcdctl(["get", "key/\(index)", "--print-value-only"]), "value 3 of \(index)\n")
            XCTAssertEqual(try server.etcdctl(["get", "key/\(index)", "--rev", String(2 + index), "--print-value-only"]), "value 1 of \(index)\n")
        }
        XCTAssertEqual(try server.etcdctl(["get", "key/7", "--print-value-only"]).count, (2 << 20) + 1)
        XCTAssertEqual(try hashKV(server.etcdctl(["endpoint", "hashkv", "-w", "json"])), EtcdHashKV.hash(of: contents))

        // bbolt rewrites our pages as etcd writes: splits, frees, reuses, and defragments them.
        try server.etcdctl(["put", "key/1500", "updated"])
        XCTAssertEqual(try server.etcdctl(["del", "key/2", "key/3"]), "1111\n", "key/2, key/2x, key/2xx and key/2xxx")
        try server.etcdctl(["compact", String(revision), "--physical"])
        try server.etcdctl(["defrag"])
        XCTAssertEqual(try server.etcdctl(["get", "key/1500", "--print-value-only"]), "updated\n")
        let savedURL = directory.appendingPathComponent("after.db")
        try server.etcdctl(["snapshot", "save", savedURL.path])
        let after = try EtcdBackend.decodeSnapshot(Array(Data(contentsOf: savedURL)))
        XCTAssertEqual(after.currentRevision, revision + 2)
        XCTAssertEqual(after.finishedCompactRevision, revision)
        XCTAssertEqual(after.revisions.count, keyCount + 1 + 1111, "one version per key survives the compaction, then the put and the deletes")
        XCTAssertEqual(try hashKV(server.etcdctl(["endpoint", "hashkv", "-w", "json"])), EtcdHashKV.hash(of: after))
    }

    // MARK: - etcd's file, read by us

    func testWeReadASnapshotEtcdSaved() throws {
        try ProcessHarness.requireEtcdBinaries()
        let directory = try ProcessHarness.makeTemporaryDirectory("save")
        defer { try? FileManager.default.removeItem(at: directory) }
        let server = try EtcdServerProcess(name: "saver", dataDirectory: directory.appendingPathComponent("saver.etcd"), clientPort: 45111, peerPort: 45112, logDirectory: directory)
        defer { server.stop() }

        try server.etcdctl(["put", "a", "1"])  // 2
        try server.etcdctl(["put", "b", "2"])  // 3
        try server.etcdctl(["put", "a", "3"])  // 4
        try server.etcdctl(["del", "b"])  // 5
        let grant = try server.etcdctl(["lease", "grant", "600", "-w", "json"])
        let leaseID = try XCTUnwrap(int64((ProcessHarness.parseJSON(grant) as? [String: Any])?["ID"]), grant)
        try server.etcdctl(["put", "c", "4", "--lease", String(leaseID, radix: 16)])  // 6
        try server.etcdctl(["put", "a", "5"])  // 7
        try server.etcdctl(["compact", "5", "--physical"])
        try server.etcdctl(["put", "d", "<&>\u{1}"])  // 8
        try server.etcdctl(["put", "e", "x"])  // 9
        try server.etcdctl(["del", "e"])  // 10
        try server.etcdctl(["put", "b", String(repeating: "big", count: 3000)])  // 11: overflows a page
        try server.etcdctl(["put", "a", "6"])  // 12

        let snapshotURL = directory.appendingPathComponent("theirs.db")
        try server.etcdctl(["snapshot", "save", snapshotURL.path])
        let snapshot = Array(try Data(contentsOf: snapshotURL))
        let contents = try EtcdBackend.decodeSnapshot(snapshot)
        XCTAssertGreaterThan(try Self.inlineBucketCount(Array(snapshot.dropLast(32))), 0, "bbolt stores etcd's small buckets inline")

        // The compaction at 5 removed a@2, b@3 and b's tombstone at 5, and kept a@4 (the newest
        // version of "a" at revision 5).
        XCTAssertEqual(contents.revisions.map { "\($0.revision.main)\($0.isTombstone ? "t" : "")" }, ["4", "6", "7", "8", "9", "10t", "11", "12"])
        XCTAssertEqual(contents.finishedCompactRevision, 5)
        XCTAssertEqual(contents.scheduledCompactRevision, 5)
        XCTAssertEqual(contents.leases, [EtcdLease(id: leaseID, ttl: 600)])
        XCTAssertEqual(contents.clusterVersion, "3.4.0")
        XCTAssertGreaterThan(contents.consistentIndex, 0)
        let memberLine = try server.etcdctl(["member", "list"]).split(separator: ",").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        XCTAssertEqual(contents.members, [EtcdBackendMember(id: UInt64(memberLine[0], radix: 16) ?? 0, name: "saver", peerURLs: ["http://127.0.0.1:45112"], clientURLs: ["http://127.0.0.1:45111"])])

        let served = try rangeAll(server)
        XCTAssertEqual(served.revision, 12)
        XCTAssertEqual(Self.liveKeyValues(contents.revisions), served.keyValues)
        XCTAssertEqual(contents.currentRevision, 12)

        // HashKV: at the current revision and at earlier ones after the compaction, where etcd's
        // keep-set rule decides which compacted-at revisions count.
        for revision in [0, 6, 7, 9, 10, 12] as [Int64] {
            let hashJSON = try server.etcdctl(["endpoint", "hashkv", "--rev", String(revision), "-w", "json"])
            let atRevision = revision == 0 ? contents.currentRevision : revision
            XCTAssertEqual(try hashKV(hashJSON), EtcdHashKV.hash(revisions: contents.revisions, atRevision: atRevision, compactRevision: 5), "at revision \(revision)")
        }

        // snapshot status over etcd's file matches ours.
        let statusJSON = try ProcessHarness.etcdctl(["snapshot", "status", "-w", "json", snapshotURL.path])
        let status = try XCTUnwrap(ProcessHarness.parseJSON(statusJSON) as? [String: Any], statusJSON)
        let ours = try EtcdSnapshotStatus.of(snapshot)
        XCTAssertEqual(int64(status["hash"]), Int64(ours.hash))
        XCTAssertEqual(int64(status["revision"]), ours.revision)
        XCTAssertEqual(int64(status["totalKey"]), Int64(ours.totalKey))
        XCTAssertEqual(int64(status["totalSize"]), ours.totalSize)

        // Re-encoding what we decoded keeps every bucket's bytes: etcdctl hashes the same content.
        let rewritten = try EtcdBackend.encodeSnapshot(contents)
        XCTAssertTrue(try EtcdBackend.decodeSnapshot(rewritten) == contents, "decode(encode(x)) == x")
        let rewrittenURL = directory.appendingPathComponent("rewritten.db")
        try Data(rewritten).write(to: rewrittenURL)
        let rewrittenJSON = try ProcessHarness.etcdctl(["snapshot", "status", "-w", "json", rewrittenURL.path])
        let rewrittenStatus = try XCTUnwrap(ProcessHarness.parseJSON(rewrittenJSON) as? [String: Any], rewrittenJSON)
        XCTAssertEqual(int64(rewrittenStatus["hash"]), int64(status["hash"]))
        XCTAssertEqual(int64(rewrittenStatus["totalKey"]), int64(status["totalKey"]))
        XCTAssertEqual(int64(rewrittenStatus["revision"]), int64(status["revision"]))
    }

    /// Top-level buckets stored inside the root bucket's leaf rather than on pages of their own.
    static func inlineBucketCount(_ database: [UInt8]) throws -> Int {
        let pageSize = try BoltReader.findPageSize(database)
        let meta = try BoltReader.currentMeta(database, pageSize: pageSize)
        var walker = try BoltTreeWalker(file: database, pageSize: pageSize, meta: meta)
        return try walker.bucketEntries(root: .page(meta.rootPageID), place: "root").filter { entry in
            if case .inline = entry.bucketHeader { return true }
            return false
        }.count
    }

    // MARK: - Fixtures

    static let leaseID: Int64 = 0x1234_5678_9ABC

    /// A history with a key of several versions, a deleted key, a lease-attached key, a
    /// transaction with two changes, an overflowing value, and a compaction at 4 (which removed
    /// "multi"@3, superseded by "multi"@4).
    static func historyWithEveryFeature() -> EtcdBackendContents {
        let big = Array(String(repeating: "0123456789", count: 20_000).utf8)
        return EtcdBackendContents(
            revisions: [
                .put(EtcdRevision(main: 2), key: Array("foo".utf8), value: Array("bar".utf8), createRevision: 2, version: 1),
                .put(EtcdRevision(main: 4), key: Array("multi".utf8), value: Array("v2".utf8), createRevision: 3, version: 2),
                .put(EtcdRevision(main: 5), key: Array("gone".utf8), value: Array("x".utf8), createRevision: 5, version: 1),
                .tombstone(EtcdRevision(main: 6), key: Array("gone".utf8)),
                .put(EtcdRevision(main: 7), key: Array("leased".utf8), value: Array("l".utf8), createRevision: 7, version: 1, lease: leaseID),
                .put(EtcdRevision(main: 8), key: Array("multi".utf8), value: Array("v3".utf8), createRevision: 3, version: 3),
                .put(EtcdRevision(main: 9, sub: 0), key: Array("txa".utf8), value: Array("1".utf8), createRevision: 9, version: 1),
                .put(EtcdRevision(main: 9, sub: 1), key: Array("txb".utf8), value: Array("2".utf8), createRevision: 9, version: 1),
                .put(EtcdRevision(main: 10), key: Array("big".utf8), value: big, createRevision: 10, version: 1),
                .put(EtcdRevision(main: 11), key: Array("foo".utf8), value: Array("baz".utf8), createRevision: 2, version: 2),
            ],
            leases: [EtcdLease(id: leaseID, ttl: 600)],
            members: [EtcdBackendMember(id: 0xABCDEF, name: "old", peerURLs: ["http://127.0.0.1:2380"], clientURLs: ["http://127.0.0.1:2379"])],
            consistentIndex: 42,
            finishedCompactRevision: 4,
            scheduledCompactRevision: 4)
    }

    /// The newest version of each key not deleted since, in key order: what a range returns.
    static func liveKeyValues(_ revisions: [EtcdRevisionRecord]) -> [EtcdKeyValue] {
        var latest: [[UInt8]: EtcdRevisionRecord] = [:]
        for record in revisions.sorted(by: { $0.revision < $1.revision }) {
            latest[record.keyValue.key] = record
        }
        return latest.values.filter { !$0.isTombstone }.map(\.keyValue).sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    // MARK: - Reading etcdctl's JSON

    private func rangeAll(_ server: EtcdServerProcess) throws -> (revision: Int64, keyValues: [EtcdKeyValue]) {
        let json = try server.etcdctl(["get", "", "--prefix", "-w", "json"])
        let response = try XCTUnwrap(ProcessHarness.parseJSON(json) as? [String: Any], json)
        let header = try XCTUnwrap(response["header"] as? [String: Any])
        let kvs = (response["kvs"] as? [[String: Any]]) ?? []
        let keyValues = kvs.map { kv in
            EtcdKeyValue(
                key: Array(Data(base64Encoded: kv["key"] as? String ?? "") ?? Data()),
                createRevision: int64(kv["create_revision"]) ?? 0,
                modRevision: int64(kv["mod_revision"]) ?? 0,
                version: int64(kv["version"]) ?? 0,
                value: Array(Data(base64Encoded: kv["value"] as? String ?? "") ?? Data()),
                lease: int64(kv["lease"]) ?? 0)
        }
        return (int64(header["revision"]) ?? -1, keyValues)
    }

    private func hashKV(_ json: String) throws -> UInt32 {
        let endpoints = try XCTUnwrap(ProcessHarness.parseJSON(json) as? [[String: Any]], json)
        let hashKV = try XCTUnwrap(endpoints.first?["HashKV"] as? [String: Any], json)
        return UInt32(try XCTUnwrap(int64(hashKV["hash"]), json))
    }

    private func int64(_ value: Any?) -> Int64? {
        (value as? NSNumber)?.int64Value
    }
}
