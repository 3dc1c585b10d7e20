import Linearizability
import Testing

/// Hand-made histories that have a linearization, so the checker must accept them.
@Suite struct LinearizableHistoryTests {
    @Test func emptyHistoryIsLinearizable() {
        #expect(checkKeyValue([]) == .linearizable)
    }

    @Test func sequentialPutsAndGets() {
        let history = [
            get("x", returns: nil, from: 0, to: 5),
            put("x", "a", from: 10, to: 20),
            get("x", returns: "a", from: 30, to: 40),
            put("x", "b", from: 50, to: 60),
            get("x", returns: "b", from: 70, to: 80),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func concurrentWritesMayTakeEffectInEitherOrder() {
        // Both puts overlap, so either may be last; the reads after both agree that "a" won.
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            put("x", "b", client: 2, from: 5, to: 15),
            get("x", returns: "a", client: 3, from: 20, to: 25),
            get("x", returns: "a", client: 1, from: 30, to: 35),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func overlappingReadsSeeWritesInDifferentStages() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("x", returns: nil, client: 2, from: 1, to: 3),
            put("x", "b", client: 1, from: 20, to: 40),
            get("x", returns: "a", client: 2, from: 21, to: 30),
            get("x", returns: "b", client: 3, from: 25, to: 35),
            get("x", returns: "b", client: 2, from: 36, to: 50),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func readMaySeeTheValueOfAConcurrentWrite() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("x", returns: "a", client: 2, from: 5, to: 8),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func readMayMissAConcurrentWrite() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("x", returns: nil, client: 2, from: 5, to: 8),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func compareAndSetSucceedsAndFails() {
        let history = [
            compareAndSet("x", expected: nil, new: "a", succeeded: true, from: 0, to: 10),
            compareAndSet("x", expected: "a", new: "b", succeeded: true, from: 20, to: 30),
            compareAndSet("x", expected: "a", new: "c", succeeded: false, from: 40, to: 50),
            get("x", returns: "b", from: 60, to: 70),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func concurrentCompareAndSetsOnlyOneWins() {
        let history = [
            put("x", "a", from: 0, to: 5),
            compareAndSet("x", expected: "a", new: "b", succeeded: false, client: 1, from: 10, to: 30),
            compareAndSet("x", expected: "a", new: "c", succeeded: true, client: 2, from: 12, to: 28),
            get("x", returns: "c", from: 40, to: 50),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func operationsTouchingAtOneInstantAreConcurrent() {
        // The put completes at the instant the get is invoked: they are concurrent, so the get may
        // still be ordered first and miss the put.
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("x", returns: nil, client: 2, from: 10, to: 12),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func historyOrderDoesNotMatter() {
        let history = [
            get("x", returns: "b", from: 70, to: 80),
            put("x", "a", from: 10, to: 20),
            put("x", "b", from: 50, to: 60),
            get("x", returns: "a", from: 30, to: 40),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }
}
