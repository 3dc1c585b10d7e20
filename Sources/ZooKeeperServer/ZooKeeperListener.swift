import Logging
import NIOCore
import NIOPosix
import Replica
import Synchronization
import ZooKeeperWire

/// Serves ZooKeeper clients on a TCP port: reads length-prefixed packets (refusing lengths past
/// `jute.maxbuffer` before reading them), hands each to the service on the replica's thread, and
/// writes what the service sends back. The first four bytes of a connection may instead be a
/// four-letter word (`ruok`, `srvr`, ...), answered and closed as ZooKeeper does.
public final class ZooKeeperListener: @unchecked Sendable {
    let service: ZooKeeperService
    let replica: any ReplicaHandle
    let group: MultiThreadedEventLoopGroup
    let logger: Logger
    var servers: [Channel] = []
    let nextConnection = Atomic<UInt64>(0)
    /// Connections open at once; past this, new ones are closed at accept.
    public static let connectionsMax = 10_000
    let openConnections = Atomic<Int>(0)
    /// What `srvr` reports as this member's mode, read on the event loop.
    let mode: @Sendable () -> String
    /// The four-letter words served ("*" for all); ZooKeeper 3.5+ serves only srvr by default.
    let fourLetterWords: Set<String>

    public init(
        service: ZooKeeperService, replica: any ReplicaHandle, threads: Int, fourLetterWords: Set<String> = ["srvr"], logger: Logger,
        mode: @escaping @Sendable () -> String
    ) {
        self.service = service
        self.replica = replica
        self.logger = logger
        self.mode = mode
        self.fourLetterWords = fourLetterWords
        group = MultiThreadedEventLoopGroup(numberOfThreads: max(1, threads))
    }

    public func start(host: String, port: Int) async throws {
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            // A client that stops reading stops being written to at this many pending bytes:
            // the channel turns unwritable, and `ZooKeeperChannelSink` closes it.
            .childChannelOption(.writeBufferWaterMark, value: .init(low: ZooKeeperChannelSink.pendingBytesMax / 2, high: ZooKeeperChannelSink.pendingBytesMax))
            .childChannelInitializer { [self] channel in
                channel.eventLoop.makeCompletedFuture {
                    let id = nextConnection.wrappingAdd(1, ordering: .relaxed).newValue
                    try channel.pipeline.syncOperations.addHandler(ZooKeeperChannelHandler(id: id, listener: self))
                }
            }
            .bind(host: host, port: port)
            .get()
        servers.append(server)
    }

    public func shutdown() async {
        for server in servers { try? await server.close() }
        try? await group.shutdownGracefully()
    }
}

/// Writes to one client's channel from any thread. Replies and watch events a client has not
/// read are bounded: once more than `pendingBytesMax` wait in the channel (it turns unwritable at
/// that high-water mark), the connection is closed rather than buffered without end; the client
/// reconnects with its session and SetWatches re-arms its watches, firing what it missed.
public final class ZooKeeperChannelSink: ZooKeeperClientSink, @unchecked Sendable {
    let channel: Channel
    /// Bytes written to a client that it has not read, at most: eight times `jute.maxbuffer`.
    public static let pendingBytesMax = 8 << 20

    public init(channel: Channel) { self.channel = channel }

    public func send(_ packet: [UInt8]) {
        let channel = self.channel
        channel.eventLoop.execute {
            guard channel.isWritable else {
                channel.close(promise: nil)
                return
            }
            channel.writeAndFlush(ByteBuffer(bytes: packet), promise: nil)
        }
    }

    public func close() {
        let channel = self.channel
        channel.eventLoop.execute { channel.close(promise: nil) }
    }
}

final class ZooKeeperChannelHandler: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    let id: UInt64
    let listener: ZooKeeperListener
    var buffered: [UInt8] = []
    var sawFirstBytes = false
    var admitted = false

    init(id: UInt64, listener: ZooKeeperListener) {
        self.id = id
        self.listener = listener
    }

    func channelActive(context: ChannelHandlerContext) {
        guard listener.openConnections.wrappingAdd(1, ordering: .relaxed).newValue <= ZooKeeperListener.connectionsMax else {
            context.close(promise: nil)
            return
        }
        admitted = true
        let sink = ZooKeeperChannelSink(channel: context.channel)
        let service = listener.service
        let id = self.id
        let remote = context.channel.remoteAddress.flatMap { address in address.ipAddress.map { "\($0):\(address.port ?? 0)" } }
        listener.replica.performAlways { service.connected(id: id, sink: sink, remote: remote) }
    }

    /// Answers a four-letter word and closes. The connection listing (cons, stat) is the service's
    /// to build, on the replica's thread; everything else comes from the published figures.
    func answerFourLetterWord(_ word: String, on channel: Channel) {
        let listener = self.listener
        @Sendable func reply(_ text: String) {
            channel.writeAndFlush(ByteBuffer(string: text)).whenComplete { _ in channel.close(promise: nil) }
        }
        guard listener.fourLetterWords.contains("*") || listener.fourLetterWords.contains(word) else {
            return reply("\(word) is not executed because it is not in the whitelist.\n")
        }
        let mode = listener.mode()
        let answer = { @Sendable (lines: [String]) in
            FourLetterWords.answer(word, mode: mode, figures: listener.service.figures, limits: listener.service.limits, connectionLines: lines)
        }
        guard FourLetterWords.listingConnections.contains(word) else { return reply(answer([])) }
        let service = listener.service
        listener.replica.performAlways {
            let lines = service.connectionListing()
            channel.eventLoop.execute { reply(answer(lines)) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        listener.openConnections.wrappingAdd(-1, ordering: .relaxed)
        guard admitted else { return }
        let service = listener.service
        let id = self.id
        listener.replica.performAlways { service.disconnected(id: id) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        buffered += bytes.readBytes(length: bytes.readableBytes) ?? []
        if !sawFirstBytes {
            guard buffered.count >= 4 else { return }
            sawFirstBytes = true
            if let word = String(validating: buffered.prefix(4), as: UTF8.self), FourLetterWords.all.contains(word) {
                return answerFourLetterWord(word, on: context.channel)
            }
        }
        var offset = 0
        var packets: [[UInt8]] = []
        decoding: while true {
            switch ZooKeeperFrame.decode(buffered, at: offset, packetBytesMax: listener.service.limits.packetBytesMax) {
            case .packet(let payload, let next):
                packets.append(Array(buffered[payload]))
                offset = next
            case .needMore:
                break decoding
            case .badLength(let length):
                listener.logger.info("closing a ZooKeeper connection: packet length \(length)")
                context.close(promise: nil)
                return
            }
        }
        if offset > 0 { buffered.removeFirst(offset) }
        guard !packets.isEmpty else { return }
        let service = listener.service
        let id = self.id
        if !listener.replica.perform({ for packet in packets { service.received(packet, from: id) } }) {
            // The replica is overloaded: as ZooKeeper does past its outstanding limit, drop the
            // client, which reconnects with its session.
            context.close(promise: nil)
        }
    }
}

/// ZooKeeper's four-letter words, those monitoring and `zkServer.sh status` send, answered from the
/// service's published figures.
enum FourLetterWords {
    static let all: Set<String> = ["ruok", "srvr", "stat", "mntr", "conf", "envi", "cons", "wchs", "isro"]
    static let version = "3.8.0-synod"
    /// The words whose answer lists the connections.
    static let listingConnections: Set<String> = ["cons", "stat"]

    static func answer(_ word: String, mode: String, figures: ZooKeeperFigures, limits: ZooKeeperService.Limits, connectionLines: [String]) -> String {
        let listing = connectionLines.map { $0 + "\n" }.joined()
        let zxid = figures.lastZxid.load(ordering: .relaxed)
        let nodes = figures.nodeCount.load(ordering: .relaxed)
        let connections = figures.connectionCount.load(ordering: .relaxed)
        switch word {
        case "ruok": return "imok"
        case "isro": return "rw"
        case "srvr", "stat":
            // stat lists the connections between the version and the figures, as ZooKeeper's does.
            let clients = word == "stat" ? "Clients:\n" + listing + "\n" : ""
            let latency = figures.latency.withLock { $0.summary }
            return "Zookeeper version: \(version)\n\(clients)Latency min/avg/max: \(latency)\nReceived: \(figures.received.load(ordering: .relaxed))\n"
                + "Sent: \(figures.sent.load(ordering: .relaxed))\nConnections: \(connections)\nOutstanding: \(figures.outstanding.load(ordering: .relaxed))\n"
                + "Zxid: 0x\(String(zxid, radix: 16))\nMode: \(mode)\nNode count: \(nodes)\n"
        case "mntr":
            let lines: [(String, String)] = [
                ("zk_version", version), ("zk_server_state", mode), ("zk_znode_count", "\(nodes)"),
                ("zk_watch_count", "\(figures.watchCount.load(ordering: .relaxed))"),
                ("zk_ephemerals_count", "\(figures.ephemeralCount.load(ordering: .relaxed))"),
                ("zk_num_alive_connections", "\(connections)"), ("zk_outstanding_requests", "\(figures.outstanding.load(ordering: .relaxed))"),
                ("zk_global_sessions", "\(figures.sessionCount.load(ordering: .relaxed))"),
            ]
            return lines.map { "\($0.0)\t\($0.1)\n" }.joined()
        case "conf":
            return "tickTime=\(limits.tickMillis)\nminSessionTimeout=\(limits.sessionTimeoutMillis.lowerBound)\nmaxSessionTimeout=\(limits.sessionTimeoutMillis.upperBound)\n"
                + "jute.maxbuffer=\(limits.packetBytesMax)\n"
        case "envi":
            return "Environment:\nzookeeper.version=\(version)\n"
        case "cons":
            return listing + "\n"
        case "wchs":
            return "\(connections) connections watching \(figures.watchedPaths.load(ordering: .relaxed)) paths\nTotal watches:\(figures.watchCount.load(ordering: .relaxed))\n"
        default:
            return ""
        }
    }
}
