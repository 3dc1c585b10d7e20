import ConsensusCore
import Logging
import Replica
import Synchronization
import ZooKeeperData
import ZooKeeperWire

/// The ZooKeeper front end on a replica: the data tree (`ZooKeeperStateMachine`) on the shared log
/// under tag 0x5A, the sessions and connections of the clients attached to this member, their
/// watches, and the leader's expiry of sessions that went quiet.
///
/// Reads are served from this member's tree, as ZooKeeper serves them (sequentially consistent;
/// `sync` first for the latest); writes, session creation and closing go through the log, and the
/// member the client asked answers when the entry applies. Everything runs on the replica's thread.
public final class ZooKeeperService: HostedService, @unchecked Sendable {
    public let tag = ServiceTag.zookeeper
    let replica: any ReplicaHandle
    let environment: ReplicaEnvironment
    let logger: Logger
    public private(set) var machine = ZooKeeperStateMachine()
    public let limits: Limits
    let faults: ZooKeeperServiceFaults

    public struct Limits: Sendable {
        /// ZooKeeper's tickTime: session timeouts are negotiated within [2, 20] of it.
        public var tickMillis: Int32 = 2_000
        /// Replies a connection may owe before it is closed (ZooKeeper's outstanding limit is 1,000).
        public var repliesOwedMax = 10_000
        /// Watches one connection may hold.
        public var watchesPerConnectionMax = 100_000
        /// Packets a client may pipeline before its session exists.
        public var packetsBeforeSessionMax = 1_000
        public var packetBytesMax = ZooKeeperFrame.defaultPacketBytesMax
        /// How often the leader deletes emptied containers and expired TTL nodes (ZooKeeper's
        /// `znode.container.checkIntervalMs`, one minute).
        public var containerCheckInterval: Duration = .seconds(60)
        /// Deletions one sweep proposes at most (ZooKeeper's `znode.container.maxPerMinute`); the
        /// rest wait for the next sweep.
        public var sweepDeletionsMax = 10_000
        /// TTL nodes allowed (ZooKeeper's `zookeeper.extendedTypesEnabled`, off by default).
        public var extendedTypes = false
        /// How long a write, sync or connect may wait for the log before its connection is closed:
        /// a proposal lost with a leader is never answered, and every request behind it waits,
        /// so the client is told to reconnect, as a ZooKeeper follower drops its clients when it
        /// loses its leader. The session survives.
        public var requestTimeout: Duration = .seconds(10)
        public init() {}
        var sessionTimeoutMillis: ClosedRange<Int32> { (2 * tickMillis)...(20 * tickMillis) }
    }

    /// Milliseconds since the epoch at `startInstant`: ctime and mtime are this plus the time since.
    let epochMillisAtStart: Int64
    let startInstant: ContinuousClock.Instant

    var connections: [UInt64: ZooKeeperConnection] = [:]
    /// The connection a session is attached to on this member.
    var connectionOfSession: [Int64: UInt64] = [:]
    var nextRequest: UInt64
    /// Proposals of this member waiting for their entry: the connection and the reply slot.
    var pendingWrites: [RequestID: (connection: UInt64, xid: Int32, slot: Int)] = [:]
    var pendingConnects: [RequestID: UInt64] = [:]
    /// Whether what closed connections were owed may still be kept (`closeStalledConnections`).
    var connectionsClosedSinceScan = false
    /// syncs waiting for a read index, then for the tree to apply it.
    var pendingSyncs: [RequestID: (connection: UInt64, xid: Int32, slot: Int, path: String)] = [:]
    var syncsWaitingForApply: [(index: LogIndex, connection: UInt64, xid: Int32, slot: Int, path: String)] = []
    /// Leader only: when each session expires unless heard from.
    var sessionDeadlines: [Int64: ContinuousClock.Instant] = [:]
    var expiriesProposed: Set<Int64> = []
    /// Sessions attached here that were active since the last report to the leader.
    var touchedSinceReport: Set<Int64> = []
    var lastTouchReport: ContinuousClock.Instant?
    var lastSessionScan: ContinuousClock.Instant?
    var lastContainerCheck: ContinuousClock.Instant?
    var wasLeader = false
    /// What the four-letter words report, published after each batch for the listener's threads.
    public let figures = ZooKeeperFigures()
    let traffic = ZooKeeperTraffic()

    public init(
        replica: any ReplicaHandle, environment: ReplicaEnvironment = .live, limits: Limits = Limits(), epochMillis: Int64, logger: Logger,
        faults: ZooKeeperServiceFaults = ZooKeeperServiceFaults()
    ) {
        self.faults = faults
        self.replica = replica
        self.environment = environment
        self.limits = limits
        self.logger = logger
        epochMillisAtStart = epochMillis
        startInstant = environment.now()
        nextRequest = environment.random() & ServiceTag.requestCounterMask
    }

    var tree: ZooKeeperDataTree { machine.tree }

    func nextRequestID() -> RequestID {
        nextRequest &+= 1
        return tag.requestID(nextRequest)
    }

    var nowMillis: Int64 { epochMillis(at: environment.now()) }

    /// Milliseconds since the epoch at `instant`, on this member's clock.
    func epochMillis(at instant: ContinuousClock.Instant) -> Int64 {
        epochMillisAtStart &+ (instant - startInstant).wholeMilliseconds
    }

    // MARK: Connections (called on the replica's thread)

    /// A new client connection, from `remote` ("host:port") when the listener knows it.
    public func connected(id: UInt64, sink: any ZooKeeperClientSink, remote: String? = nil) {
        connections[id] = ZooKeeperConnection(id: id, tag: environment.random() | 1, sink: sink, remote: remote, clock: environment.now, traffic: traffic)
    }

    /// The client went away; its session lives on until it expires or another connection resumes it.
    public func disconnected(id: UInt64) {
        guard let connection = connections.removeValue(forKey: id) else { return }
        connection.closed = true
        connectionsClosedSinceScan = true
        if let session = connection.session, connectionOfSession[session] == id { connectionOfSession[session] = nil }
    }

    func close(_ connection: ZooKeeperConnection) {
        connection.sink.close()
        disconnected(id: connection.id)
    }

    /// One packet from a client, framing removed.
    public func received(_ packet: [UInt8], from id: UInt64) {
        guard let connection = connections[id] else { return }
        connection.statistics.received &+= 1
        traffic.received &+= 1
        guard let session = connection.session else {
            if !connection.connectReceived { return connect(packet, on: connection) }
            guard connection.waitingForSession.count < limits.packetsBeforeSessionMax else { return close(connection) }
            connection.waitingForSession.append(packet)
            return
        }
        touch(session)
        guard connection.replies.count < limits.repliesOwedMax else {
            logger.warning("closing a ZooKeeper connection that owes \(connection.replies.count) replies")
            return close(connection)
        }
        var reader = JuteReader(packet)
        guard let header = try? ZooKeeperRequestHeader(from: &reader) else { return close(connection) }
        let slot = connection.reserve(xid: header.xid, operation: header.operation)
        let request: ZooKeeperRequest
        do {
            request = try ZooKeeperRequest.decode(operation: header.operation, from: &reader)
        } catch .unknownOperation {
            return connection.fill(slot: slot, with: ZooKeeperConnection.header(xid: header.xid, zxid: tree.lastZxid, error: .unimplemented))
        } catch {
            return connection.fill(slot: slot, with: ZooKeeperConnection.header(xid: header.xid, zxid: tree.lastZxid, error: .marshallingError))
        }
        if !faults.readsSkipSessionOrder, !connection.held.isEmpty || (connection.awaiting > 0 && !Self.isLogged(request)) {
            connection.held.append((request, header.xid, slot))
            return
        }
        handle(request, xid: header.xid, slot: slot, session: session, on: connection)
    }

    /// Requests answered only once the log has them: a read behind one waits for it.
    static func isAwaited(_ request: ZooKeeperRequest) -> Bool {
        if case .sync = request { return true }
        return isLogged(request)
    }

    /// Requests that travel through the log as the connection's numbered writes, so the log keeps
    /// their order (`ZooKeeperDataTree.orderRefusal`) and they need not wait for one another. A
    /// sync waits like a read: its answer must show the writes sent before it.
    static func isLogged(_ request: ZooKeeperRequest) -> Bool {
        if case .closeSession = request { return true }
        return ZooKeeperTransaction.isWrite(request)
    }

    /// One of the connection's writes, syncs or closes was answered: the requests held behind it
    /// run, in order, up to the next read that must wait.
    func settled(_ connection: ZooKeeperConnection) {
        connection.awaiting -= 1
        connection.waitingSince = connection.awaiting > 0 ? environment.now() : nil
        while let next = connection.held.first, !connection.closed, let session = connection.session {
            if connection.awaiting > 0 && !Self.isLogged(next.request) { return }
            connection.held.removeFirst()
            handle(next.request, xid: next.xid, slot: next.slot, session: session, on: connection)
        }
    }

    func handle(_ request: ZooKeeperRequest, xid: Int32, slot: Int, session: Int64, on connection: ZooKeeperConnection) {
        let zxid = tree.lastZxid
        func answer(_ result: Result<ZooKeeperResponse, ZooKeeperErrorCode>) {
            connection.fill(slot: slot, with: ZooKeeperConnection.reply(xid: xid, zxid: zxid, result))
        }
        if Self.isAwaited(request) {
            if connection.awaiting == 0 { connection.waitingSince = environment.now() }
            connection.awaiting += 1
        }
        if ZooKeeperTransaction.isWrite(request) {
            return propose(.write(request), session: session, pending: (connection.id, xid, slot), connection: connection)
        }
        switch request {
        case .ping:
            answer(.success(.empty))
        case .closeSession:
            propose(.closeSession(id: session), session: session, pending: (connection.id, xid, slot), connection: connection)
        case .exists(let path, _) where path.contains("\0"):
            answer(.failure(.badArguments))
        case .exists(let path, let watch):
            if watch && !watchPermitted(connection) { return answer(.failure(.badArguments)) }
            if watch { connection.dataWatches.insert(path) }
            answer(tree.node(at: path).map { .success(.stat($0.stat)) } ?? .failure(.noNode))
        case .getData(let path, let watch):
            guard let node = tree.node(at: path) else { return answer(.failure(.noNode)) }
            guard readable(node, by: connection) else { return answer(.failure(.noAuth)) }
            if watch && watchPermitted(connection) { connection.dataWatches.insert(path) }
            answer(.success(.data(node.data, stat: node.stat)))
        case .getChildren(let path, let watch), .getChildren2(let path, let watch):
            guard let node = tree.node(at: path), let children = tree.children(of: path) else { return answer(.failure(.noNode)) }
            guard readable(node, by: connection) else { return answer(.failure(.noAuth)) }
            if watch && watchPermitted(connection) { connection.childWatches.insert(path) }
            if case .getChildren = request { answer(.success(.children(children))) } else { answer(.success(.childrenWithStat(children, stat: node.stat))) }
        case .getACL(let path):
            guard let node = tree.node(at: path) else { return answer(.failure(.noNode)) }
            let administers = ZooKeeperDataTree.permits(node.acl, ZooKeeperACL.Permission.admin, auth: connection.authIDs)
            guard readable(node, by: connection) || administers else { return answer(.failure(.noAuth)) }
            // Without ADMIN a reader sees who the digest users are, not their password hashes
            // ("user:x"), as ZooKeeper 3.8 answers.
            let shown = administers ? node.acl : node.acl.map { entry in
                guard entry.id.scheme == "digest", let colon = entry.id.id.firstIndex(of: ":") else { return entry }
                return ZooKeeperACL(permissions: entry.permissions, id: ZooKeeperID(scheme: "digest", id: entry.id.id[..<colon] + ":x"))
            }
            answer(.success(.acl(shown, stat: node.stat)))
        case .getEphemerals(let prefix):
            // A blank prefix, or the root, asks for all of them (ZooKeeper trims it).
            let blank = { (character: Character) in character.unicodeScalars.allSatisfy { $0.value <= 0x20 } }
            let trimmed = String(prefix.drop(while: blank).reversed().drop(while: blank).reversed())
            answer(.success(.paths(tree.ephemerals(of: session, prefix: trimmed == ZooKeeperPath.root ? "" : trimmed))))
        case .getAllChildrenNumber(let path):
            guard let node = tree.node(at: path) else { return answer(.failure(.noNode)) }
            guard readable(node, by: connection) else { return answer(.failure(.noAuth)) }
            answer(tree.descendantCount(of: path).map { .success(.number(Int32(clamping: $0))) } ?? .failure(.noNode))
        case .sync(let path):
            let id = nextRequestID()
            pendingSyncs[id] = (connection.id, xid, slot, path)
            if faults.syncsSkipReadIndex { return readReady(id, index: machine.appliedIndex) }
            if !replica.read(id) {
                pendingSyncs[id] = nil
                answer(.failure(.connectionLoss))
                settled(connection)
            }
        case .multiRead(let operations):
            let results = operations.map { operation -> ZooKeeperResponse.MultiResult in
                switch operation {
                case .getData(let path, _):
                    guard let node = tree.node(at: path) else { return .error(ZooKeeperErrorCode.noNode.rawValue) }
                    guard readable(node, by: connection) else { return .error(ZooKeeperErrorCode.noAuth.rawValue) }
                    return .success(operation: .getData, .data(node.data, stat: node.stat))
                case .getChildren(let path, _):
                    guard let node = tree.node(at: path), let children = tree.children(of: path) else { return .error(ZooKeeperErrorCode.noNode.rawValue) }
                    guard readable(node, by: connection) else { return .error(ZooKeeperErrorCode.noAuth.rawValue) }
                    return .success(operation: .getChildren, .children(children))
                default:
                    return .error(ZooKeeperErrorCode.unimplemented.rawValue)
                }
            }
            answer(.success(.multi(results)))
        case .auth(_, let scheme, let credential):
            // addAuth: "digest user:password" proves digest:user:base64(sha1(user:password)). An
            // unknown scheme fails the authentication and closes the connection, as ZooKeeper does.
            guard scheme == "digest", let identity = ZooKeeperDigest.identity(credential), connection.authIDs.count < ZooKeeperTransaction.authIDsMax else {
                connection.fill(slot: slot, with: ZooKeeperConnection.header(xid: ZooKeeperXid.auth, zxid: 0, error: .authFailed))
                return close(connection)
            }
            if !connection.authIDs.contains(identity) { connection.authIDs.append(identity) }
            connection.fill(slot: slot, with: ZooKeeperConnection.header(xid: ZooKeeperXid.auth, zxid: 0, error: .ok))
        case .setWatches(let watches):
            restoreWatches(watches, on: connection)
            connection.fill(slot: slot, with: ZooKeeperConnection.header(xid: ZooKeeperXid.setWatches, zxid: zxid, error: .ok))
        case .whoAmI:
            // The identities the connection holds, as ZooKeeper names them: the address for
            // "ip", the user for "digest".
            answer(.success(.clientInfo(connection.authIDs.map { id in
                ZooKeeperResponse.ClientInfo(authScheme: id.scheme, user: id.scheme == "digest" ? String(id.id.prefix { $0 != ":" }) : id.id)
            })))
        case .addWatch(let path, let mode):
            guard mode == 0 || mode == 1 else { return answer(.failure(.badArguments)) }
            guard watchPermitted(connection) else { return answer(.failure(.badArguments)) }
            if mode == 0 { connection.persistentWatches.insert(path) } else { connection.recursiveWatches.insert(path) }
            answer(.success(.number(0)))
        case .checkWatches(let path, let type):
            answer(connection.hasWatch(on: path, type: type) ? .success(.empty) : .failure(.noWatcher))
        case .removeWatches(let path, let type):
            answer(connection.removeWatches(on: path, type: type) ? .success(.empty) : .failure(.noWatcher))
        case .create, .delete, .setData, .setACL, .check, .multi:
            break  // Writes, above.
        }
    }

    func watchPermitted(_ connection: ZooKeeperConnection) -> Bool { connection.watchCount < limits.watchesPerConnectionMax }

    func readable(_ node: ZooKeeperNode, by connection: ZooKeeperConnection) -> Bool {
        ZooKeeperDataTree.permits(node.acl, ZooKeeperACL.Permission.read, auth: connection.authIDs)
    }

    func propose(_ operation: ZooKeeperTransaction.Operation, session: Int64, pending: (connection: UInt64, xid: Int32, slot: Int), connection: ZooKeeperConnection) {
        let id = nextRequestID()
        connection.writesSent += 1
        let transaction = ZooKeeperTransaction(
            requestID: id.rawValue, session: session, time: nowMillis, auth: connection.authIDs, extendedTypes: limits.extendedTypes,
            connection: connection.tag, sequence: connection.writesSent, operation: operation)
        pendingWrites[id] = pending
        if !replica.propose(Proposal(id: id, data: transaction.encoded)) {
            pendingWrites[id] = nil
            connection.fill(slot: pending.slot, with: ZooKeeperConnection.header(xid: pending.xid, zxid: tree.lastZxid, error: .connectionLoss))
            // Its number is spent: the connection's later writes could only fail; it closes.
            close(connection)
        }
    }

    // MARK: ReplicaApplication

    public func apply(_ entries: [Entry], status: EngineStatus) {
        for entry in entries {
            guard case .applied(let transaction, let applied) = machine.apply(entry) else { continue }
            fireWatches(applied.triggers)
            answer(transaction, applied)
        }
        figures.lastZxid.store(tree.lastZxid, ordering: .relaxed)
        figures.nodeCount.store(tree.nodes.count, ordering: .relaxed)
        answerAppliedSyncs()
    }

    /// syncs whose read index this member has applied.
    func answerAppliedSyncs() {
        let applied = machine.appliedIndex
        while let first = syncsWaitingForApply.first, first.index <= applied {
            syncsWaitingForApply.removeFirst()
            guard let connection = connections[first.connection] else { continue }
            connection.fill(slot: first.slot, with: ZooKeeperConnection.reply(xid: first.xid, zxid: tree.lastZxid, .path(first.path)))
            settled(connection)
        }
    }

    func answer(_ transaction: ZooKeeperTransaction, _ applied: ZooKeeperDataTree.Applied) {
        let id = RequestID(transaction.requestID)
        switch transaction.operation {
        case .createSession(let session, let timeout, _):
            if case .success = applied.result { sessionDeadlines[session] = environment.now() + .milliseconds(Int64(timeout)) }
            answerConnect(id, session: session, applied.result)
        case .claimSession(let session):
            answerConnect(id, session: session, applied.result)
        case .closeSession(let session):
            let pending = pendingWrites.removeValue(forKey: id)
            guard case .success = applied.result else {
                // A close from a connection that no longer owns the session: only that one goes.
                if let pending, let connection = connections[pending.connection] {
                    connection.fill(slot: pending.slot, with: ZooKeeperConnection.reply(xid: pending.xid, zxid: applied.zxid, applied.result))
                    close(connection)
                }
                return
            }
            sessionDeadlines[session] = nil
            expiriesProposed.remove(session)
            if let connectionID = connectionOfSession[session], let connection = connections[connectionID] {
                if let pending, pending.connection == connectionID {
                    connection.fill(slot: pending.slot, with: ZooKeeperConnection.header(xid: pending.xid, zxid: applied.zxid, error: .ok))
                }
                close(connection)
            }
        case .deleteContainer:
            break  // The leader's own; nobody waits for it.
        case .write:
            guard let pending = pendingWrites.removeValue(forKey: id), let connection = connections[pending.connection] else { return }
            connection.fill(slot: pending.slot, with: ZooKeeperConnection.reply(xid: pending.xid, zxid: applied.zxid, applied.result))
            if case .failure(let code) = applied.result, code == .sessionMoved || code == .connectionLoss {
                // The connection lost its session (moved elsewhere, or a write of its own went
                // missing): it closes, and the client reconnects, as with ZooKeeper.
                return close(connection)
            }
            settled(connection)
        }
    }

    public func readReady(_ id: RequestID, index: LogIndex) {
        guard let sync = pendingSyncs.removeValue(forKey: id) else { return }
        syncsWaitingForApply.append((index, sync.connection, sync.xid, sync.slot, sync.path))
        answerAppliedSyncs()
    }

    public func rejected(_ id: RequestID, _ reason: RequestRejection) {
        // No leader to take the request: as a ZooKeeper follower that lost its leader does, drop
        // the connection so the client reconnects (perhaps elsewhere) with its session.
        if let pending = pendingWrites.removeValue(forKey: id) ?? pendingSyncs.removeValue(forKey: id).map({ ($0.connection, $0.xid, $0.slot) }),
           let connection = connections[pending.connection] {
            connection.fill(slot: pending.slot, with: ZooKeeperConnection.header(xid: pending.xid, zxid: tree.lastZxid, error: .connectionLoss))
            close(connection)
        }
        if let connectionID = pendingConnects.removeValue(forKey: id), let connection = connections[connectionID] { close(connection) }
    }

    public func snapshotWriter() -> @Sendable () -> [UInt8] {
        let machine = self.machine
        return { machine.snapshot() }
    }

    public func restore(_ snapshot: Snapshot) {
        do {
            machine = try ZooKeeperStateMachine(restoring: snapshot)
        } catch {
            // The router checked the part before the engine took it (`acceptsSnapshotPart`).
            preconditionFailure("ZooKeeper snapshot part at \(snapshot.metadata.index) does not restore: \(error)")
        }
    }

    public func acceptsSnapshotPart(_ part: [UInt8]) -> Bool { part.isEmpty || (try? ZooKeeperSnapshot.decode(part)) != nil }

    public func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { (try? ZooKeeperTransaction(decoding: data)) != nil }

    public func storageSpace(exhausted: Bool) {}
}

/// The service's figures as other threads read them (the four-letter words): written on the
/// replica's thread after each batch, read anywhere.
public final class ZooKeeperFigures: Sendable {
    let lastZxid = Atomic<Int64>(0)
    let nodeCount = Atomic<Int>(0)
    let sessionCount = Atomic<Int>(0)
    let ephemeralCount = Atomic<Int>(0)
    let connectionCount = Atomic<Int>(0)
    let watchCount = Atomic<Int>(0)
    let watchedPaths = Atomic<Int>(0)
    let received = Atomic<Int64>(0)
    let sent = Atomic<Int64>(0)
    let outstanding = Atomic<Int>(0)
    let latency = Mutex(ZooKeeperLatency())

    public init() {}
}

extension ZooKeeperService {
    /// Closes the connections whose requests have waited for the log longer than
    /// `Limits.requestTimeout`, and forgets what closed connections were owed. Run with the
    /// session scan, a few times a second.
    func closeStalledConnections(now: ContinuousClock.Instant) {
        for connection in connections.values {
            guard let since = connection.waitingSince, now - since > limits.requestTimeout else { continue }
            logger.info("closing a ZooKeeper connection whose request waited \(now - since) for the log")
            close(connection)
        }
        guard connectionsClosedSinceScan else { return }
        connectionsClosedSinceScan = false
        pendingWrites = pendingWrites.filter { connections[$0.value.connection] != nil }
        pendingSyncs = pendingSyncs.filter { connections[$0.value.connection] != nil }
        pendingConnects = pendingConnects.filter { connections[$0.value] != nil }
        syncsWaitingForApply.removeAll { connections[$0.connection] == nil }
    }

    /// The figures that take a walk over sessions and watches: a few times a second (with the
    /// session scan), never per batch.
    func publishFigures() {
        figures.sessionCount.store(tree.sessions.count, ordering: .relaxed)
        figures.ephemeralCount.store(tree.sessions.values.reduce(0) { $0 + $1.ephemerals.count }, ordering: .relaxed)
        figures.connectionCount.store(connections.count, ordering: .relaxed)
        var watches = 0
        var paths = Set<String>()
        for connection in connections.values where connection.watchCount > 0 {
            watches += connection.watchCount
            paths.formUnion(connection.dataWatches)
            paths.formUnion(connection.childWatches)
        }
        figures.watchCount.store(watches, ordering: .relaxed)
        figures.watchedPaths.store(paths.count, ordering: .relaxed)
        figures.received.store(traffic.received, ordering: .relaxed)
        figures.sent.store(traffic.sent, ordering: .relaxed)
        figures.outstanding.store(pendingWrites.count + pendingSyncs.count + syncsWaitingForApply.count, ordering: .relaxed)
        let latency = traffic.latency
        figures.latency.withLock { $0 = latency }
    }

    /// `cons`: one line per connection, at most `consConnectionsMax`. Built when asked for, on the
    /// replica's thread, rather than with every scan.
    func connectionListing() -> [String] {
        connections.keys.sorted().prefix(Self.consConnectionsMax).map { connectionLine(connections[$0]!) }
    }

    /// Connections `cons` lists at most; past them it says how many it left out.
    static let consConnectionsMax = 10_000

    /// One connection as ZooKeeper's `cons` prints it (ServerCnxn.dumpConnectionInfo).
    func connectionLine(_ connection: ZooKeeperConnection) -> String {
        let statistics = connection.statistics
        var line = " /\(connection.remote ?? "unknown")[1](queued=\(connection.replies.count),recved=\(statistics.received),sent=\(statistics.sent)"
        if let session = connection.session {
            let hex = { (value: Int64) in "0x" + String(UInt64(bitPattern: value), radix: 16) }
            let timeout = tree.sessions[session]?.timeoutMillis ?? 0
            line += ",sid=\(hex(session)),lop=\(statistics.lastOperation),est=\(epochMillis(at: connection.establishedAt)),to=\(timeout)"
            line += ",lcxid=\(hex(Int64(statistics.lastCxid))),lzxid=\(hex(statistics.lastZxid))"
            line += ",lresp=\(statistics.lastResponseAt.map(epochMillis(at:)) ?? 0),llat=\(statistics.latency.lastMillis)"
            line += ",minlat=\(statistics.latency.minMillis),avglat=\(statistics.latency.averageText),maxlat=\(statistics.latency.maxMillis)"
        }
        return line + ")"
    }
}
