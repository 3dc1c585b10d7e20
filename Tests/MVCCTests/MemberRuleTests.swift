import MVCC
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

    /// A store exported as etcd's revision records and imported again is the same store; an
    /// impossible history is refused by the snapshot decoder's checks.
    @Test func revisionRecordsRoundTrip() throws {
        var store = MVCCStore()
        _ = store.apply(.leaseGrant(id: 7, ttlSeconds: 60))
        _ = store.apply(.put(PutRequest(key: [1], value: [1])))
        _ = store.apply(.put(PutRequest(key: [2], value: [2], lease: 7)))
        _ = store.apply(.put(PutRequest(key: [1], value: [3])))
        _ = store.apply(.deleteRange(DeleteRangeRequest(key: [2])))
        _ = store.apply(.compact(revision: 3))
        let imported = try MVCCStore(
            importing: store.revisionRecords, revision: store.revision, compactedRevision: store.lastCompaction,
            leases: store.leases.map { (id: $0.id, ttlSeconds: $0.ttlSeconds) })
        #expect(imported.snapshot() == store.snapshot())
        var broken = store.revisionRecords
        broken[broken.count - 2].keyValue.version = 9
        #expect(throws: SnapshotDecodingError.self) {
            try MVCCStore(importing: broken, revision: store.revision, compactedRevision: 3, leases: [(id: 7, ttlSeconds: 60)])
        }
    }
}
