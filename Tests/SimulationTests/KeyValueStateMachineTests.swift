import ConsensusCore
import Linearizability
import Simulation
import Testing

@Suite struct KeyValueStateMachineTests {
    func entry(_ index: LogIndex, _ command: KeyValueCommand) -> Entry { Entry(index: index, term: 1, data: command.encoded) }

    @Test func commandsRoundTripThroughTheirEncoding() {
        let commands = [
            KeyValueCommand(client: 3, sequence: 9, operation: .put(key: "k1", value: "v3.9")),
            KeyValueCommand(client: 0, sequence: 1, operation: .compareAndSet(key: "k0", expected: nil, new: "v0.1")),
            KeyValueCommand(client: 0, sequence: 2, operation: .compareAndSet(key: "k0", expected: "v0.1", new: "v0.2")),
        ]
        for command in commands { #expect(KeyValueCommand(decoding: command.encoded) == command) }
        #expect(KeyValueCommand(decoding: Array("garbage".utf8)) == nil)
        #expect(KeyValueCommand(decoding: Array("c1#x put k v".utf8)) == nil)
    }

    @Test func sessionsApplyEachSequenceOnceAndReplayTheResult() {
        var machine = KeyValueStateMachine()
        let put = KeyValueCommand(client: 1, sequence: 1, operation: .put(key: "k", value: "a"))
        let swap = KeyValueCommand(client: 1, sequence: 2, operation: .compareAndSet(key: "k", expected: "a", new: "b"))
        #expect(machine.apply(entry(1, put))?.output == .ok)
        #expect(machine.apply(entry(2, swap))?.output == .compareAndSet(succeeded: true))
        // A retried swap must not apply again (it would now fail) but must report its first result.
        #expect(machine.apply(entry(3, swap))?.output == .compareAndSet(succeeded: true))
        // An older duplicate is ignored entirely.
        #expect(machine.apply(entry(4, put)) == nil)
        #expect(machine.value(of: "k") == "b")
        #expect(machine.appliedIndex == 4)
    }
}
