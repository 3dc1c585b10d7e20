import ConsensusCore
import Engines
import Simulation
import Testing

@Suite struct EngineRegistryTests {
    @Test func namesAreUniqueAndLookupNamesTheAlternatives() {
        #expect(Set(EngineRegistry.names).count == EngineRegistry.all.count)
        #expect(EngineRegistry.named("raft")?.name == "raft")
        #expect(throws: EngineRegistry.UnknownEngine.self) { try EngineRegistry.lookup("zab") }
        #expect("\(EngineRegistry.UnknownEngine(name: "zab"))".contains("raft"))
    }

    /// Every engine promises the common properties, and runs a clean seed through its runner.
    @Test(arguments: EngineRegistry.names)
    func everyEngineRunsInTheSimulatorAndPromisesTheCommonProperties(name: String) throws {
        let engine = try EngineRegistry.lookup(name)
        #expect(engine.safetyProperties.isSuperset(of: SafetyProperty.common))
        #expect(!engine.quorumKinds.isEmpty)
        for kind in engine.quorumKinds { #expect(throws: Never.self) { try kind.validate(voters: kind == .byzantine ? 4 : 3) } }
        let report = engine.simulate(SimulationOptions.faultFree(seed: 7, nodes: 3, clients: 2, ticks: 300), nil)
        #expect(report.passed, "\(name) seed 7: \(report.violations.prefix(3))")
        #expect(report.operationsCompleted > 0)
    }

    @Test func raftDeclaresWhatItOffers() throws {
        let raft = try EngineRegistry.lookup("raft")
        #expect(raft.capabilities.contains([.membershipChanges, .learners, .leadershipTransfer, .quorumReads, .leaseReads]))
        #expect(!raft.capabilities.contains(.byzantineFaults))
        #expect(raft.safetyProperties.contains(.logMatching))
        #expect(raft.throughput(2_000, 64, 16, true).committed == 2_000)
    }
}
