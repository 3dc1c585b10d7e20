import ArgumentParser
import Engines
import EtcdServer
import Foundation

/// `synod snapshot restore`, with etcdctl 3.4's flags.
struct SnapshotCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot",
        abstract: "Restore a member's data directory from an etcd-format snapshot (Synod's or etcd's).",
        subcommands: [Restore.self]
    )

    struct Restore: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make a data directory from a snapshot file, for a new cluster named by the flags.")

        @Argument(help: "The snapshot file (from `etcdctl snapshot save`, or a member's member/snap/db with --skip-hash-check).")
        var file: String
        @Option(name: .customLong("data-dir"), help: "Path to the data directory to create (default: NAME.etcd).") var dataDirectory: String?
        @Option(help: "Human-readable name for this member.") var name: String = "default"
        @Option(help: "The consensus engine the member will serve with: \(EngineRegistry.names.joined(separator: ", ")).")
        var engine: String = "raft"
        @Option(name: .customLong("initial-cluster"), help: "Initial cluster configuration for restore bootstrap: name=peerURL,...")
        var initialCluster: String = "default=http://localhost:2380"
        @Option(name: .customLong("initial-cluster-token"), help: "Initial cluster token for the etcd cluster during restore bootstrap.")
        var initialClusterToken: String = "etcd-cluster"
        @Option(name: .customLong("initial-advertise-peer-urls"), help: "List of this member's peer URLs to advertise to the rest of the cluster.")
        var initialAdvertisePeerURLs: String = "http://localhost:2380"
        @Flag(name: .customLong("skip-hash-check"), help: "Ignore snapshot integrity hash value (required if copied from data directory).")
        var skipHashCheck = false

        func run() throws {
            var settings = EtcdNodeConfiguration()
            settings.name = name
            settings.dataDirectory = dataDirectory ?? "\(name).etcd"
            settings.initialCluster = try ConfigFile.parseInitialCluster(initialCluster)
            settings.initialClusterToken = initialClusterToken
            settings.initialAdvertisePeerURLs = initialAdvertisePeerURLs.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            let descriptor: EngineDescriptor
            do { descriptor = try EngineRegistry.lookup(engine) } catch { throw ValidationError("--engine: \(error)") }
            let restored = try descriptor.restoreSnapshot(file: file, configuration: settings, skipHashCheck: skipHashCheck)
            print("restored snapshot \(file) into \(settings.dataDirectory): revision \(restored.revision), \(restored.keys) keys")
        }
    }
}
