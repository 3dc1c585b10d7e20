import MVCC
import Testing

/// The checks before proposing a txn (etcd `etcdserver/api/v3rpc/key.go` `checkTxnRequest`,
/// `checkRequestOp`, `checkIntervals`).
@Suite struct TxnValidationRuleTests {
    let store = MVCCStore()

    func put(_ key: String) -> RequestOp { .put(PutRequest(key: bytes(key), value: bytes("v"))) }
    func delete(_ key: String, _ rangeEnd: [UInt8] = []) -> RequestOp {
        .deleteRange(DeleteRangeRequest(key: bytes(key), rangeEnd: rangeEnd))
    }
    func nested(_ success: [RequestOp], _ failure: [RequestOp] = []) -> RequestOp {
        .txn(TxnRequest(success: success, failure: failure))
    }
    func validation(_ success: [RequestOp], _ failure: [RequestOp] = [], compare: [Compare] = []) -> MVCCError? {
        thrownError { try store.validate(.txn(TxnRequest(compare: compare, success: success, failure: failure))) }
    }
    func ranges(_ count: Int) -> [RequestOp] { (0..<count).map { _ in .range(RangeRequest(key: bytes("r"))) } }

    @Test func atMostTxnOperationsMaxPerCompareSuccessAndFailureList() {
        let limit = MVCCStore.txnOperationsMax
        #expect(limit == 128)
        #expect(validation(ranges(limit)) == nil)
        #expect(validation(ranges(limit + 1)) == .tooManyOperations(limit: limit))
        #expect(validation([], ranges(limit + 1)) == .tooManyOperations(limit: limit))
        let compares = (0...limit).map { _ in Compare(key: bytes("c"), result: .equal, target: .version(0)) }
        #expect(validation([], compare: compares) == .tooManyOperations(limit: limit))
        // The lists are bounded separately, not in total.
        #expect(validation(ranges(limit), ranges(limit), compare: Array(compares.prefix(limit))) == nil)
    }

    /// A nested txn may use only what its parent's longest list left of the limit.
    @Test func aNestedTxnGetsTheLimitMinusItsParentsLongestList() {
        let limit = MVCCStore.txnOperationsMax
        let parentOwn = 100
        let fits = ranges(parentOwn - 1) + [nested(ranges(limit - parentOwn))]
        #expect(validation(fits) == nil)
        let tooMany = ranges(parentOwn - 1) + [nested(ranges(limit - parentOwn + 1))]
        #expect(validation(tooMany) == .tooManyOperations(limit: limit))
        // Siblings do not add up.
        let siblings = [nested(ranges(limit - 2)), nested(ranges(limit - 2))]
        #expect(validation(siblings) == nil)
    }

    @Test func emptyKeysAreRejectedInComparesAndEveryOperation() {
        #expect(validation([], compare: [Compare(key: [], result: .equal, target: .version(0))]) == .emptyKey)
        #expect(validation([.range(RangeRequest(key: []))]) == .emptyKey)
        #expect(validation([.put(PutRequest(key: []))]) == .emptyKey)
        #expect(validation([], [.deleteRange(DeleteRangeRequest(key: []))]) == .emptyKey)
        #expect(validation([nested([.put(PutRequest(key: []))])]) == .emptyKey)
        #expect(validation([.put(PutRequest(key: bytes("a"), value: bytes("x"), ignoreValue: true))]) == .valueProvided)
    }

    @Test func twoPutsOfOneKeyAreADuplicate() {
        #expect(validation([put("a"), put("a")]) == .duplicateKeyInTxn)
        #expect(validation([put("a"), nested([put("a")])]) == .duplicateKeyInTxn)
        #expect(validation([nested([put("a")]), nested([put("a")])]) == .duplicateKeyInTxn)
        #expect(validation([put("a")], [put("a")]) == nil)
    }

    @Test func putsInTheTwoBranchesOfOneNestedTxnDoNotConflict() {
        #expect(validation([nested([put("a")], [put("a")])]) == nil)
        #expect(validation([nested([put("b")], [put("a")]), nested([put("a")])]) == .duplicateKeyInTxn)
    }

    @Test func aPutConflictsWithADeleteAtItsOwnOrAnEnclosingLevel() {
        #expect(validation([put("a"), delete("a")]) == .duplicateKeyInTxn)
        #expect(validation([delete("a"), put("a")]) == .duplicateKeyInTxn)
        #expect(validation([put("b"), delete("a", bytes("c"))]) == .duplicateKeyInTxn)
        #expect(validation([put("c"), delete("a", bytes("c"))]) == nil)
        #expect(validation([delete("a", bytes("c")), nested([put("b")])]) == .duplicateKeyInTxn)
        #expect(validation([nested([delete("b")]), put("b")]) == .duplicateKeyInTxn)
        #expect(validation([put("b"), nested([delete("b")])]) == .duplicateKeyInTxn)
    }

    /// etcd adds a nested txn's deletes only after checking its puts, so order between siblings matters.
    @Test func siblingNestedTxnsConflictOnlyWhenTheDeleteComesFirst() {
        #expect(validation([nested([delete("a")]), nested([put("a")])]) == .duplicateKeyInTxn)
        #expect(validation([nested([put("a")]), nested([delete("a")])]) == nil)
    }

    @Test func deletesNeverConflictWithDeletes() {
        #expect(validation([delete("a"), delete("a"), delete("a", bytes("z")), nested([delete("b")])]) == nil)
    }

    /// etcd keeps a from-key delete's raw `range_end` "\0" as the interval end, so it covers nothing.
    @Test func aFromKeyDeleteConflictsWithNothing() {
        #expect(validation([delete("a", toEnd), put("b")]) == nil)
        #expect(validation([put("b"), nested([delete("a", toEnd)])]) == nil)
    }

    @Test func successAndFailureAreCheckedSeparately() {
        #expect(validation([put("a")], [delete("a")]) == nil)
        #expect(validation([put("x")], [delete("a"), put("a")]) == .duplicateKeyInTxn)
    }

    @Test func applyRunsTheSameChecks() {
        var store = MVCCStore()
        #expect(store.applyError(.txn(TxnRequest(success: [put("a"), put("a")]))) == .duplicateKeyInTxn)
        #expect(store.applyError(.txn(TxnRequest(success: ranges(129)))) == .tooManyOperations(limit: 128))
        #expect(store.revision == 1)
    }
}
