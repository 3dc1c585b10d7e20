import Linearizability
import Testing

/// Operations whose outcome the client never learnt may take effect at any time after their
/// invocation, or never.
@Suite struct IndeterminateOperationTests {
    @Test func timedOutPutWhoseValueIsLaterRead() {
        let history = [
            timedOutPut("x", "a", client: 1, from: 0),
            get("x", returns: nil, client: 2, from: 10, to: 20),
            get("x", returns: "a", client: 2, from: 50, to: 60),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func timedOutPutWhoseValueIsNeverRead() {
        let history = [
            timedOutPut("x", "a", client: 1, from: 0),
            get("x", returns: nil, client: 2, from: 50, to: 60),
            put("x", "b", client: 2, from: 70, to: 80),
            get("x", returns: "b", client: 2, from: 90, to: 100),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func timedOutPutTakingEffectLongAfterOthers() {
        // The timed-out put lands after the later, completed put.
        let history = [
            timedOutPut("x", "a", client: 1, from: 0),
            put("x", "b", client: 2, from: 10, to: 20),
            get("x", returns: "b", client: 2, from: 30, to: 40),
            get("x", returns: "a", client: 2, from: 50, to: 60),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    @Test func readOfAValueBeforeTheOnlyPutThatWritesItWasInvoked() {
        let history = [
            get("x", returns: "a", client: 2, from: 0, to: 10),
            timedOutPut("x", "a", client: 1, from: 20),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func explanationSeparatesStuckReadsFromTimedOutWrites() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            timedOutPut("x", "b", client: 1, from: 20),
            get("x", returns: "c", client: 2, from: 30, to: 40),
        ]
        guard case .notLinearizable(_, let explanation) = checkKeyValue(history) else {
            Issue.record("expected a violation")
            return
        }
        // The prefix is the completed put alone: trying the timed-out put at the dead end is no progress.
        #expect(explanation.contains("prefix has 1 operation(s)"), "\(explanation)")
        #expect(explanation.contains("linearized next: client 2 get(x) -> \"c\""), "\(explanation)")
        #expect(explanation.contains("nor does letting any of the 1 operation(s) of unknown outcome"), "\(explanation)")
    }

    @Test func timedOutPutCannotBeUndoneOnceSeen() {
        let history = [
            put("x", "a", client: 1, from: 0, to: 10),
            timedOutPut("x", "b", client: 1, from: 20),
            get("x", returns: "b", client: 2, from: 30, to: 40),
            get("x", returns: "a", client: 2, from: 50, to: 60),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func timedOutPutTakesEffectAtMostOnce() {
        let history = [
            timedOutPut("x", "a", client: 1, from: 0),
            get("x", returns: "a", client: 2, from: 10, to: 20),
            put("x", "b", client: 2, from: 30, to: 40),
            get("x", returns: "a", client: 2, from: 50, to: 60),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func recordedOutputOfAnIndeterminateOperationIsIgnored() {
        let lostRead = KeyValueOperation(
            clientID: 1,
            input: .get(key: "x"),
            output: .value("garbage"),
            invokedAt: 0,
            completedAt: nil
        )
        #expect(checkKeyValue([lostRead]) == .linearizable)
    }

    @Test func timedOutCompareAndSetFollowsTheModel() {
        // A compare-and-set that may have run can only have written "b" if "a" was there.
        let history = [
            KeyValueOperation(
                clientID: 1,
                input: .compareAndSet(key: "x", expected: "a", new: "b"),
                output: nil,
                invokedAt: 0,
                completedAt: nil
            ),
            get("x", returns: "b", client: 2, from: 10, to: 20),
        ]
        #expect(failedKey(checkKeyValue(history)) == "x")
    }

    @Test func chainOfTimedOutOperationsCanTakeEffectTogether() {
        // Only the put followed by the compare-and-set explains the read.
        let history = [
            timedOutPut("x", "a", client: 1, from: 0),
            KeyValueOperation(
                clientID: 2,
                input: .compareAndSet(key: "x", expected: "a", new: "b"),
                output: nil,
                invokedAt: 5,
                completedAt: nil
            ),
            get("x", returns: "b", client: 3, from: 10, to: 20),
        ]
        #expect(checkKeyValue(history) == .linearizable)
    }

    /// Many pending timed-out writes before a read nobody can explain. Without the dominance rules the
    /// search would try every subset of the writes (2^16 of them); with them it needs a few hundred steps.
    @Test func pendingTimedOutWritesAreNotSearchedSubsetBySubset() {
        let pendingWriteCount = 16
        let writes = (0..<pendingWriteCount).map { timedOutPut("x", "w\($0)", client: $0, from: UInt64($0)) }
        let ghostRead = get("x", returns: "ghost", client: 99, from: 100, to: 110)
        let result = checkKeyValue(writes + [ghostRead], maxSteps: 5_000)
        #expect(failedKey(result) == "x", "\(result)")
    }
}
