import ConsensusCore
import Raft
import Simulation
import Testing

typealias RaftEngineUnderTest = RaftEngine

/// Checkers that never fire prove nothing. These engines break one rule each, on purpose; the
/// simulator must notice within a few seeds.
@Suite struct CheckerSensitivityTests {
    func sweep<Engine: SimulatableEngine>(_ engine: Engine.Type, seeds: Int = 10) -> [SimulationReport] {
        (1...seeds).map { seed in
            var options = SimulationOptions(seed: UInt64(seed))
            options.faultPhaseTicks = 300
            options.healPhaseTicks = 300
            return Simulator<Engine>(options: options).run()
        }
    }

    @Test func forgettingToPersistTheHardStateIsCaught() {
        let reports = sweep(AmnesiacRaft.self)
        #expect(reports.contains { $0.violations.contains { $0.hasPrefix("persisted before sent") } })
    }

    @Test func anEngineThatNeverSendsViolatesLiveness() {
        let reports = sweep(MuteRaft.self, seeds: 3)
        #expect(reports.allSatisfy { $0.violations.contains { $0.hasPrefix("liveness") } })
    }
}

/// Raft that never writes its hard state: votes and terms live only in memory.
struct AmnesiacRaft: SimulatableEngine {
    var inner: RaftEngine
    static var engineName: String { "amnesiac-raft" }
    static var emptyHardState: RaftHardState { RaftHardState() }
    var status: EngineStatus { inner.status }

    static func start(id: NodeID, voters: [NodeID], profile: UInt64, random: SeededRandom, restoring: DurableState<RaftHardState>?) -> AmnesiacRaft {
        AmnesiacRaft(inner: RaftEngine.start(id: id, voters: voters, profile: profile, random: random, restoring: restoring))
    }
    static func commitIndex(of hardState: RaftHardState) -> LogIndex { hardState.commit }
    static func durabilityViolation(of message: RaftMessage, durable: SimulatedStorage<RaftHardState>) -> String? {
        RaftEngine.durabilityViolation(of: message, durable: durable)
    }

    mutating func step(_ event: RaftEvent) -> [RaftAction] {
        inner.step(event).compactMap { action in
            guard case .persist(var request) = action else { return action }
            request.hardState = nil
            return request.isEmpty ? nil : .persist(request)
        }
    }
}

/// Raft whose messages never leave the node.
struct MuteRaft: SimulatableEngine {
    var inner: RaftEngine
    static var engineName: String { "mute-raft" }
    static var emptyHardState: RaftHardState { RaftHardState() }
    var status: EngineStatus { inner.status }

    static func start(id: NodeID, voters: [NodeID], profile: UInt64, random: SeededRandom, restoring: DurableState<RaftHardState>?) -> MuteRaft {
        MuteRaft(inner: RaftEngine.start(id: id, voters: voters, profile: profile, random: random, restoring: restoring))
    }
    static func commitIndex(of hardState: RaftHardState) -> LogIndex { hardState.commit }
    static func durabilityViolation(of message: RaftMessage, durable: SimulatedStorage<RaftHardState>) -> String? { nil }

    mutating func step(_ event: RaftEvent) -> [RaftAction] {
        inner.step(event).filter { if case .send = $0 { return false } else { return true } }
    }
}
