import ArgumentParser
import ConsensusCore
import EtcdAPI
import EtcdServer
import Foundation
import NIOCore
import NIOPosix
import Node
import Raft
import RaftWire
import RaftTestKit
import Simulation

/// `synod fuzz peer-live`: the peer fuzzer against a running node, over its real peer port, so the
/// transport (frames, hello, sender binding) and the node's call handlers are fuzzed too, not just
/// the engine the simulator covers. What it proves is judged from outside: the node must still be
/// running, and the cluster safe (Tests/compat/faults/peer_fuzz_live.py checks both).
///
/// Modes:
/// - `transport`: frames the transport must refuse (another cluster's hello, a first frame past
///   the hello bound, a length past the frame bound, bad checksums and versions, unknown envelope
///   tags, truncated messages, engine traffic before any hello). Each goes on a fresh connection,
///   and the node must close that connection; one it leaves open is a failure.
/// - `boundary-only`: well-formed frames carrying engine messages the engine's boundary must drop
///   (`PeerFuzz.invalid`); the node's log then counts them.
/// - `any-fields`: well-formed messages with random fields drawn near the target's term and log
///   index (asked of its client port as it goes), plus random node-level calls. Raft trusts its
///   peers, so these may disrupt the cluster; none may stop the node.
struct LivePeerFuzzCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "peer-live",
        abstract: "Random peer frames into a running node's peer port."
    )

    enum Mode: String, CaseIterable, ExpressibleByArgument {
        case transport
        case boundaryOnly = "boundary-only"
        case anyFields = "any-fields"
    }

    @Option(help: "The cluster as its members were started: name=peerURL,...") var initialCluster: String
    @Option(help: "The --initial-cluster-token the cluster was started with.") var initialClusterToken = "etcd-cluster"
    @Option(help: "Name of the member to fuzz.") var target: String
    @Option(help: "The target's client endpoint (host:port), asked for its term and log index.") var targetClient: String
    @Option(help: "transport, boundary-only or any-fields.") var mode: Mode = .anyFields
    @Option(help: "Seed of the random frames.") var seed: UInt64 = 1
    @Option(help: "Frames to send at most.") var frames: Int = 100_000
    @Option(help: "Seconds to run at most.") var seconds: Double = 60

    /// Bounds on this command's own flags.
    static let framesMax = 100_000_000
    static let secondsMax = 86_400.0
    /// Frames between two Status calls that refresh what the fuzzer knows of the target.
    static let framesPerRefresh = 500
    /// A stranger: an id that is no member's.
    static let strangerID = NodeID(0x5EED_F00D_5EED_F00D)

    func validate() throws {
        guard frames > 0, frames <= Self.framesMax else { throw ValidationError("--frames must be between 1 and \(Self.framesMax)") }
        guard seconds > 0, seconds <= Self.secondsMax else { throw ValidationError("--seconds must be between 0 and \(Int(Self.secondsMax))") }
    }

    func run() async throws {
        let cluster = try LiveCluster(initialCluster: initialCluster, token: initialClusterToken, target: target)
        guard let (clientHost, clientPort) = LiveCluster.hostAndPort(targetClient) else {
            throw ValidationError("--target-client must be host:port, not \(targetClient)")
        }
        let status = try await LeanGRPCConnection.connect(host: clientHost, port: clientPort, group: MultiThreadedEventLoopGroup.singleton)
        var run = LivePeerFuzzRun(cluster: cluster, mode: mode, seed: seed)
        let deadline = ContinuousClock.now + .milliseconds(Int(seconds * 1000))
        var view = await run.refresh(from: status, keeping: nil)
        while run.report.frames < frames && ContinuousClock.now < deadline {
            if run.report.frames % Self.framesPerRefresh == 0 { view = await run.refresh(from: status, keeping: view) }
            run.step(view: view)
        }
        await status.close()
        print(run.report.summary(mode: mode, seed: seed))
        if !run.report.failures.isEmpty {
            for failure in run.report.failures.prefix(10) { print("  \(failure)") }
            print("  replay: synod fuzz peer-live --mode \(mode.rawValue) --seed \(seed) --frames \(run.report.frames) ...")
            throw ExitCode.failure
        }
    }
}

/// The members of a running cluster as the fuzzer needs them: ids and cluster id computed as every
/// member computes them, and where the target listens for peers.
struct LiveCluster {
    var clusterID: UInt64
    var targetID: NodeID
    var targetHost: String
    var targetPort: Int
    /// Members other than the target, then a stranger: who the fuzzer claims to be.
    var senders: [NodeID]

    init(initialCluster: String, token: String, target: String) throws {
        var order: [String] = []
        var urls: [String: [String]] = [:]
        for (name, url) in try ConfigFile.parseInitialCluster(initialCluster) {
            if urls[name] == nil { order.append(name) }
            urls[name, default: []].append(url)
        }
        guard let targetURLs = urls[target] else { throw ValidationError("--initial-cluster has no member named \(target)") }
        let ids = order.map { EtcdMember.memberID(peerURLs: urls[$0]!, clusterToken: token) }
        clusterID = EtcdMember.clusterID(members: ids, clusterToken: token)
        let targetID = EtcdMember.memberID(peerURLs: targetURLs, clusterToken: token)
        self.targetID = targetID
        guard let url = URL(string: targetURLs[0]), let host = url.host, let port = url.port else {
            throw ValidationError("\(targetURLs[0]) is not a peer URL with a host and a port")
        }
        targetHost = host
        targetPort = port
        senders = ids.filter { $0 != targetID } + [LivePeerFuzzCommand.strangerID]
    }

    static func hostAndPort(_ text: String) -> (String, Int)? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (1...65_535).contains(port) else { return nil }
        return (String(text[..<colon]), port)
    }
}

/// Counts of one run, and the failures the fuzzer itself can see (a refusal the node did not make).
struct LivePeerFuzzReport {
    var frames = 0
    /// Engine messages sent under the connection's own sender: these reach the engine.
    var engineMessages = 0
    /// Engine messages claiming another sender than the hello did: the transport drops these.
    var spoofedMessages = 0
    var calls = 0
    var connections = 0
    var reconnects = 0
    var refusedAsExpected = 0
    var statusFailures = 0
    var failures: [String] = []

    func summary(mode: LivePeerFuzzCommand.Mode, seed: UInt64) -> String {
        "mode=\(mode.rawValue) seed=\(seed) frames=\(frames) engine=\(engineMessages) spoofed=\(spoofedMessages) calls=\(calls) "
            + "connections=\(connections) reconnects=\(reconnects) refused=\(refusedAsExpected) status-failures=\(statusFailures) failed=\(failures.count)"
    }
}

/// One fuzzing run: its random streams, its open connections (one per claimed sender) and its counts.
struct LivePeerFuzzRun {
    typealias Envelope = PeerEnvelope<RaftMessage>

    let cluster: LiveCluster
    let mode: LivePeerFuzzCommand.Mode
    var fuzzer: PeerMessageFuzzer
    var random: SeededRandom
    var connections: [NodeID: PeerSocket] = [:]
    var report = LivePeerFuzzReport()

    /// Draws per boundary-only frame before giving up on finding a message that decodes.
    static let decodableAttemptsMax = 64

    init(cluster: LiveCluster, mode: LivePeerFuzzCommand.Mode, seed: UInt64) {
        self.cluster = cluster
        self.mode = mode
        fuzzer = PeerMessageFuzzer(seed: seed)
        random = SeededRandom(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
    }

    /// The target's term and log index from its Status answer; the previous view when it does not
    /// answer (a node under a flood of elections may not).
    mutating func refresh(from connection: LeanGRPCConnection, keeping previous: PeerFuzzTarget?) async -> PeerFuzzTarget {
        let fallback = previous ?? PeerFuzzTarget(id: cluster.targetID, term: 1, lastIndex: 1, commitIndex: 1, snapshotIndex: 0)
        do {
            let bytes = try await connection.unaryResponse(path: "/etcdserverpb.Maintenance/Status", message: Etcdserverpb_StatusRequest().serializedBytes())
            let status = try Etcdserverpb_StatusResponse(serializedBytes: bytes)
            return PeerFuzzTarget(id: cluster.targetID, term: status.raftTerm, lastIndex: status.raftIndex, commitIndex: status.raftAppliedIndex, snapshotIndex: 0)
        } catch {
            report.statusFailures += 1
            return fallback
        }
    }

    mutating func step(view: PeerFuzzTarget) {
        report.frames += 1
        switch mode {
        case .transport: refusedFrame()
        case .boundaryOnly:
            let sender = cluster.senders[random.int(in: 0..<cluster.senders.count)]
            // The boundary, not the transport, must drop these, so every one must decode (one that
            // does not closes the connection, and the frames behind it are lost; any-fields sends
            // those) and keep the connection's own sender, except for the kind that claims to come
            // from the target itself.
            for _ in 0..<Self.decodableAttemptsMax {
                var message = PeerFuzz.invalid(fuzzer.message(to: view, senders: cluster.senders), for: view, random: &random)
                if message.from != view.id { message.from = sender }
                if (try? RaftMessage(wireBytes: message.wireBytes)) != nil {
                    sendEngine(message, as: sender)
                    break
                }
            }
        case .anyFields:
            let sender = cluster.senders[random.int(in: 0..<cluster.senders.count)]
            switch random.int(in: 0..<10) {
            case 0:
                report.calls += 1
                send(.request(id: random.next(), from: sender, payload: fuzzer.bytes(countMax: 96)), as: sender)
            case 1:
                report.calls += 1
                send(.response(id: random.next(), payload: fuzzer.bytes(countMax: 96)), as: sender)
            default:
                var message = fuzzer.message(to: view, senders: cluster.senders)
                if random.chance(0.9) { message.from = sender }
                sendEngine(message, as: sender)
            }
        }
    }

    private mutating func sendEngine(_ message: RaftMessage, as sender: NodeID) {
        if message.from == sender { report.engineMessages += 1 } else { report.spoofedMessages += 1 }
        send(.engine(message), as: sender)
    }

    /// Sends on the sender's connection, opening it (hello first) when there is none, and once more
    /// when the node has closed it.
    private mutating func send(_ envelope: Envelope, as sender: NodeID) {
        let frame = Self.frame(envelope.wireBytes)
        for attempt in 0..<2 {
            guard let socket = connection(for: sender) else { return }
            if socket.send(frame) { return }
            connections[sender] = nil
            if attempt == 0 { report.reconnects += 1 }
        }
    }

    private mutating func connection(for sender: NodeID) -> PeerSocket? {
        if let open = connections[sender] { return open }
        guard let socket = try? PeerSocket(host: cluster.targetHost, port: cluster.targetPort) else {
            report.failures.append("cannot connect to \(cluster.targetHost):\(cluster.targetPort)")
            return nil
        }
        report.connections += 1
        guard socket.send(Self.frame(Envelope.hello(clusterID: cluster.clusterID, from: sender, clientURLs: []).wireBytes)) else { return nil }
        connections[sender] = socket
        return socket
    }

    /// One frame the transport must refuse, on a fresh connection that the node must then close.
    private mutating func refusedFrame() {
        // A member's id, not the stranger's (the last), unless the target is the only member.
        let sender = cluster.senders[random.int(in: 0..<max(1, cluster.senders.count - 1))]
        let hello = Self.frame(Envelope.hello(clusterID: cluster.clusterID, from: sender, clientURLs: []).wireBytes)
        let message = RaftMessage(from: sender, to: cluster.targetID, term: 1, kind: .heartbeatResponse(readRound: 0, sentAtTick: 0))
        let engine = Envelope.engine(message).wireBytes
        let kind = random.int(in: 0..<8)
        let bytes: [UInt8]
        let what: String
        switch kind {
        case 0:
            what = "a hello from another cluster"
            bytes = Self.frame(Envelope.hello(clusterID: cluster.clusterID &+ 1, from: sender, clientURLs: []).wireBytes)
        case 1:
            what = "a first frame past the hello bound"
            bytes = Self.header(length: PeerFrame.helloFrameBytesMax + 1 + random.int(in: 0..<1024), checksum: 0)
        case 2:
            what = "a frame past the frame bound"
            bytes = hello + Self.header(length: PeerFrame.frameBytesMax + 1 + random.int(in: 0..<1024), checksum: 0)
        case 3:
            what = "a frame with a bad checksum"
            var bad = Self.frame(engine)
            bad[5] ^= 0x01
            bytes = hello + bad
        case 4:
            what = "a frame of another version"
            var bad = Self.frame(engine)
            bad[4] = PeerFrame.version &+ UInt8(random.int(in: 1..<255))
            bytes = hello + bad
        case 5:
            what = "an unknown envelope tag"
            bytes = hello + Self.frame([UInt8(random.int(in: 5..<256))] + fuzzer.bytes(countMax: 32))
        case 6:
            what = "engine traffic before any hello"
            bytes = Self.frame(engine)
        default:
            what = "a truncated engine message"
            bytes = hello + Self.frame(Array(engine.prefix(random.int(in: 1..<engine.count))))
        }
        guard let socket = try? PeerSocket(host: cluster.targetHost, port: cluster.targetPort) else {
            report.failures.append("cannot connect to \(cluster.targetHost):\(cluster.targetPort)")
            return
        }
        report.connections += 1
        // A node that closed early may reset the connection under a later write: that is a refusal too.
        _ = socket.send(bytes)
        if socket.closedByPeer() {
            report.refusedAsExpected += 1
        } else {
            report.failures.append("frame \(report.frames): the node kept the connection open after \(what)")
        }
    }

    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var buffer = ByteBuffer()
        PeerFrame.encode(payload, into: &buffer)
        return Array(buffer.readableBytesView)
    }

    /// A frame header alone, claiming `length` bytes (version and checksum included) that never come.
    static func header(length: Int, checksum: UInt32) -> [UInt8] {
        var buffer = ByteBuffer()
        buffer.writeInteger(UInt32(truncatingIfNeeded: length), endianness: .little)
        buffer.writeInteger(PeerFrame.version)
        buffer.writeInteger(checksum, endianness: .little)
        return Array(buffer.readableBytesView)
    }
}
