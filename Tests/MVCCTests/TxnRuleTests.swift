import MVCC
import Testing

/// Transactions (etcd `etcdserver/apply.go` `Txn`, `compareToPath`, `applyCompare`, `compareKV`,
/// `checkRequests`, `applyTxn`).
@Suite struct TxnRuleTests {
    func put(_ key: String, _ value: String = "v", lease: Int64 = 0) -> RequestOp {
        .put(PutRequest(key: bytes(key), value: bytes(value), lease: lease))
    }

    func txn(_ compare: [Compare], _ success: [RequestOp], _ failure: [RequestOp] = []) -> Command {
        .txn(TxnRequest(compare: compare, success: success, failure: failure))
    }

    func succeeded(_ outcome: CommandOutcome?) -> Bool? {
        if case .txn(let result) = outcome { return result.succeeded }
        return nil
    }

    @Test func comparesChooseTheBranch() {
        var store = MVCCStore()
        store.put("a", "1")
        let equal = Compare(key: bytes("a"), result: .equal, target: .value(bytes("1")))
        #expect(succeeded(store.mustApply(txn([equal], [put("ok")], [put("no")]))) == true)
        let greater = Compare(key: bytes("a"), result: .greater, target: .version(1))
        #expect(succeeded(store.mustApply(txn([equal, greater], [put("ok2")], [put("no2")]))) == false)
        #expect(store.get("no2") != nil)
        #expect(store.get("ok2") == nil)
    }

    @Test func everyCompareResultAndTarget() {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 4, ttlSeconds: 9))
        store.put("k", "m", lease: 4)  // create 2, mod 2, version 1
        store.put("k", "m")  // mod 3, version 2, lease 0
        store.put("k", "m", lease: 4)  // mod 4, version 3
        let cases: [(Compare.Result, Compare.Target, Bool)] = [
            (.equal, .value(bytes("m")), true), (.less, .value(bytes("n")), true), (.greater, .value(bytes("l")), true),
            (.notEqual, .value(bytes("m")), false), (.equal, .version(3), true), (.greater, .version(3), false),
            (.equal, .createRevision(2), true), (.less, .createRevision(3), true), (.equal, .modRevision(4), true),
            (.notEqual, .modRevision(4), false), (.equal, .lease(4), true), (.greater, .lease(3), true),
        ]
        for (result, target, expected) in cases {
            let compare = Compare(key: bytes("k"), result: result, target: target)
            #expect(store.compareHolds(compare, at: store.revision) == expected, "\(result) \(target)")
        }
    }

    @Test func aMissingKeyFailsEveryValueCompareAndComparesAsZeroOtherwise() {
        let store = MVCCStore()
        let missing = bytes("missing")
        #expect(!store.compareHolds(Compare(key: missing, result: .equal, target: .value([])), at: 1))
        #expect(!store.compareHolds(Compare(key: missing, result: .notEqual, target: .value(bytes("x"))), at: 1))
        #expect(store.compareHolds(Compare(key: missing, result: .equal, target: .version(0)), at: 1))
        #expect(store.compareHolds(Compare(key: missing, result: .equal, target: .createRevision(0)), at: 1))
        #expect(store.compareHolds(Compare(key: missing, result: .less, target: .modRevision(1)), at: 1))
        #expect(store.compareHolds(Compare(key: missing, result: .equal, target: .lease(0)), at: 1))
    }

    @Test func aRangeCompareNeedsEveryKeyInTheRangeToSatisfyIt() {
        var store = MVCCStore()
        store.put("a1", "x")
        store.put("a2", "x")
        let allX = Compare(key: bytes("a"), rangeEnd: bytes("b"), result: .equal, target: .value(bytes("x")))
        #expect(store.compareHolds(allX, at: store.revision))
        store.put("a3", "y")
        #expect(!store.compareHolds(allX, at: store.revision))
        let noneInRange = Compare(key: bytes("q"), rangeEnd: toEnd, result: .equal, target: .version(0))
        #expect(store.compareHolds(noneInRange, at: store.revision))
    }

    @Test func readsInsideATxnSeeItsEarlierWrites() {
        var store = MVCCStore()
        store.put("a", "old")
        let outcome = store.mustApply(txn([], [
            .range(RangeRequest(key: bytes("a"))),
            put("a", "new"),
            .range(RangeRequest(key: bytes("a"))),
            .range(RangeRequest(key: bytes("a"), revision: 2)),
        ]))
        guard case .txn(let result) = outcome, result.responses.count == 4,
            case .range(let before) = result.responses[0], case .range(let after) = result.responses[2],
            case .range(let atTwo) = result.responses[3]
        else {
            Issue.record("unexpected outcome \(String(describing: outcome))")
            return
        }
        #expect(before.kvs.map(\.value) == [bytes("old")])
        #expect(after.kvs.map(\.value) == [bytes("new")])
        #expect(atTwo.kvs.map(\.value) == [bytes("old")])
    }

    @Test func nestedTxnsRunTheirChosenBranchAndAnswerInPlace() {
        var store = MVCCStore()
        store.put("flag", "on")
        let on = Compare(key: bytes("flag"), result: .equal, target: .value(bytes("on")))
        let off = Compare(key: bytes("flag"), result: .equal, target: .value(bytes("off")))
        let inner = TxnRequest(compare: [off], success: [put("inner-yes")], failure: [put("inner-no")])
        let outcome = store.mustApply(txn([on], [put("outer"), .txn(inner)]))
        #expect(
            outcome == .txn(TxnResult(succeeded: true, responses: [
                .put(PutResult()), .txn(TxnResult(succeeded: false, responses: [.put(PutResult())])),
            ])))
        #expect(store.get("inner-no")?.modRevision == 3)
        #expect(store.get("inner-yes") == nil)
    }

    /// etcd evaluates every compare, nested ones too, before running any operation.
    @Test func nestedComparesSeeTheStateBeforeTheTxn() {
        var store = MVCCStore()
        let missing = Compare(key: bytes("k"), result: .equal, target: .version(0))
        let inner = TxnRequest(compare: [missing], success: [put("saw-missing")], failure: [put("saw-written")])
        store.mustApply(txn([], [put("k"), .txn(inner)]))
        #expect(store.get("saw-missing") != nil)
        #expect(store.get("saw-written") == nil)
    }

    @Test func aTxnWhoseOperationFailsItsCheckChangesNothing() {
        var store = MVCCStore()
        store.put("a", "1")
        let before = store.snapshot()
        #expect(store.applyError(txn([], [put("b"), put("c", lease: 8)])) == .leaseNotFound(8))
        #expect(store.applyError(txn([], [put("b"), .put(PutRequest(key: bytes("zz"), ignoreValue: true))])) == .keyNotFound)
        #expect(store.applyError(txn([], [put("b"), .range(RangeRequest(key: bytes("a"), revision: 3))])) == .futureRevision)
        #expect(store.snapshot() == before)
        #expect(store.lastAppliedEvents.isEmpty)
    }

    @Test func onlyTheChosenBranchIsChecked() {
        var store = MVCCStore()
        let never = Compare(key: bytes("x"), result: .equal, target: .value(bytes("x")))
        let outcome = store.mustApply(txn([never], [put("a", lease: 77)], [put("b")]))
        #expect(succeeded(outcome) == false)
        #expect(store.get("b") != nil)
    }

    /// `checkRequests` runs the put checks over the whole path before any range check.
    @Test func putChecksComeBeforeRangeChecks() {
        var store = MVCCStore()
        let command = txn([], [.range(RangeRequest(key: bytes("a"), revision: 50)), put("b", lease: 3)])
        #expect(store.applyError(command) == .leaseNotFound(3))
    }

    @Test func rangesInsideATxnAreCheckedForFutureAndCompactedRevisions() {
        var store = MVCCStore()
        store.put("a", "1")
        store.put("a", "2")
        store.mustApply(.compact(revision: 3))
        #expect(store.applyError(txn([], [.range(RangeRequest(key: bytes("a"), revision: 2))])) == .compacted(compactRevision: 3))
        // etcd's txn check compares a negative revision with the compacted one too.
        #expect(store.applyError(txn([], [.range(RangeRequest(key: bytes("a"), revision: -1))])) == .compacted(compactRevision: 3))
        store.mustApply(txn([], [.range(RangeRequest(key: bytes("a"), revision: 3))]))
    }

    @Test func aTxnWritesAllItsChangesAtOneRevisionInOperationOrder() {
        var store = MVCCStore()
        store.put("d", "x")
        store.mustApply(txn([], [put("b"), .deleteRange(DeleteRangeRequest(key: bytes("d"))), put("a")]))
        #expect(store.lastAppliedEvents.map(\.kind) == [.put, .delete, .put])
        #expect(store.lastAppliedEvents.map(\.kv.key) == [bytes("b"), bytes("d"), bytes("a")])
        #expect(Set(store.lastAppliedEvents.map(\.kv.modRevision)) == [3])
    }

    /// etcd's overlap check lets a from-key delete through, so this txn passes every etcd check
    /// and then makes etcd panic when the ignore-value put finds its key deleted; here it is refused.
    @Test func anIgnoreFlagPutAfterAFromKeyDeleteOfItsKeyIsRefused() {
        var store = MVCCStore()
        store.put("b", "1")
        let command = txn([], [
            .deleteRange(DeleteRangeRequest(key: bytes("a"), rangeEnd: toEnd)),
            .put(PutRequest(key: bytes("b"), ignoreValue: true)),
        ])
        #expect(throws: Never.self) { try store.validate(command) }
        #expect(store.applyError(command) == .keyNotFound)
        #expect(store.get("b")?.value == bytes("1"))
        // Without the ignore flag the same shape is fine: the put recreates the key.
        store.mustApply(txn([], [.deleteRange(DeleteRangeRequest(key: bytes("a"), rangeEnd: toEnd)), put("b", "2")]))
        #expect(store.get("b") == KeyValue(key: bytes("b"), createRevision: 3, modRevision: 3, version: 1, value: bytes("2")))
        #expect(store.lastAppliedEvents.map(\.kind) == [.delete, .put])
    }
}
