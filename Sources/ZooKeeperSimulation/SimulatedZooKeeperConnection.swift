import ZooKeeperServer
import ZooKeeperWire

/// A simulated client's connection to one member's `ZooKeeperService`, as a client library holds
/// it: the handshake, then requests with increasing xids whose replies must come back in that
/// order. What the service sends is kept in `inbox` and read only between the service's calls
/// (`ZooKeeperSimulatedService.drain`), so a client's next request never re-enters the service
/// while it is still answering.
///
/// `@unchecked Sendable`: used only on the simulator's one thread.
final class SimulatedZooKeeperConnection: ZooKeeperClientSink, @unchecked Sendable {
    /// How a request ended, as the client sees it.
    enum Outcome {
        case reply(ZooKeeperReplyHeader, ZooKeeperResponse?)
        /// The connection went away first: the request may or may not have taken effect.
        case lost
    }

    let id: UInt64
    let node: Int
    let client: Int
    /// Packets the service sent, framed, not yet read.
    var inbox: [[UInt8]] = []
    var closedByServer = false
    /// Set until the connect is answered: called with the response, or nil when the member closed
    /// the connection or gave the zero reply.
    var handshake: ((ZooKeeperConnectResponse?) -> Void)?
    var pending: [(xid: Int32, operation: ZooKeeperOperation, handler: (Outcome) -> Void)] = []
    var nextXid: Int32 = 0
    /// Set once the connection is no use (closed either way); its handlers have all run.
    var finished = false

    init(id: UInt64, node: Int, client: Int) {
        self.id = id
        self.node = node
        self.client = client
    }

    func send(_ packet: [UInt8]) { inbox.append(packet) }
    func close() { closedByServer = true }

    var hasWork: Bool { !finished && (!inbox.isEmpty || closedByServer) }

    /// Fails what is still owed: the connect and every request in flight.
    func finish() {
        guard !finished else { return }
        finished = true
        handshake?(nil)
        handshake = nil
        let owed = pending
        pending = []
        for request in owed { request.handler(.lost) }
    }
}
