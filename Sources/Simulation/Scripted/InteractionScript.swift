import ConsensusCore
import Foundation

/// An engine that golden scripts can drive (`InteractionScript`): how a script's options become
/// the engine's configuration, what `status` prints, and the engine's own commands beside the
/// shared ones.
public protocol ScriptableEngine: SimulatableEngine {
    /// A node for a script. `voters` is empty for a node that joins an existing group; `options`
    /// are the command's `key=value` words.
    static func scripted(id: NodeID, voters: [NodeID], options: [String: String], random: SeededRandom, restoring: DurableState<HardState>?) -> Self
    /// This node's line of `status`.
    var scriptStatus: String { get }
    /// Runs one of the engine's own commands and returns its extra output, or nil when `command`
    /// is not one of them.
    static func runScriptCommand(_ command: ScriptCommand, on cluster: ScriptedCluster<Self>) throws(ScriptError) -> String?
}

/// One command line of a script: its name, positional arguments and `key=value` options.
public struct ScriptCommand: Sendable {
    public var line: String
    public var name: String
    public var arguments: [String]
    public var options: [String: String]

    public init(_ line: String) {
        self.line = line
        let words = line.split(separator: " ").map(String.init)
        name = words.first ?? ""
        arguments = words.dropFirst().filter { !$0.contains("=") }
        var options: [String: String] = [:]
        for word in words.dropFirst() {
            let parts = word.split(separator: "=", maxSplits: 1).map(String.init)
            if parts.count == 2 { options[parts[0]] = parts[1] }
        }
        self.options = options
    }

    public func number(_ position: Int) throws(ScriptError) -> UInt64 {
        guard position < arguments.count, let value = UInt64(arguments[position]) else {
            throw ScriptError("'\(line)': argument \(position + 1) must be a number")
        }
        return value
    }

    public func option(_ name: String) -> UInt64? { options[name].flatMap(UInt64.init) }
}

public struct ScriptError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Runs golden interaction scripts against a `ScriptedCluster` of any engine and compares the
/// output with the text stored under each command, as etcd-io/raft's datadriven tests do.
///
/// A script is a sequence of blocks: a command line, a `----` line, and the expected output, ended
/// by a blank line. The commands every engine shares: `add-nodes N`, `add-node ID`, `propose N
/// DATA`, `read N request=R`, `tick N [TIMES]`, `tick-all [TIMES]`, `deliver [from=A] [to=B]`,
/// `stabilize`, `drop`, `isolate N`, `partition A,B C`, `heal`, `crash N`, `restart N`, `status`,
/// `change N add-learner|promote|add-voter|remove ID`, `transfer N to=ID` and `rejections`. Each
/// engine adds its own (`ScriptableEngine.runScriptCommand`).
public enum InteractionScript<Engine: ScriptableEngine> {
    public struct Block: Sendable {
        public var command: String
        public var expected: String
    }

    public static func parse(_ text: String) throws(ScriptError) -> [Block] {
        var blocks: [Block] = []
        var lines = text.components(separatedBy: "\n")[...]
        while let line = lines.first {
            lines = lines.dropFirst()
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard lines.first == "----" else { throw ScriptError("command '\(line)' is not followed by ----") }
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
    public static func run(_ blocks: [Block]) throws(ScriptError) -> [String] {
        var cluster: ScriptedCluster<Engine>?
        var outputs: [String] = []
        for block in blocks {
            let command = ScriptCommand(block.command)
            if command.name == "add-nodes" {
                let count = try command.number(0)
                guard (1...9).contains(count) else { throw ScriptError("add-nodes takes 1 to 9 nodes") }
                let voters = (1...count).map { NodeID($0) }
                let created = ScriptedCluster<Engine>()
                for id in voters {
                    created.addNode(id) { random, durable in
                        Engine.scripted(id: id, voters: voters, options: command.options, random: random, restoring: durable)
                    }
                }
                cluster = created
                outputs.append(status(created))
                continue
            }
            guard let current = cluster else { throw ScriptError("'\(block.command)' before add-nodes") }
            current.log = []
            let extra = try runShared(command, on: current)
            let lines = current.log + (extra.map { [$0] } ?? []).filter { !$0.isEmpty }
            outputs.append(lines.isEmpty ? "ok" : lines.joined(separator: "\n"))
        }
        return outputs
    }

    static func runShared(_ command: ScriptCommand, on cluster: ScriptedCluster<Engine>) throws(ScriptError) -> String? {
        let request = command.option("request") ?? 0
        switch command.name {
        case "propose":
            guard command.arguments.count >= 2 else { throw ScriptError("propose needs a node and data") }
            cluster.propose(try command.number(0), command.arguments[1], request: request)
        case "read": cluster.read(try command.number(0), request: request)
        case "tick": cluster.tick(try command.number(0), times: command.arguments.count > 1 ? Int(try command.number(1)) : 1)
        case "tick-all":
            let times = command.arguments.isEmpty ? 1 : Int(try command.number(0))
            for _ in 0..<times { for id in cluster.ids { cluster.tick(id.rawValue) } }
        case "deliver": cluster.deliverRound(from: command.option("from"), to: command.option("to"))
        case "stabilize": cluster.stabilize()
        case "drop": cluster.dropPending()
        case "isolate": cluster.isolate(try command.number(0))
        case "partition": cluster.partition(command.arguments.map { $0.split(separator: ",").compactMap { UInt64($0) } })
        case "heal": cluster.heal()
        case "crash": cluster.crash(try command.number(0))
        case "restart": cluster.restart(try command.number(0))
        case "status": return status(cluster)
        case "add-node":
            let id = NodeID(try command.number(0))
            cluster.addNode(id) { random, durable in
                Engine.scripted(id: id, voters: [], options: command.options, random: random, restoring: durable)
            }
            cluster.log.append("\(id) added")
        case "change":
            guard command.arguments.count >= 3, let node = UInt64(command.arguments[2]) else { throw ScriptError("change needs: node, kind, target") }
            let target = NodeID(node)
            let change: MembershipChange
            switch command.arguments[1] {
            case "add-learner": change = .addLearner(target)
            case "promote": change = .promoteLearner(target)
            case "add-voter": change = .addVoter(target)
            case "remove": change = .remove(target)
            default: throw ScriptError("unknown membership change '\(command.arguments[1])'")
            }
            cluster.changeMembership(try command.number(0), change, request: request)
        case "transfer":
            guard let target = command.option("to") else { throw ScriptError("transfer needs to=<node>") }
            cluster.transferLeadership(try command.number(0), to: target, request: request)
        case "rejections":
            return cluster.ids.flatMap { id in
                cluster.nodes[id]!.rejections.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\(id) \($0.key): \($0.value)" }
            }.joined(separator: "\n")
        default:
            guard let output = try Engine.runScriptCommand(command, on: cluster) else { throw ScriptError("unknown command '\(command.name)'") }
            return output
        }
        return nil
    }

    public static func status(_ cluster: ScriptedCluster<Engine>) -> String {
        cluster.ids.map { id in cluster.nodes[id]!.engine.map(\.scriptStatus) ?? "\(id) crashed" }.joined(separator: "\n")
    }

    public static func render(_ blocks: [Block], outputs: [String]) -> String {
        zip(blocks, outputs).map { "\($0.command)\n----\n\($1)\n" }.joined(separator: "\n")
    }
}
