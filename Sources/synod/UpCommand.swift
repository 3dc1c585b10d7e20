import ArgumentParser
import Engines
import Foundation
import Synchronization

/// Set from the signal handler, polled by `synod up`'s watchers.
private let stopRequested = Atomic<Bool>(false)

/// `synod up`: a local cluster of `synod serve` child processes on loopback, stopped together on
/// Ctrl-C. Node i (from 0) serves clients on base + 10·i, peers on the next port and metrics and
/// the dashboard on the one after: 2379/2380/2381, 2389/2390/2391, 2399/2400/2401 by default. Every
/// port stays below the Linux ephemeral range (32768–60999), where an outgoing connection of any
/// process may hold it already.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Start a local cluster of Synod nodes as child processes; Ctrl-C stops them all."
    )

    @Option(help: "Number of nodes (1 to 6).") var nodes: Int = 3
    @Option(name: .customLong("data-dir"), help: "Directory for the nodes' data (one subdirectory each).") var dataDirectory: String = "synod-data"
    @Option(name: .customLong("base-port"), help: "Client port of the first node; node i listens on base + 10·i (client), +1 (peer) and +2 (metrics).") var basePort: Int = 2379
    @Option(name: .customLong("log-level"), help: "Passed to every node.") var logLevel: String = "info"
    @Option(help: "The consensus engine every node runs: \(EngineRegistry.names.joined(separator: ", ")).") var engine: String = "raft"
    @Option(name: .customLong("zk-base-port"), help: "ZooKeeper port of the first node; node i serves ZooKeeper clients on this + 10·i.") var zooKeeperBasePort: Int = 2181

    /// The distance between two nodes' client ports.
    static let portsPerNode = 10

    func validate() throws {
        guard (1...6).contains(nodes) else { throw ValidationError("--nodes must be 1 to 6") }
        guard EngineRegistry.named(engine) != nil else { throw ValidationError("\(EngineRegistry.UnknownEngine(name: engine))") }
        guard basePort > 0, basePort + Self.portsPerNode * (nodes - 1) + 2 <= 65_535 else { throw ValidationError("ports run past 65535; choose a smaller --base-port") }
        guard zooKeeperBasePort > 0, zooKeeperBasePort + Self.portsPerNode * (nodes - 1) <= 65_535 else { throw ValidationError("ZooKeeper ports run past 65535; choose a smaller --zk-base-port") }
    }

    func run() async throws {
        let names = (1...nodes).map { "s\($0)" }
        let clientPorts = (0..<nodes).map { basePort + Self.portsPerNode * $0 }
        let cluster = zip(names, clientPorts).map { "\($0)=http://127.0.0.1:\($1 + 1)" }.joined(separator: ",")
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var children: [Process] = []
        for (index, name) in names.enumerated() {
            let client = "http://127.0.0.1:\(clientPorts[index])"
            let peer = "http://127.0.0.1:\(clientPorts[index] + 1)"
            let dashboard = "http://127.0.0.1:\(clientPorts[index] + 2)"
            let process = Process()
            process.executableURL = executable
            process.arguments = [
                "serve", "--engine", engine, "--name", name, "--data-dir", (dataDirectory as NSString).appendingPathComponent(name),
                "--listen-client-urls", client, "--advertise-client-urls", client,
                "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer, "--listen-metrics-urls", dashboard,
                "--zk-listen-address", "127.0.0.1:\(zooKeeperBasePort + Self.portsPerNode * index)", "--zk-4lw-whitelist", "*",
                "--initial-cluster", cluster, "--initial-cluster-token", "synod-up", "--log-level", logLevel,
                // The nodes share this machine: each serves clients on its share of the cores, rather
                // than every node running a thread per core and all of them contending.
                "--client-threads", String(max(1, ProcessInfo.processInfo.activeProcessorCount / nodes)),
            ]
            try process.run()
            children.append(process)
        }
        let endpoints = clientPorts.map { "127.0.0.1:\($0)" }.joined(separator: ",")
        printNow("synod: \(nodes) nodes running; data in \(dataDirectory)/")
        printNow("endpoints: \(endpoints)")
        printNow("zookeeper: " + (0..<nodes).map { "127.0.0.1:\(zooKeeperBasePort + Self.portsPerNode * $0)" }.joined(separator: ","))
        printNow("dashboard: http://127.0.0.1:\(clientPorts[0] + 2)/ui")
        printNow("try: etcdctl --endpoints=\(endpoints) put greeting hello")
        printNow("Ctrl-C stops the cluster.")

        // Ctrl-C or SIGTERM stops the children with SIGTERM, which makes each drain and stop. The
        // handler only sets a flag (an atomic store is async-signal-safe) that the watchers poll.
        // A DispatchSource over the ignored signal missed it now and then (seen with `up` run in
        // the background of a script), so the signal is handled here directly.
        for signalNumber in [SIGINT, SIGTERM] {
            signal(signalNumber) { _ in stopRequested.store(true, ordering: .relaxed) }
        }
        await withTaskGroup(of: Void.self) { group in
            for child in children {
                group.addTask {
                    while child.isRunning && !stopRequested.load(ordering: .relaxed) && !Task.isCancelled {
                        try? await Task.sleep(for: .milliseconds(100))
                    }
                }
            }
            // The first node to stop (a crash, or the signal) takes the rest down too, so `up`
            // never leaves strays.
            await group.next()
            group.cancelAll()
        }
        for child in children where child.isRunning { child.terminate() }
        for child in children { child.waitUntilExit() }
        printNow("synod: cluster stopped")
    }
}

/// Writes a line straight to standard output. Scripts wait for `up`'s lines; `print` would leave
/// them in stdio's buffer when the output is a file or a pipe, until the cluster stopped.
private func printNow(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
