import ConsensusCore
import Replica
import ZooKeeperData
import ZooKeeperWire

/// Sessions: the connect handshake, resuming a session on any member, and expiry, which the
/// leader decides (from its own clients' activity and the activity other members report) and
/// replicates as a closeSession, deleting the session's ephemerals everywhere.
extension ZooKeeperService {
    func connect(_ packet: [UInt8], on connection: ZooKeeperConnection) {
        connection.connectReceived = true
        guard let request = try? ZooKeeperConnectRequest(decoding: packet) else { return close(connection) }
        let answersReadOnly = request.readOnly != nil
        connection.answersReadOnly = answersReadOnly
        // A client that has seen more than this member applied must try another member.
        guard request.lastZxidSeen <= tree.lastZxid else {
            logger.info("refusing a ZooKeeper client that has seen zxid \(request.lastZxidSeen), past this member's \(tree.lastZxid)")
            return close(connection)
        }
        if request.sessionID != 0 {
            guard let session = tree.sessions[request.sessionID], session.password == request.password else {
                connection.send(ZooKeeperFrame.encode(ZooKeeperConnectResponse.refused(readOnly: answersReadOnly ? false : nil).encoded))
                return close(connection)
            }
            // The new connection claims the session through the log before it is answered, so
            // writes still in flight from the old one fail (SESSIONMOVED) rather than apply after
            // the new connection's, as ZooKeeper's session ownership has it.
            touch(request.sessionID)
            return proposeConnect(.claimSession(id: request.sessionID), session: request.sessionID, on: connection)
        }
        let timeout = min(max(request.timeoutMillis, limits.sessionTimeoutMillis.lowerBound), limits.sessionTimeoutMillis.upperBound)
        var session = Int64(bitPattern: environment.random()) & Int64.max
        if session == 0 { session = 1 }
        let password = (0..<2).flatMap { _ -> [UInt8] in
            let word = environment.random()
            return (0..<8).map { UInt8(truncatingIfNeeded: word >> ($0 * 8)) }
        }
        proposeConnect(.createSession(id: session, timeoutMillis: timeout, password: password), session: session, on: connection)
    }

    /// A session created or claimed for `connection`; the connect is answered when it applies.
    func proposeConnect(_ operation: ZooKeeperTransaction.Operation, session: Int64, on connection: ZooKeeperConnection) {
        let id = nextRequestID()
        pendingConnects[id] = connection.id
        connection.waitingSince = environment.now()
        let transaction = ZooKeeperTransaction(requestID: id.rawValue, session: session, time: nowMillis, connection: connection.tag, operation: operation)
        if !replica.propose(Proposal(id: id, data: transaction.encoded)) {
            pendingConnects[id] = nil
            close(connection)
        }
    }

    /// The connect's session was created or claimed (or not): answer the client.
    func answerConnect(_ id: RequestID, session: Int64, _ result: Result<ZooKeeperResponse, ZooKeeperErrorCode>) {
        guard let connectionID = pendingConnects.removeValue(forKey: id), let connection = connections[connectionID] else { return }
        connection.waitingSince = nil
        let readOnly: Bool? = connection.answersReadOnly ? false : nil
        guard case .success = result, let state = tree.sessions[session] else {
            // Expired meanwhile: ZooKeeper's zero reply, then close.
            connection.send(ZooKeeperFrame.encode(ZooKeeperConnectResponse.refused(readOnly: readOnly).encoded))
            return close(connection)
        }
        if let previous = connectionOfSession[session], previous != connection.id, let old = connections[previous] { close(old) }
        attach(session, to: connection)
        touch(session)
        connection.send(ZooKeeperFrame.encode(ZooKeeperConnectResponse(timeoutMillis: state.timeoutMillis, sessionID: session, password: state.password, readOnly: readOnly).encoded))
        runWaiting(on: connection)
    }

    func attach(_ session: Int64, to connection: ZooKeeperConnection) {
        connection.session = session
        connectionOfSession[session] = connection.id
    }

    /// Requests pipelined behind the connect, in order.
    func runWaiting(on connection: ZooKeeperConnection) {
        let waiting = connection.waitingForSession
        connection.waitingForSession = []
        for packet in waiting { received(packet, from: connection.id) }
    }

    /// The session's client was heard from on this member.
    func touch(_ session: Int64) {
        if replica.status.isLeader {
            if let timeout = tree.sessions[session]?.timeoutMillis { sessionDeadlines[session] = environment.now() + .milliseconds(Int64(timeout)) }
        } else {
            touchedSinceReport.insert(session)
        }
    }

    /// How often sessions are scanned for expiry and activity reports.
    static var sessionScanInterval: Duration { .milliseconds(100) }

    /// How often a member reports its sessions' activity to the leader: well inside the shortest
    /// session timeout.
    var touchReportInterval: Duration { .milliseconds(Int64(limits.sessionTimeoutMillis.lowerBound / 3)) }

    public func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {
        if status.isLeader != wasLeader {
            wasLeader = status.isLeader
            // A new leader gives every session a full timeout: it cannot know who was heard lately.
            sessionDeadlines = [:]
            expiriesProposed = []
        }
        // Sessions are looked at a few times a second, not every iteration: a busy loop runs
        // thousands of iterations a second, and the scan is linear in the sessions.
        if let lastSessionScan, now - lastSessionScan < Self.sessionScanInterval { return }
        lastSessionScan = now
        publishFigures()
        closeStalledConnections(now: now)
        if status.isLeader { deleteEmptiedContainers(now: now) }
        if status.isLeader {
            for (session, state) in tree.sessions where sessionDeadlines[session] == nil {
                sessionDeadlines[session] = now + .milliseconds(Int64(state.timeoutMillis))
            }
            for session in connectionOfSession.keys { touch(session) }
            for (session, deadline) in sessionDeadlines where deadline < now && !expiriesProposed.contains(session) {
                guard tree.sessions[session] != nil else {
                    sessionDeadlines[session] = nil
                    continue
                }
                expiriesProposed.insert(session)
                logger.info("expiring ZooKeeper session 0x\(String(session, radix: 16))")
                let id = nextRequestID()
                let transaction = ZooKeeperTransaction(requestID: id.rawValue, session: session, time: nowMillis, operation: .closeSession(id: session))
                if !replica.propose(Proposal(id: id, data: transaction.encoded)) { expiriesProposed.remove(session) }
            }
        } else if let leader = status.leader, lastTouchReport.map({ now - $0 >= touchReportInterval }) ?? true {
            lastTouchReport = now
            let sessions = touchedSinceReport.union(connectionOfSession.keys)
            touchedSinceReport = []
            guard !sessions.isEmpty else { return }
            var writer = JuteWriter()
            writer.writeVector(Array(sessions).sorted()) { writer, session in writer.writeLong(session) }
            replica.call(leader, callID: nextRequestID().rawValue, payload: writer.bytes)
        }
    }

    /// The largest activity report taken from a peer: more sessions than any member holds.
    static let reportedSessionsMax = 1_000_000

    public func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? {
        var reader = JuteReader(payload)
        guard let sessions = try? reader.readVector("sessions", elementBytesMin: 8, { (reader: inout JuteReader) throws(JuteError) in try reader.readLong("session") }),
              sessions.count <= Self.reportedSessionsMax, replica.status.isLeader else { return [] }
        for session in sessions { touch(session) }
        return []
    }

    public func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {}

    /// The leader's sweep: every emptied container and expired TTL node is deleted through the log.
    func deleteEmptiedContainers(now: ContinuousClock.Instant) {
        if let lastContainerCheck, now - lastContainerCheck < limits.containerCheckInterval { return }
        lastContainerCheck = now
        for path in tree.nodesDueForSweep(now: nowMillis, limit: limits.sweepDeletionsMax) {
            let id = nextRequestID()
            let transaction = ZooKeeperTransaction(requestID: id.rawValue, session: 0, time: nowMillis, operation: .deleteContainer(path: path))
            _ = replica.propose(Proposal(id: id, data: transaction.encoded))
        }
    }
}
