import ConsensusCore

/// The application a replica host drives when several services share its log: it hands each
/// `HostedService` what is its own (see `HostedService` for the rules) and refuses what belongs to
/// no service. With it a second front end (ZooKeeper beside etcd) is added without touching the
/// first: each sees a log of its own commands and no-ops, its own requests, its own snapshot part
/// and its own peer calls.
///
/// Loop thread only, like every `ReplicaApplication`.
public final class ServiceRouter: ReplicaApplication {
    /// In tag order, so every replica applies, snapshots and restores them alike.
    public private(set) var services: [any HostedService] = []
    private var byTag: [ServiceTag: any HostedService] = [:]
    /// Committed command entries no service owns (a newer version's service, or a payload written
    /// before tags by something other than etcd). Every replica skips them alike.
    public private(set) var skippedEntries = 0
    /// Told of each skipped entry, for the node's log.
    public var skippedEntryObserver: ((Entry) -> Void)?

    public init() {}

    /// Hosts `service`, before the replica starts (its handle, `handle(for:over:)`, may be made
    /// first). The router keeps it alive. Returns false when a service with its tag is hosted.
    @discardableResult
    public func add(_ service: any HostedService) -> Bool {
        guard byTag[service.tag] == nil else { return false }
        byTag[service.tag] = service
        services.append(service)
        services.sort { $0.tag.rawValue < $1.tag.rawValue }
        return true
    }

    public func service(_ tag: ServiceTag) -> (any HostedService)? { byTag[tag] }

    /// A handle for the service with `tag` over the replica: it tags the service's peer calls and
    /// refuses its proposals that carry another tag.
    public func handle(for tag: ServiceTag, over replica: any ReplicaHandle) -> ServiceHandle {
        ServiceHandle(tag: tag, replica: replica, router: self)
    }

    // MARK: ReplicaApplication

    public func apply(_ entries: [Entry], status: EngineStatus) {
        if services.count == 1, let only = services.first, entries.allSatisfy({ owner(of: $0) == only.tag || $0.kind != .command }) {
            only.apply(entries, status: status)
            return
        }
        for entry in entries where entry.kind == .command && byTag[owner(of: entry) ?? ServiceTag(rawValue: 0)] == nil {
            skippedEntries += 1
            skippedEntryObserver?(entry)
        }
        for service in services {
            let own = entries.map { entry in
                entry.kind == .command && owner(of: entry) != service.tag ? Entry(index: entry.index, term: entry.term, kind: .noop) : entry
            }
            service.apply(own, status: status)
        }
    }

    public func readReady(_ id: RequestID, index: LogIndex) {
        byTag[ServiceTag(requestID: id.rawValue)]?.readReady(id, index: index)
    }

    public func rejected(_ id: RequestID, _ reason: RequestRejection) {
        byTag[ServiceTag(requestID: id.rawValue)]?.rejected(id, reason)
    }

    public func snapshotWriter() -> @Sendable () -> [UInt8] {
        let writers = services.map { (tag: $0.tag, write: $0.snapshotWriter()) }
        return {
            var parts: [ServiceTag: [UInt8]] = [:]
            for writer in writers { parts[writer.tag] = writer.write() }
            return CompositeSnapshot(parts: parts).encoded
        }
    }

    /// A snapshot whose parts every service can restore: checked before the engine takes one a
    /// leader sent, so a bad one is refused rather than trapping here.
    public func acceptsSnapshot(_ data: [UInt8]) -> Bool {
        CompositeSnapshot.accepts(data) { tag, part in byTag[tag]?.acceptsSnapshotPart(part) ?? true }
    }

    public func restore(_ snapshot: Snapshot) {
        let composite: CompositeSnapshot
        do {
            composite = try CompositeSnapshot(decoding: snapshot.data)
        } catch {
            // Snapshots from disk are checksummed, and a leader's are checked (`acceptsSnapshot`)
            // before the engine takes them: this is a bug, not input.
            preconditionFailure("snapshot \(snapshot.metadata) does not decode: \(error)")
        }
        for service in services {
            service.restore(Snapshot(metadata: snapshot.metadata, data: composite.parts[service.tag] ?? []))
        }
    }

    public func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {
        for service in services { service.afterIteration(status: status, now: now) }
    }

    public func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? {
        guard let first = payload.first, let service = byTag[ServiceTag(rawValue: first)] else { return nil }
        return service.handlePeerRequest(Array(payload.dropFirst()), from: from, callID: callID)
    }

    public func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {
        byTag[ServiceTag(requestID: id)]?.handlePeerResponse(id: id, payload)
    }

    public func acceptsForwardedProposal(_ data: [UInt8]) -> Bool {
        guard let tag = ServiceTag(owningPayload: data), let service = byTag[tag] else { return false }
        return service.acceptsForwardedProposal(data)
    }

    /// Every service hears it; the one that applied the client's request at `index` answers.
    public func answerClient(_ client: ClientIdentity, index: LogIndex) {
        for service in services { service.answerClient(client, index: index) }
    }

    public func storageSpace(exhausted: Bool) {
        for service in services { service.storageSpace(exhausted: exhausted) }
    }

    private func owner(of entry: Entry) -> ServiceTag? { ServiceTag(owningPayload: entry.data) }
}

extension ServiceTag {
    /// The service a command payload belongs to: its first byte. Payloads written before services
    /// were tagged are etcd's: they start with the etcd proposal's format version, 1, which is no
    /// service's tag.
    public init?(owningPayload payload: [UInt8]) {
        guard let first = payload.first else { return nil }
        self = first == Self.legacyEtcdFormatByte ? .etcd : ServiceTag(rawValue: first)
    }

    static let legacyEtcdFormatByte: UInt8 = 1
}
