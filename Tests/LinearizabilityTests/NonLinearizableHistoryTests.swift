import Linearizability
import Testing

/// Hand-made histories without a linearization, so the checker must reject them.
@Suite struct NonLinearizableHistoryTests {
    @Test func staleReadAfterACompletedWrite() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            put("x", "b", client: 1, from: 20, to: 30),
            get("x", returns: "a", client: 2, from: 40, to: 50),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func readOfAValueNeverWritten() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("x", returns: "ghost", client: 2, from: 5, to: 15),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func sequentialReadsGoBackInTime() {
        // "b" is written concurrently with both reads, but once a read has seen "b" a later read
        // cannot see the older "a" again.
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            put("x", "b", client: 1, from: 15, to: 100),
            get("x", returns: "b", client: 2, from: 20, to: 25),
            get("x", returns: "a", client: 2, from: 30, to: 35),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func compareAndSetSucceededWithTheWrongExpectedValue() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            compareAndSet("x", expected: "z", new: "b", succeeded: true, client: 2, from: 20, to: 30),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func compareAndSetFailedAlthoughTheExpectedValueWasThere() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            compareAndSet("x", expected: "a", new: "b", succeeded: false, client: 2, from: 20, to: 30),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func happensBeforeIsStrict() {
        // One tick after the put completes, the get must see it.
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("x", returns: nil, client: 2, from: 11, to: 12),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func explanationNamesThePrefixAndTheStuckOperation() throws {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            put("x", "b", client: 1, from: 20, to: 30),
            get("x", returns: "a", client: 2, from: 40, to: 50),
        ]
        guard case .notLinearizable(let key, let explanation) = checkKeyValue(history) else {
            Issue.record("expected a violation")
            return
        }
        #expect(key == "x")
        #expect(explanation.contains("prefix has 2 operation(s)"), "\(explanation)")
        #expect(explanation.contains("leaves the state {x: \"b\"}"), "\(explanation)")
        #expect(explanation.contains("client 2 get(x) -> \"a\" (invoked at 40, completed at 50)"), "\(explanation)")
    }
}
