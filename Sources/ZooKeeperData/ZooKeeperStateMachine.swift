import ConsensusCore
import Replica
import ZooKeeperWire

/// The ZooKeeper data tree as a replicated state machine on the shared log: entries tagged 0x5A
/// are its transactions; everything else (other services' commands, no-ops, configuration
/// entries) only advances the applied index. The etcd keyspace and this tree are separate trees
/// on one log: neither reads the other's entries.
public struct ZooKeeperStateMachine: StateMachine, Sendable {
    public private(set) var tree = ZooKeeperDataTree()
    public private(set) var appliedIndex: LogIndex = 0

    public enum Outcome: Equatable, Sendable {
        /// Not a ZooKeeper transaction.
        case notOurs
        /// Tagged as ours but not decodable: skipped alike on every replica (its proposal should
        /// have been refused; a peer could still send one).
        case skipped(JuteError)
        /// Applied: the transaction (for its proposer's request id and session) and what it did.
        case applied(ZooKeeperTransaction, ZooKeeperDataTree.Applied)
    }

    public init() {}

    public mutating func apply(_ entry: Entry) -> Outcome {
        appliedIndex = entry.index
        guard entry.kind == .command, entry.data.first == ZooKeeperTransaction.tag else { return .notOurs }
        let transaction: ZooKeeperTransaction
        do {
            transaction = try ZooKeeperTransaction(decoding: entry.data)
        } catch {
            return .skipped(error)
        }
        return .applied(transaction, tree.apply(transaction))
    }

    public func snapshot() -> [UInt8] { ZooKeeperSnapshot.encode(tree, appliedIndex: appliedIndex) }

    public init(restoring snapshot: Snapshot) throws {
        if snapshot.data.isEmpty {
            appliedIndex = snapshot.metadata.index
            return
        }
        let restored = try ZooKeeperSnapshot.decode(snapshot.data)
        tree = restored.tree
        appliedIndex = snapshot.metadata.index
    }
}

/// The tree's snapshot: the last zxid, every node in path order with its stat and its counter of
/// child creates, then every session in id order. Children and each session's ephemerals are
/// rebuilt from the nodes, so the bytes hold nothing twice and equal trees give equal bytes.
public enum ZooKeeperSnapshot {
    /// Version 2 adds each session's owning connection and last write number; 1 is still read.
    static let formatVersion: Int32 = 2

    public static func encode(_ tree: ZooKeeperDataTree, appliedIndex: LogIndex) -> [UInt8] {
        var writer = JuteWriter(reservingCapacity: 64 + tree.nodes.count * 96)
        writer.writeInt(formatVersion)
        writer.writeLong(Int64(bitPattern: appliedIndex))
        writer.writeLong(tree.lastZxid)
        writer.writeInt(Int32(truncatingIfNeeded: tree.nodes.count))
        for path in tree.nodes.keys.sorted() {
            let node = tree.nodes[path]!
            writer.writeString(path)
            writer.writeBuffer(node.data)
            ZooKeeperACL.writeList(node.acl, to: &writer)
            for value in [node.czxid, node.mzxid, node.pzxid, node.ctime, node.mtime, node.ephemeralOwner] { writer.writeLong(value) }
            for value in [node.version, node.cversion, node.aversion, node.childCreates] { writer.writeInt(value) }
        }
        writer.writeInt(Int32(truncatingIfNeeded: tree.sessions.count))
        for id in tree.sessions.keys.sorted() {
            let session = tree.sessions[id]!
            writer.writeLong(id)
            writer.writeInt(session.timeoutMillis)
            writer.writeBuffer(session.password)
            writer.writeLong(Int64(bitPattern: session.owner))
            writer.writeLong(Int64(bitPattern: session.lastSequence))
        }
        return writer.bytes
    }

    public struct Restored {
        public var tree: ZooKeeperDataTree
        public var appliedIndex: LogIndex
    }

    public enum Problem: Error, Equatable {
        case malformed(JuteError)
        case unknownVersion(Int32)
        case inconsistent(String)
    }

    public static func decode(_ bytes: [UInt8]) throws(Problem) -> Restored {
        do {
            var reader = JuteReader(bytes)
            let version = try reader.readInt("snapshot.version")
            guard version == formatVersion || version == 1 else { throw Problem.unknownVersion(version) }
            let appliedIndex = LogIndex(bitPattern: try reader.readLong("snapshot.appliedIndex"))
            var tree = ZooKeeperDataTree()
            tree.nodes = [:]
            tree.lastZxid = try reader.readLong("snapshot.lastZxid")
            let nodeCount = try reader.readInt("snapshot.nodes")
            guard nodeCount >= 1, Int(nodeCount) <= reader.remaining / 8 else { throw Problem.inconsistent("node count \(nodeCount)") }
            var sessionOf: [String: Int64] = [:]
            for _ in 0..<nodeCount {
                let path = try reader.readText("node.path")
                guard ZooKeeperPath.isValid(path), tree.nodes[path] == nil else { throw Problem.inconsistent("node path \(path)") }
                var node = ZooKeeperNode(data: try reader.readBuffer("node.data"), acl: try ZooKeeperACL.readList(&reader), zxid: 0, time: 0, ephemeralOwner: 0)
                node.czxid = try reader.readLong("node.czxid")
                node.mzxid = try reader.readLong("node.mzxid")
                node.pzxid = try reader.readLong("node.pzxid")
                node.ctime = try reader.readLong("node.ctime")
                node.mtime = try reader.readLong("node.mtime")
                node.ephemeralOwner = try reader.readLong("node.ephemeralOwner")
                node.version = try reader.readInt("node.version")
                node.cversion = try reader.readInt("node.cversion")
                node.aversion = try reader.readInt("node.aversion")
                node.childCreates = try reader.readInt("node.childCreates")
                tree.store(path, node)
                if ZooKeeperDataTree.isSessionOwner(node.ephemeralOwner) { sessionOf[path] = node.ephemeralOwner }
            }
            guard tree.nodes[ZooKeeperPath.root] != nil else { throw Problem.inconsistent("no root") }
            for path in tree.nodes.keys where path != ZooKeeperPath.root {
                let parent = ZooKeeperPath.parent(of: path)
                guard tree.nodes[parent] != nil else { throw Problem.inconsistent("\(path) has no parent") }
                tree.nodes[parent]!.children.insert(ZooKeeperPath.name(of: path))
            }
            let sessionCount = try reader.readInt("snapshot.sessions")
            guard sessionCount >= 0, Int(sessionCount) <= reader.remaining / 16 else { throw Problem.inconsistent("session count \(sessionCount)") }
            for _ in 0..<sessionCount {
                let id = try reader.readLong("session.id")
                let timeout = try reader.readInt("session.timeout")
                let password = try reader.readBuffer("session.password") ?? []
                var session = ZooKeeperDataTree.Session(timeoutMillis: timeout, password: password, ephemerals: [])
                if version >= 2 {
                    session.owner = UInt64(bitPattern: try reader.readLong("session.owner"))
                    session.lastSequence = UInt64(bitPattern: try reader.readLong("session.lastSequence"))
                }
                tree.sessions[id] = session
            }
            for (path, owner) in sessionOf {
                guard tree.sessions[owner] != nil else { throw Problem.inconsistent("\(path) belongs to no session") }
                tree.sessions[owner]!.ephemerals.insert(path)
            }
            try reader.expectEnd()
            return Restored(tree: tree, appliedIndex: appliedIndex)
        } catch let problem as Problem {
            throw problem
        } catch let error as JuteError {
            throw .malformed(error)
        } catch {
            throw .inconsistent("\(error)")
        }
    }
}
