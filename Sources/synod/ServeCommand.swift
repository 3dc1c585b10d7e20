import ArgumentParser
import Engines
import EtcdServer
import Foundation
import Logging
import ServiceLifecycle

/// `synod serve`: one node of a cluster serving the etcd v3 API. It takes etcd's own flag names, so
/// an etcd start script works by swapping the binary; alone, it runs a single-node cluster.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run a Synod node that serves the etcd v3 API (flags as etcd's).",
        discussion: "With no flags: a single-node cluster, data in ./synod-data, clients on 127.0.0.1:2379."
    )

    @Option(help: "The consensus engine: \(EngineRegistry.names.joined(separator: ", ")). Every member of a cluster must run the same one.") var engine: String = "raft"
    @Option(help: "Human-readable name for this member.") var name: String?
    @Option(name: .customLong("data-dir"), help: "Path to the data directory.") var dataDirectory: String?
    @Option(name: .customLong("listen-client-urls"), help: "URL to listen on for client traffic.") var listenClientURLs: String?
    @Option(name: .customLong("advertise-client-urls"), help: "Client URL to advertise to the rest of the cluster.") var advertiseClientURLs: String?
    @Option(name: .customLong("listen-metrics-urls"), help: "URLs to serve /metrics, the health endpoints and the dashboard (/ui) on.") var listenMetricsURLs: String?
    @Option(name: .customLong("zk-listen-address"), help: "HOST:PORT to serve ZooKeeper clients on (kazoo, zkCli.sh, Curator); default 127.0.0.1:2181; empty turns it off.") var zkListenAddress: String?
    @Option(name: .customLong("zk-4lw-whitelist"), help: "Four-letter words the ZooKeeper port answers, comma-separated, or * for all (ruok, srvr, stat, mntr, conf, envi, cons, wchs, isro); default srvr, as ZooKeeper.") var zk4lwWhitelist: String?
    @Option(name: .customLong("zk-extended-types"), help: "Allow TTL nodes (createTTL), as ZooKeeper's zookeeper.extendedTypesEnabled (true or false; default false).") var zkExtendedTypes: Bool?
    @Option(name: .customLong("zk-container-check-interval"), help: "Milliseconds between the leader's sweeps of emptied containers and expired TTL nodes (ZooKeeper's znode.container.checkIntervalMs; default 60000).") var zkContainerCheckInterval: Int?
    @Option(name: .customLong("zk-jute-maxbuffer"), help: "The largest ZooKeeper packet taken, in bytes (ZooKeeper's jute.maxbuffer; default 1048575); a client sending more is disconnected.") var zkJuteMaxBuffer: Int?
    @Option(name: .customLong("listen-peer-urls"), help: "URL to listen on for peer traffic.") var listenPeerURLs: String?
    @Option(name: .customLong("initial-advertise-peer-urls"), help: "This member's peer URL to advertise to the rest of the cluster.") var initialAdvertisePeerURLs: String?
    @Option(name: .customLong("initial-cluster"), help: "Initial cluster configuration for bootstrapping: name=peerURL,...") var initialCluster: String?
    @Option(name: .customLong("initial-cluster-token"), help: "Initial cluster token, which makes cluster and member ids unique.") var initialClusterToken: String?
    @Option(name: .customLong("initial-cluster-state"), help: "new, or existing to join a cluster that runs already.") var initialClusterState: String?
    @Option(name: .customLong("strict-reconfig-check"), help: "Reject reconfiguration requests that would cause quorum loss (true or false).") var strictReconfigCheck: Bool?
    @Option(name: .customLong("experimental-corrupt-check-time"), help: "How often the leader compares members' HashKV (e.g. 5s; 0s is off).") var corruptCheckTime: String?
    @Option(name: .customLong("heartbeat-interval"), help: "Time (in milliseconds) of a heartbeat interval.") var heartbeatInterval: Int?
    @Option(name: .customLong("election-timeout"), help: "Time (in milliseconds) for an election to timeout.") var electionTimeout: Int?
    @Option(name: .customLong("snapshot-count"), help: "Number of committed transactions to trigger a snapshot.") var snapshotCount: Int?
    @Option(name: .customLong("quota-backend-bytes"), help: "Raise an alarm when the store exceeds this size.") var quotaBackendBytes: Int64?
    @Option(name: .customLong("max-request-bytes"), help: "Maximum client request size in bytes the server will accept.") var maxRequestBytes: Int?
    @Option(name: .customLong("auto-compaction-mode"), help: "periodic (keep a time window of history) or revision (keep the last N revisions).") var autoCompactionMode: String?
    @Option(name: .customLong("auto-compaction-retention"), help: "0 (off), hours or a duration like 30m for periodic, revisions for revision mode.") var autoCompactionRetention: String?
    @Option(name: .customLong("client-threads"), help: "Threads serving client connections (default: one per core). `synod up` gives each node its share of the cores.") var clientThreads: Int?
    @Option(name: .customLong("config-file"), help: "Path to a YAML file of the same settings (etcd's key names); flags override it.") var configFile: String?
    @Option(name: .customLong("log-level"), help: "debug, info, warn, error.") var logLevel: String = "info"
    @Option(name: .customLong("logger"), help: "zap (one JSON object per line) or capnslog (text).") var loggerFormat: String = "capnslog"
    @Option(name: .customLong("log-outputs"), help: "stderr, stdout, default (stderr), or file paths, comma-separated.") var logOutputs: String = "default"

    func run() async throws {
        let descriptor: EngineDescriptor
        do { descriptor = try EngineRegistry.lookup(engine) } catch { throw ValidationError("--engine: \(error)") }
        var settings = EtcdNodeConfiguration()
        if let configFile { try ConfigFile.apply(path: configFile, to: &settings) }
        try apply(to: &settings)
        guard let level = Logger.Level(etcdName: logLevel) else { throw ValidationError("--log-level must be debug, info, warn or error, not \(logLevel)") }
        guard let format = NodeLogHandler.Format(rawValue: loggerFormat) else { throw ValidationError("--logger must be zap or capnslog, not \(loggerFormat)") }
        let targets = logOutputs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !targets.isEmpty, targets.count <= NodeLogHandler.outputsMax, targets.allSatisfy({ !$0.isEmpty }) else {
            throw ValidationError("--log-outputs must name 1 to \(NodeLogHandler.outputsMax) targets, not \(logOutputs)")
        }
        let outputs: NodeLogHandler.Outputs
        do {
            outputs = try NodeLogHandler.Outputs(targets)
        } catch {
            throw ValidationError("--log-outputs \(logOutputs): \(error.localizedDescription)")
        }
        LoggingSystem.bootstrap { label in NodeLogHandler(label: label, format: format, outputs: outputs) }
        var logger = Logger(label: "synod.\(settings.name)")
        logger.logLevel = level
        if let files = FileDescriptorLimit.raiseToHardLimit() { logger.info("open-file limit \(files.soft) (hard \(files.hard))") }
        let node = try descriptor.etcdNode(configuration: settings, logger: logger)
        let group = ServiceGroup(services: [node], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// Flags given on the command line override the file and the defaults.
    func apply(to settings: inout EtcdNodeConfiguration) throws {
        let urls = { (text: String) in text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        if let name { settings.name = name }
        if let dataDirectory { settings.dataDirectory = dataDirectory }
        if let listenClientURLs { settings.listenClientURLs = urls(listenClientURLs) }
        if let advertiseClientURLs { settings.advertiseClientURLs = urls(advertiseClientURLs) } else if listenClientURLs != nil { settings.advertiseClientURLs = settings.listenClientURLs }
        if let listenPeerURLs { settings.listenPeerURLs = urls(listenPeerURLs) }
        if let listenMetricsURLs { settings.listenMetricsURLs = urls(listenMetricsURLs) }
        if let zkListenAddress { settings.zkListenAddress = zkListenAddress }
        if let zk4lwWhitelist { settings.zk4lwWhitelist = zk4lwWhitelist }
        if let zkExtendedTypes { settings.zkExtendedTypes = zkExtendedTypes }
        if let zkContainerCheckInterval { settings.zkContainerCheckIntervalMillis = zkContainerCheckInterval }
        if let zkJuteMaxBuffer { settings.zkJuteMaxBuffer = zkJuteMaxBuffer }
        if let initialAdvertisePeerURLs { settings.initialAdvertisePeerURLs = urls(initialAdvertisePeerURLs) } else if listenPeerURLs != nil { settings.initialAdvertisePeerURLs = settings.listenPeerURLs }
        if let initialCluster { settings.initialCluster = try ConfigFile.parseInitialCluster(initialCluster) }
        if let initialClusterToken { settings.initialClusterToken = initialClusterToken }
        if let initialClusterState { settings.initialClusterState = initialClusterState }
        if let strictReconfigCheck { settings.strictReconfigCheck = strictReconfigCheck }
        if let corruptCheckTime { settings.corruptCheckTime = corruptCheckTime }
        if let heartbeatInterval { settings.heartbeatIntervalMillis = heartbeatInterval }
        if let electionTimeout { settings.electionTimeoutMillis = electionTimeout }
        if let snapshotCount { settings.snapshotCount = snapshotCount }
        if let quotaBackendBytes { settings.quotaBackendBytes = quotaBackendBytes }
        if let maxRequestBytes { settings.maxRequestBytes = maxRequestBytes }
        if let autoCompactionMode { settings.autoCompactionMode = autoCompactionMode }
        if let autoCompactionRetention { settings.autoCompactionRetention = autoCompactionRetention }
        if let clientThreads { settings.clientThreads = clientThreads }
    }
}

extension Logger.Level {
    init?(etcdName: String) {
        switch etcdName.lowercased() {
        case "debug": self = .debug
        case "info": self = .info
        case "warn", "warning": self = .warning
        case "error": self = .error
        default: return nil
        }
    }
}

/// etcd's YAML configuration file, in the subset etcd's own sample uses: one `key: value` per line,
/// `#` comments, values optionally quoted.
enum ConfigFile {
    struct Problem: Error, CustomStringConvertible {
        var description: String
    }

    static func apply(path: String, to settings: inout EtcdNodeConfiguration) throws {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw Problem(description: "--config-file: cannot read \(path): \(error.localizedDescription)")
        }
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false)[0].trimmingCharacters(in: .whitespaces)
            if line.isEmpty { continue }
            guard let colon = line.firstIndex(of: ":") else { throw Problem(description: "\(path):\(number + 1): expected key: value") }
            let key = line[..<colon].trimmingCharacters(in: .whitespaces)
            var value = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            if value.count >= 2, let first = value.first, first == "'" || first == "\"", value.last == first { value = String(value.dropFirst().dropLast()) }
            let list = value.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            func flag() throws -> Bool {
                guard let flag = Bool(value) else { throw Problem(description: "\(path): \(key) must be true or false, not \(value)") }
                return flag
            }
            func integer() throws -> Int {
                guard let number = Int(value) else { throw Problem(description: "\(path): \(key) must be a number, not \(value)") }
                return number
            }
            switch key {
            case "name": settings.name = value
            case "data-dir": settings.dataDirectory = value
            case "listen-client-urls": settings.listenClientURLs = list
            case "advertise-client-urls": settings.advertiseClientURLs = list
            case "listen-peer-urls": settings.listenPeerURLs = list
            case "listen-metrics-urls": settings.listenMetricsURLs = list
            case "zk-listen-address": settings.zkListenAddress = value
            case "zk-4lw-whitelist": settings.zk4lwWhitelist = value
            case "initial-advertise-peer-urls": settings.initialAdvertisePeerURLs = list
            case "initial-cluster": settings.initialCluster = try parseInitialCluster(value)
            case "initial-cluster-token": settings.initialClusterToken = value
            case "initial-cluster-state": settings.initialClusterState = value
            case "strict-reconfig-check": settings.strictReconfigCheck = try flag()
            case "zk-extended-types": settings.zkExtendedTypes = try flag()
            case "zk-container-check-interval": settings.zkContainerCheckIntervalMillis = try integer()
            case "zk-jute-maxbuffer": settings.zkJuteMaxBuffer = try integer()
            case "experimental-corrupt-check-time": settings.corruptCheckTime = value
            case "heartbeat-interval": settings.heartbeatIntervalMillis = try integer()
            case "election-timeout": settings.electionTimeoutMillis = try integer()
            case "snapshot-count": settings.snapshotCount = try integer()
            case "quota-backend-bytes": settings.quotaBackendBytes = Int64(try integer())
            case "max-request-bytes": settings.maxRequestBytes = try integer()
            case "auto-compaction-mode": settings.autoCompactionMode = value
            case "auto-compaction-retention": settings.autoCompactionRetention = value
            default: throw Problem(description: "\(path):\(number + 1): unknown setting \(key)")
            }
        }
    }

    static func parseInitialCluster(_ text: String) throws -> [(name: String, peerURL: String)] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map { pair in
            // Empty parts kept, so that "=url" is a member with an empty name, which validation
            // then refuses under --name.
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { throw Problem(description: "--initial-cluster: expected name=url, got '\(pair)'") }
            return (String(parts[0]).trimmingCharacters(in: .whitespaces), String(parts[1]).trimmingCharacters(in: .whitespaces))
        }
    }
}
