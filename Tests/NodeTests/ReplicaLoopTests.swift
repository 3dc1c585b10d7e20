import ConsensusCore
import Foundation
import Logging
import Node
import Replica
import Raft
import RaftWire
import Storage
import Synchronization
import Testing

/// The replica loop on the peer transport's event loop: the clock drives it with no other input,
/// and its application hears from it on that loop.
@Suite struct ReplicaLoopTests {
    /// Counts iterations and records the thread they ran on.
    final class CountingApplication: ReplicaApplication, @unchecked Sendable {
        let iterations = Atomic<Int>(0)
        let leaderSeen = Atomic<Bool>(false)
        let offLoopCalls = Atomic<Int>(0)
        var isOnLoop: () -> Bool = { true }

        func apply(_ entries: [Entry], status: EngineStatus) { check() }
        func readReady(_ id: RequestID, index: LogIndex) { check() }
        func rejected(_ id: RequestID, _ reason: RequestRejection) { check() }
        func snapshotWriter() -> @Sendable () -> [UInt8] { { [] } }
        func restore(_ snapshot: Snapshot) {}
        func afterIteration(status: EngineStatus, now: ContinuousClock.Instant) {
            check()
            iterations.add(1, ordering: .relaxed)
            if status.isLeader { leaderSeen.store(true, ordering: .relaxed) }
        }
        func handlePeerRequest(_ payload: [UInt8], from: NodeID, callID: UInt64) -> [UInt8]? { [] }
        func handlePeerResponse(id: UInt64, _ payload: [UInt8]) {}
        func acceptsForwardedProposal(_ data: [UInt8]) -> Bool { true }
        func storageSpace(exhausted: Bool) {}

        private func check() { if !isOnLoop() { offLoopCalls.add(1, ordering: .relaxed) } }
    }

    /// A one-member cluster that nobody talks to still ticks: it elects itself, and keeps
    /// iterating (a full disk is retried from those iterations). Started and stopped many times,
    /// because the first tick once raced the start and, lost, left the loop without a clock.
    @Test func anIdleLoopTicksFromTheMomentItStarts() async throws {
        for round in 0..<20 {
            let path = NSTemporaryDirectory() + "synod-replica-loop-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(atPath: path) }
            let id = NodeID(1)
            let storage = try DiskStorage<RaftHardState>(directory: try PosixDirectory(path: path), initial: RaftHardState())
            var configuration = RaftConfiguration(id: id, voters: [id])
            configuration.heartbeatIntervalTicks = 1
            configuration.electionTimeoutTicks = 3
            let engine = RaftEngine(configuration: configuration, random: SeededRandom(seed: UInt64(round)), restoring: storage.durableState)
            let loop = ReplicaLoop(id: id, engine: engine, storage: storage, tickInterval: .milliseconds(5), logger: Logger(label: "test"))
            let transport = PeerTransport<RaftMessage>(selfID: id, clusterID: 1, clientURLs: [], peers: [], logger: Logger(label: "test")) { loop.received($0) }
            let application = CountingApplication()
            let transportLoop = transport.eventLoop
            application.isOnLoop = { transportLoop.inEventLoop }
            loop.start(application: application, transport: transport)
            // Bounded: 10 s at most for 20 iterations of a 5 ms clock.
            let deadline = ContinuousClock.now + .seconds(10)
            while application.iterations.load(ordering: .relaxed) < 20 && ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            loop.stop()
            await transport.shutdown()
            let iterations = application.iterations.load(ordering: .relaxed)
            let led = application.leaderSeen.load(ordering: .relaxed)
            let offLoop = application.offLoopCalls.load(ordering: .relaxed)
            #expect(iterations >= 20, "round \(round): the loop stopped ticking")
            #expect(led, "round \(round): the one member never led")
            #expect(offLoop == 0, "round \(round): the application was called off the transport's loop")
        }
    }
}
