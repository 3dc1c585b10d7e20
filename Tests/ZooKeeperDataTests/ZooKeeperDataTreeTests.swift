import ConsensusCore
import Replica
import Simulation
import Testing
import ZooKeeperData
import ZooKeeperWire

/// The tree's rules, each as ZooKeeper 3.8 keeps it: Stat fields, zxids consumed by failed writes,
/// sequence suffixes, ephemerals, multi's all-or-nothing results.
@Suite struct ZooKeeperDataTreeTests {
    static let session: Int64 = 0x1000
    var tree = ZooKeeperDataTree()
    var time: Int64 = 1_000

    init() {
        _ = tree.apply(ZooKeeperTransaction(requestID: 0, session: Self.session, time: 0, operation: .createSession(id: Self.session, timeoutMillis: 10_000, password: [1])))
    }

    @discardableResult
    mutating func write(_ request: ZooKeeperRequest, session: Int64 = session, extendedTypes: Bool = false) -> ZooKeeperDataTree.Applied {
        time += 1
        return tree.apply(ZooKeeperTransaction(requestID: 1, session: session, time: time, extendedTypes: extendedTypes, operation: .write(request)))
    }

    mutating func sweep(_ path: String, at now: Int64) -> ZooKeeperDataTree.Applied {
        tree.apply(ZooKeeperTransaction(requestID: 9, session: 0, time: now, operation: .deleteContainer(path: path)))
    }

    mutating func create(_ path: String, flags: Int32 = 0, data: [UInt8] = []) -> Result<ZooKeeperResponse, ZooKeeperErrorCode> {
        write(.create(.init(path: path, data: data, flags: flags))).result
    }

    @Test mutating func aCreateSetsEveryStatFieldAndThePrentsChildFields() throws {
        let applied = write(.create(.init(operation: .create2, path: "/a", data: Array("hello".utf8), flags: 0)))
        guard case .success(.createdWithStat(let path, let stat)) = applied.result else {
            Issue.record("\(applied.result)")
            return
        }
        #expect(path == "/a")
        #expect(stat.czxid == applied.zxid && stat.mzxid == applied.zxid && stat.pzxid == applied.zxid)
        #expect(stat.ctime == time && stat.mtime == time)
        #expect(stat.version == 0 && stat.cversion == 0 && stat.aversion == 0 && stat.ephemeralOwner == 0)
        #expect(stat.dataLength == 5 && stat.numChildren == 0)
        let root = try #require(tree.node(at: "/")).stat
        // The root holds /zookeeper too, as on a real server.
        #expect(root.numChildren == 2 && root.cversion == 0 && root.pzxid == applied.zxid)
        #expect(tree.children(of: "/zookeeper") == ["quota"])
        #expect(applied.triggers == [.init(kind: .created, path: "/a"), .init(kind: .childrenChanged, path: "/")])
    }

    @Test mutating func setDataBumpsVersionAndMzxidAndChecksTheVersion() throws {
        _ = create("/a")
        let set = write(.setData(path: "/a", data: [1, 2], version: 0))
        guard case .success(.stat(let stat)) = set.result else {
            Issue.record("\(set.result)")
            return
        }
        #expect(stat.version == 1 && stat.mzxid == set.zxid && stat.czxid < set.zxid && stat.dataLength == 2)
        #expect(write(.setData(path: "/a", data: [], version: 0)).result == .failure(.badVersion))
        #expect(write(.setData(path: "/missing", data: [], version: -1)).result == .failure(.noNode))
    }

    @Test mutating func failedWritesConsumeAZxid() {
        let first = write(.delete(path: "/missing", version: -1))
        #expect(first.result == .failure(.noNode))
        let second = write(.delete(path: "/missing", version: -1))
        #expect(second.zxid == first.zxid + 1)
        #expect(tree.lastZxid == second.zxid)
    }

    /// As observed on 3.8 (ZOOKEEPER-NOTES): the suffix counts the parent's child creates, while
    /// cversion counts creates and deletes; pzxid moves on both.
    @Test mutating func sequenceSuffixesCountCreatesWhileCversionCountsDeletesToo() throws {
        _ = create("/cv")
        _ = create("/cv/a")
        #expect(tree.node(at: "/cv")?.cversion == 1)
        let delete = write(.delete(path: "/cv/a", version: -1))
        #expect(tree.node(at: "/cv")?.cversion == 2)
        #expect(tree.node(at: "/cv")?.pzxid == delete.zxid)
        #expect(create("/cv/s", flags: 2) == .success(.created(path: "/cv/s0000000001")))
        #expect(create("/cv/s", flags: 2) == .success(.created(path: "/cv/s0000000002")))
        _ = write(.delete(path: "/cv/s0000000002", version: -1))
        #expect(create("/cv/s", flags: 2) == .success(.created(path: "/cv/s0000000003")))
        #expect(tree.node(at: "/cv")?.cversion == 6)
        #expect(ZooKeeperPath.sequenceSuffix(-5) == "-000000005")
    }

    /// As ZooKeeper 3.8's PrepRequestProcessor checks (pinned against a real server by the
    /// differential test): a slash and no NUL, then the parent (what precedes the last slash)
    /// must exist, and only then is the whole path validated.
    @Test mutating func createRefusalsFollowZooKeepersOrder() {
        #expect(create("relative") == .failure(.badArguments))
        #expect(create("/a/\0b") == .failure(.badArguments))
        #expect(create("/a/") == .failure(.noNode), "its parent /a does not exist")
        #expect(create("/a//b") == .failure(.noNode))
        #expect(create("/a/../b") == .failure(.noNode))
        #expect(create("/missing/child") == .failure(.noNode))
        _ = create("/v")
        #expect(create("/v/") == .failure(.badArguments), "the parent exists; the path is then invalid")
        #expect(create("/v/./x") == .failure(.noNode))
        #expect(create("/a", flags: 9) == .failure(.badArguments))
        #expect(write(.create(.init(path: "/acl", data: [], acl: [], flags: 0))).result == .failure(.invalidACL))
        _ = create("/a")
        #expect(create("/a") == .failure(.nodeExists))
        _ = create("/e", flags: 1)
        #expect(create("/e/child") == .failure(.noChildrenForEphemerals))
        #expect(write(.create(.init(operation: .createTTL, path: "/t", data: [], flags: 5, ttl: 1_000))).result == .failure(.unimplemented))
    }

    /// Inside a multi the mode picks the operation and ZooKeeper's result types follow: create and
    /// create2 give a path alone, a container (whatever the request's type) a path and a Stat;
    /// null data stays null; a digest id needs two parts as Java's split counts them.
    @Test mutating func multiResultTypesNullDataAndDigestIDsAreZooKeepers() throws {
        let applied = write(.multi([
            .create(.init(operation: .create2, path: "/p", data: nil, flags: 0)),
            .create(.init(operation: .create, path: "/c", data: [], flags: 4)),
        ]))
        guard case .success(.multi(let results)) = applied.result, results.count == 2 else {
            Issue.record("\(applied.result)")
            return
        }
        #expect(results[0] == .success(operation: .create, .created(path: "/p")))
        guard case .success(.create2, .createdWithStat("/c", _)) = results[1] else {
            Issue.record("\(results[1])")
            return
        }
        #expect(tree.node(at: "/c")?.ephemeralOwner == ZooKeeperDataTree.containerOwner, "the container flag made a container inside the multi")
        #expect(try #require(tree.node(at: "/p")).data == nil && tree.node(at: "/p")?.stat.dataLength == 0, "null data stays null")
        let digest = { (id: String) in [ZooKeeperACL(permissions: ZooKeeperACL.Permission.all, id: ZooKeeperID(scheme: "digest", id: id))] }
        #expect(ZooKeeperDataTree.fixedACL(digest("alice:"), auth: []) == nil)
        #expect(ZooKeeperDataTree.fixedACL(digest("a:b:c"), auth: []) == nil)
        #expect(ZooKeeperDataTree.fixedACL(digest("a:b:"), auth: []) != nil, "a trailing empty part is dropped, as by Java's split")
        let alice = ZooKeeperID(scheme: "digest", id: "alice:hash")
        let both = [ZooKeeperACL(permissions: 31, id: ZooKeeperID(scheme: "auth", id: "")), ZooKeeperACL(permissions: 31, id: alice)]
        #expect(ZooKeeperDataTree.fixedACL(both, auth: [alice])?.count == 2, "de-duplicated before 'auth' is expanded, as fixupACL")
    }

    /// The invariants the simulator checks on every member's tree hold after real transactions,
    /// and each is caught when broken by hand.
    @Test mutating func treeInvariantsHoldAndEachBreakIsCaught() {
        _ = create("/a")
        _ = create("/a/b")
        _ = create("/e", flags: 1)
        _ = write(.create(.init(operation: .createContainer, path: "/c", data: [], flags: 4)))
        #expect(tree.invariantViolations().isEmpty)
        var orphan = tree
        orphan.nodes["/a"]!.children.remove("b")
        #expect(orphan.invariantViolations().contains { $0.contains("not among its parent's children") })
        var ghost = tree
        ghost.nodes["/a"]!.children.insert("ghost")
        #expect(ghost.invariantViolations().contains { $0.contains("does not exist") })
        var lost = tree
        lost.sessions[Self.session]!.ephemerals.remove("/e")
        #expect(lost.invariantViolations().contains { $0.contains("which does not hold it") })
        var unswept = tree
        unswept.nodes["/c"]!.ephemeralOwner = 0
        #expect(unswept.invariantViolations().contains { $0.contains("sweep's index") })
    }

    /// A session's writes apply only from the connection that owns it, in the order it numbered
    /// them: one from a connection the session moved away from is SESSIONMOVED; one that skips a
    /// number (its predecessor lost or reordered by the log) is CONNECTIONLOSS and costs the
    /// connection the session, so nothing it sent later applies either.
    @Test mutating func writesApplyFromTheOwningConnectionInOrder() {
        let session: Int64 = 0x2000
        func transaction(_ connection: UInt64, _ sequence: UInt64, _ operation: ZooKeeperTransaction.Operation) -> ZooKeeperTransaction {
            time += 1
            return ZooKeeperTransaction(requestID: 1, session: session, time: time, connection: connection, sequence: sequence, operation: operation)
        }
        let create = { (path: String) in ZooKeeperTransaction.Operation.write(.create(.init(path: path, data: [], flags: 0))) }
        #expect(tree.apply(transaction(7, 0, .createSession(id: session, timeoutMillis: 10_000, password: [1]))).result == .success(.empty))
        #expect(tree.apply(transaction(7, 1, create("/a"))).result == .success(.created(path: "/a")))
        #expect(tree.apply(transaction(7, 3, create("/c"))).result == .failure(.connectionLoss), "number 2 never came")
        #expect(tree.apply(transaction(7, 2, create("/b"))).result == .failure(.sessionMoved), "the connection lost the session")
        #expect(tree.node(at: "/b") == nil && tree.node(at: "/c") == nil)
        #expect(tree.apply(transaction(8, 0, .claimSession(id: session))).result == .success(.empty))
        #expect(tree.apply(transaction(8, 1, create("/d"))).result == .success(.created(path: "/d")))
        #expect(tree.apply(transaction(7, 4, .closeSession(id: session))).result == .failure(.sessionMoved), "an old connection cannot close it")
        #expect(tree.sessions[session] != nil)
        #expect(tree.apply(transaction(0, 0, .closeSession(id: session))).result == .success(.empty), "the leader's expiry is not ordered")
        #expect(tree.apply(transaction(9, 0, .claimSession(id: session))).result == .failure(.sessionExpired))
    }

    /// "ip" ACL expressions match as ZooKeeper's IPAuthenticationProvider: a whole address, or a
    /// network by its leading bits; malformed expressions and clients match nothing.
    @Test func ipExpressionsMatchAddressesByNetwork() {
        #expect(ZooKeeperPath.address("10.1.2.3", matches: "10.1.2.3"))
        #expect(!ZooKeeperPath.address("10.1.2.4", matches: "10.1.2.3"))
        #expect(ZooKeeperPath.address("10.1.2.3", matches: "10.1.0.0/16"))
        #expect(!ZooKeeperPath.address("10.2.2.3", matches: "10.1.0.0/16"))
        #expect(ZooKeeperPath.address("192.168.7.9", matches: "0.0.0.0/0"))
        #expect(ZooKeeperPath.address("10.1.2.3", matches: "10.1.2.2/31"))
        #expect(!ZooKeeperPath.address("10.1.2.3", matches: "10.1.2.3/33"))
        #expect(!ZooKeeperPath.address("10.1.2.3", matches: "10.1.2"))
        #expect(!ZooKeeperPath.address("not-an-address", matches: "0.0.0.0/0"))
        let acl = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.read, id: ZooKeeperID(scheme: "ip", id: "127.0.0.0/8"))]
        #expect(ZooKeeperDataTree.permits(acl, ZooKeeperACL.Permission.read, auth: [ZooKeeperID(scheme: "ip", id: "127.0.0.1")]))
        #expect(!ZooKeeperDataTree.permits(acl, ZooKeeperACL.Permission.write, auth: [ZooKeeperID(scheme: "ip", id: "127.0.0.1")]))
        #expect(!ZooKeeperDataTree.permits(acl, ZooKeeperACL.Permission.read, auth: [ZooKeeperID(scheme: "digest", id: "127.0.0.1")]))
    }

    /// TTL nodes, behind extended types as in ZooKeeper: refused as UNIMPLEMENTED when the
    /// proposer does not allow them (a zxid still taken), the TTL validated as validateTTL does,
    /// the owner field carrying the TTL, sequential TTL names, children allowed.
    @Test mutating func ttlNodesNeedExtendedTypesAndAValidTTL() throws {
        let ttl: (Int32, Int64?) -> ZooKeeperRequest = { .create(.init(operation: .createTTL, path: "/t", data: [], flags: $0, ttl: $1)) }
        let before = tree.lastZxid
        #expect(write(ttl(5, 1_000)).result == .failure(.unimplemented))
        #expect(tree.lastZxid == before + 1, "a refused TTL create takes a zxid, as ZooKeeper's error transaction does")
        #expect(write(ttl(5, 0), extendedTypes: true).result == .failure(.badArguments))
        #expect(write(ttl(5, ZooKeeperDataTree.ttlMillisMax + 1), extendedTypes: true).result == .failure(.badArguments))
        #expect(write(ttl(0, 1_000), extendedTypes: true).result == .failure(.badArguments), "a TTL for a mode that has none")
        #expect(write(.create(.init(operation: .create2, path: "/t", data: [], flags: 5)), extendedTypes: true).result == .failure(.badArguments))
        let made = write(ttl(5, 1_000), extendedTypes: true)
        guard case .success(.createdWithStat("/t", let stat)) = made.result else {
            Issue.record("\(made.result)")
            return
        }
        let owner = try #require(tree.node(at: "/t")).ephemeralOwner
        #expect(owner == Int64(bitPattern: 0xFF00_0000_0000_03E8), "ZooKeeper's EphemeralType.TTL owner: 0xff, two zero bytes, the TTL")
        #expect(ZooKeeperDataTree.ttlMillis(ofOwner: owner) == 1_000)
        #expect(stat.ephemeralOwner == 0, "clients see 0, as ZooKeeper's getClientEphemeralOwner gives them")
        #expect(create("/t/child") == .success(.created(path: "/t/child")), "a TTL node may have children")
        _ = create("/seq")
        let sequential = write(.create(.init(operation: .createTTL, path: "/seq/n-", data: [], flags: 6, ttl: 5)), extendedTypes: true)
        #expect(sequential.result == .success(.createdWithStat(path: "/seq/n-0000000000", stat: try #require(tree.node(at: "/seq/n-0000000000")).stat)))
    }

    /// The sweep deletes a childless TTL node once its data has not changed for longer than its
    /// TTL, measured from mtime at the deletion's own time; a setData or a child meanwhile keeps it.
    @Test mutating func ttlNodesAreSweptOnceChildlessAndUnchangedForTheirTTL() {
        _ = write(.create(.init(operation: .createTTL, path: "/t", data: [], flags: 5, ttl: 100)), extendedTypes: true)
        let created = time
        _ = create("/plain")
        #expect(tree.nodesDueForSweep(now: created + 100, limit: 10).isEmpty, "not past its TTL")
        #expect(tree.nodesDueForSweep(now: created + 101, limit: 10) == ["/t"])
        #expect(tree.nodesDueForSweep(now: created + 101, limit: 0).isEmpty, "the sweep's bound")
        _ = write(.setData(path: "/t", data: [1], version: -1))
        let refreshed = time
        #expect(sweep("/t", at: created + 101).result == .failure(.noNode), "a setData meanwhile keeps it")
        _ = create("/t/child")
        #expect(tree.nodesDueForSweep(now: refreshed + 1_000, limit: 10).isEmpty, "a child keeps it")
        _ = write(.delete(path: "/t/child", version: -1))
        let deleted = sweep("/t", at: refreshed + 101)
        #expect(deleted.result == .success(.empty) && tree.node(at: "/t") == nil)
        #expect(tree.sweptNodes.isEmpty)
        #expect(sweep("/plain", at: refreshed + 1_000_000).result == .failure(.noNode), "a plain node is never swept")
    }

    /// The sweep's index follows multi's rollback and a snapshot's restore.
    @Test mutating func theSweepIndexFollowsRollbackAndRestore() throws {
        let container = ZooKeeperRequest.create(.init(operation: .createContainer, path: "/c", data: [], flags: 4))
        _ = write(.multi([container, .delete(path: "/missing", version: -1)]))
        #expect(tree.sweptNodes.isEmpty)
        _ = write(container)
        _ = write(.create(.init(operation: .createTTL, path: "/t", data: [], flags: 5, ttl: 100)), extendedTypes: true)
        #expect(tree.sweptNodes == ["/c", "/t"])
        let restored = try ZooKeeperSnapshot.decode(ZooKeeperSnapshot.encode(tree, appliedIndex: 5)).tree
        #expect(restored == tree)
    }

    /// As a fresh 3.8 server reports them (checked with kazoo against one): the root's cversion
    /// starts at -1, and a sequential child of the root counts only clients' creates.
    @Test mutating func theRootAndZooKeepersOwnNodesStartAsOnARealServer() throws {
        #expect(tree.children(of: "/") == ["zookeeper"])
        #expect(tree.node(at: "/")?.cversion == -1 && tree.node(at: "/zookeeper")?.cversion == -2)
        _ = create("/x")
        #expect(tree.node(at: "/")?.cversion == 0)
        _ = write(.delete(path: "/x", version: -1))
        #expect(tree.node(at: "/")?.cversion == 1)
        #expect(create("/s", flags: 2) == .success(.created(path: "/s0000000001")))
    }

    @Test mutating func deleteChecksVersionAndChildren() {
        _ = create("/p")
        _ = create("/p/c")
        #expect(write(.delete(path: "/p", version: -1)).result == .failure(.notEmpty))
        #expect(write(.delete(path: "/p/c", version: 3)).result == .failure(.badVersion))
        #expect(write(.delete(path: "/p/c", version: 0)).result == .success(.empty))
        #expect(write(.delete(path: "/", version: -1)).result == .failure(.badArguments))
    }

    @Test mutating func closingASessionDeletesItsEphemeralsAndFiresTheirWatches() {
        _ = create("/lock")
        _ = create("/lock/n-", flags: 3)
        _ = create("/lock/n-", flags: 3)
        #expect(tree.ephemerals(of: Self.session, prefix: "/") == ["/lock/n-0000000000", "/lock/n-0000000001"])
        #expect(tree.node(at: "/lock/n-0000000000")?.ephemeralOwner == Self.session)
        let close = tree.apply(ZooKeeperTransaction(requestID: 2, session: Self.session, time: 9, operation: .closeSession(id: Self.session)))
        #expect(close.result == .success(.empty))
        #expect(tree.children(of: "/lock") == [])
        #expect(tree.sessions[Self.session] == nil)
        #expect(close.triggers.filter { $0.kind == .deleted }.map(\.path) == ["/lock/n-0000000001", "/lock/n-0000000000"])
        // The session is gone: its writes are refused.
        #expect(create("/after") == .failure(.sessionExpired))
    }

    @Test mutating func aFailedMultiChangesNothingAndReportsEveryOperation() throws {
        _ = create("/m")
        let before = tree
        let applied = write(.multi([.create(.init(path: "/m/a", data: [], flags: 0)), .setData(path: "/m", data: [1], version: 0), .check(path: "/missing", version: 0), .delete(path: "/m", version: -1)]))
        #expect(applied.result == .success(.multi([.error(0), .error(0), .error(ZooKeeperErrorCode.noNode.rawValue), .error(ZooKeeperErrorCode.runtimeInconsistency.rawValue)])))
        #expect(applied.triggers.isEmpty)
        // Only the zxid moved.
        #expect(tree.nodes == before.nodes && tree.sessions == before.sessions)
        #expect(tree.lastZxid == before.lastZxid + 1)
        let ok = write(.multi([.create(.init(path: "/m/a", data: [], flags: 0)), .check(path: "/m/a", version: 0), .setData(path: "/m/a", data: [7], version: 0)]))
        guard case .success(.multi(let results)) = ok.result else {
            Issue.record("\(ok.result)")
            return
        }
        #expect(results.count == 3)
        #expect(tree.node(at: "/m/a")?.data == [7])
        #expect(tree.node(at: "/m/a")?.czxid == ok.zxid && tree.node(at: "/m/a")?.mzxid == ok.zxid)
    }

    @Test mutating func aMultiThatCreatesAnEphemeralAndFailsLeavesTheSessionClean() {
        _ = write(.multi([.create(.init(path: "/e", data: [], flags: 1)), .check(path: "/missing", version: -1)]))
        #expect(tree.ephemerals(of: Self.session, prefix: "/").isEmpty)
        #expect(tree.node(at: "/e") == nil)
    }

    /// ACLs are checked at apply, against the identities the transaction carries, so every replica
    /// decides alike: CREATE and DELETE on the parent, WRITE and ADMIN on the node, READ for check.
    @Test mutating func aclsAreEnforcedAgainstTheSessionsProvenIdentities() {
        let alice = ZooKeeperID(scheme: "digest", id: "alice:hash=")
        func writeAs(_ auth: [ZooKeeperID], _ request: ZooKeeperRequest) -> Result<ZooKeeperResponse, ZooKeeperErrorCode> {
            time += 1
            return tree.apply(ZooKeeperTransaction(requestID: 1, session: Self.session, time: time, auth: auth, operation: .write(request))).result
        }
        let onlyAlice = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.all, id: alice)]
        #expect(writeAs([alice], .create(.init(path: "/private", data: [], acl: onlyAlice, flags: 0))) == .success(.created(path: "/private")))
        #expect(writeAs([], .create(.init(path: "/private/child", data: [], flags: 0))) == .failure(.noAuth))
        #expect(writeAs([], .setData(path: "/private", data: [1], version: -1)) == .failure(.noAuth))
        #expect(writeAs([], .setACL(path: "/private", acl: ZooKeeperACL.openUnsafe, version: -1)) == .failure(.noAuth))
        #expect(writeAs([], .check(path: "/private", version: 0)) == .failure(.noAuth))
        #expect(writeAs([alice], .create(.init(path: "/private/child", data: [], flags: 0))) == .success(.created(path: "/private/child")))
        #expect(writeAs([], .delete(path: "/private/child", version: -1)) == .failure(.noAuth))
        #expect(writeAs([], .delete(path: "/private/missing", version: -1)) == .failure(.noAuth), "the parent's ACL before the node, as ZooKeeper 3.8 checks (the differential test pins it)")
        // "auth" becomes the session's digests; without one it is INVALIDACL, as are unknown schemes.
        let authACL = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.read, id: ZooKeeperID(scheme: "auth", id: ""))]
        #expect(writeAs([], .create(.init(path: "/a", data: [], acl: authACL, flags: 0))) == .failure(.invalidACL))
        #expect(writeAs([alice], .create(.init(path: "/a", data: [], acl: authACL, flags: 0))) == .success(.created(path: "/a")))
        #expect(tree.node(at: "/a")?.acl == [ZooKeeperACL(permissions: ZooKeeperACL.Permission.read, id: alice)])
        let bogus = [ZooKeeperACL(permissions: 31, id: ZooKeeperID(scheme: "kerberos", id: "x"))]
        #expect(writeAs([alice], .create(.init(path: "/b", data: [], acl: bogus, flags: 0))) == .failure(.invalidACL))
        #expect(ZooKeeperDataTree.fixedACL([ZooKeeperACL(permissions: 1, id: ZooKeeperID(scheme: "ip", id: "10.0.0.0/8"))], auth: []) != nil)
        #expect(ZooKeeperDataTree.fixedACL([ZooKeeperACL(permissions: 1, id: ZooKeeperID(scheme: "ip", id: "10.0.0"))], auth: []) == nil)
    }

    /// The leader deletes a container once its last child goes (ZooKeeper's ContainerManager); one
    /// that never had a child, or has one again when the deletion applies, stays.
    @Test mutating func emptiedContainersAreDeletedAndOthersKept() {
        _ = write(.create(.init(operation: .createContainer, path: "/c", data: [], flags: 4)))
        _ = write(.create(.init(operation: .createContainer, path: "/fresh", data: [], flags: 4)))
        _ = create("/c/child")
        #expect(tree.nodesDueForSweep(now: time, limit: 10).isEmpty)
        _ = write(.delete(path: "/c/child", version: -1))
        #expect(tree.nodesDueForSweep(now: time, limit: 10) == ["/c"])
        _ = create("/c/again")
        let refused = sweep("/c", at: time)
        #expect(refused.result == .failure(.noNode) && tree.node(at: "/c") != nil, "a child created meanwhile keeps it")
        _ = write(.delete(path: "/c/again", version: -1))
        let deleted = sweep("/c", at: time)
        #expect(deleted.result == .success(.empty) && tree.node(at: "/c") == nil)
        #expect(deleted.triggers.contains(.init(kind: .deleted, path: "/c")))
        #expect(tree.node(at: "/fresh") != nil)
    }

    @Test mutating func containersAreMarkedAndHoldChildren() {
        #expect(write(.create(.init(operation: .createContainer, path: "/c", data: [], flags: 4))).result != .failure(.badArguments))
        #expect(tree.node(at: "/c")?.ephemeralOwner == ZooKeeperDataTree.containerOwner)
        #expect(create("/c/x") == .success(.created(path: "/c/x")))
        // The operation decides, as ZooKeeper logs it: create with the container flag makes a
        // plain node, createContainer with any flags a container.
        #expect(create("/plain", flags: 4) == .success(.created(path: "/plain")))
        #expect(tree.node(at: "/plain")?.ephemeralOwner == 0)
        _ = write(.create(.init(operation: .createContainer, path: "/c2", data: [], flags: 1)))
        #expect(tree.node(at: "/c2")?.ephemeralOwner == ZooKeeperDataTree.containerOwner)
    }

    /// Deletes as ZooKeeper checks them: its own nodes never, then the parent, its DELETE
    /// permission, the node, the version, the children; versions wrap past Int32.max to 0.
    @Test mutating func deleteRefusalsAndVersionWrapFollowZooKeeper() {
        #expect(write(.delete(path: "/zookeeper", version: -1)).result == .failure(.badArguments))
        #expect(write(.delete(path: "/", version: -1)).result == .failure(.badArguments))
        #expect(write(.delete(path: "/missing/x", version: -1)).result == .failure(.noNode))
        #expect(write(.delete(path: "/x/", version: -1)).result == .failure(.noNode))
        #expect(ZooKeeperDataTree.nextVersion(after: Int32.max) == Int32.min)
        #expect(ZooKeeperDataTree.nextVersion(after: -2) == 0, "never -1, which means any version")
    }
}

/// The tree as a state machine on the shared log: the contract every state machine keeps (a
/// snapshot at any index, restored elsewhere, continues exactly), other services' entries and
/// undecodable ones skipped alike.
@Suite struct ZooKeeperStateMachineTests {
    static func entries(count: Int, seed: UInt64) -> [Entry] {
        var random = SeededRandom(seed: seed)
        var sessions: [Int64] = []
        return (1...count).map { position in
            let index = LogIndex(position)
            let session = sessions.isEmpty ? 0 : sessions[random.int(in: 0..<sessions.count)]
            let path = "/n\(random.int(in: 0..<4))" + (random.chance(0.5) ? "/c\(random.int(in: 0..<3))" : "")
            let operation: ZooKeeperTransaction.Operation
            switch random.int(in: 0..<14) {
            case 0: return Entry(index: index, term: 1, kind: .noop)
            case 1: return Entry(index: index, term: 1, data: [ZooKeeperTransaction.tag, 1, 9])  // Undecodable.
            case 2: return Entry(index: index, term: 1, data: [ServiceTag.etcd.rawValue, 1, 2, 3])  // Another service's.
            case 3, 4:
                let id = Int64(position) << 8
                sessions.append(id)
                operation = .createSession(id: id, timeoutMillis: 6_000, password: [UInt8(position & 0xff)])
            case 5 where !sessions.isEmpty:
                operation = .closeSession(id: session)
            case 6: operation = .write(.delete(path: path, version: -1))
            case 7: operation = .write(.setData(path: path, data: [UInt8(position & 0xff)], version: -1))
            case 8: operation = .write(.multi([.create(.init(path: path, data: [], flags: 0)), .setData(path: path, data: [1], version: 0)]))
            default: operation = .write(.create(.init(path: path, data: [UInt8(position & 0xff)], flags: Int32(random.int(in: 0..<4)))))
            }
            let transaction = ZooKeeperTransaction(requestID: UInt64(position), session: session, time: Int64(position) * 10, operation: operation)
            return Entry(index: index, term: 1, data: transaction.encoded)
        }
    }

    @Test(arguments: [1, 2, 3, 4, 5, 6] as [UInt64])
    func theTreeKeepsTheStateMachineContract(seed: UInt64) {
        let violation = StateMachineContract.violation({ ZooKeeperStateMachine() }, entries: Self.entries(count: 120, seed: seed))
        #expect(violation == nil, "seed \(seed): \(violation ?? "")")
    }

    @Test func entriesThatAreNotOursOrDoNotDecodeAreSkipped() {
        var machine = ZooKeeperStateMachine()
        #expect(machine.apply(Entry(index: 1, term: 1, data: [ServiceTag.etcd.rawValue, 1])) == .notOurs)
        guard case .skipped = machine.apply(Entry(index: 2, term: 1, data: [ZooKeeperTransaction.tag, 1, 0])) else {
            Issue.record("not skipped")
            return
        }
        #expect(machine.appliedIndex == 2)
        #expect(machine.tree.lastZxid == 1 << 32, "a skipped entry takes no zxid")
    }

    @Test func transactionsRoundTripAndReadsAreRefusedAsTransactions() throws {
        let transaction = ZooKeeperTransaction(requestID: 7, session: 9, time: 11, operation: .write(.multi([.check(path: "/a", version: 1)])))
        #expect(try ZooKeeperTransaction(decoding: transaction.encoded) == transaction)
        var extended = transaction
        extended.extendedTypes = true
        #expect(try ZooKeeperTransaction(decoding: extended.encoded) == extended)
        // A version-1 entry (no flags, connection or sequence), as written before TTL nodes and
        // session ordering: read with the flags off and no connection.
        var old = transaction.encoded
        old.removeSubrange(2..<19)
        old[1] = 1
        #expect(try ZooKeeperTransaction(decoding: old) == transaction)
        var unknownFlag = transaction.encoded
        unknownFlag[2] = 2
        #expect(throws: JuteError.self) { try ZooKeeperTransaction(decoding: unknownFlag) }
        let read = ZooKeeperTransaction(requestID: 7, session: 9, time: 11, operation: .write(.getData(path: "/a", watch: false)))
        #expect(throws: JuteError.self) { try ZooKeeperTransaction(decoding: read.encoded) }
    }

    @Test func aSnapshotThatDoesNotDecodeIsRefused() {
        #expect(throws: (any Error).self) { try ZooKeeperStateMachine(restoring: Snapshot(metadata: SnapshotMetadata(index: 3, term: 1, membership: Membership(voters: [NodeID(1)])), data: [0, 0, 0, 1, 9])) }
    }
}
