import BoltSnapshot
import ConsensusCore
import Foundation
import MVCC
import Node
import Replica
import Storage

/// `synod snapshot restore`: makes a member's data directory from a snapshot file in etcd 3.4's
/// format, Synod's (Maintenance.Snapshot) or etcd's (`etcdctl snapshot save`, or a member's
/// `member/snap/db`), as `etcdctl snapshot restore` does for etcd. The cluster it starts is the one
/// the flags name (`--name`, `--initial-cluster`, `--initial-cluster-token`,
/// `--initial-advertise-peer-urls`); every member restored from the same file with the same flags
/// starts from the same state, at raft index 1.
public enum SnapshotRestore {
    /// The largest snapshot file read: well past etcd's 8 GiB suggested backend maximum.
    public static let fileBytesMax = 16 << 30

    public enum Problem: Error, CustomStringConvertible {
        case refused(String)
        public var description: String {
            switch self {
            case .refused(let text): return text
            }
        }
    }

    /// Restores `file` into `configuration.dataDirectory`, which must not exist yet. Returns the
    /// store's revision and key count, for the operator.
    @discardableResult
    public static func restore<Engine: ServableEngine>(
        file path: String, configuration: EtcdNodeConfiguration, engine: Engine.Type, skipHashCheck: Bool
    ) throws -> (revision: Int64, keys: Int) {
        let members = try configuration.checkedInitialMembers()
        guard !FileManager.default.fileExists(atPath: configuration.dataDirectory) else {
            throw Problem.refused("data-dir \"\(configuration.dataDirectory)\" exists")
        }
        let bytes = try readFile(path)
        let database: [UInt8]
        if SnapshotHash.hasTrailingHash(byteCount: bytes.count) {
            if skipHashCheck {
                database = Array(bytes.dropLast(32))
            } else {
                do { database = try SnapshotHash.verifiedSnapshot(bytes) } catch { throw Problem.refused("\(path): \(error)") }
            }
        } else {
            // A database copied from a member's data directory has no hash, as etcdctl's restore says.
            guard skipHashCheck else { throw Problem.refused("\(path): snapshot missing hash but --skip-hash-check=false") }
            database = bytes
        }
        let store: MVCCStore
        do {
            store = try EtcdBackendFormat.store(from: try EtcdBackend.decode(database))
        } catch {
            throw Problem.refused("\(path) is not an etcd 3.4 backend Synod can restore: \(error)")
        }
        let voters = members.map { EtcdMember.memberID(peerURLs: $0.peerURLs, clusterToken: configuration.initialClusterToken) }
        let snapshot = Snapshot(
            metadata: SnapshotMetadata(index: 1, term: 1, membership: Membership(voters: voters)),
            data: CompositeSnapshot(parts: [.etcd: store.snapshot()]).encoded)
        let walDirectory = (configuration.dataDirectory as NSString).appendingPathComponent("member")
        try FileManager.default.createDirectory(atPath: walDirectory, withIntermediateDirectories: true)
        var storage = try DiskStorage(directory: try PosixDirectory(path: walDirectory), initial: Engine.emptyHardState)
        try storage.write(PersistRequest(hardState: Engine.hardState(restoredAt: 1, term: 1), entries: [], snapshot: snapshot))
        try storage.sync()
        return (store.revision, store.keyCount)
    }

    private static func readFile(_ path: String) throws -> [UInt8] {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path), let size = attributes[.size] as? Int else {
            throw Problem.refused("cannot read snapshot file \(path)")
        }
        guard size <= fileBytesMax else { throw Problem.refused("\(path) is \(size) bytes, more than \(fileBytesMax)") }
        guard let data = FileManager.default.contents(atPath: path) else { throw Problem.refused("cannot read snapshot file \(path)") }
        return [UInt8](data)
    }
}
