import EtcdAPI
import Foundation
import MVCC

// Conversions between etcd's protobuf messages and the MVCC store's own types. The store knows
// nothing of protobuf; this file is the only place the two meet.

extension Data {
    var bytes: [UInt8] { [UInt8](self) }
}

extension KeyValue {
    var proto: Mvccpb_KeyValue {
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
    func proto(withPrevious: Bool) -> Mvccpb_Event {
        var event = Mvccpb_Event()
        event.type = kind == .put ? .put : .delete
        event.kv = kv.proto
        if withPrevious, let previous { event.prevKv = previous.proto }
        return event
    }
}

extension RangeRequest {
    init(_ proto: Etcdserverpb_RangeRequest) {
        let order: MVCC.SortOrder
        switch proto.sortOrder {
        case .none, .UNRECOGNIZED: order = .none
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

extension RangeResult {
    var proto: Etcdserverpb_RangeResponse {
        var response = Etcdserverpb_RangeResponse()
        response.kvs = kvs.map(\.proto)
        response.more = more
        response.count = count
        return response
    }
}

extension PutRequest {
    init(_ proto: Etcdserverpb_PutRequest) {
        self.init(key: proto.key.bytes, value: proto.value.bytes, lease: proto.lease, previousKV: proto.prevKv, ignoreValue: proto.ignoreValue, ignoreLease: proto.ignoreLease)
    }
}

extension PutResult {
    var proto: Etcdserverpb_PutResponse {
        var response = Etcdserverpb_PutResponse()
        if let previous { response.prevKv = previous.proto }
        return response
    }
}

extension DeleteRangeRequest {
    init(_ proto: Etcdserverpb_DeleteRangeRequest) {
        self.init(key: proto.key.bytes, rangeEnd: proto.rangeEnd.bytes, previousKV: proto.prevKv)
    }
}

extension DeleteRangeResult {
    var proto: Etcdserverpb_DeleteRangeResponse {
        var response = Etcdserverpb_DeleteRangeResponse()
        response.deleted = deleted
        response.prevKvs = previous.map(\.proto)
        return response
    }
}

extension Compare {
    init(_ proto: Etcdserverpb_Compare) {
        let result: Result
        switch proto.result {
        case .equal, .UNRECOGNIZED: result = .equal
        case .greater: result = .greater
        case .less: result = .less
        case .notEqual: result = .notEqual
        }
        // The target enum says what is compared; the oneof carries the operand (absent means zero).
        let target: Target
        switch proto.target {
        case .version, .UNRECOGNIZED: target = .version(proto.version)
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
    init?(_ proto: Etcdserverpb_RequestOp) {
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
    init?(_ proto: Etcdserverpb_TxnRequest) {
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
    var isReadOnly: Bool {
        (success + failure).allSatisfy { op in
            switch op {
            case .range: return true
            case .put, .deleteRange: return false
            case .txn(let nested): return nested.isReadOnly
            }
        }
    }
}

extension ResponseOp {
    func proto(header: Etcdserverpb_ResponseHeader) -> Etcdserverpb_ResponseOp {
        var op = Etcdserverpb_ResponseOp()
        switch self {
        case .range(let result):
            var response = result.proto
            response.header = header
            op.responseRange = response
        case .put(let result):
            var response = result.proto
            response.header = header
            op.responsePut = response
        case .deleteRange(let result):
            var response = result.proto
            response.header = header
            op.responseDeleteRange = response
        case .txn(let result):
            op.responseTxn = result.proto(header: header)
        }
        return op
    }
}

extension TxnResult {
    func proto(header: Etcdserverpb_ResponseHeader) -> Etcdserverpb_TxnResponse {
        var response = Etcdserverpb_TxnResponse()
        response.header = header
        response.succeeded = succeeded
        response.responses = responses.map { $0.proto(header: header) }
        return response
    }
}
