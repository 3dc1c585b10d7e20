import Linearizability
import Testing

/// Running out of search budget yields `.unknown`, never `.linearizable`.
@Suite struct BudgetTests {
    /// Every operation overlaps every other one, so the search has many orders to try.
    static func fullyConcurrentHistory(operationCount: Int, readsOfGhost: Bool) -> [KeyValueOperation] {
        (0..<operationCount).map { index in
            let client = index
            let invokedAt = UInt64(index % 3)
            let completedAt: UInt64 = 1_000
            if index.isMultiple(of: 2) {
                return put("x", "v\(index)", client: client, from: invokedAt, to: completedAt)
            }
            let seen = readsOfGhost && index == operationCount - 1 ? "ghost" : "v\(index - 1)"
            return get("x", returns: seen, client: client, from: invokedAt, to: completedAt)
        }
    }

    /// `count` sequential puts on `key`, each completing before the next is invoked.
    static func sequentialPuts(key: String, count: Int) -> [KeyValueOperation] {
        (0..<count).map { index in
            put(key, "v\(index)", from: UInt64(index * 10), to: UInt64(index * 10 + 5))
        }
    }

    @Test func tinyBudgetOnALinearizableConcurrentHistoryIsUnknown() {
        let history = Self.fullyConcurrentHistory(operationCount: 200, readsOfGhost: false)
        let result = checkKeyValue(history, maxSteps: 50)
        #expect(isUnknown(result), "\(result)")
    }

    @Test func tinyBudgetOnAViolatingConcurrentHistoryIsUnknown() {
        let history = Self.fullyConcurrentHistory(operationCount: 200, readsOfGhost: true)
        let result = checkKeyValue(history, maxSteps: 50)
        #expect(isUnknown(result), "\(result)")
    }

    @Test func unknownReasonNamesTheKeyAndTheBudget() {
        let history = Self.fullyConcurrentHistory(operationCount: 20, readsOfGhost: false)
        guard case .unknown(let reason) = checkKeyValue(history, maxSteps: 3) else {
            Issue.record("expected an unknown result")
            return
        }
        #expect(reason.contains("\"x\""), "\(reason)")
        #expect(reason.contains("3 steps"), "\(reason)")
    }

    @Test func sequentialHistoryNeedsOneStepPerOperation() {
        let history = Self.sequentialPuts(key: "x", count: 10)
        #expect(checkKeyValue(history, maxSteps: 10) == .linearizable)
        #expect(isUnknown(checkKeyValue(history, maxSteps: 9)))
    }

    @Test func budgetIsSharedByAllPartitions() {
        let history = Self.sequentialPuts(key: "x", count: 10) + Self.sequentialPuts(key: "y", count: 10)
        #expect(checkKeyValue(history, maxSteps: 20) == .linearizable)
        #expect(isUnknown(checkKeyValue(history, maxSteps: 19)))
    }

    @Test func zeroBudgetDecidesOnlyHistoriesWithNothingToPlace() {
        #expect(checkKeyValue([], maxSteps: 0) == .linearizable)
        #expect(checkKeyValue([timedOutPut("x", "a", from: 0)], maxSteps: 0) == .linearizable)
        #expect(isUnknown(checkKeyValue([put("x", "a", from: 0, to: 1)], maxSteps: 0)))
    }
}
