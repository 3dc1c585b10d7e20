import ConsensusCore
import Logging
import Replica
import Synchronization
import Testing
import ZooKeeperData
import ZooKeeperServer
import ZooKeeperWire

/// A replica of one, inside this layer's tests only: a proposal commits when the test says so
/// (`commit`), in order, and reads are ready at the last index.
final class OneNodeReplica: ReplicaHandle, @unchecked Sendable {
    weak var service: ZooKeeperService?
    var proposals: [Proposal] = []
    var reads: [RequestID] = []
    var index: LogIndex = 0
    var leader = true
    var status: EngineStatus { EngineStatus(id: NodeID(1), term: 1, isLeader: leader, leader: leader ? NodeID(1) : NodeID(2), commitIndex: index, appliedIndex: index) }
    var durableSnapshotIndex: UInt64 { 0 }

    func propose(_ proposal: Proposal) -> Bool {
        proposals.append(proposal)
        return true
    }

    func read(_ id: RequestID) -> Bool {
        reads.append(id)
        return true
    }

    /// Commits and applies everything proposed, then answers the reads.
    func commit() {
        while !proposals.isEmpty {
            let proposal = proposals.removeFirst()
            index += 1
            service?.apply([Entry(index: index, term: 1, data: proposal.data)], status: status)
        }
        let ready = reads
        reads = []
        for id in ready { service?.readReady(id, index: index) }
    }

    func changeMembership(_ id: RequestID, _ change: MembershipChange) -> Bool { false }
    func transferLeadership(_ id: RequestID, to target: NodeID) -> Bool { false }
    func snapshotNow() -> Bool { false }
    func perform(_ work: @escaping () -> Void) -> Bool {
        work()
        return true
    }
    func performAlways(_ work: @escaping () -> Void) { work() }
    func call(_ peer: NodeID, callID: UInt64, payload: [UInt8]) {}
    func respond(to peer: NodeID, callID: UInt64, payload: [UInt8]) {}
}

/// What the service sent one client: replies and events, decoded.
final class RecordingSink: ZooKeeperClientSink, @unchecked Sendable {
    var packets: [[UInt8]] = []
    var closed = false

    func send(_ packet: [UInt8]) { packets.append(packet) }
    func close() { closed = true }

    /// Reply headers and events after the connect response, in the order sent.
    var headers: [ZooKeeperReplyHeader] {
        packets.dropFirst().compactMap { packet in
            guard case .packet(let payload, _) = ZooKeeperFrame.decode(packet, at: 0) else { return nil }
            var reader = JuteReader(packet, from: payload.lowerBound, to: payload.upperBound)
            return try? ZooKeeperReplyHeader(from: &reader)
        }
    }

    /// The watch events sent, as (type, path).
    var events: [(Int32, String)] {
        packets.dropFirst().compactMap { packet in
            guard case .packet(let payload, _) = ZooKeeperFrame.decode(packet, at: 0) else { return nil }
            var reader = JuteReader(packet, from: payload.lowerBound, to: payload.upperBound)
            guard let header = try? ZooKeeperReplyHeader(from: &reader), header.xid == ZooKeeperXid.notification,
                  let event = try? ZooKeeperWatcherEvent(from: &reader) else { return nil }
            return (event.type, event.path)
        }
    }
}

@Suite struct ZooKeeperServiceTests {
    let replica = OneNodeReplica()
    let service: ZooKeeperService
    var nextXid: Int32 = 1

    init() {
        // Seeded: session ids and passwords come from here.
        let environment = ReplicaEnvironment.simulated(seed: 7) { ContinuousClock.now }
        var limits = ZooKeeperService.Limits()
        limits.containerCheckInterval = .zero
        service = ZooKeeperService(replica: replica, environment: environment, limits: limits, epochMillis: 1_765_000_000_000, logger: Logger(label: "test"))
        replica.service = service
    }

    /// Opens a connection and its session (committed), returning its sink.
    func connect(id: UInt64, readOnly: Bool? = false) -> RecordingSink {
        let sink = RecordingSink()
        service.connected(id: id, sink: sink)
        service.received(ZooKeeperConnectRequest(lastZxidSeen: 0, timeoutMillis: 30_000, sessionID: 0, password: [UInt8](repeating: 0, count: 16), readOnly: readOnly).encoded, from: id)
        replica.commit()
        return sink
    }

    mutating func send(_ request: ZooKeeperRequest, on id: UInt64) -> Int32 {
        nextXid += 1
        var writer = JuteWriter()
        ZooKeeperRequestHeader(xid: nextXid, operation: request.operation.rawValue).write(to: &writer)
        request.write(to: &writer)
        service.received(writer.bytes, from: id)
        return nextXid
    }

    /// The last reply sent on a connection, decoded as `operation`'s response.
    func lastResponse(_ sink: RecordingSink, as operation: ZooKeeperOperation) throws -> ZooKeeperResponse {
        guard let packet = sink.packets.last, case .packet(let payload, _) = ZooKeeperFrame.decode(packet, at: 0) else { throw JuteError.truncated(field: "reply") }
        var reader = JuteReader(packet, from: payload.lowerBound, to: payload.upperBound)
        _ = try ZooKeeperReplyHeader(from: &reader)
        return try ZooKeeperResponse.decode(for: operation, from: &reader)
    }

    /// A connection holds the address it came from as an "ip" identity: "ip" ACLs match it by
    /// network, and whoAmI names it and the digest users proven, as ZooKeeper's does.
    @Test mutating func theClientsAddressIsAnIPIdentityForACLsAndWhoAmI() throws {
        let sink = RecordingSink()
        service.connected(id: 5, sink: sink, remote: "10.1.2.3:5000")
        service.received(ZooKeeperConnectRequest(lastZxidSeen: 0, timeoutMillis: 30_000, sessionID: 0, password: [UInt8](repeating: 0, count: 16), readOnly: false).encoded, from: 5)
        replica.commit()
        let ours = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.all, id: ZooKeeperID(scheme: "ip", id: "10.1.0.0/16"))]
        let theirs = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.all, id: ZooKeeperID(scheme: "ip", id: "10.2.0.0/16"))]
        _ = send(.create(.init(path: "/ours", data: [1], acl: ours, flags: 0)), on: 5)
        _ = send(.create(.init(path: "/theirs", data: [2], acl: theirs, flags: 0)), on: 5)
        replica.commit()
        _ = send(.getData(path: "/ours", watch: false), on: 5)
        #expect(sink.headers.last?.error == 0, "10.1.2.3 is in 10.1.0.0/16")
        _ = send(.getData(path: "/theirs", watch: false), on: 5)
        #expect(sink.headers.last?.error == ZooKeeperErrorCode.noAuth.rawValue, "10.1.2.3 is not in 10.2.0.0/16")
        _ = send(.setData(path: "/theirs", data: [3], version: -1), on: 5)
        replica.commit()
        #expect(sink.headers.last?.error == ZooKeeperErrorCode.noAuth.rawValue, "writes are checked at apply against the same identity")
        _ = send(.auth(type: 0, scheme: "digest", auth: Array("alice:secret".utf8)), on: 5)
        _ = send(.whoAmI, on: 5)
        #expect(try lastResponse(sink, as: .whoAmI) == .clientInfo([.init(authScheme: "ip", user: "10.1.2.3"), .init(authScheme: "digest", user: "alice")]))
    }

    /// A watch event goes only to a session that may READ the node, the watch used up either way;
    /// getACL without ADMIN masks digest hashes; getAllChildrenNumber needs READ.
    @Test mutating func watchEventsAndACLReadsRespectTheReadersPermissions() throws {
        let stranger = connect(id: 1)
        let owner = connect(id: 2)
        _ = send(.auth(type: 0, scheme: "digest", auth: Array("alice:secret".utf8)), on: 2)
        let alice = try #require(ZooKeeperDigest.identity(Array("alice:secret".utf8)))
        let private_ = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.all, id: alice)]
        _ = send(.exists(path: "/hidden", watch: true), on: 1)
        _ = send(.exists(path: "/hidden", watch: true), on: 2)
        _ = send(.create(.init(path: "/hidden", data: [1], acl: private_, flags: 0)), on: 2)
        replica.commit()
        #expect(stranger.events.isEmpty, "the stranger may not read /hidden")
        #expect(owner.events.map(\.1) == ["/hidden"])
        let readable = [ZooKeeperACL(permissions: ZooKeeperACL.Permission.read, id: .anyone)] + private_
        _ = send(.setACL(path: "/hidden", acl: readable, version: -1), on: 2)
        replica.commit()
        _ = send(.getACL(path: "/hidden"), on: 1)
        guard case .acl(let shown, _) = try lastResponse(stranger, as: .getACL) else {
            Issue.record("no ACL")
            return
        }
        #expect(shown.last?.id == ZooKeeperID(scheme: "digest", id: "alice:x"), "masked without ADMIN")
        _ = send(.getAllChildrenNumber(path: "/hidden"), on: 1)
        #expect(stranger.headers.last?.error == 0, "READ is granted to anyone now")
    }

    @Test func theConnectIsAnsweredInKindAndTheTimeoutNegotiated() throws {
        let new = connect(id: 1, readOnly: false)
        let old = connect(id: 2, readOnly: nil)
        guard case .packet(let newPayload, _) = ZooKeeperFrame.decode(new.packets[0], at: 0),
              case .packet(let oldPayload, _) = ZooKeeperFrame.decode(old.packets[0], at: 0) else {
            Issue.record("no connect response")
            return
        }
        let newResponse = try ZooKeeperConnectResponse(decoding: Array(new.packets[0][newPayload]))
        let oldResponse = try ZooKeeperConnectResponse(decoding: Array(old.packets[0][oldPayload]))
        #expect(newResponse.readOnly == false && oldResponse.readOnly == nil)
        #expect(newResponse.timeoutMillis == 30_000, "within [2, 20] x 2,000 ms")
        #expect(newResponse.sessionID != 0 && newResponse.password.count == 16)
        #expect(service.machine.tree.sessions[newResponse.sessionID] != nil, "the session is replicated")
    }

    @Test mutating func repliesGoOutInXidOrderBehindAPendingWrite() {
        let sink = connect(id: 1)
        let write = send(.create(.init(path: "/a", data: [], flags: 0)), on: 1)
        let read = send(.exists(path: "/", watch: false), on: 1)
        #expect(sink.headers.isEmpty, "the read's reply waits for the write before it")
        replica.commit()
        #expect(sink.headers.map(\.xid) == [write, read])
    }

    /// A read pipelined behind the session's own write sees that write, as ZooKeeper answers a
    /// session's requests in order; and a write behind a waiting read is not logged before it.
    @Test mutating func aPipelinedReadSeesTheSessionsEarlierWrite() throws {
        let sink = connect(id: 1)
        _ = send(.create(.init(path: "/x", data: [1], flags: 0)), on: 1)
        replica.commit()
        _ = send(.setData(path: "/x", data: [2], version: -1), on: 1)
        _ = send(.getData(path: "/x", watch: false), on: 1)
        _ = send(.setData(path: "/x", data: [3], version: -1), on: 1)
        #expect(replica.proposals.count == 1, "the second write waits behind the read, which waits behind the first")
        replica.commit()
        replica.commit()
        let headers = sink.headers.suffix(3)
        #expect(headers.allSatisfy { $0.error == 0 } && headers.count == 3)
        // The read's reply is the second of the three: decode it from the packets.
        let packet = sink.packets[sink.packets.count - 2]
        guard case .packet(let payload, _) = ZooKeeperFrame.decode(packet, at: 0) else { throw JuteError.truncated(field: "reply") }
        var reader = JuteReader(packet, from: payload.lowerBound, to: payload.upperBound)
        _ = try ZooKeeperReplyHeader(from: &reader)
        guard case .data(let data, _) = try ZooKeeperResponse.decode(for: .getData, from: &reader) else {
            Issue.record("not a getData reply")
            return
        }
        #expect(data == [2], "the read sees the write before it and not the one after")
    }

    @Test mutating func requestsPipelinedBeforeTheSessionRunAfterIt() {
        let sink = RecordingSink()
        service.connected(id: 9, sink: sink)
        service.received(ZooKeeperConnectRequest(lastZxidSeen: 0, timeoutMillis: 10_000, sessionID: 0, password: [], readOnly: false).encoded, from: 9)
        let xid = send(.exists(path: "/zookeeper", watch: false), on: 9)
        #expect(sink.packets.isEmpty)
        replica.commit()
        #expect(sink.headers.map(\.xid) == [xid])
    }

    @Test func aClientAheadOfTheMemberIsRefused() {
        let sink = RecordingSink()
        service.connected(id: 3, sink: sink)
        service.received(ZooKeeperConnectRequest(lastZxidSeen: Int64.max, timeoutMillis: 10_000, sessionID: 0, password: [], readOnly: false).encoded, from: 3)
        #expect(sink.closed && sink.packets.isEmpty)
    }

    @Test func anUnknownSessionGetsTheZeroReplyThenClose() throws {
        let sink = RecordingSink()
        service.connected(id: 4, sink: sink)
        service.received(ZooKeeperConnectRequest(lastZxidSeen: 0, timeoutMillis: 10_000, sessionID: 12345, password: [1], readOnly: false).encoded, from: 4)
        guard case .packet(let payload, _) = ZooKeeperFrame.decode(sink.packets[0], at: 0) else {
            Issue.record("no reply")
            return
        }
        let response = try ZooKeeperConnectResponse(decoding: Array(sink.packets[0][payload]))
        #expect(response.timeoutMillis == 0 && response.sessionID == 0 && response.password == [UInt8](repeating: 0, count: 16))
        #expect(sink.closed)
    }

    /// The event precedes the reply to the write that caused it.
    @Test mutating func aWatchEventPrecedesTheReplyThatShowsTheChange() {
        let watcher = connect(id: 1)
        _ = send(.create(.init(path: "/w", data: [], flags: 0)), on: 1)
        replica.commit()
        _ = send(.getData(path: "/w", watch: true), on: 1)
        let set = send(.setData(path: "/w", data: [1], version: -1), on: 1)
        replica.commit()
        let order = watcher.headers.suffix(2).map(\.xid)
        #expect(order == [ZooKeeperXid.notification, set])
        #expect(watcher.events.map(\.1) == ["/w"])
    }

    @Test mutating func persistentAndRecursiveWatchesStayAndARecursiveOneNeverSeesChildrenChanged() {
        let sink = connect(id: 1)
        _ = send(.addWatch(path: "/p", mode: 0), on: 1)
        _ = send(.addWatch(path: "/r", mode: 1), on: 1)
        _ = send(.create(.init(path: "/p", data: [], flags: 0)), on: 1)
        _ = send(.create(.init(path: "/r", data: [], flags: 0)), on: 1)
        _ = send(.create(.init(path: "/r/child", data: [], flags: 0)), on: 1)
        _ = send(.setData(path: "/p", data: [1], version: -1), on: 1)
        _ = send(.setData(path: "/p", data: [2], version: -1), on: 1)
        _ = send(.create(.init(path: "/p/kid", data: [], flags: 0)), on: 1)
        replica.commit()
        let created = ZooKeeperWatcherEvent.EventType.nodeCreated.rawValue
        let changed = ZooKeeperWatcherEvent.EventType.nodeDataChanged.rawValue
        let children = ZooKeeperWatcherEvent.EventType.nodeChildrenChanged.rawValue
        #expect(sink.events.map { "\($0.0) \($0.1)" } == ["\(created) /p", "\(created) /r", "\(created) /r/child", "\(changed) /p", "\(changed) /p", "\(children) /p"])
        let check = send(.checkWatches(path: "/r", type: 5), on: 1)
        let remove = send(.removeWatches(path: "/r", type: 3), on: 1)
        let again = send(.removeWatches(path: "/r", type: 3), on: 1)
        let errors = Dictionary(sink.headers.filter { $0.xid > 0 }.map { ($0.xid, $0.error) }, uniquingKeysWith: { $1 })
        #expect(errors[check] == 0 && errors[remove] == 0 && errors[again] == ZooKeeperErrorCode.noWatcher.rawValue)
    }

    @Test mutating func anUnknownOperationIsUnimplementedUnderItsXid() {
        let sink = connect(id: 1)
        var writer = JuteWriter()
        ZooKeeperRequestHeader(xid: 77, operation: 999).write(to: &writer)
        service.received(writer.bytes, from: 1)
        #expect(sink.headers.last == ZooKeeperReplyHeader(xid: 77, zxid: service.machine.tree.lastZxid, error: ZooKeeperErrorCode.unimplemented.rawValue))
    }

    @Test mutating func closingTheSessionDeletesItsEphemeralsAndClosesTheConnection() {
        let owner = connect(id: 1)
        let watcher = connect(id: 2)
        _ = send(.create(.init(path: "/e", data: [], flags: 1)), on: 1)
        replica.commit()
        _ = send(.exists(path: "/e", watch: true), on: 2)
        _ = send(.closeSession, on: 1)
        replica.commit()
        #expect(owner.closed)
        #expect(service.machine.tree.node(at: "/e") == nil)
        #expect(watcher.events.map(\.1) == ["/e"])
    }

    @Test mutating func theLeaderDeletesAnEmptiedContainerThroughTheLog() {
        _ = connect(id: 1)
        _ = send(.create(.init(operation: .createContainer, path: "/locks", data: [], flags: 4)), on: 1)
        _ = send(.create(.init(path: "/locks/a", data: [], flags: 0)), on: 1)
        _ = send(.delete(path: "/locks/a", version: -1), on: 1)
        replica.commit()
        service.afterIteration(status: replica.status, now: .now)
        replica.commit()
        #expect(service.machine.tree.node(at: "/locks") == nil)
    }
}
