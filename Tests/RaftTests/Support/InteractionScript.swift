import ConsensusCore
import Foundation
import Raft

/// Runs interaction scripts from testdata against a `RaftTestCluster` and compares the output with
/// the golden text stored under each command, as etcd-io/raft's datadriven tests do.
///
/// A script is a sequence of blocks: a command line, a `----` line, and the expected output, ended
/// by a blank line. Set `SYNOD_REWRITE_GOLDEN=1` to write the actual output back into the file and
/// review the change as a diff.
struct InteractionScript {
    struct Block {
        var command: String
        var expected: String
    }

    static var testdataDirectory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("testdata")
    }

    static func parse(_ text: String) -> [Block] {
        var blocks: [Block] = []
        var lines = text.components(separatedBy: "\n")[...]
        while let line = lines.first {
            lines = lines.dropFirst()
            if line.isEmpty || line.hasPrefix("#") { continue }
            precondition(lines.first == "----", "command '\(line)' is not followed by ----")
            lines = lines.dropFirst()
            var expected: [String] = []
            while let output = lines.first, !output.isEmpty {
                expected.append(output)
                lines = lines.dropFirst()
            }
            blocks.append(Block(command: line, expected: expected.joined(separator: "\n")))
        }
        return blocks
    }

    /// Runs every block; returns the actual outputs in order.
    static func run(_ blocks: [Block]) throws -> [String] {
        var cluster: RaftTestCluster?
        var outputs: [String] = []
        for block in blocks {
            let words = block.command.split(separator: " ").map(String.init)
            let options = Dictionary(uniqueKeysWithValues: words.dropFirst().compactMap { word -> (String, String)? in
                let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
                return parts.count == 2 ? (parts[0], parts[1]) : nil
            })
            let arguments = words.dropFirst().filter { !$0.contains("=") }
            func number(_ position: Int) throws -> UInt64 {
                guard position < arguments.count, let value = UInt64(arguments[position]) else {
                    throw ScriptError("'\(block.command)': argument \(position + 1) must be a number")
                }
                return value
            }
            if words[0] == "add-nodes" {
                cluster = RaftTestCluster(nodeCount: Int(try number(0))) { configuration in
                    if let value = options["pre-vote"] { configuration.preVote = value == "true" }
                    if let value = options["check-quorum"] { configuration.checkQuorum = value == "true" }
                    if options["read-mode"] == "lease" { configuration.readMode = .lease }
                    if let value = options["inflight"].flatMap(Int.init) { configuration.inflightMessagesMax = value }
                    if let value = options["entries-per-message"].flatMap(Int.init) { configuration.entriesPerMessageMax = value }
                    if let value = options["forward"] { configuration.forwardProposals = value == "true" }
                    applySnapshotOptions(options, to: &configuration)
                }
                outputs.append(status(cluster!))
                continue
            }
            guard var current = cluster else { throw ScriptError("'\(block.command)' before add-nodes") }
            current.log = []
            var extra: [String] = []
            switch words[0] {
            case "campaign": current.campaign(try number(0))
            case "propose":
                guard arguments.count >= 2 else { throw ScriptError("propose needs a node and data") }
                current.propose(try number(0), arguments[1], request: options["request"].flatMap(UInt64.init) ?? 0)
            case "read": current.read(try number(0), request: options["request"].flatMap(UInt64.init) ?? 0)
            case "tick": current.tick(try number(0), times: arguments.count > 1 ? Int(try number(1)) : 1)
            case "tick-all":
                let times = arguments.isEmpty ? 1 : Int(try number(0))
                for _ in 0..<times { for id in current.ids { current.tick(id.rawValue) } }
            case "deliver": current.deliverRound(from: options["from"].flatMap(UInt64.init), to: options["to"].flatMap(UInt64.init))
            case "stabilize": current.stabilize()
            case "drop": current.dropPending()
            case "isolate": current.isolate(try number(0))
            case "partition":
                current.partition(arguments.map { $0.split(separator: ",").compactMap { UInt64($0) } })
            case "heal": current.heal()
            case "crash": current.crash(try number(0))
            case "restart": current.restart(try number(0))
            case "status": extra.append(status(current))
            case "add-node":
                current.addJoiningNode(try number(0)) { applySnapshotOptions(options, to: &$0) }
            case "change":
                guard arguments.count >= 3, let node = UInt64(arguments[2]) else { throw ScriptError("change needs: node, kind, target") }
                let target = NodeID(node)
                let change: MembershipChange
                switch arguments[1] {
                case "add-learner": change = .addLearner(target)
                case "promote": change = .promoteLearner(target)
                case "add-voter": change = .addVoter(target)
                case "remove": change = .remove(target)
                default: throw ScriptError("unknown membership change '\(arguments[1])'")
                }
                current.changeMembership(try number(0), change, request: options["request"].flatMap(UInt64.init) ?? 0)
            case "transfer":
                guard let target = options["to"].flatMap(UInt64.init) else { throw ScriptError("transfer needs to=<node>") }
                current.transferLeadership(try number(0), to: target, request: options["request"].flatMap(UInt64.init) ?? 0)
            case "membership":
                extra.append(current.ids.map { id in
                    guard let engine = current.nodes[id]!.engine else { return "\(id) crashed" }
                    return "\(id) \(engine.membership) at \(engine.membershipIndex)"
                }.joined(separator: "\n"))
            case "rejections":
                extra.append(current.ids.flatMap { id in
                    current.nodes[id]!.rejections.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\(id) \($0.key): \($0.value)" }
                }.joined(separator: "\n"))
            case "log":
                let id = try number(0)
                extra.append(current.engine(id).log.entries.map(\.description).joined(separator: "\n"))
            default: throw ScriptError("unknown command '\(words[0])'")
            }
            let lines = current.log + extra.filter { !$0.isEmpty }
            outputs.append(lines.isEmpty ? "ok" : lines.joined(separator: "\n"))
            cluster = current
        }
        return outputs
    }

    static func applySnapshotOptions(_ options: [String: String], to configuration: inout RaftConfiguration) {
        if let value = options["snapshot-threshold"].flatMap(Int.init) { configuration.snapshotEntriesThreshold = value }
        if let value = options["retain"].flatMap(Int.init) { configuration.compactionRetainEntries = value }
        if let value = options["chunk"].flatMap(Int.init) { configuration.snapshotChunkBytesMax = value }
    }

    static func status(_ cluster: RaftTestCluster) -> String {
        cluster.ids.map { id in
            guard let engine = cluster.nodes[id]!.engine else { return "\(id) crashed" }
            return "\(id) \(engine.role.rawValue) term=\(engine.term) leader=\(engine.leader.map(\.description) ?? "-") last=\(engine.log.lastIndex) commit=\(engine.commitIndex) applied=\(engine.appliedIndex)"
        }.joined(separator: "\n")
    }

    static func render(_ blocks: [Block], outputs: [String]) -> String {
        zip(blocks, outputs).map { "\($0.command)\n----\n\($1)\n" }.joined(separator: "\n")
    }
}

struct ScriptError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
