import ConsensusCore
import Raft
import RaftTestKit
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
        let reports = sweep(DefectiveRaft<ForgetsHardState>.self)
        #expect(reports.contains { $0.violations.contains { $0.hasPrefix("persisted before sent") } })
    }

    @Test func aLeaderCountingItsOwnUnsyncedWriteIsCaught() {
        let reports = sweep(SelfTrustingRaft.self, seeds: 30)
        #expect(reports.contains { $0.violations.contains { $0.hasPrefix("durability") } })
    }

    @Test func anEngineThatNeverSendsViolatesLiveness() {
        let reports = sweep(DefectiveRaft<SendsNothing>.self, seeds: 3)
        #expect(reports.allSatisfy { $0.violations.contains { $0.hasPrefix("liveness") } })
    }
}

/// A deliberate defect applied to the actions of a correct Raft engine.
protocol RaftDefect {
    static var name: String { get }
    static func distort(_ actions: [RaftAction]) -> [RaftAction]
}

/// Raft with one defect, run by the simulator like any engine.
struct DefectiveRaft<Defect: RaftDefect>: SimulatableEngine {
    var inner: RaftEngine
    static var engineName: String { Defect.name }
    static var emptyHardState: RaftHardState { RaftHardState() }
    static var safetyProperties: Set<SafetyProperty> { RaftEngine.safetyProperties }
    var status: EngineStatus { inner.status }
    var membership: Membership { inner.membership }

    static func start(id: NodeID, voters: [NodeID], profile: UInt64, random: SeededRandom, restoring: DurableState<RaftHardState>?) -> Self {
        Self(inner: RaftEngine.start(id: id, voters: voters, profile: profile, random: random, restoring: restoring))
    }
    static func commitIndex(of hardState: RaftHardState) -> LogIndex { hardState.commit }
    static func durabilityViolation(of message: RaftMessage, durable: SimulatedStorage<RaftHardState>) -> String? {
        RaftEngine.durabilityViolation(of: message, durable: durable)
    }

    mutating func step(_ event: RaftEvent) -> [RaftAction] { Defect.distort(inner.step(event)) }
}

/// Never writes the hard state: votes and terms live only in memory.
enum ForgetsHardState: RaftDefect {
    static let name = "amnesiac-raft"
    static func distort(_ actions: [RaftAction]) -> [RaftAction] {
        actions.compactMap { action in
            guard case .persist(var request) = action else { return action }
            request.hardState = nil
            return request.isEmpty ? nil : .persist(request)
        }
    }
}

/// Messages never leave the node.
enum SendsNothing: RaftDefect {
    static let name = "mute-raft"
    static func distort(_ actions: [RaftAction]) -> [RaftAction] {
        actions.filter { if case .send = $0 { return false } else { return true } }
    }
}

/// A leader that overlaps its writes with its sends but counts its own copy at once, as if the disk
/// had already synced it: an acknowledged write could then live only in one page cache.
struct SelfTrustingRaft: SimulatableEngine {
    var inner: RaftEngine
    static var engineName: String { "self-trusting-raft" }
    static var emptyHardState: RaftHardState { RaftHardState() }
    static var safetyProperties: Set<SafetyProperty> { RaftEngine.safetyProperties }
    var status: EngineStatus { inner.status }
    var membership: Membership { inner.membership }

    static func start(id: NodeID, voters: [NodeID], profile: UInt64, random: SeededRandom, restoring: DurableState<RaftHardState>?) -> Self {
        var configuration = RaftEngine.configuration(id: id, voters: voters, profile: profile)
        configuration.overlapWritesWithSends = true
        return Self(inner: RaftEngine(configuration: configuration, random: random, restoring: restoring))
    }
    static func commitIndex(of hardState: RaftHardState) -> LogIndex { hardState.commit }
    static func durabilityViolation(of message: RaftMessage, durable: SimulatedStorage<RaftHardState>) -> String? {
        RaftEngine.durabilityViolation(of: message, durable: durable)
    }

    mutating func step(_ event: RaftEvent) -> [RaftAction] {
        var actions = inner.step(event)
        for case .persist(let request) in actions where request.overlapsSends {
            if let last = request.lastEntry { actions += inner.step(.persisted(last.index, term: last.term)) }
        }
        return actions
    }
}
