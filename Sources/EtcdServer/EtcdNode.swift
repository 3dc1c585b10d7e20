import ConsensusCore
import EtcdAPI
import Foundation
import GRPCCore
import Logging
import MVCC
import NIOCore
import Node
import Replica
import ServiceLifecycle
import Storage
import ZooKeeperServer

/// One Synod node serving the etcd v3 API: an engine over the disk log, the peer transport, the
/// etcd service and its gRPC endpoint. The engine is whichever the registry names (`--engine`); this
/// class names none. As a swift-service-lifecycle `Service`, it stops gracefully on SIGTERM: the
/// gRPC server stops taking requests and lets in-flight ones finish, then the loop stops (every
/// acknowledged write was synced before it was acknowledged).
public final class EtcdNode: Service, @unchecked Sendable {
    public let configuration: EtcdNodeConfiguration
    let logger: Logger
    public let service: EtcdService
    /// The engine's replica loop and peer transport.
    let replica: any NodeReplica
    /// The services on the log; the loop holds it weakly.
    let router: ServiceRouter
    /// The ZooKeeper front end, on the same log as etcd (a separate tree).
    public let zooKeeper: ZooKeeperService
    let replicaHandle: any ReplicaHandle

    public init<Engine: ServableEngine>(configuration: EtcdNodeConfiguration, engine: Engine.Type, logger: Logger) throws {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        let initial = try configuration.initialMembers()
        let members = initial.map { member in
            EtcdMember(
                id: EtcdMember.memberID(peerURLs: member.peerURLs, clusterToken: configuration.initialClusterToken),
                name: member.name, peerURLs: member.peerURLs,
                clientURLs: member.name == configuration.name ? configuration.advertiseClientURLs : []
            )
        }
        let own = members.first { $0.name == configuration.name }!
        // A member joining an existing cluster learns the cluster's id from the first peer that
        // dials it (the id derives from the founding members, which its flags need not name).
        let joining = configuration.initialClusterState != "new"
        let clusterID = joining ? nil : EtcdMember.clusterID(members: members.map(\.id), clusterToken: configuration.initialClusterToken)

        let walDirectory = (configuration.dataDirectory as NSString).appendingPathComponent("member")
        let storage: DiskStorage<Engine.HardState>
        do {
            try FileManager.default.createDirectory(atPath: walDirectory, withIntermediateDirectories: true)
            storage = try DiskStorage(directory: try PosixDirectory(path: walDirectory), initial: Engine.emptyHardState)
        } catch {
            throw EtcdNodeConfiguration.Problem.invalid("--data-dir \(configuration.dataDirectory): \((error as NSError).localizedDescription)")
        }
        if let torn = storage.tornTail { logger.notice("recovery cut a torn record at the tail of \(torn.file), offset \(torn.offset)") }
        let durable = storage.durableState

        let settings = NodeEngineSettings(
            electionTimeoutTicks: configuration.electionTimeoutMillis / configuration.heartbeatIntervalMillis,
            snapshotEntriesThreshold: configuration.snapshotCount,
            compactionRetainEntries: min(5_000, configuration.snapshotCount),
            proposalBytesMax: configuration.maxRequestBytes + 64,
            strictReconfigurationCheck: configuration.strictReconfigCheck,
            acceptsSnapshot: { data in
                CompositeSnapshot.accepts(data) { tag, part in tag == .etcd ? EtcdService.acceptsSnapshotPart(part) : true }
            })
        var seed = SystemRandomNumberGenerator()
        let engine = Engine.serving(
            id: own.id, voters: configuration.initialClusterState == "new" ? members.map(\.id) : [], settings: settings,
            random: SeededRandom(seed: seed.next()), restoring: durable)
        let loop = ReplicaLoop(id: own.id, engine: engine, storage: storage, tickInterval: .milliseconds(configuration.heartbeatIntervalMillis), logger: logger)

        // Every service this node hosts shares the log through the router; etcd is the one today.
        let router = ServiceRouter()
        self.router = router
        router.skippedEntryObserver = { [logger] entry in
            logger.error("skipping committed entry \(entry.index): no service here owns its tag (0x\(String(entry.data.first ?? 0, radix: 16)))")
        }
        var limits = EtcdService.Limits()
        limits.requestBytesMax = configuration.maxRequestBytes
        limits.quotaBytes = Int(configuration.effectiveQuotaBackendBytes)
        limits.requestTimeout = .seconds(5) + .milliseconds(2 * configuration.electionTimeoutMillis)
        let service = EtcdService(
            identity: own, members: joining ? [] : members, clusterID: clusterID ?? 0, clusterToken: configuration.initialClusterToken,
            replica: router.handle(for: .etcd, over: loop), limits: limits,
            electionTimeout: .milliseconds(configuration.electionTimeoutMillis), logger: logger
        )
        self.service = service
        router.add(service)
        var zooKeeperLimits = ZooKeeperService.Limits()
        zooKeeperLimits.extendedTypes = configuration.zkExtendedTypes
        zooKeeperLimits.containerCheckInterval = .milliseconds(configuration.zkContainerCheckIntervalMillis)
        zooKeeperLimits.packetBytesMax = configuration.zkJuteMaxBuffer
        let zooKeeper = ZooKeeperService(
            replica: router.handle(for: .zookeeper, over: loop), limits: zooKeeperLimits, epochMillis: Int64(Date().timeIntervalSince1970 * 1_000), logger: logger)
        self.zooKeeper = zooKeeper
        router.add(zooKeeper)
        replicaHandle = loop
        let fsyncDurations = service.metrics.walFsyncDurations
        let fsyncBuckets = service.walFsyncLatency
        loop.syncObserver = { duration in
            fsyncDurations.record(duration)
            fsyncBuckets.record(duration)
        }
        service.dashboardURLs = configuration.listenMetricsURLs
        let backendCommits = service.metrics.backendCommitDurations
        loop.snapshotObserver = { backendCommits.record($0) }
        service.autoCompaction = try configuration.autoCompaction()
        service.corruptCheckInterval = try configuration.corruptCheckInterval()
        if !joining { service.bootstrap() }
        if let snapshot = durable.snapshot { router.restore(snapshot) }

        let peers = try members.map { member in
            let address = try HostPort(url: member.peerURLs[0])
            return PeerAddress(id: member.id, host: address.host, port: address.port)
        }
        let transport = PeerTransport<Engine.Message>(
            selfID: own.id, clusterID: clusterID, clientURLs: configuration.advertiseClientURLs, peers: peers, logger: logger
        ) { envelope in
            if case .hello(let cluster, let from, let urls) = envelope { service.learned(clientURLs: urls, of: from, clusterID: cluster) }
            loop.received(envelope)
        }
        service.droppedPeerFrames = transport.droppedFrames
        service.peersChanged = { transport.updatePeers($0, keeping: $1) }
        replica = EngineNodeReplica(loop: loop, transport: transport)
    }

    public func run() async throws {
        for url in configuration.listenPeerURLs {
            let address = try HostPort(url: url)
            do {
                try await replica.startPeers(host: address.host, port: address.port)
            } catch {
                throw EtcdNodeConfiguration.Problem.invalid("--listen-peer-urls \(url): \(error)")
            }
        }
        replica.start(application: router)
        let clientAddresses = try configuration.listenClientURLs.map { url in
            let address = try HostPort(url: url)
            return (host: address.host, port: address.port)
        }
        // etcd accepts requests up to --max-request-bytes plus gRPC's own overhead; larger ones are
        // refused before they are read whole.
        let methods = EtcdGRPCMethods.table(for: service)
        let grpcMetrics = GRPCServerMetrics(
            registry: service.metrics.registry, paths: methods.mapValues { if case .unary = $0 { true } else { false } },
            unaryLatency: service.requestLatency)
        // SYNOD_GRPC_METRICS=off turns the per-call recording off, only to measure what it costs
        // (docs/PERFORMANCE.md).
        let observer: GRPCStreamHandler.Observer? = ProcessInfo.processInfo.environment["SYNOD_GRPC_METRICS"] == "off"
            ? nil
            : { @Sendable path, code, duration in grpcMetrics.handled(path: path, code: code, duration: duration) }
        let server = LeanGRPCServer(
            methods: methods, messageBytesMax: configuration.maxRequestBytes + 512 * 1024,
            threads: configuration.clientThreads ?? System.coreCount, logger: logger,
            plainHTTP: { [service] method, uri in await service.httpResponse(method: method, uri: uri) },
            observer: observer
        )
        do {
            try await server.start(addresses: clientAddresses)
        } catch {
            throw EtcdNodeConfiguration.Problem.invalid("--listen-client-urls \(configuration.listenClientURLs.joined(separator: ",")): \(error)")
        }
        var zooKeeperListener: ZooKeeperListener?
        if let address = try configuration.zooKeeperAddress() {
            let replica = replicaHandle
            let listener = ZooKeeperListener(
                service: zooKeeper, replica: router.handle(for: .zookeeper, over: replica), threads: 1,
                fourLetterWords: Set(configuration.zk4lwWhitelist.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }), logger: logger,
                mode: { replica.status.isLeader ? "leader" : "follower" })
            do {
                try await listener.start(host: address.host, port: address.port)
            } catch {
                throw EtcdNodeConfiguration.Problem.invalid("--zk-listen-address \(configuration.zkListenAddress): \(error)")
            }
            zooKeeperListener = listener
            logger.notice("serving ZooKeeper clients on \(configuration.zkListenAddress)")
        }
        let dashboards = try configuration.listenMetricsURLs.map { url in
            let address = try HostPort(url: url)
            return DashboardServer.application(service: service, host: address.host, port: address.port, logger: logger)
        }
        logger.notice("serving etcd v3 clients on \(configuration.listenClientURLs.joined(separator: ",")), peers on \(configuration.listenPeerURLs.joined(separator: ",")) as member \(String(service.identity.id.rawValue, radix: 16)) of cluster \(String(service.clusterID, radix: 16))")
        // Serve until asked to stop; then streams end (watch, keep-alive, dashboard events), calls
        // in flight finish. The metrics listeners run beside, and stop with the same signal.
        try await withThrowingDiscardingTaskGroup { group in
            for dashboard in dashboards {
                group.addTask {
                    do {
                        try await dashboard.run()
                    } catch {
                        throw EtcdNodeConfiguration.Problem.invalid("--listen-metrics-urls: \(error)")
                    }
                }
            }
            await withGracefulShutdownHandler {
                await service.shutdown.wait()
            } onGracefulShutdown: { [service] in
                service.shutdown.fire()
            }
        }
        await server.stopGracefully()
        await zooKeeperListener?.shutdown()
        logger.notice("stopping: in-flight requests drained; stopping the replica loop")
        replica.stop()
        service.drain()
        await replica.shutdownPeers()
    }
}
