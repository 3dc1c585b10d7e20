import EtcdAPI
import Foundation
import EtcdServer
import MVCC
import Testing

/// Where etcd's wire answers follow rules the store does not know: the headers inside a txn's
/// responses, compares and sort orders outside their enums, and a txn's empty operations. Each
/// rule was found by the differential test against etcd 3.4 (`Tests/compat/differential.py`).
@Suite struct ProtoMappingTests {
    static func header(_ revision: Int64) -> Etcdserverpb_ResponseHeader {
        var header = Etcdserverpb_ResponseHeader()
        header.revision = revision
        return header
    }

    /// etcd 3.4: a range sees the revision before the txn until the txn changes something, a put
    /// reports the next one, a delete that deletes nothing (and follows no change) the current
    /// one; a nested txn's header is present and empty.
    @Test func headersInsideATxnFollowEtcdsWriteTransaction() {
        let result = TxnResult(succeeded: true, responses: [
            .deleteRange(DeleteRangeResult(deleted: 0)),
            .range(RangeResult()),
            .put(PutResult()),
            .range(RangeResult()),
            .txn(TxnResult(succeeded: true, responses: [.range(RangeResult())])),
        ])
        let response = result.proto(header: Self.header(4))
        #expect(response.responses.map { op -> Int64 in
            switch op.response {
            case .responseRange(let range): return range.header.revision
            case .responsePut(let put): return put.header.revision
            case .responseDeleteRange(let delete): return delete.header.revision
            case .responseTxn(let txn): return txn.hasHeader && txn.header == Etcdserverpb_ResponseHeader() ? 0 : -1
            case nil: return -2
            }
        } == [3, 3, 4, 4, 0])
        // Inner headers carry the revision only.
        #expect(response.responses[0].responseDeleteRange.header.clusterID == 0)
        // A txn that changed nothing: every header is the current revision.
        let reads = TxnResult(succeeded: false, responses: [.range(RangeResult()), .deleteRange(DeleteRangeResult(deleted: 0))])
        #expect(reads.proto(header: Self.header(7)).responses.map { op -> Int64 in
            if case .responseRange(let range) = op.response { return range.header.revision }
            return op.responseDeleteRange.header.revision
        } == [7, 7])
    }

    /// etcd's `compareKV`: an unknown target compares as 0, an unknown result holds, except for a
    /// VALUE compare on a missing key.
    @Test func comparesOutsideTheEnumsGetEtcdsVerdicts() {
        var store = MVCCStore()
        _ = store.apply(.put(PutRequest(key: Array("a".utf8), value: [1])))
        func holds(_ configure: (inout Etcdserverpb_Compare) -> Void) -> Bool {
            var compare = Etcdserverpb_Compare()
            compare.key = Data("a".utf8)
            configure(&compare)
            var copy = store
            guard case .success(.txn(let result)) = copy.apply(.txn(TxnRequest(compare: [Compare(compare)]))) else { return false }
            return result.succeeded
        }
        #expect(holds { $0.target = .UNRECOGNIZED(5); $0.result = .equal; $0.version = 7 })
        #expect(!holds { $0.target = .UNRECOGNIZED(5); $0.result = .notEqual })
        #expect(!holds { $0.target = .UNRECOGNIZED(5); $0.result = .greater })
        #expect(holds { $0.target = .version; $0.result = .UNRECOGNIZED(4); $0.version = 99 })
        #expect(holds { $0.target = .value; $0.result = .UNRECOGNIZED(4) })
        #expect(!holds { $0.key = Data("missing".utf8); $0.target = .value; $0.result = .UNRECOGNIZED(4) })
        #expect(holds { $0.key = Data("missing".utf8); $0.target = .mod; $0.result = .UNRECOGNIZED(4) })
    }

    /// An unknown sort order sorts nothing, whatever the target: keys stay in key order.
    @Test func anUnknownSortOrderSortsNothing() {
        var proto = Etcdserverpb_RangeRequest()
        proto.sortOrder = .UNRECOGNIZED(7)
        proto.sortTarget = .create
        let request = RangeRequest(proto)
        #expect(request.sortOrder == .none && request.sortTarget == .key)
    }

    /// etcd checks a txn in one pass, in order, and an operation with no request is "key not found".
    @Test func anEmptyOperationIsRefusedWhereEtcdFindsIt() {
        var empty = Etcdserverpb_TxnRequest()
        empty.success = [Etcdserverpb_RequestOp()]
        #expect(empty.etcdRefusal() == .keyNotFound)
        var leaseFirst = Etcdserverpb_TxnRequest()
        var put = Etcdserverpb_RequestOp()
        put.requestPut.key = Data("a".utf8)
        put.requestPut.lease = 5
        put.requestPut.ignoreLease = true
        leaseFirst.success = [put, Etcdserverpb_RequestOp()]
        #expect(leaseFirst.etcdRefusal() == .leaseProvided)
        var emptyKeyFirst = Etcdserverpb_TxnRequest()
        var range = Etcdserverpb_RequestOp()
        range.requestRange.key = Data()
        emptyKeyFirst.success = [range]
        emptyKeyFirst.failure = [Etcdserverpb_RequestOp()]
        #expect(emptyKeyFirst.etcdRefusal() == .emptyKey)
    }
}
