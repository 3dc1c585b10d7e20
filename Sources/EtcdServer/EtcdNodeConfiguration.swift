import Foundation

/// A node's settings, named as etcd names its flags, so an etcd start script works unchanged.
public struct EtcdNodeConfiguration: Sendable {
    public var name = "default"
    public var dataDirectory = "synod-data"
    public var listenClientURLs = ["http://127.0.0.1:2379"]
    public var advertiseClientURLs = ["http://127.0.0.1:2379"]
    public var listenPeerURLs = ["http://127.0.0.1:2380"]
    public var initialAdvertisePeerURLs = ["http://127.0.0.1:2380"]
    /// name=peerURL pairs; empty means this node alone, at its advertised peer URLs.
    public var initialCluster: [(name: String, peerURL: String)] = []
    public var initialClusterToken = "etcd-cluster"
    public var initialClusterState = "new"
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

    public init() {}

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

    func validate() throws {
        guard heartbeatIntervalMillis > 0, electionTimeoutMillis >= 5 * heartbeatIntervalMillis else {
            throw Problem.invalid("--election-timeout (\(electionTimeoutMillis) ms) must be at least 5 times --heartbeat-interval (\(heartbeatIntervalMillis) ms)")
        }
        guard initialClusterState == "new" || initialClusterState == "existing" else {
            throw Problem.invalid("--initial-cluster-state must be new or existing, not \(initialClusterState)")
        }
        guard maxRequestBytes > 0, snapshotCount > 0 else { throw Problem.invalid("--max-request-bytes and --snapshot-count must be positive") }
        _ = try autoCompaction()
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
        self.host = host
        self.port = port
    }
}
