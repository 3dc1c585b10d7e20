/// One guard of a transaction (etcd's `Compare`): does the key's field relate to the target so?
///
/// With a `rangeEnd` (rules as in `RangeRequest`) every key in the range must satisfy it. A key that
/// does not exist fails every value comparison and compares as zero for the other targets.
public struct Compare: Sendable, Equatable {
    public enum Result: Sendable, Equatable {
        case equal
        case greater
        case less
        case notEqual
    }

    public enum Target: Sendable, Equatable {
        case value([UInt8])
        case version(Int64)
        case createRevision(Int64)
        case modRevision(Int64)
        case lease(Int64)
    }

    public var key: [UInt8]
    public var rangeEnd: [UInt8]
    public var result: Result
    public var target: Target

    public init(key: [UInt8], rangeEnd: [UInt8] = [], result: Result, target: Target) {
        self.key = key
        self.rangeEnd = rangeEnd
        self.result = result
        self.target = target
    }
}

/// One operation inside a transaction (etcd's `RequestOp`).
public indirect enum RequestOp: Sendable, Equatable {
    case range(RangeRequest)
    case put(PutRequest)
    case deleteRange(DeleteRangeRequest)
    case txn(TxnRequest)
}

/// If every compare holds, run `success`, otherwise `failure` (etcd's `TxnRequest`).
///
/// The whole transaction commits as one revision (or none, when it writes nothing). All compares,
/// nested ones included, are evaluated against the state before the transaction, as etcd does;
/// ranges inside it do see its earlier writes.
public struct TxnRequest: Sendable, Equatable {
    public var compare: [Compare]
    public var success: [RequestOp]
    public var failure: [RequestOp]

    public init(compare: [Compare] = [], success: [RequestOp] = [], failure: [RequestOp] = []) {
        self.compare = compare
        self.success = success
        self.failure = failure
    }
}

/// The answer to one `RequestOp`, in the same position as the operation.
public indirect enum ResponseOp: Sendable, Equatable {
    case range(RangeResult)
    case put(PutResult)
    case deleteRange(DeleteRangeResult)
    case txn(TxnResult)
}

/// The answer to a transaction: which branch ran and the answers of its operations.
public struct TxnResult: Sendable, Equatable {
    public var succeeded: Bool
    public var responses: [ResponseOp]

    public init(succeeded: Bool, responses: [ResponseOp] = []) {
        self.succeeded = succeeded
        self.responses = responses
    }
}
