import Foundation
import Raft
import RaftTestKit
import Simulation

/// The rule tests' hand-driven Raft cluster: the engine-generic `ScriptedCluster`, each node on the
/// replica host the node and the simulator run, with Raft's own commands (`RaftScripting`).
typealias RaftTestCluster = ScriptedCluster<RaftEngine>

enum RaftScripts {
    static var testdataDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("testdata")
    }
}
