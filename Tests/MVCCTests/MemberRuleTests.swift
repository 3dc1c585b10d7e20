@testable import MVCC
import Testing

/// The member table: configuration entries, published attributes, removed ids, snapshots.
@Suite struct MemberRuleTests {
    static func attributes(_ id: UInt64, name: String = "") -> MemberAttributes {
        MemberAttributes(id: id, name: name, peerURLs: ["http://127.0.0.1:\(2380 + id)"], clientURLs: [])
    }

    @Test func configurationDecidesWhoIsListedAndAttributesWhatIsShown() throws {
        var store = MVCCStore()
        store.bootstrapMembers(voters: [1, 2])
        #expect(store.members.map(\.id) == [1, 2])
        #expect(store.members.allSatisfy { $0.attributes.peerURLs.isEmpty })
        // Staged attributes of a member not yet in the configuration are not listed.
        #expect(try store.apply(.memberAttributes(Self.attributes(3))).get() == .memberAttributes)
        #expect(store.members.map(\.id) == [1, 2])
        store.applyConfiguration(voters: [1, 2], learners: [3])
        #expect(store.members.map(\.id) == [1, 2, 3])
        #expect(store.members.last?.isLearner == true)
        #expect(store.members.last?.attributes.peerURLs == ["http://127.0.0.1:2383"])
        store.applyConfiguration(voters: [1, 2, 3], learners: [])
        #expect(store.members.last?.isLearner == false)
    }

    @Test func removedMembersAreRememberedAndForgotten() {
        var store = MVCCStore()
        store.bootstrapMembers(voters: [1, 2, 3])
        _ = store.apply(.memberAttributes(Self.attributes(3, name: "three")))
        store.applyConfiguration(voters: [1, 2], learners: [])
        #expect(store.removedMembers == [3])
        #expect(store.memberAttributes(3) == nil)
        #expect(store.members.map(\.id) == [1, 2])
    }

    @Test func attributesWritingNoKeyLeaveTheRevision() {
        var store = MVCCStore()
        _ = store.apply(.memberAttributes(Self.attributes(1, name: "one")))
        #expect(store.revision == 1)
    }

    @Test func attributesOutOfBoundsAreRefused() {
        var store = MVCCStore()
        var tooMany = Self.attributes(1)
        tooMany.clientURLs = Array(repeating: "http://x", count: MemberAttributes.urlsMax + 1)
        #expect(throws: MVCCError.self) { try store.apply(.memberAttributes(tooMany)).get() }
        var long = Self.attributes(1)
        long.name = String(repeating: "n", count: MemberAttributes.textBytesMax + 1)
        #expect(throws: MVCCError.self) { try store.apply(.memberAttributes(long)).get() }
        #expect(throws: MVCCError.self) { try store.apply(.memberAttributes(Self.attributes(0))).get() }
        #expect(store.memberAttributeRecords.isEmpty)
    }

    @Test func theTableSurvivesASnapshot() throws {
        var store = MVCCStore()
        store.bootstrapMembers(voters: [1, 2, 3])
        _ = store.apply(.memberAttributes(Self.attributes(4, name: "four")))
        store.applyConfiguration(voters: [1, 2], learners: [4])
        let restored = try MVCCStore(snapshot: store.snapshot())
        #expect(restored.members == store.members)
        #expect(restored.removedMembers == [3])
        #expect(restored.snapshot() == store.snapshot())
    }

    /// etcd's HashKV over a known history: members with equal histories agree, and a changed value
    /// changes the hash; revisions outside the history are etcd's errors.
    @Test func hashKVFollowsTheHistory() throws {
        var first = MVCCStore()
        var second = MVCCStore()
        for store in [0, 1] {
            var copy = MVCCStore()
            _ = copy.apply(.put(PutRequest(key: [1], value: [1])))
            _ = copy.apply(.put(PutRequest(key: [2], value: [2])))
            _ = copy.apply(.deleteRange(DeleteRangeRequest(key: [1])))
            if store == 0 { first = copy } else { second = copy }
        }
        #expect(try first.hashKV(revision: 0) == second.hashKV(revision: 0))
        _ = second.apply(.put(PutRequest(key: [2], value: [3])))
        #expect(try first.hashKV(revision: 4).hash == second.hashKV(revision: 4).hash)
        #expect(try first.hashKV(revision: 0).hash != second.hashKV(revision: 5).hash)
        #expect(try first.hashKV(revision: 0).compactRevision == -1)
        #expect(throws: MVCCStore.HashError.futureRevision) { try first.hashKV(revision: 9) }
        _ = first.apply(.compact(revision: 3))
        #expect(throws: MVCCStore.HashError.compacted(compactRevision: 3)) { try first.hashKV(revision: 2) }
    }

    /// The key-value bytes hashed are gogoproto's: field order by number, zero fields left out.
    @Test func keyValueEncodingIsEtcds() {
        let bytes = EtcdBackendEncoding.keyValue(KeyValue(key: [0x61], createRevision: 2, modRevision: 2, version: 1, value: [0x62], lease: 0))
        #expect(bytes == [0x0A, 0x01, 0x61, 0x10, 0x02, 0x18, 0x02, 0x20, 0x01, 0x2A, 0x01, 0x62])
        #expect(EtcdBackendEncoding.revisionKey(main: 2, sub: 0, tombstone: true) == [0, 0, 0, 0, 0, 0, 0, 2, 0x5F, 0, 0, 0, 0, 0, 0, 0, 0, 0x74])
        var crc = CRC32C()
        crc.update(Array("123456789".utf8))
        #expect(crc.value == 0xE306_9283)
    }
}
