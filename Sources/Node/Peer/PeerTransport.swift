import ConsensusCore
import Logging
import NIOCore
import NIOPosix
import Synchronization

/// Where a peer listens.
public struct PeerAddress: Sendable, Equatable {
    public var id: NodeID
    public var host: String
    public var port: Int

    public init(id: NodeID, host: String, port: Int) {
        self.id = id
        self.host = host
        self.port = port
    }
}

/// TCP between the nodes of one cluster. Each node dials every peer once and only sends on that
/// connection; what it receives arrives on the connections its peers dialled. Every connection opens
/// with a `hello` naming the cluster, so a stray node from another cluster is turned away.
///
/// Sends never block the caller: frames are encoded on the caller's thread and handed to the
/// connection's event loop, where a bounded queue holds them while the peer is unreachable or the
/// socket is full. Consensus tolerates lost messages, so overflow drops the oldest frames rather
/// than growing without bound.
public final class PeerTransport<Message: WireCodable & EngineMessage>: @unchecked Sendable {
    public typealias Envelope = PeerEnvelope<Message>

    package let selfID: NodeID
    package let group: MultiThreadedEventLoopGroup
    /// The one event loop every peer connection lives on; the replica loop runs here too, so what
    /// it sends is written to the socket without a hop to another thread.
    public let eventLoop: EventLoop
    package let logger: Logger
    package let onReceive: @Sendable (Envelope) -> Void
    package let clientURLs: [String]
    /// The cluster this node belongs to; nil for a member joining an existing cluster
    /// (`--initial-cluster-state existing`) until the first peer's hello tells it, since the id
    /// derives from the founding members, which the joiner need not know.
    private let clusterIdentity: Mutex<UInt64?>
    /// Outbound connections by peer; changed as the membership changes. Sends read it from any thread.
    private let links: Mutex<[NodeID: PeerLink]>
    private var servers: [Channel] = []
    /// Whether listening started, so links added later dial at once.
    private let listening = Atomic<Bool>(false)
    /// Frames dropped because a peer's queue was full (it was unreachable or slow) or the peer had
    /// no link yet; etcd's `heartbeat_send_failures_total` is the nearest of its metrics.
    public let droppedFrames = DroppedFrames()

    /// `onReceive` gets every envelope, hellos included, on a transport thread.
    public init(selfID: NodeID, clusterID: UInt64?, clientURLs: [String], peers: [PeerAddress], logger: Logger, onReceive: @escaping @Sendable (Envelope) -> Void) {
        self.selfID = selfID
        self.logger = logger
        self.onReceive = onReceive
        self.clientURLs = clientURLs
        clusterIdentity = Mutex(clusterID)
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        eventLoop = group.next()
        links = Mutex([:])
        var initial: [NodeID: PeerLink] = [:]
        for peer in peers where peer.id != selfID { initial[peer.id] = makeLink(peer) }
        links.withLock { $0 = initial }
    }

    /// The cluster id, once known.
    public var clusterID: UInt64? { clusterIdentity.withLock { $0 } }

    private func makeLink(_ peer: PeerAddress) -> PeerLink {
        PeerLink(peer: peer, eventLoop: eventLoop, selfID: selfID, clientURLs: clientURLs, clusterID: { [unowned self] in self.clusterID }, dropped: droppedFrames, logger: logger)
    }

    /// Called by a connection's handler with the cluster id a hello names: true if it is this
    /// cluster's. A joining member without one adopts the first it hears and starts dialling.
    package func admits(clusterID claimed: UInt64) -> Bool {
        let (admitted, adopted): (Bool, Bool) = clusterIdentity.withLock { known in
            if let known { return (known == claimed, false) }
            known = claimed
            return (true, true)
        }
        if adopted {
            logger.notice("joined cluster \(String(claimed, radix: 16)), named by a peer's hello")
            if listening.load(ordering: .acquiring) { dialAll() }
        }
        return admitted
    }

    private func dialAll() {
        for link in links.withLock({ Array($0.values) }) { link.eventLoop.execute { link.connect() } }
    }

    /// Makes the outbound links match `peers`: new members are dialled, a member whose address
    /// changed is dialled again at the new one, and links to anyone else are closed, except to the
    /// nodes in `keeping`, whose address is not known here yet. Runs on the transport's loop.
    public func updatePeers(_ peers: [PeerAddress], keeping: Set<NodeID> = []) {
        let wanted = Dictionary(peers.filter { $0.id != selfID }.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        var opened: [PeerLink] = []
        var closed: [PeerLink] = []
        links.withLock { links in
            for (id, link) in links where wanted[id] != link.peer && !(wanted[id] == nil && keeping.contains(id)) {
                closed.append(link)
                links[id] = nil
            }
            for (id, peer) in wanted where links[id] == nil {
                let link = makeLink(peer)
                links[id] = link
                opened.append(link)
            }
        }
        for link in closed { link.eventLoop.execute { link.close() } }
        guard listening.load(ordering: .acquiring), clusterID != nil else { return }
        for link in opened { link.eventLoop.execute { link.connect() } }
    }

    /// Listens for peers on `host:port`; called once per URL of --listen-peer-urls. Dialling
    /// starts with the first.
    public func start(host: String, port: Int) async throws {
        let onReceive = onReceive
        let logger = logger
        let server = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(PeerFrameDecoder()))
                    try channel.pipeline.syncOperations.addHandler(PeerInboundHandler<Message>(admits: { [unowned self] in self.admits(clusterID: $0) }, logger: logger, onReceive: onReceive))
                }
            }
            .bind(host: host, port: port)
            .get()
        servers.append(server)
        guard servers.count == 1 else { return }
        listening.store(true, ordering: .releasing)
        if clusterID != nil { dialAll() }
    }

    /// Sends envelopes, in order per peer, with one flush per peer: written at once when called on
    /// the transport's event loop (the replica loop's sends), handed to it otherwise.
    public func send(_ outgoing: [(to: NodeID, envelope: Envelope)]) {
        let links = links.withLock { $0 }
        var frames: [NodeID: [ByteBuffer]] = [:]
        for (peer, envelope) in outgoing {
            // A member the configuration names before its address has applied gets nothing yet;
            // consensus sends again.
            guard links[peer] != nil else {
                droppedFrames.count.wrappingAdd(1, ordering: .relaxed)
                continue
            }
            var buffer = ByteBuffer()
            PeerFrame.encode(envelope.wireBytes, into: &buffer)
            frames[peer, default: []].append(buffer)
        }
        for (peer, buffers) in frames {
            guard let link = links[peer] else { continue }
            if link.eventLoop.inEventLoop {
                link.enqueue(buffers)
            } else {
                link.eventLoop.execute { link.enqueue(buffers) }
            }
        }
    }

    public func shutdown() async {
        for link in links.withLock({ Array($0.values) }) { try? await link.eventLoop.submit { link.close() }.get() }
        for server in servers { try? await server.close() }
        try? await group.shutdownGracefully()
    }
}

/// Checks the `hello`, then hands every envelope to the node. The hello binds the connection to its
/// sender: a later frame claiming another `from` is dropped and counted (until peers authenticate
/// with TLS, the hello's word is all there is, but one connection cannot speak for several nodes).
/// A frame that fails to decode closes the connection with the reason logged; the node itself never
/// stops for a peer's bad bytes.
package final class PeerInboundHandler<Message: WireCodable & EngineMessage>: ChannelInboundHandler {
    package typealias InboundIn = [UInt8]

    /// Whether a hello's cluster id is this node's cluster (`PeerTransport.admits`).
    package let admits: @Sendable (UInt64) -> Bool
    package let logger: Logger
    package let onReceive: @Sendable (PeerEnvelope<Message>) -> Void
    /// The sender the hello named.
    package var peer: NodeID?
    /// Frames dropped for claiming another sender, and how many were logged.
    package var spoofedFrames = 0

    package init(admits: @escaping @Sendable (UInt64) -> Bool, logger: Logger, onReceive: @escaping @Sendable (PeerEnvelope<Message>) -> Void) {
        self.admits = admits
        self.logger = logger
        self.onReceive = onReceive
    }

    package func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let payload = unwrapInboundIn(data)
        let envelope: PeerEnvelope<Message>
        do {
            envelope = try PeerEnvelope<Message>(wireBytes: payload)
        } catch {
            return refuse(context, "\(error)")
        }
        let claimed: NodeID?
        switch envelope {
        case .hello(let cluster, let from, _):
            guard admits(cluster) else { return refuse(context, "peer \(from) belongs to cluster \(cluster), not this one") }
            guard peer == nil || peer == from else { return refuse(context, "a second hello, from \(from), on the connection of \(peer!)") }
            peer = from
            claimed = from
        case .engine(let message): claimed = message.from
        case .request(_, let from, _): claimed = from
        case .response: claimed = peer
        }
        guard let peer else { return refuse(context, "first frame was not a hello") }
        guard claimed == peer else {
            spoofedFrames += 1
            // Logged at powers of two, so a flood costs a few lines.
            if spoofedFrames & (spoofedFrames - 1) == 0 {
                logger.warning("dropped \(spoofedFrames) frame(s) from \(peer) claiming to come from another node, last from \(claimed.map { "\($0)" } ?? "?")")
            }
            return
        }
        onReceive(envelope)
    }

    package func errorCaught(context: ChannelHandlerContext, error: Error) {
        refuse(context, "\(error)")
    }

    private func refuse(_ context: ChannelHandlerContext, _ reason: String) {
        logger.warning("closing peer connection from \(context.remoteAddress.map { "\($0)" } ?? "?"): \(reason)")
        context.close(promise: nil)
    }
}

/// The outbound connection to one peer, owned by one event loop: every method runs there.
package final class PeerLink: @unchecked Sendable {
    /// Frames held while the peer is unreachable or its socket is full.
    package static let pendingFramesMax = 8192
    package static let pendingBytesMax = 128 << 20
    package static let backoffMillisMin: Int64 = 50
    package static let backoffMillisMax: Int64 = 2000

    package let peer: PeerAddress
    package let eventLoop: EventLoop
    package let selfID: NodeID
    package let clientURLs: [String]
    package let clusterID: @Sendable () -> UInt64?
    package let dropped: DroppedFrames
    package let logger: Logger
    package var channel: Channel?
    package var connecting = false
    package var closed = false
    package var pending = CircularBuffer<ByteBuffer>()
    package var pendingBytes = 0
    package var backoffMillis = PeerLink.backoffMillisMin

    package init(peer: PeerAddress, eventLoop: EventLoop, selfID: NodeID, clientURLs: [String], clusterID: @escaping @Sendable () -> UInt64?, dropped: DroppedFrames, logger: Logger) {
        self.dropped = dropped
        self.peer = peer
        self.eventLoop = eventLoop
        self.selfID = selfID
        self.clientURLs = clientURLs
        self.clusterID = clusterID
        self.logger = logger
    }

    /// The frame every connection opens with; nil while the cluster id is unknown (nothing is
    /// dialled then).
    package var hello: ByteBuffer? {
        guard let clusterID = clusterID() else { return nil }
        var hello = ByteBuffer()
        // The link's message type does not matter for a hello; any envelope encodes it alike.
        PeerFrame.encode(HelloFrame.bytes(clusterID: clusterID, from: selfID, clientURLs: clientURLs), into: &hello)
        return hello
    }

    package func enqueue(_ buffers: [ByteBuffer]) {
        eventLoop.preconditionInEventLoop()
        for buffer in buffers {
            pending.append(buffer)
            pendingBytes += buffer.readableBytes
        }
        while pending.count > Self.pendingFramesMax || pendingBytes > Self.pendingBytesMax {
            pendingBytes -= pending.removeFirst().readableBytes
            dropped.count.wrappingAdd(1, ordering: .relaxed)
        }
        drain()
    }

    /// Writes what the socket will take, then flushes once.
    package func drain() {
        guard let channel, channel.isActive else {
            if !connecting && !closed { connect() }
            return
        }
        var wrote = false
        while channel.isWritable, let buffer = pending.popFirst() {
            pendingBytes -= buffer.readableBytes
            channel.write(buffer, promise: nil)
            wrote = true
        }
        if wrote { channel.flush() }
    }

    package func connect() {
        guard !connecting, !closed, channel == nil, let hello else { return }
        connecting = true
        let link = self
        ClientBootstrap(group: eventLoop)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(2))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(PeerLinkHandler(link: link))
                }
            }
            .connect(host: peer.host, port: peer.port)
            .whenComplete { result in
                link.connecting = false
                switch result {
                case .success(let channel):
                    link.channel = channel
                    link.backoffMillis = Self.backoffMillisMin
                    channel.writeAndFlush(hello, promise: nil)
                    link.drain()
                case .failure:
                    link.scheduleReconnect()
                }
            }
    }

    package func disconnected() {
        channel = nil
        scheduleReconnect()
    }

    package func scheduleReconnect() {
        guard !closed else { return }
        let delay = backoffMillis
        backoffMillis = min(backoffMillis * 2, Self.backoffMillisMax)
        // Always redial, even with nothing to send: the hello tells the peer where this node serves
        // clients, and a follower that never sends to another still belongs in its member list.
        eventLoop.scheduleTask(in: .milliseconds(delay)) { [self] in
            if channel == nil { connect() }
        }
    }

    package func close() {
        closed = true
        channel?.close(promise: nil)
        channel = nil
    }
}

/// Tells the link when its socket drains or drops.
package final class PeerLinkHandler: ChannelInboundHandler {
    package typealias InboundIn = ByteBuffer
    package let link: PeerLink

    package init(link: PeerLink) { self.link = link }

    package func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { link.drain() }
        context.fireChannelWritabilityChanged()
    }

    package func channelInactive(context: ChannelHandlerContext) {
        link.disconnected()
        context.fireChannelInactive()
    }

    package func errorCaught(context: ChannelHandlerContext, error: Error) {
        link.logger.debug("peer \(link.peer.id) connection error: \(error)")
        context.close(promise: nil)
    }
}

/// A count of frames the transport dropped, shared by its links.
public final class DroppedFrames: Sendable {
    public let count = Atomic<Int>(0)
    public init() {}
}
