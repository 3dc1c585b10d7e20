import Foundation
import Storage

/// A node's settings, named as etcd names its flags, so an etcd start script works unchanged.
public struct EtcdNodeConfiguration: Sendable {
    public var name = "default"
    public var dataDirectory = "synod-data"
    public var listenClientURLs = ["http://127.0.0.1:2379"]
    public var advertiseClientURLs = ["http://127.0.0.1:2379"]
    /// etcd's --listen-metrics-urls: extra listeners for /metrics, the health endpoints and the
    /// dashboard (`/ui`).
    public var listenMetricsURLs: [String] = []
    public var listenPeerURLs = ["http://127.0.0.1:2380"]
    public var initialAdvertisePeerURLs = ["http://127.0.0.1:2380"]
    /// name=peerURL pairs; empty means this node alone, at its advertised peer URLs.
    public var initialCluster: [(name: String, peerURL: String)] = []
    public var initialClusterToken = "etcd-cluster"
    public var initialClusterState = "new"
    /// etcd's --strict-reconfig-check: refuse a change of voters that would leave too few answering.
    public var strictReconfigCheck = true
    public var heartbeatIntervalMillis = 100
    public var electionTimeoutMillis = 1000
    public var snapshotCount = 100_000
    public var quotaBackendBytes: Int64 = 2 << 30
    public var maxRequestBytes = 1_572_864
    /// Threads serving client connections (Synod's own setting); nil means one per core.
    public var clientThreads: Int?
    /// periodic or revision; see `AutoCompaction`.
    public var autoCompactionMode = "periodic"
    /// "0" (off, etcd's default), hours or a duration in periodic mode, revisions in revision mode.
    public var autoCompactionRetention = "0"
    /// etcd's --experimental-corrupt-check-time: how often the leader compares HashKV with every
    /// member ("0s", off, by default), as a Go duration.
    public var corruptCheckTime = "0s"
    /// Where ZooKeeper clients connect (HOST:PORT); empty turns the ZooKeeper API off. ZooKeeper's
    /// own port by default, as a ZooKeeper server's clientPort; several members on one machine must
    /// each name their own (`synod up` does; the test scripts turn it off or pass theirs).
    public static let defaultZooKeeperListenAddress = "127.0.0.1:2181"
    public var zkListenAddress = EtcdNodeConfiguration.defaultZooKeeperListenAddress
    /// The four-letter words the ZooKeeper listener answers, comma-separated; "*" for all. srvr
    /// alone by default, as ZooKeeper 3.5+ (`4lw.commands.whitelist`).
    public var zk4lwWhitelist = "srvr"
    /// TTL nodes (createTTL), ZooKeeper's `zookeeper.extendedTypesEnabled`: off by default, as there.
    public var zkExtendedTypes = false
    /// How often the leader deletes emptied containers and expired TTL nodes, in milliseconds
    /// (ZooKeeper's `znode.container.checkIntervalMs`).
    public var zkContainerCheckIntervalMillis = 60_000
    /// The largest ZooKeeper packet taken (ZooKeeper's `jute.maxbuffer`, 0xfffff bytes by default);
    /// a client sending more is disconnected, as ZooKeeper does.
    public var zkJuteMaxBuffer = 0xfffff
    /// The bounds of --zk-jute-maxbuffer: from 1 KiB, and far below the log's largest entry.
    public static let zkJuteMaxBufferRange = 1_024...(32 << 20)
    /// The bounds of --zk-container-check-interval: a tenth of a second to a day.
    public static let zkContainerCheckIntervalMillisRange = 100...86_400_000

    public init() {}

    /// The ZooKeeper listener's host and port, nil when off.
    public func zooKeeperAddress() throws -> (host: String, port: Int)? {
        guard !zkListenAddress.isEmpty else { return nil }
        guard let colon = zkListenAddress.lastIndex(of: ":"), let port = Int(zkListenAddress[zkListenAddress.index(after: colon)...]),
              (1...65_535).contains(port), colon != zkListenAddress.startIndex else {
            throw Problem.invalid("--zk-listen-address must be HOST:PORT with a port from 1 to 65535, or empty; not \(zkListenAddress)")
        }
        var host = String(zkListenAddress[..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        return (host, port)
    }

    /// Validates the settings and returns the initial cluster's members (for tools and tests).
    public func checkedInitialMembers() throws -> [(name: String, peerURLs: [String])] {
        try validate()
        return try initialMembers()
    }

    public enum Problem: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self {
            case .invalid(let text): return text
            }
        }
    }

    /// Every member of the initial cluster, grouped by name, with this node's own entry.
    func initialMembers() throws -> [(name: String, peerURLs: [String])] {
        if initialCluster.isEmpty { return [(name, initialAdvertisePeerURLs)] }
        var order: [String] = []
        var urls: [String: [String]] = [:]
        for (member, url) in initialCluster {
            if urls[member] == nil { order.append(member) }
            urls[member, default: []].append(url)
        }
        guard let own = urls[name] else {
            throw Problem.invalid("--initial-cluster has no member named \(name) (--name)")
        }
        guard Set(own) == Set(initialAdvertisePeerURLs) else {
            throw Problem.invalid("--initial-cluster lists \(own.joined(separator: ",")) for \(name), but --initial-advertise-peer-urls is \(initialAdvertisePeerURLs.joined(separator: ","))")
        }
        return order.map { ($0, urls[$0]!) }
    }

    // Bounds on operator input. Each is checked in `validate`, so no later arithmetic (ticks,
    // deadlines, buffer sizes) can overflow or trap on a value from a flag or the config file.

    /// etcd's own ceiling on --election-timeout (`maxElectionMs`).
    public static let electionTimeoutMillisMax = 50_000
    /// A heartbeat is a tick; the election timeout must span several, or one late tick elects.
    public static let electionTimeoutHeartbeatsMin = 5
    /// A log entry holds one request and its framing, and a log record must hold one entry
    /// (`WALFrame.payloadBytesMax`, 64 MiB), as must a peer frame: half the record bound leaves room
    /// for both. etcd itself warns above 10 MiB.
    public static let maxRequestBytesMax = Int(WALFrame.payloadBytesMax) / 2
    /// etcd's `MaxQuotaBytes`: Synod holds the store in memory, so it refuses more rather than warn.
    public static let quotaBackendBytesMax: Int64 = 8 << 30
    public static let snapshotCountMax = 1_000_000_000
    public static let clientThreadsMax = 256
    /// Metrics listeners one node opens.
    public static let listenMetricsURLsMax = 16

    func validate() throws {
        func refuse(_ text: String) -> Problem { .invalid(text) }
        guard !name.isEmpty else { throw refuse("--name must not be empty") }
        guard !dataDirectory.isEmpty else { throw refuse("--data-dir must not be empty") }
        try Self.checkURLs(listenClientURLs, flag: "--listen-client-urls")
        try Self.checkURLs(advertiseClientURLs, flag: "--advertise-client-urls")
        try Self.checkURLs(listenPeerURLs, flag: "--listen-peer-urls")
        _ = try corruptCheckInterval()
        if !listenMetricsURLs.isEmpty {
            try Self.checkURLs(listenMetricsURLs, flag: "--listen-metrics-urls")
            guard listenMetricsURLs.count <= Self.listenMetricsURLsMax else {
                throw refuse("--listen-metrics-urls lists \(listenMetricsURLs.count) URLs, at most \(Self.listenMetricsURLsMax)")
            }
        }
        try Self.checkURLs(initialAdvertisePeerURLs, flag: "--initial-advertise-peer-urls")
        for (member, url) in initialCluster {
            guard !member.isEmpty else { throw refuse("--initial-cluster: a member has an empty name (\(url))") }
            try Self.checkURLs([url], flag: "--initial-cluster")
        }
        let clusterURLs = initialCluster.map(\.peerURL)
        guard Set(clusterURLs).count == clusterURLs.count else { throw refuse("--initial-cluster lists a peer URL twice: \(clusterURLs.joined(separator: ","))") }
        guard Self.zkJuteMaxBufferRange.contains(zkJuteMaxBuffer) else {
            throw refuse("--zk-jute-maxbuffer must be from \(Self.zkJuteMaxBufferRange.lowerBound) to \(Self.zkJuteMaxBufferRange.upperBound) bytes, not \(zkJuteMaxBuffer)")
        }
        guard Self.zkContainerCheckIntervalMillisRange.contains(zkContainerCheckIntervalMillis) else {
            throw refuse("--zk-container-check-interval must be from \(Self.zkContainerCheckIntervalMillisRange.lowerBound) to \(Self.zkContainerCheckIntervalMillisRange.upperBound) ms, not \(zkContainerCheckIntervalMillis)")
        }
        guard heartbeatIntervalMillis > 0 else { throw refuse("--heartbeat-interval must be positive, not \(heartbeatIntervalMillis)") }
        guard electionTimeoutMillis > 0, electionTimeoutMillis <= Self.electionTimeoutMillisMax else {
            throw refuse("--election-timeout must be between 1 and \(Self.electionTimeoutMillisMax) ms (etcd's limit), not \(electionTimeoutMillis)")
        }
        guard heartbeatIntervalMillis <= electionTimeoutMillis / Self.electionTimeoutHeartbeatsMin else {
            throw refuse("--election-timeout (\(electionTimeoutMillis) ms) must be at least \(Self.electionTimeoutHeartbeatsMin) times --heartbeat-interval (\(heartbeatIntervalMillis) ms)")
        }
        guard initialClusterState == "new" || initialClusterState == "existing" else {
            throw refuse("--initial-cluster-state must be new or existing, not \(initialClusterState)")
        }
        guard maxRequestBytes > 0, maxRequestBytes <= Self.maxRequestBytesMax else {
            throw refuse("--max-request-bytes must be between 1 and \(Self.maxRequestBytesMax) (what one log record and one peer frame can carry), not \(maxRequestBytes)")
        }
        guard snapshotCount > 0, snapshotCount <= Self.snapshotCountMax else {
            throw refuse("--snapshot-count must be between 1 and \(Self.snapshotCountMax), not \(snapshotCount)")
        }
        guard quotaBackendBytes >= 0, quotaBackendBytes <= Self.quotaBackendBytesMax else {
            throw refuse("--quota-backend-bytes must be between 0 (the default, 2 GiB) and \(Self.quotaBackendBytesMax), not \(quotaBackendBytes)")
        }
        if let clientThreads, clientThreads < 1 || clientThreads > Self.clientThreadsMax {
            throw refuse("--client-threads must be between 1 and \(Self.clientThreadsMax), not \(clientThreads)")
        }
        _ = try autoCompaction()
        _ = try zooKeeperAddress()
    }

    /// A URL list from a flag: not empty, and each an http URL with a host and a port in range.
    static func checkURLs(_ urls: [String], flag: String) throws {
        guard !urls.isEmpty, urls.allSatisfy({ !$0.isEmpty }) else { throw Problem.invalid("\(flag) must list at least one URL") }
        for url in urls {
            do {
                _ = try HostPort(url: url)
            } catch {
                throw Problem.invalid("\(flag): \(error)")
            }
        }
    }

    /// The quota in force: 0 means etcd's default.
    public var effectiveQuotaBackendBytes: Int64 { quotaBackendBytes == 0 ? Self.quotaBackendBytesDefault : quotaBackendBytes }
    /// etcd's `DefaultQuotaBytes`.
    public static let quotaBackendBytesDefault: Int64 = 2 << 30

    /// The corruption check's interval, nil when off; at least a second, at most a day.
    public func corruptCheckInterval() throws -> Duration? {
        // A plain number would be hours for the retention flag; here Go's duration syntax only.
        guard corruptCheckTime.last.map({ !$0.isNumber }) ?? false || corruptCheckTime == "0",
              let interval = AutoCompaction.duration(corruptCheckTime) else {
            throw Problem.invalid("--experimental-corrupt-check-time must be a duration such as 5s or 1m, not \(corruptCheckTime)")
        }
        if interval == .zero { return nil }
        guard interval >= .seconds(1), interval <= .seconds(86_400) else {
            throw Problem.invalid("--experimental-corrupt-check-time must be between 1s and 24h, not \(corruptCheckTime)")
        }
        return interval
    }

    /// The auto-compaction policy the flags ask for, or nil when it is off.
    public func autoCompaction() throws -> AutoCompaction? {
        try AutoCompaction.parse(mode: autoCompactionMode, retention: autoCompactionRetention)
    }
}

/// A URL's host and port, as the listeners need them.
struct HostPort: Equatable {
    var host: String
    var port: Int

    init(url: String) throws {
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port else {
            throw EtcdNodeConfiguration.Problem.invalid("\(url) is not a URL with a host and a port")
        }
        guard components.scheme == "http" else {
            throw EtcdNodeConfiguration.Problem.invalid("\(url): only http:// is served (TLS is not supported yet)")
        }
        guard (1...65_535).contains(port), !host.isEmpty else {
            throw EtcdNodeConfiguration.Problem.invalid("\(url): the port must be between 1 and 65535")
        }
        self.host = host
        self.port = port
    }
}
