import Testing
import ZooKeeperWire

/// Every request and reply ZooKeeper's clients send and read, through our codec and back, and the
/// byte layouts that clients depend on exactly.
@Suite struct ZooKeeperCodecTests {
    static var stat: ZooKeeperStat {
        var stat = ZooKeeperStat()
        stat.czxid = 0x1_0000_0002
        stat.mzxid = 0x1_0000_0005
        stat.ctime = 1_765_000_000_000
        stat.mtime = 1_765_000_000_123
        stat.version = 3
        stat.cversion = 7
        stat.aversion = 1
        stat.ephemeralOwner = 0x0123_4567_89ab_cdef
        stat.dataLength = 5
        stat.numChildren = 2
        stat.pzxid = 0x1_0000_0009
        return stat
    }

    static let digestACL = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.read | ZooKeeperACL.Permission.admin, id: ZooKeeperID(scheme: "digest", id: "user:hash="))]

    static let requests: [ZooKeeperRequest] = [
        .create(.init(path: "/a", data: Array("hello".utf8), flags: 0)),
        .create(.init(operation: .create2, path: "/a/seq-", data: [], acl: digestACL, flags: 3)),
        .create(.init(operation: .createContainer, path: "/c", data: [1], flags: 4)),
        .create(.init(operation: .createTTL, path: "/t", data: [2], flags: 5, ttl: 60_000)),
        .delete(path: "/a", version: -1),
        .exists(path: "/a", watch: true),
        .getData(path: "/a", watch: false),
        .setData(path: "/a", data: [0, 255], version: 4),
        .getACL(path: "/a"),
        .setACL(path: "/a", acl: ZooKeeperACL.openUnsafe, version: 0),
        .getChildren(path: "/", watch: true),
        .getChildren2(path: "/", watch: false),
        .sync(path: "/a"),
        .ping,
        .check(path: "/a", version: 2),
        .multi([.create(.init(path: "/m", data: [], flags: 0)), .check(path: "/m", version: 0), .setData(path: "/m", data: [9], version: -1), .delete(path: "/m", version: -1)]),
        .multiRead([.getData(path: "/a", watch: false), .getChildren(path: "/", watch: false)]),
        .closeSession,
        .auth(type: 0, scheme: "digest", auth: Array("user:secret".utf8)),
        .setWatches(.init(relativeZxid: 42, data: ["/a"], exist: ["/b", "/c"], child: [])),
        .setWatches(.init(relativeZxid: 42, data: [], exist: [], child: ["/"], persistent: ["/p"], persistentRecursive: ["/r"])),
        .getEphemerals(prefix: "/"),
        .getAllChildrenNumber(path: "/"),
        .addWatch(path: "/", mode: 1),
        .checkWatches(path: "/a", type: 1),
        .removeWatches(path: "/a", type: 3),
        .whoAmI,
    ]

    @Test func everyRequestRoundTrips() throws {
        for request in Self.requests {
            var reader = JuteReader(request.encoded)
            #expect(try ZooKeeperRequest.decode(operation: request.operation.rawValue, from: &reader) == request, "\(request)")
        }
    }

    static let responses: [(ZooKeeperOperation, ZooKeeperResponse)] = [
        (.create, .created(path: "/a/seq-0000000001")),
        (.create2, .createdWithStat(path: "/a", stat: stat)),
        (.delete, .empty),
        (.exists, .stat(stat)),
        (.getData, .data(Array("hello".utf8), stat: stat)),
        (.setData, .stat(stat)),
        (.getACL, .acl(digestACL, stat: stat)),
        (.getChildren, .children(["a", "b"])),
        (.getChildren2, .childrenWithStat([], stat: stat)),
        (.sync, .path("/a")),
        (.multi, .multi([.success(operation: .create, .created(path: "/m")), .success(operation: .check, .empty), .success(operation: .setData, .stat(stat))])),
        (.multi, .multi([.error(0), .error(ZooKeeperErrorCode.noNode.rawValue), .error(ZooKeeperErrorCode.runtimeInconsistency.rawValue)])),
        (.getEphemerals, .paths(["/e1", "/e2"])),
        (.getAllChildrenNumber, .number(12)),
        (.whoAmI, .clientInfo([.init(authScheme: "ip", user: "127.0.0.1")])),
    ]

    @Test func everyResponseRoundTrips() throws {
        for (operation, response) in Self.responses {
            var reader = JuteReader(response.encoded)
            #expect(try ZooKeeperResponse.decode(for: operation, from: &reader) == response, "\(response)")
        }
    }

    @Test func theStatIsSixtyEightBytesInJutesOrder() {
        var writer = JuteWriter()
        Self.stat.write(to: &writer)
        #expect(writer.bytes.count == ZooKeeperStat.encodedBytes)
        // czxid first, big-endian; pzxid last.
        #expect(Array(writer.bytes.prefix(8)) == [0, 0, 0, 1, 0, 0, 0, 2])
        #expect(Array(writer.bytes.suffix(8)) == [0, 0, 0, 1, 0, 0, 0, 9])
    }

    /// A failed multi: one header and one ErrorResponse per op (0 before the failing op, its code,
    /// -2 after it), then the end marker, as ZooKeeper's `MultiResponse` writes them.
    @Test func aFailedMultisResultsAreHeaderAndErrorPerOperation() {
        let bytes = ZooKeeperResponse.multi([.error(0), .error(-101), .error(-2)]).encoded
        var expected = JuteWriter()
        for code: Int32 in [0, -101, -2] {
            expected.writeInt(-1)
            expected.writeBool(false)
            expected.writeInt(code)
            expected.writeInt(code)
        }
        expected.writeInt(-1)
        expected.writeBool(true)
        expected.writeInt(-1)
        #expect(bytes == expected.bytes)
    }

    @Test func connectRequestsComeInBothLengthsAndAreAnsweredInKind() throws {
        let old = ZooKeeperConnectRequest(lastZxidSeen: 7, timeoutMillis: 30_000, sessionID: 0, password: [UInt8](repeating: 0, count: 16), readOnly: nil)
        let new = ZooKeeperConnectRequest(lastZxidSeen: 7, timeoutMillis: 30_000, sessionID: 0, password: [UInt8](repeating: 0, count: 16), readOnly: false)
        #expect(old.encoded.count == 44)
        #expect(new.encoded.count == 45)
        #expect(try ZooKeeperConnectRequest(decoding: old.encoded) == old)
        #expect(try ZooKeeperConnectRequest(decoding: new.encoded) == new)
        let refusedOld = ZooKeeperConnectResponse.refused(readOnly: old.readOnly)
        let refusedNew = ZooKeeperConnectResponse.refused(readOnly: new.readOnly)
        #expect(refusedOld.encoded.count == 36)
        #expect(refusedNew.encoded.count == 37)
        #expect(refusedOld.timeoutMillis == 0 && refusedOld.sessionID == 0 && refusedOld.password == [UInt8](repeating: 0, count: 16))
        #expect(try ZooKeeperConnectResponse(decoding: refusedNew.encoded) == refusedNew)
    }

    @Test func aWatchEventRoundTrips() throws {
        var writer = JuteWriter()
        ZooKeeperWatcherEvent(type: .nodeChildrenChanged, path: "/lock").write(to: &writer)
        var reader = JuteReader(writer.bytes)
        let event = try ZooKeeperWatcherEvent(from: &reader)
        #expect(event == ZooKeeperWatcherEvent(type: .nodeChildrenChanged, path: "/lock"))
        #expect(reader.isAtEnd)
    }
}
