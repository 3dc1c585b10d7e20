import ConsensusCore
import Foundation
import MVCC
import Node

/// etcd's `--experimental-corrupt-check-time`: every interval the leader takes its own HashKV at
/// its revision and asks every other member for theirs at the same revision; a member whose hash
/// differs at the same compaction revision holds a different history, and the leader raises a
/// CORRUPT alarm for it through the log (listed by `etcdctl alarm list`; `/health` turns false).
/// A member that has not reached the revision yet, or compacted past it, is skipped this round.
extension EtcdService {
    /// The peer-call kind of a HashKV query (after the lease calls 1, 2 and member calls 3, 4).
    static let hashKVCallKind: UInt8 = 5

    enum HashKVAnswer: UInt8 {
        case hash = 1
        case compacted = 2
        case future = 3
    }

    /// Leader, loop thread: starts a round when one is due and none is running.
    func corruptCheckIfDue(now: ContinuousClock.Instant) {
        guard let interval = corruptCheckInterval, now - lastCorruptCheck >= interval,
              corruptCheckRunning.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        lastCorruptCheck = now
        let store = store
        let peers = store.members.map(\.id).filter { $0 != identity.id.rawValue }
        Task { [self] in
            defer { corruptCheckRunning.store(false, ordering: .relaxed) }
            await corruptCheck(store: store, peers: peers)
        }
    }

    private func corruptCheck(store: MVCCStore, peers: [UInt64]) async {
        guard case .success(let own) = EtcdBackendFormat.hashKV(of: store, revision: store.revision) else { return }
        for peer in peers {
            guard let answer = await askHashKV(NodeID(peer), revision: store.revision),
                  answer.compactRevision == own.compactRevision, answer.hash != own.hash else { continue }
            logger.error("member \(String(peer, radix: 16)) holds a different history: its HashKV at revision \(store.revision) is \(answer.hash), this leader's \(own.hash); raising a CORRUPT alarm")
            _ = await write(.alarm(.activate, Alarm(memberID: peer, kind: .corrupt)))
        }
    }

    /// A peer's HashKV at `revision`, or nil when it did not answer in time or could not hash there.
    private func askHashKV(_ peer: NodeID, revision: Int64) async -> (hash: UInt32, compactRevision: Int64)? {
        var writer = ByteWriter()
        writer.write(Self.hashKVCallKind)
        writer.write(UInt64(bitPattern: revision))
        let payload = writer.bytes
        let callID = nextRequestID()
        let answer: [UInt8]? = await withCheckedContinuation { continuation in
            guard pendingCalls.register(callID, deadline: now + .seconds(5), context: (), { continuation.resume(returning: $0) }) else {
                return continuation.resume(returning: nil)
            }
            replica.call(peer, callID: callID.rawValue, payload: payload)
        }
        guard let answer else { return nil }
        var reader = ByteReader(answer)
        guard reader.readByte() == HashKVAnswer.hash.rawValue, let hash = reader.readUInt64(), let compact = reader.readUInt64(),
              hash <= UInt64(UInt32.max) else { return nil }
        return (UInt32(hash), Int64(bitPattern: compact))
    }

    /// A member, loop thread: hashes a copy of its store off the loop and answers the leader then.
    func hashKVCall(_ payload: [UInt8], from peer: NodeID, callID: UInt64) -> [UInt8]? {
        var reader = ByteReader(payload)
        _ = reader.readByte()
        guard let raw = reader.readUInt64(), reader.remaining == 0 else { return nil }
        let revision = Int64(bitPattern: raw)
        // One hash at a time: each walks a copy of the whole store, so calls from a peer (only
        // the leader sends them, once per interval) must not pile up work. A call met while one
        // runs goes unanswered, and the leader skips this member for the round.
        guard !hashKVAnswering.exchange(true, ordering: .acquiring) else { return nil }
        let store = store
        environment.runInBackground { [self] in
            defer { hashKVAnswering.store(false, ordering: .releasing) }
            var writer = ByteWriter()
            switch EtcdBackendFormat.hashKV(of: store, revision: revision) {
            case .success(let result):
                writer.write(HashKVAnswer.hash.rawValue)
                writer.write(UInt64(result.hash))
                writer.write(UInt64(bitPattern: result.compactRevision))
            case .failure(.compacted):
                writer.write(HashKVAnswer.compacted.rawValue)
            case .failure:
                writer.write(HashKVAnswer.future.rawValue)
            }
            replica.respond(to: peer, callID: callID, payload: writer.bytes)
        }
        return nil
    }
}
