import Linearizability
import Testing

/// Keys are checked independently, and a violation names its key.
@Suite struct PartitioningTests {
    @Test func violationIsReportedWithItsKey() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("x", returns: "a", client: 2, from: 20, to: 30),
            put("y", "a", client: 1, from: 0, to: 10),
            get("y", returns: "stale", client: 2, from: 20, to: 30),
            put("z", "c", client: 3, from: 5, to: 15),
        ]
        #expect(failedKey(checkKeyValue(history)) == "y")
    }

    @Test func explanationMentionsOnlyTheFailingKey() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            put("y", "b", client: 1, from: 0, to: 10),
            get("y", returns: "a", client: 2, from: 20, to: 30),
        ]
        guard case .notLinearizable(let key, let explanation) = checkKeyValue(history) else {
            Issue.record("expected a violation")
            return
        }
        #expect(key == "y")
        #expect(!explanation.contains("put(x"), "\(explanation)")
    }

    @Test func writesToOneKeyAreInvisibleToAnother() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("y", returns: nil, client: 2, from: 20, to: 30),
            get("x", returns: "a", client: 2, from: 40, to: 50),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func readingAnotherKeysValueIsAViolation() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            get("y", returns: "a", client: 2, from: 20, to: 30),
        ]
        #expect(failedKey(checkKeyValue(history)) == "y")
    }
}
