import EtcdAPI
import Foundation
import GRPCCore
import GRPCNIOTransportHTTP2
import Linearizability
import Synchronization
import Testing

/// The promise that matters most: writes from several clients, the leader killed with SIGKILL in the
/// middle of the load, and afterwards every acknowledged write is readable, a new leader serves, the
/// killed node comes back from its disk and catches up, and the clients' whole history is
/// linearizable.
@Suite(.serialized) struct LeaderCrashTests {
    /// Shared keys carry the linearizability check; each also gets unique "ack" keys whose presence
    /// afterwards proves no acknowledged write was lost.
    static let sharedKeys = ["k0", "k1", "k2", "k3"]
    static let workers = 8
    static let loadBeforeKill: Duration = .seconds(2)
    static let loadAfterKill: Duration = .seconds(4)

    /// Run twice: with etcd's default snapshot count, where no snapshot happens, and with a small
    /// one, where every node snapshots (serialised and saved off its loop) many times, keeps only a
    /// short log behind each snapshot, and the killed leader, far behind when it comes back, must be
    /// sent a snapshot over the network.
    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: LocalCluster.synodExecutable.path)), .timeLimit(.minutes(3)),
          arguments: [nil, 300] as [Int?])
    func killingTheLeaderLosesNoAcknowledgedWriteAndStaysLinearizable(snapshotCount: Int?) async throws {
        let cluster = LocalCluster(size: 3, extraArguments: snapshotCount.map { ["--snapshot-count", String($0)] } ?? [])
        defer { cluster.stopAll() }
        try cluster.startAll()
        let connections = try EtcdConnections(cluster.endpoints)
        let recorder = HistoryRecorder()
        let outcome = try await connections.run { connections in
            let first = try await connections.waitForLeader(among: [0, 1, 2])
            let stopAt = ContinuousClock.now + Self.loadBeforeKill + Self.loadAfterKill
            let killed = KilledNode()
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<Self.workers {
                    group.addTask { await Self.runWorker(worker, connections: connections, recorder: recorder, until: stopAt, killed: killed) }
                }
                try await Task.sleep(for: Self.loadBeforeKill)
                let victim = first.memberIDs.first { $0.value == first.leader }!.key
                cluster.kill(victim)
                killed.index.withLock { $0 = victim }
                try await group.waitForAll()
            }
            let victim = killed.index.withLock { $0 }!
            let survivors = [0, 1, 2].filter { $0 != victim }
            let second = try await connections.waitForLeader(among: survivors)
            #expect(second.leader != first.leader, "the killed leader is still named leader")
            // Every acknowledged unique write is there, read linearizably from a survivor.
            var request = Etcdserverpb_RangeRequest()
            request.key = Data("ack/".utf8)
            request.rangeEnd = Data("ack0".utf8)
            request.keysOnly = true
            let stored = try await connections.kv(survivors[0]).range(request, options: EtcdConnections.options(timeout: .seconds(10)))
            let storedKeys = Set(stored.kvs.map { String(decoding: $0.key, as: UTF8.self) })
            let acknowledged = recorder.acknowledgedUniqueKeys
            let missing = acknowledged.subtracting(storedKeys)
            #expect(missing.isEmpty, "acknowledged writes lost: \(missing.sorted().prefix(10))")
            #expect(acknowledged.count > 50, "too little load to mean anything: \(acknowledged.count) acknowledged writes")
            // The killed node restarts from its disk and catches up.
            try cluster.start(victim)
            let caughtUp = try await Self.waitUntilServes(connections.kv(victim), key: "k-final", after: connections.kv(survivors[0]))
            #expect(caughtUp, "the restarted node never caught up:\n\(cluster.log(victim).suffix(2000))")
            if let snapshotCount {
                // How many writes the timed load made depends on the machine's other work; enough
                // more to pass the snapshot threshold make the check independent of it (bounded).
                try await Self.writeFiller(count: snapshotCount + 50, through: connections.kv(survivors[0]))
                for member in [0, 1, 2] {
                    let deadline = ContinuousClock.now + .seconds(30)
                    while cluster.snapshotFiles(member).isEmpty, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(200)) }
                    #expect(!cluster.snapshotFiles(member).isEmpty, "n\(member + 1) never saved a snapshot")
                }
            }
            return (victim, acknowledged.count)
        }
        let history = recorder.history
        let result = Linearizability.check(KeyValueModel(), history: history, maxSteps: 5_000_000)
        switch result {
        case .linearizable: break
        case .notLinearizable(let key, let explanation): Issue.record("not linearizable on \(key): \(explanation)")
        case .unknown(let reason): Issue.record("linearizability undecided: \(reason)")
        }
        let completed = history.filter { !$0.isIndeterminate }.count
        #expect(completed > 100, "history too short: \(history.count)")
        print("leader crash (snapshot count \(snapshotCount.map(String.init) ?? "default")): killed n\(outcome.0 + 1); \(outcome.1) unique writes acknowledged and found; history of \(history.count) operations (\(history.count - completed) indeterminate) is \(result)")
    }

    /// One client: alternates puts and linearizable gets on the shared keys, plus a unique put,
    /// moving to another endpoint whenever one fails it.
    static func runWorker(_ worker: Int, connections: EtcdConnections, recorder: HistoryRecorder, until stopAt: ContinuousClock.Instant, killed: KilledNode) async {
        var endpoint = worker % 3
        var sequence = 0
        var generator = SystemRandomNumberGenerator()
        while ContinuousClock.now < stopAt {
            if killed.index.withLock({ $0 }) == endpoint { endpoint = (endpoint + 1) % 3 }
            sequence += 1
            let key = sharedKeys[Int.random(in: 0..<sharedKeys.count, using: &generator)]
            let kv = connections.kv(endpoint)
            let options = EtcdConnections.options(timeout: .seconds(3))
            let succeeded: Bool
            if Bool.random(using: &generator) {
                let value = "w\(worker)-\(sequence)"
                let started = recorder.now
                var request = Etcdserverpb_PutRequest()
                request.key = Data(key.utf8)
                request.value = Data(value.utf8)
                do {
                    _ = try await kv.put(request, options: options)
                    recorder.record(worker, .put(key: key, value: value), .ok, invokedAt: started, completedAt: recorder.now)
                    succeeded = true
                } catch {
                    // The put may or may not have applied: indeterminate.
                    recorder.record(worker, .put(key: key, value: value), nil, invokedAt: started, completedAt: nil)
                    succeeded = false
                }
            } else {
                let started = recorder.now
                var request = Etcdserverpb_RangeRequest()
                request.key = Data(key.utf8)
                do {
                    let response = try await kv.range(request, options: options)
                    let value = response.kvs.first.map { String(decoding: $0.value, as: UTF8.self) }
                    recorder.record(worker, .get(key: key), .value(value), invokedAt: started, completedAt: recorder.now)
                    succeeded = true
                } catch {
                    succeeded = false  // A failed read had no effect; it leaves no trace in the history.
                }
            }
            let unique = "ack/\(worker)/\(sequence)"
            var put = Etcdserverpb_PutRequest()
            put.key = Data(unique.utf8)
            put.value = Data("v".utf8)
            if (try? await kv.put(put, options: options)) != nil { recorder.acknowledged(unique) }
            if !succeeded { endpoint = (endpoint + 1) % 3 }
        }
    }

    /// `count` small puts, one at a time, to push every member's log past its snapshot threshold.
    static func writeFiller(count: Int, through writer: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>) async throws {
        for index in 0..<count {
            var put = Etcdserverpb_PutRequest()
            put.key = Data("filler/\(index % 16)".utf8)
            put.value = Data("\(index)".utf8)
            _ = try await writer.put(put, options: EtcdConnections.options(timeout: .seconds(10)))
        }
    }

    /// Writes a marker through `writer`, then waits, bounded, until `reader` serves it locally.
    static func waitUntilServes(_ reader: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>, key: String, after writer: Etcdserverpb_KV.Client<HTTP2ClientTransport.Posix>) async throws -> Bool {
        var put = Etcdserverpb_PutRequest()
        put.key = Data(key.utf8)
        put.value = Data("done".utf8)
        _ = try await writer.put(put, options: EtcdConnections.options(timeout: .seconds(10)))
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            var get = Etcdserverpb_RangeRequest()
            get.key = Data(key.utf8)
            get.serializable = true
            if let response = try? await reader.range(get, options: EtcdConnections.options(timeout: .seconds(1))), response.kvs.first?.value == Data("done".utf8) {
                return true
            }
            try await Task.sleep(for: .milliseconds(200))
        }
        return false
    }
}

/// The clients' history, in the checker's terms, with times from one monotonic clock.
final class HistoryRecorder: Sendable {
    private let start = ContinuousClock.now
    private let operations = Mutex<[HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>]>([])
    private let uniqueKeys = Mutex<Set<String>>([])

    var now: UInt64 {
        let elapsed = ContinuousClock.now - start
        return UInt64(elapsed.components.seconds) * 1_000_000_000 + UInt64(elapsed.components.attoseconds / 1_000_000_000)
    }

    func record(_ client: Int, _ input: KeyValueModel.Input, _ output: KeyValueModel.Output?, invokedAt: UInt64, completedAt: UInt64?) {
        operations.withLock { $0.append(HistoryOperation(clientID: client, input: input, output: output, invokedAt: invokedAt, completedAt: completedAt)) }
    }

    func acknowledged(_ key: String) { _ = uniqueKeys.withLock { $0.insert(key) } }

    var history: [HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>] { operations.withLock { $0 } }
    var acknowledgedUniqueKeys: Set<String> { uniqueKeys.withLock { $0 } }
}

/// Which node the test killed, for the workers to steer clear of it.
final class KilledNode: Sendable {
    let index = Mutex<Int?>(nil)
}
