import ConsensusCore
import Linearizability
import Logging
import Replica
import Simulation
import ZooKeeperData
import ZooKeeperServer
import ZooKeeperWire

/// The real ZooKeeper service (`ZooKeeperService`: the data tree on the log, sessions, the
/// leader's expiry, requests answered in session order) on every simulated node, under the
/// simulator's faults, driven through the wire protocol as a client library drives it.
///
/// Each simulated client holds one session and one connection at a time, on the member its
/// operation is sent to; moving to another member, it resumes its session there with the id and
/// password (or, when the session has expired, starts a new one), and tells the member the last
/// zxid it saw, which a member behind it must refuse. Registers are znodes `/k0`, `/k1`, …:
/// - get: sync, then getData, pipelined (the read must wait for the sync: a linearizable read);
/// - put: setData, or create when the node does not exist yet (now and then a multi that also
///   sets a side node, so multi takes part);
/// - compare-and-set: create for an absent expected value; otherwise sync, getData, and setData
///   with the version read. Values are never deleted and each is written once, so a version names
///   one value and the two steps decide as one compare-and-set would.
///
/// Besides the history's linearizability (and the simulator's check that members at one index
/// hold one tree), it checks what ZooKeeper promises a client: replies in xid order, zxids that
/// never go back for a client (across members and reconnections), and sequential names unique and
/// ordered (creates now and then add a sequential node under `/seq`).
///
/// `@unchecked Sendable`: everything runs on the simulator's one thread.
public final class ZooKeeperSimulatedService: SimulatedService, @unchecked Sendable {
    public var name: String { "zookeeper" }

    private var services: [ZooKeeperService?]
    /// What each node's host runs: the router of its services, wrapped so clients read their
    /// inboxes after each call (the host holds its application weakly).
    private var applications: [DrainingApplication?]
    private var routers: [ServiceRouter?]
    private var clients: [Int: ClientState] = [:]
    private var connections: [UInt64: SimulatedZooKeeperConnection] = [:]
    private var nextConnection: UInt64 = 1
    private var violations: [String] = []
    private var random: SeededRandom
    private let faults: [Int: ZooKeeperServiceFaults]
    private var clock: (@Sendable () -> ContinuousClock.Instant)?
    /// Sequential creates that completed: the name's counter, and when the create was sent and answered.
    private var sequentialNames: [(number: Int64, invoked: ContinuousClock.Instant, completed: ContinuousClock.Instant)] = []
    private var counted: [String: Int] = [:]
    private var draining = false

    /// The session timeout clients ask for: 60 simulator ticks, so partitions expire sessions.
    static let sessionTimeoutMillis: Int32 = 6_000
    /// Passes over the inboxes one drain makes at most: a client's reaction to a reply is one
    /// more request, so a handful suffice; the bound keeps a defect from spinning forever.
    static let drainPassesMax = 1_000

    struct ClientState {
        var session: (id: Int64, password: [UInt8])?
        var connection: UInt64?
        /// The highest zxid any reply has shown this client.
        var lastZxid: Int64 = 0
        var lastReply = ""
    }

    public init(nodeCount: Int, seed: UInt64, faults: [Int: ZooKeeperServiceFaults] = [:]) {
        services = Array(repeating: nil, count: nodeCount)
        applications = Array(repeating: nil, count: nodeCount)
        routers = Array(repeating: nil, count: nodeCount)
        random = SeededRandom(seed: seed ^ 0x7A6B_6565)
        self.faults = faults
    }

    /// For `SeedSweep` and `synod sim --service zookeeper`.
    public static let factory: SimulatedServiceFactory = { nodeCount, options in
        ZooKeeperSimulatedService(nodeCount: nodeCount, seed: options.seed)
    }

    /// The service with deliberate defects on every node, for the checkers' sensitivity tests.
    public static func factory(faults: ZooKeeperServiceFaults) -> SimulatedServiceFactory {
        { nodeCount, options in
            ZooKeeperSimulatedService(nodeCount: nodeCount, seed: options.seed, faults: Dictionary(uniqueKeysWithValues: (0..<nodeCount).map { ($0, faults) }))
        }
    }

    static let silent = Logger(label: "synod.simulation.zookeeper") { _ in SwiftLogNoOpLogHandler() }

    // MARK: Nodes

    public func start(node: Int, id: NodeID, replica: any ReplicaHandle, environment: ReplicaEnvironment) -> any ReplicaApplication {
        if clock == nil { clock = environment.now }
        let router = ServiceRouter()
        var limits = ZooKeeperService.Limits()
        limits.containerCheckInterval = .seconds(1)
        // Shorter than a client's attempt (40 ticks): a connection whose write went missing is
        // closed, and the client resumes its session, before the client gives up.
        limits.requestTimeout = .seconds(3)
        let service = ZooKeeperService(
            replica: router.handle(for: .zookeeper, over: replica), environment: environment, limits: limits,
            epochMillis: 1_765_000_000_000, logger: Self.silent, faults: faults[node] ?? ZooKeeperServiceFaults())
        router.add(service)
        let application = DrainingApplication(router) { [unowned self] in drain() }
        services[node] = service
        routers[node] = router
        applications[node] = application
        return application
    }

    /// The member's connections die with it; their clients reconnect elsewhere with their sessions.
    public func crashed(node: Int) {
        services[node] = nil
        routers[node] = nil
        applications[node] = nil
        for connection in connections.values where connection.node == node { connection.closedByServer = true }
        drain()
    }

    public func appliedIndex(node: Int) -> LogIndex { services[node]?.machine.appliedIndex ?? 0 }

    public func stateDigest(node: Int) -> UInt64 {
        guard let router = routers[node] else { return 0 }
        return Digest.of(router.snapshotWriter()())
    }

    public var retriesWritesSafely: Bool { false }

    public func finalViolations() -> [String] {
        var found = violations
        for (node, service) in services.enumerated() {
            guard let service else { continue }
            found += service.machine.tree.invariantViolations().map { "n\(node + 1)'s tree: \($0)" }
        }
        // Sequential names: unique, and a create answered before another was sent has the smaller number.
        let numbers = sequentialNames.map(\.number)
        if Set(numbers).count != numbers.count { found.append("sequential names repeat: \(numbers.sorted())") }
        let byCompletion = sequentialNames.sorted { $0.completed < $1.completed }
        for earlier in byCompletion {
            if let later = sequentialNames.first(where: { $0.invoked > earlier.completed && $0.number < earlier.number }) {
                found.append("sequential names out of order: \(later.number) was created after \(earlier.number) had been answered")
                break
            }
        }
        return found
    }

    public func counters() -> [String: Int] { counted }

    // MARK: Clients

    public func submit(_ input: KeyValueModel.Input, client: Int, sequence: UInt64, to node: Int, answer: @escaping (ServiceAnswer) -> Void) {
        guard services[node] != nil else { return }
        var answered = false
        let reply: (ServiceAnswer) -> Void = { result in
            guard !answered else { return }
            answered = true
            answer(result)
        }
        session(for: client, on: node) { [unowned self] connection in
            guard let connection else { return reply(.refused(nil)) }
            perform(input, on: connection, reply: reply)
        }
        drain()
    }

    private func path(_ key: String) -> String { "/" + key }

    private func perform(_ input: KeyValueModel.Input, on connection: SimulatedZooKeeperConnection, reply: @escaping (ServiceAnswer) -> Void) {
        switch input {
        case .get(let key):
            request(.sync(path: path(key)), on: connection) { _ in }
            read(key, on: connection) { outcome in
                switch outcome {
                case .value(let value, _): reply(.output(.value(value)))
                case .failed: reply(.refused(nil))
                }
            }
        case .put(let key, let value):
            put(key, value, on: connection, reply: reply)
            if random.chance(0.1) { createSequential(on: connection) }
            // Now and then an ephemeral, so sessions that expire or move have some to lose.
            if random.chance(0.05) { request(.create(.init(path: "/eph-", data: [], flags: 3)), on: connection) { _ in } }
        case .compareAndSet(let key, let expected?, let new):
            request(.sync(path: path(key)), on: connection) { _ in }
            read(key, on: connection) { [unowned self] outcome in
                switch outcome {
                case .failed: reply(.refused(nil))
                case .value(let value, let version):
                    guard value == expected, let version else { return reply(.output(.compareAndSet(succeeded: false))) }
                    request(.setData(path: path(key), data: Array(new.utf8), version: version), on: connection) { outcome in
                        reply(Self.writeAnswer(outcome, ok: .compareAndSet(succeeded: true), refusals: [.badVersion: .compareAndSet(succeeded: false)]))
                    }
                }
            }
        case .compareAndSet(let key, nil, let new):
            request(.create(.init(path: path(key), data: Array(new.utf8), flags: 0)), on: connection) { outcome in
                reply(Self.writeAnswer(outcome, ok: .compareAndSet(succeeded: true), refusals: [.nodeExists: .compareAndSet(succeeded: false)]))
            }
        case .delete, .putAll, .getAll:
            preconditionFailure("the ZooKeeper simulation takes no multi-key operations")
        }
    }

    enum ReadOutcome {
        /// The value (nil: no such node) and the node's version.
        case value(String?, version: Int32?)
        case failed
    }

    private func read(_ key: String, on connection: SimulatedZooKeeperConnection, _ done: @escaping (ReadOutcome) -> Void) {
        request(.getData(path: path(key), watch: false), on: connection) { outcome in
            switch outcome {
            case .reply(let header, .data(let data, let stat)?) where header.error == 0:
                done(.value(String(decoding: data ?? [], as: UTF8.self), version: stat.version))
            case .reply(let header, _) where header.error == ZooKeeperErrorCode.noNode.rawValue:
                done(.value(nil, version: nil))
            default:
                done(.failed)
            }
        }
    }

    /// setData, or create if there is no node yet; a create that finds one made meanwhile is
    /// followed by the setData again. Now and then the set is a multi that also sets `/side`.
    private func put(_ key: String, _ value: String, on connection: SimulatedZooKeeperConnection, attempt: Int = 0, reply: @escaping (ServiceAnswer) -> Void) {
        let data = Array(value.utf8)
        let set = ZooKeeperRequest.setData(path: path(key), data: data, version: -1)
        let asMulti = random.chance(0.2)
        let write: ZooKeeperRequest = asMulti ? .multi([set, .create(.init(path: "/side-\(value)", data: [], flags: 0))]) : set
        request(write, on: connection) { [unowned self] outcome in
            if case .reply(let header, let response) = outcome {
                let missing = header.error == ZooKeeperErrorCode.noNode.rawValue || Self.multiFailed(response, first: .noNode)
                if missing && attempt < 3 {
                    counted["creates_for_put", default: 0] += 1
                    return request(.create(.init(path: path(key), data: data, flags: 0)), on: connection) { [unowned self] created in
                        if case .reply(let header, _) = created, header.error == ZooKeeperErrorCode.nodeExists.rawValue {
                            return put(key, value, on: connection, attempt: attempt + 1, reply: reply)
                        }
                        reply(Self.writeAnswer(created, ok: .ok, refusals: [:]))
                    }
                }
                if asMulti, header.error == 0 { counted["multis", default: 0] += 1 }
            }
            reply(Self.writeAnswer(outcome, ok: .ok, refusals: [:]))
        }
    }

    /// Whether a multi failed with `first` as its failing operation's code.
    static func multiFailed(_ response: ZooKeeperResponse?, first: ZooKeeperErrorCode) -> Bool {
        guard case .multi(let results)? = response else { return false }
        return results.contains { if case .error(first.rawValue) = $0 { return true } else { return false } }
    }

    /// What a write's outcome means for the client: its output on success, or on a listed refusal;
    /// no effect for an expired session or any other refusal the log applied; unknown when the
    /// connection went before the reply.
    static func writeAnswer(_ outcome: SimulatedZooKeeperConnection.Outcome, ok: KeyValueModel.Output, refusals: [ZooKeeperErrorCode: KeyValueModel.Output]) -> ServiceAnswer {
        guard case .reply(let header, let response) = outcome else { return .unknown }
        if header.error == 0 {
            if case .multi(let results)? = response, results.contains(where: { if case .error = $0 { return true } else { return false } }) { return .refused(nil) }
            return .output(ok)
        }
        if let code = ZooKeeperErrorCode(rawValue: header.error), let output = refusals[code] { return .output(output) }
        // connectionLoss: the member lost its leader or its proposal; the write may still apply.
        return header.error == ZooKeeperErrorCode.connectionLoss.rawValue ? .unknown : .refused(nil)
    }

    private func createSequential(on connection: SimulatedZooKeeperConnection) {
        guard let clock else { return }
        let invoked = clock()
        request(.create(.init(path: "/seq-", data: [], flags: 2)), on: connection) { [unowned self] outcome in
            guard case .reply(let header, .created(let name)?) = outcome, header.error == 0 else { return }
            guard let number = Int64(name.dropFirst("/seq-".count)) else {
                return violations.append("a sequential create named \(name)")
            }
            sequentialNames.append((number, invoked, clock()))
        }
    }

    /// Sends a request on the connection; `handler` runs with its reply, or `.lost`.
    private func request(_ request: ZooKeeperRequest, on connection: SimulatedZooKeeperConnection, _ handler: @escaping (SimulatedZooKeeperConnection.Outcome) -> Void) {
        guard !connection.finished, let service = services[connection.node] else { return handler(.lost) }
        connection.nextXid += 1
        connection.pending.append((connection.nextXid, request.operation, handler))
        var writer = JuteWriter()
        ZooKeeperRequestHeader(xid: connection.nextXid, operation: request.operation.rawValue).write(to: &writer)
        request.write(to: &writer)
        service.received(writer.bytes, from: connection.id)
    }

    /// The client's connection to `node` with its session, opening one (and resuming the session,
    /// or starting a new one if it expired) when it has none there.
    private func session(for client: Int, on node: Int, _ ready: @escaping (SimulatedZooKeeperConnection?) -> Void) {
        var state = clients[client] ?? ClientState()
        if let id = state.connection, let current = connections[id], !current.finished, !current.closedByServer {
            if current.node == node && current.handshake == nil { return ready(current) }
            // Moving to another member, as a client library does: the old connection is dropped.
            // What it still owes is failed at the next drain, never inside this call.
            current.closedByServer = true
            services[current.node]?.disconnected(id: current.id)
        }
        guard let service = services[node] else { return ready(nil) }
        let connection = SimulatedZooKeeperConnection(id: nextConnection, node: node, client: client)
        nextConnection += 1
        connections[connection.id] = connection
        state.connection = connection.id
        clients[client] = state
        let resuming = state.session
        connection.handshake = { [unowned self] response in
            guard let response, response.sessionID != 0 else {
                connections[connection.id] = nil
                if response != nil, resuming != nil {
                    // The zero reply: the session expired. Start a new one at the next attempt.
                    clients[client]?.session = nil
                    counted["sessions_expired_seen", default: 0] += 1
                }
                return ready(nil)
            }
            if let resuming, resuming.id != response.sessionID {
                violations.append("client \(client) resumed session \(resuming.id) on n\(node + 1) and got \(response.sessionID)")
            }
            if resuming != nil { counted["sessions_resumed", default: 0] += 1 } else { counted["sessions_created", default: 0] += 1 }
            clients[client]?.session = (response.sessionID, response.password)
            ready(connection)
        }
        service.connected(id: connection.id, sink: connection)
        let connect = ZooKeeperConnectRequest(
            lastZxidSeen: state.lastZxid, timeoutMillis: Self.sessionTimeoutMillis, sessionID: resuming?.id ?? 0,
            password: resuming?.password ?? [UInt8](repeating: 0, count: 16), readOnly: false)
        service.received(connect.encoded, from: connection.id)
    }

    // MARK: Replies

    /// Reads every connection's inbox, running the clients' reactions, until none has more.
    func drain() {
        guard !draining else { return }
        draining = true
        defer { draining = false }
        for _ in 0..<Self.drainPassesMax {
            let busy = connections.values.filter(\.hasWork).sorted { $0.id < $1.id }
            guard !busy.isEmpty else { return }
            for connection in busy { read(connection) }
        }
        violations.append("the clients' inboxes did not empty after \(Self.drainPassesMax) passes")
    }

    private func read(_ connection: SimulatedZooKeeperConnection) {
        while !connection.inbox.isEmpty && !connection.finished {
            let packet = connection.inbox.removeFirst()
            guard case .packet(let payload, _) = ZooKeeperFrame.decode(packet, at: 0) else {
                violations.append("n\(connection.node + 1) sent client \(connection.client) a packet that does not frame")
                continue
            }
            if let handshake = connection.handshake {
                connection.handshake = nil
                handshake(try? ZooKeeperConnectResponse(decoding: Array(packet[payload])))
                continue
            }
            var reader = JuteReader(packet, from: payload.lowerBound, to: payload.upperBound)
            guard let header = try? ZooKeeperReplyHeader(from: &reader) else {
                violations.append("n\(connection.node + 1) sent client \(connection.client) a reply without a header")
                continue
            }
            if header.xid == ZooKeeperXid.notification { continue }
            guard let first = connection.pending.first, first.xid == header.xid else {
                violations.append("n\(connection.node + 1) answered xid \(header.xid) of client \(connection.client) out of order (expected \(connection.pending.first.map { "\($0.xid)" } ?? "none"))")
                continue
            }
            connection.pending.removeFirst()
            if header.zxid > 0 {
                let seen = clients[connection.client]?.lastZxid ?? 0
                if header.zxid < seen {
                    violations.append("client \(connection.client) saw zxid 0x\(String(header.zxid, radix: 16)) from n\(connection.node + 1) (\(first.operation), error \(header.error), connection \(connection.id)) after 0x\(String(seen, radix: 16)) (\(clients[connection.client]?.lastReply ?? ""))")
                }
                clients[connection.client]?.lastZxid = max(seen, header.zxid)
                clients[connection.client]?.lastReply = "\(first.operation) error \(header.error) connection \(connection.id) n\(connection.node + 1)"
            }
            let response = header.error == 0 ? try? ZooKeeperResponse.decode(for: first.operation, from: &reader) : nil
            first.handler(.reply(header, response))
        }
        if connection.closedByServer && connection.inbox.isEmpty {
            connections[connection.id] = nil
            connection.finish()
        }
    }
}
