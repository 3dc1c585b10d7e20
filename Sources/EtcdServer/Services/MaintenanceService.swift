import BoltSnapshot
import EtcdAPI
import Foundation
import GRPCCore
import MVCC

/// etcdserverpb.Maintenance: Status (endpoint status), Alarm (list, raise and disarm, through the
/// log) and Defragment.
struct MaintenanceService: Etcdserverpb_Maintenance.SimpleServiceProtocol {
    /// The etcd API version this node speaks; clients gate features on it.
    static let apiVersion = "3.4.0"

    let service: EtcdService

    func alarm(request: Etcdserverpb_AlarmRequest, context: ServerContext) async throws -> Etcdserverpb_AlarmResponse {
        var response = Etcdserverpb_AlarmResponse()
        switch request.action {
        case .get:
            // etcd's `alarmStore.Get`: every alarm, or those of one kind.
            guard let alarms = await service.onLoop({ $0.store.alarms }) else { throw EtcdError.tooManyRequests.rpcError }
            let kind = Alarm.Kind(request.alarm)
            response.alarms = alarms.filter { kind == nil || $0.kind == kind }.map(\.proto)
            response.header = service.header()
        case .activate, .deactivate:
            // etcd ignores raising or clearing "no alarm".
            guard let kind = Alarm.Kind(request.alarm) else {
                response.header = service.header()
                return response
            }
            let action: AlarmAction = request.action == .activate ? .activate : .deactivate
            switch await service.write(.alarm(action, Alarm(memberID: request.memberID, kind: kind))) {
            case .success((.alarm(let changed), let revision)):
                response.alarms = changed.map(\.proto)
                response.header = service.header(revision: revision)
            case .success(let other):
                throw RPCError(code: .internalError, message: "an alarm command answered \(other)")
            case .failure(let error):
                throw error.rpcError
            }
        case .UNRECOGNIZED(let value):
            throw EtcdError.invalidRequest("unknown alarm action \(value)").rpcError
        }
        return response
    }

    func status(request: Etcdserverpb_StatusRequest, context: ServerContext) async throws -> Etcdserverpb_StatusResponse {
        let status = service.replica.status
        let ownID = service.identity.id.rawValue
        guard let state = await service.onLoop({ service in
            (bytes: service.store.sizeBytes, applied: service.appliedIndex, alarms: service.store.alarms,
             isLearner: service.store.members.first { $0.id == ownID }?.isLearner ?? false)
        }) else {
            throw EtcdError.tooManyRequests.rpcError
        }
        var response = Etcdserverpb_StatusResponse()
        response.header = service.header()
        response.version = Self.apiVersion
        response.dbSize = Int64(state.bytes)
        response.dbSizeInUse = Int64(state.bytes)
        response.leader = status.leader?.rawValue ?? 0
        response.raftIndex = status.commitIndex
        response.raftTerm = status.term
        response.raftAppliedIndex = state.applied
        response.isLearner = state.isLearner
        // etcd lists each alarm in its protobuf text form.
        response.errors = state.alarms.map { "memberID:\($0.memberID) alarm:\($0.kind.etcdName) " }
        return response
    }

    /// etcd's MoveLeader: only the leader takes it; it hands leadership to the target through the
    /// engine's transfer and answers once the target leads, or fails after two election timeouts.
    func moveLeader(request: Etcdserverpb_MoveLeaderRequest, context: ServerContext) async throws -> Etcdserverpb_MoveLeaderResponse {
        try await service.moveLeader(to: request.targetID).orRPCError()
        var response = Etcdserverpb_MoveLeaderResponse()
        response.header = service.header()
        return response
    }

    /// etcd's Defragment rewrites the member's backend to give free pages back. Synod's store lives
    /// in memory and gives space back as compaction drops versions; what grows on disk is the log,
    /// so Defragment snapshots everything applied now (off the loop, as any snapshot) and, once
    /// the snapshot is durable, the log segments behind it are released. Writes go on meanwhile:
    /// the loop only hands a copy-on-write copy of the store to the snapshot writer.
    func defragment(request: Etcdserverpb_DefragmentRequest, context: ServerContext) async throws -> Etcdserverpb_DefragmentResponse {
        try await service.defragment().orRPCError()
        var response = Etcdserverpb_DefragmentResponse()
        response.header = service.header()
        return response
    }
}

extension Alarm.Kind {
    /// From the wire; nil for NONE (or a value this build does not know).
    init?(_ type: Etcdserverpb_AlarmType) {
        switch type {
        case .nospace: self = .noSpace
        case .corrupt: self = .corrupt
        case .none, .UNRECOGNIZED: return nil
        }
    }

    var proto: Etcdserverpb_AlarmType {
        switch self {
        case .noSpace: return .nospace
        case .corrupt: return .corrupt
        }
    }

    /// etcd's name for the alarm, as `AlarmType.String()` gives it.
    var etcdName: String {
        switch self {
        case .noSpace: return "NOSPACE"
        case .corrupt: return "CORRUPT"
        }
    }
}

extension Alarm {
    var proto: Etcdserverpb_AlarmMember {
        var member = Etcdserverpb_AlarmMember()
        member.memberID = memberID
        member.alarm = kind.proto
        return member
    }
}

extension MaintenanceService {
    /// Maintenance.Hash: etcd hashes its whole backend file; Synod hashes the etcd-format backend
    /// it would stream, without the consistent index (which differs between members that hold the
    /// same data), taken off the loop on a copy of the store.
    func hash(request: Etcdserverpb_HashRequest, context: ServerContext) async throws -> Etcdserverpb_HashResponse {
        guard let store = await service.onLoop({ $0.store }) else { throw EtcdError.tooManyRequests.rpcError }
        var response = Etcdserverpb_HashResponse()
        response.header = service.header(revision: store.revision)
        var crc = CastagnoliCRC32()
        crc.update(try Self.backendFile(store, consistentIndex: 0))
        response.hash = crc.value
        return response
    }

    /// Maintenance.HashKV: etcd 3.4's `HashByRev`, equal on members, Synod's or etcd's, that hold
    /// the same history up to the revision.
    func hashKV(request: Etcdserverpb_HashKVRequest, context: ServerContext) async throws -> Etcdserverpb_HashKVResponse {
        guard let store = await service.onLoop({ $0.store }) else { throw EtcdError.tooManyRequests.rpcError }
        var response = Etcdserverpb_HashKVResponse()
        response.header = service.header(revision: store.revision)
        switch EtcdBackendFormat.hashKV(of: store, revision: request.revision) {
        case .success(let result):
            response.hash = result.hash
            response.compactRevision = result.compactRevision
        case .failure(let error):
            throw EtcdError.store(error).rpcError
        }
        return response
    }

    /// Maintenance.Snapshot: the store as an etcd 3.4 bbolt backend followed by its SHA-256, in
    /// etcd's 32 KiB pieces, so `etcdctl snapshot save` verifies it and `snapshot restore` (etcd's
    /// or Synod's) reads it. The file is made from a copy of the store, off the loop.
    func snapshot(request: Etcdserverpb_SnapshotRequest, response: RPCWriter<Etcdserverpb_SnapshotResponse>, context: ServerContext) async throws {
        // Each stream holds a whole file in memory, so only a few run at once.
        guard service.snapshotStreams.add(1, ordering: .relaxed).newValue <= Self.snapshotStreamsMax else {
            service.snapshotStreams.subtract(1, ordering: .relaxed)
            throw EtcdError.tooManyRequests.rpcError
        }
        defer { service.snapshotStreams.subtract(1, ordering: .relaxed) }
        guard let state = await service.onLoop({ (store: $0.store, applied: $0.appliedIndex) }) else { throw EtcdError.tooManyRequests.rpcError }
        let file = try Self.snapshotFile(state.store, consistentIndex: state.applied)
        var offset = 0
        repeat {
            let end = min(offset + Self.snapshotPieceBytes, file.count)
            var piece = Etcdserverpb_SnapshotResponse()
            piece.header = service.header(revision: state.store.revision)
            piece.remainingBytes = UInt64(file.count - end)
            piece.blob = Data(file[offset..<end])
            try await response.write(piece)
            offset = end
        } while offset < file.count
    }

    /// Snapshot streams one member serves at once.
    static let snapshotStreamsMax = 2

    /// etcd's `snapshotSendBufferSize`.
    static let snapshotPieceBytes = 32 * 1024

    static func backendFile(_ store: MVCCStore, consistentIndex: UInt64) throws(RPCError) -> [UInt8] {
        do {
            return try EtcdBackend.encode(EtcdBackendFormat.contents(of: store, consistentIndex: consistentIndex))
        } catch {
            throw RPCError(code: .internalError, message: "etcdserver: the store does not fit etcd's backend format: \(error)")
        }
    }

    static func snapshotFile(_ store: MVCCStore, consistentIndex: UInt64) throws(RPCError) -> [UInt8] {
        SnapshotHash.appendingSnapshotHash(try backendFile(store, consistentIndex: consistentIndex))
    }
}
