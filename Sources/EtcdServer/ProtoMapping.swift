import EtcdAPI
import Foundation
import MVCC

// Conversions between etcd's protobuf messages and the MVCC store's own types. The store knows
// nothing of protobuf; this file is the only place the two meet.

extension Data {
    package var bytes: [UInt8] { [UInt8](self) }
}

extension KeyValue {
    package var proto: Mvccpb_KeyValue {
        var kv = Mvccpb_KeyValue()
        kv.key = Data(key)
        kv.createRevision = createRevision
        kv.modRevision = modRevision
        kv.version = version
        kv.value = Data(value)
        kv.lease = lease
        return kv
    }
}

extension Event {
    package func proto(withPrevious: Bool) -> Mvccpb_Event {
        var event = Mvccpb_Event()
        event.type = kind == .put ? .put : .delete
        event.kv = kv.proto
        if withPrevious, let previous { event.prevKv = previous.proto }
        return event
    }
}

extension RangeRequest {
    package init(_ proto: Etcdserverpb_RangeRequest) {
        let order: MVCC.SortOrder
        switch proto.sortOrder {
        // etcd sorts nothing for an order it does not know, whatever the target: keys stay in key
        // order, which is what no order with the key target gives.
        case .UNRECOGNIZED:
            self.init(Self.withSortOrderNone(proto))
            return
        case .none: order = .none
        case .ascend: order = .ascend
        case .descend: order = .descend
        }
        let target: MVCC.SortTarget
        switch proto.sortTarget {
        case .key, .UNRECOGNIZED: target = .key
        case .version: target = .version
        case .create: target = .create
        case .mod: target = .mod
        case .value: target = .value
        }
        self.init(
            key: proto.key.bytes, rangeEnd: proto.rangeEnd.bytes, limit: proto.limit, revision: proto.revision,
            sortOrder: order, sortTarget: target, keysOnly: proto.keysOnly, countOnly: proto.countOnly,
            minModRevision: proto.minModRevision, maxModRevision: proto.maxModRevision,
            minCreateRevision: proto.minCreateRevision, maxCreateRevision: proto.maxCreateRevision
        )
    }
}

extension RangeRequest {
    package static func withSortOrderNone(_ proto: Etcdserverpb_RangeRequest) -> Etcdserverpb_RangeRequest {
        var plain = proto
        plain.sortOrder = .none
        plain.sortTarget = .key
        return plain
    }
}

extension RangeResult {
    package var proto: Etcdserverpb_RangeResponse {
        var response = Etcdserverpb_RangeResponse()
        response.kvs = kvs.map(\.proto)
        response.more = more
        response.count = count
        return response
    }
}

extension PutRequest {
    package init(_ proto: Etcdserverpb_PutRequest) {
        self.init(key: proto.key.bytes, value: proto.value.bytes, lease: proto.lease, previousKV: proto.prevKv, ignoreValue: proto.ignoreValue, ignoreLease: proto.ignoreLease)
    }
}

extension PutResult {
    package var proto: Etcdserverpb_PutResponse {
        var response = Etcdserverpb_PutResponse()
        if let previous { response.prevKv = previous.proto }
        return response
    }
}

extension DeleteRangeRequest {
    package init(_ proto: Etcdserverpb_DeleteRangeRequest) {
        self.init(key: proto.key.bytes, rangeEnd: proto.rangeEnd.bytes, previousKV: proto.prevKv)
    }
}

extension DeleteRangeResult {
    package var proto: Etcdserverpb_DeleteRangeResponse {
        var response = Etcdserverpb_DeleteRangeResponse()
        response.deleted = deleted
        response.prevKvs = previous.map(\.proto)
        return response
    }
}

extension Compare {
    package init(_ proto: Etcdserverpb_Compare) {
        // etcd's `compareKV` compares an unknown target as 0 (so only EQUAL holds) and takes an
        // unknown result as true, except that a VALUE compare on a missing key is false. The same
        // verdicts, from compares Synod knows: version != -1 always holds, version == -1 never,
        // and create_revision != 0 holds exactly when the key exists.
        let key = proto.key.bytes, rangeEnd = proto.rangeEnd.bytes
        let always = Compare(key: key, rangeEnd: rangeEnd, result: .notEqual, target: .version(-1))
        let never = Compare(key: key, rangeEnd: rangeEnd, result: .equal, target: .version(-1))
        if case .UNRECOGNIZED = proto.target {
            switch proto.result {
            case .notEqual, .greater, .less: self = never
            case .equal, .UNRECOGNIZED: self = always
            }
            return
        }
        if case .UNRECOGNIZED = proto.result {
            self = proto.target == .value ? Compare(key: key, rangeEnd: rangeEnd, result: .notEqual, target: .createRevision(0)) : always
            return
        }
        let result: Result
        switch proto.result {
        case .equal, .UNRECOGNIZED: result = .equal  // UNRECOGNIZED is handled above.
        case .greater: result = .greater
        case .less: result = .less
        case .notEqual: result = .notEqual
        }
        // The target enum says what is compared; the oneof carries the operand (absent means zero).
        let target: Target
        switch proto.target {
        case .version, .UNRECOGNIZED: target = .version(proto.version)  // UNRECOGNIZED is handled above.
        case .create: target = .createRevision(proto.createRevision)
        case .mod: target = .modRevision(proto.modRevision)
        case .value: target = .value(proto.value.bytes)
        case .lease: target = .lease(proto.lease)
        }
        self.init(key: proto.key.bytes, rangeEnd: proto.rangeEnd.bytes, result: result, target: target)
    }
}

extension RequestOp {
    /// nil for an operation with no request set, which etcd rejects too.
    package init?(_ proto: Etcdserverpb_RequestOp) {
        switch proto.request {
        case .requestRange(let range): self = .range(RangeRequest(range))
        case .requestPut(let put): self = .put(PutRequest(put))
        case .requestDeleteRange(let delete): self = .deleteRange(DeleteRangeRequest(delete))
        case .requestTxn(let txn):
            guard let request = TxnRequest(txn) else { return nil }
            self = .txn(request)
        case nil: return nil
        }
    }
}

extension TxnRequest {
    package init?(_ proto: Etcdserverpb_TxnRequest) {
        var success: [RequestOp] = []
        var failure: [RequestOp] = []
        for op in proto.success {
            guard let converted = RequestOp(op) else { return nil }
            success.append(converted)
        }
        for op in proto.failure {
            guard let converted = RequestOp(op) else { return nil }
            failure.append(converted)
        }
        self.init(compare: proto.compare.map(Compare.init), success: success, failure: failure)
    }

    /// Whether any operation writes: a read-only txn is served like a read.
    package var isReadOnly: Bool {
        (success + failure).allSatisfy { op in
            switch op {
            case .range: return true
            case .put, .deleteRange: return false
            case .txn(let nested): return nested.isReadOnly
            }
        }
    }
}

/// The headers etcd puts inside a txn's responses: only a revision, the one the operation saw in
/// the txn's write (`storeTxnWrite`): a range sees the revision before the txn until the txn has
/// changed something, then the next one; a put always reports the next one; a delete the next one
/// once anything has changed, itself included; a nested txn's header is empty.
private struct TxnHeaderRevisions {
    package let beginRevision: Int64
    package var changed = false

    package mutating func convert(_ op: ResponseOp) -> Etcdserverpb_ResponseOp {
        var converted = Etcdserverpb_ResponseOp()
        switch op {
        case .range(let result):
            var response = result.proto
            response.header = header(beginRevision + (changed ? 1 : 0))
            converted.responseRange = response
        case .put(let result):
            changed = true
            var response = result.proto
            response.header = header(beginRevision + 1)
            converted.responsePut = response
        case .deleteRange(let result):
            if result.deleted > 0 { changed = true }
            var response = result.proto
            response.header = header(beginRevision + (changed ? 1 : 0))
            converted.responseDeleteRange = response
        case .txn(let nested):
            var response = Etcdserverpb_TxnResponse()
            // Present and empty, as etcd sends it.
            response.header = Etcdserverpb_ResponseHeader()
            response.succeeded = nested.succeeded
            response.responses = nested.responses.map { convert($0) }
            converted.responseTxn = response
        }
        return converted
    }

    private func header(_ revision: Int64) -> Etcdserverpb_ResponseHeader {
        var header = Etcdserverpb_ResponseHeader()
        header.revision = revision
        return header
    }
}

extension TxnResult {
    /// `header` is the top-level one, with the store's revision after the txn.
    package func proto(header: Etcdserverpb_ResponseHeader) -> Etcdserverpb_TxnResponse {
        var response = Etcdserverpb_TxnResponse()
        response.header = header
        response.succeeded = succeeded
        var revisions = TxnHeaderRevisions(beginRevision: header.revision - (changesStore ? 1 : 0))
        response.responses = responses.map { revisions.convert($0) }
        return response
    }

    /// Whether the branch that ran wrote anything (and so moved the revision).
    package var changesStore: Bool {
        responses.contains { op in
            switch op {
            case .range: return false
            case .put: return true
            case .deleteRange(let result): return result.deleted > 0
            case .txn(let nested): return nested.changesStore
            }
        }
    }
}

extension Etcdserverpb_TxnRequest {
    /// etcd's `checkTxnRequest` in its own order, for a txn holding an operation with no request
    /// (which Synod's `TxnRequest` cannot carry): too many operations, an empty compare key, then
    /// each operation of success and then failure in turn, where an empty one is etcd's "key not
    /// found". Returns the error etcd gives.
    package func etcdRefusal(operationsMax: Int = MVCCStore.txnOperationsMax) -> MVCCError? {
        let longest = Swift.max(compare.count, success.count, failure.count)
        if longest > operationsMax { return .tooManyOperations(limit: MVCCStore.txnOperationsMax) }
        if compare.contains(where: { $0.key.isEmpty }) { return .emptyKey }
        for op in success + failure {
            switch op.request {
            case nil: return .keyNotFound
            case .requestTxn(let nested)?:
                if let refusal = nested.etcdRefusal(operationsMax: operationsMax - longest) { return refusal }
            case .requestRange(let range)?:
                if range.key.isEmpty { return .emptyKey }
            case .requestPut(let put)?:
                do { try MVCCStore.validator.validate(.put(PutRequest(put))) } catch { return error }
            case .requestDeleteRange(let delete)?:
                do { try MVCCStore.validator.validate(.deleteRange(DeleteRangeRequest(delete))) } catch { return error }
            }
        }
        return nil
    }
}
