import ConsensusCore
import Replica

/// A node's replica loop and peer transport, whatever engine they run, as the node's front ends
/// start and stop them: a front end's node is built over any `ServableEngine` and keeps this.
public protocol NodeReplica: AnyObject, Sendable {
    /// Listens for peers on `host:port`.
    func startPeers(host: String, port: Int) async throws
    /// Starts the loop, applying committed entries to `application` and sending through the transport.
    func start(application: ReplicaApplication)
    /// Stops the loop once its current iteration ends.
    func stop()
    /// Closes every peer connection.
    func shutdownPeers() async
}

/// The loop and transport of one engine.
public final class EngineNodeReplica<Engine: ServableEngine>: NodeReplica {
    public let loop: ReplicaLoop<Engine>
    public let transport: PeerTransport<Engine.Message>

    public init(loop: ReplicaLoop<Engine>, transport: PeerTransport<Engine.Message>) {
        self.loop = loop
        self.transport = transport
    }

    public func startPeers(host: String, port: Int) async throws { try await transport.start(host: host, port: port) }
    public func start(application: ReplicaApplication) { loop.start(application: application, transport: transport) }
    public func stop() { loop.stop() }
    public func shutdownPeers() async { await transport.shutdown() }
}
