import EtcdAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2

/// A real cluster for tests: `synod serve` child processes on loopback, each on its own data
/// directory, started and killed like any deployment. Bounded waits everywhere.
final class LocalCluster: @unchecked Sendable {
    struct Member {
        var name: String
        var clientPort: Int
        var peerPort: Int
        var dataDirectory: URL
        var process: Process?
    }

    static var synodExecutable: URL {
        // The test bundle sits next to the products of the same build.
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("synod")
    }

    let directory: URL
    var members: [Member]
    let initialCluster: String
    /// Flags every member gets besides its addresses (`--snapshot-count`, say).
    let extraArguments: [String]

    init(size: Int, extraArguments: [String] = []) {
        self.extraArguments = extraArguments
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("synod-cluster-\(UUID().uuidString)")
        // Ports from the process id, so parallel test runs on one machine do not collide.
        let base = 30_000 + Int(ProcessInfo.processInfo.processIdentifier % 500) * 40
        members = (0..<size).map { index in
            Member(name: "n\(index + 1)", clientPort: base + index * 2, peerPort: base + index * 2 + 1,
                   dataDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("unused"), process: nil)
        }
        initialCluster = members.map { "\($0.name)=http://127.0.0.1:\($0.peerPort)" }.joined(separator: ",")
        for index in members.indices { members[index].dataDirectory = directory.appendingPathComponent(members[index].name) }
    }

    var endpoints: [(host: String, port: Int)] { members.map { ("127.0.0.1", $0.clientPort) } }

    func start(_ index: Int) throws {
        let member = members[index]
        let process = Process()
        process.executableURL = Self.synodExecutable
        process.arguments = [
            "serve", "--zk-listen-address", "", "--name", member.name, "--data-dir", member.dataDirectory.path,
            "--listen-client-urls", "http://127.0.0.1:\(member.clientPort)",
            "--listen-peer-urls", "http://127.0.0.1:\(member.peerPort)",
            "--initial-cluster", initialCluster, "--initial-cluster-token", "test-\(directory.lastPathComponent)",
            "--log-level", "warn",
        ] + extraArguments
        process.standardOutput = FileHandle.nullDevice
        let log = directory.appendingPathComponent("\(member.name).log")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        FileManager.default.createFile(atPath: log.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: log)
        try process.run()
        members[index].process = process
    }

    func startAll() throws {
        for index in members.indices { try start(index) }
    }

    /// kill -9: no chance to flush or say goodbye.
    func kill(_ index: Int) {
        guard let process = members[index].process else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        members[index].process = nil
    }

    func stopAll() {
        for member in members {
            guard let process = member.process, process.isRunning else { continue }
            process.terminate()
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: directory)
    }

    /// Snapshot files in a member's data directory.
    func snapshotFiles(_ index: Int) -> [String] {
        let path = members[index].dataDirectory.appendingPathComponent("member").path
        return ((try? FileManager.default.contentsOfDirectory(atPath: path)) ?? []).filter { $0.hasPrefix("snapshot-") && $0.hasSuffix(".snap") }
    }

    func log(_ index: Int) -> String {
        (try? String(contentsOf: directory.appendingPathComponent("\(members[index].name).log"), encoding: .utf8)) ?? ""
    }
}

/// One gRPC connection per endpoint, kept for the test's duration.
struct EtcdConnections: Sendable {
    let clients: [GRPCClient<HTTP2ClientTransport.Posix>]

    init(_ endpoints: [(host: String, port: Int)]) throws {
        clients = try endpoints.map { endpoint in
            GRPCClient(transport: try HTTP2ClientTransport.Posix(target: .ipv4(address: endpoint.host, port: endpoint.port), transportSecurity: .plaintext))
        }
    }

    func kv(_ index: Int) -> Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix> { Etcdserverpb_KV.Client(wrapping: clients[index]) }
    func maintenance(_ index: Int) -> Etcdserverpb_Maintenance.Client<HTTP2ClientTransport.Posix> { Etcdserverpb_Maintenance.Client(wrapping: clients[index]) }

    /// Runs `body` with every connection open.
    func run<T: Sendable>(_ body: @Sendable (EtcdConnections) async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            for client in clients { group.addTask { try await client.runConnections(); return nil } }
            defer { for client in clients { client.beginGracefulShutdown() } }
            let result = try await body(self)
            for client in clients { client.beginGracefulShutdown() }
            return result
        }
    }

    static func options(timeout: Duration) -> CallOptions {
        var options = CallOptions.defaults
        options.timeout = timeout
        return options
    }

    /// The leader's member id as `index` reports it, or nil when it cannot say.
    func leader(askingEach indexes: [Int]) async -> (leader: UInt64, memberIDs: [Int: UInt64])? {
        var memberIDs: [Int: UInt64] = [:]
        var leader: UInt64?
        for index in indexes {
            guard let status = try? await maintenance(index).status(Etcdserverpb_StatusRequest(), options: Self.options(timeout: .seconds(1))) else { continue }
            memberIDs[index] = status.header.memberID
            if status.leader != 0 { leader = status.leader }
        }
        return leader.map { ($0, memberIDs) }
    }

    /// Waits, bounded, until some node reports a leader that answers.
    func waitForLeader(among indexes: [Int], timeout: Duration = .seconds(30)) async throws -> (leader: UInt64, memberIDs: [Int: UInt64]) {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if let found = await leader(askingEach: indexes), found.memberIDs.count == indexes.count, found.memberIDs.values.contains(found.leader) {
                return found
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ClusterError.noLeader
    }

    enum ClusterError: Error { case noLeader }
}
