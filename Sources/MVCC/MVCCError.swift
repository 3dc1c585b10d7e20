/// The ways a request or command can fail. Each case is one etcd error, and `etcdMessage` and
/// `grpcStatusCode` are what etcd puts on the wire for it, so clients that match on them (etcdctl,
/// clientv3's `rpctypes`, python-etcd3) see exactly what they expect.
public enum MVCCError: Error, Equatable, Sendable {
    /// The revision read, watched or compacted to lies before the compacted revision.
    case compacted(compactRevision: Int64)
    /// The revision read or compacted to lies after the current revision.
    case futureRevision
    case leaseNotFound(Int64)
    case leaseExists(Int64)
    /// `ignoreValue` or `ignoreLease` on a key that does not exist.
    case keyNotFound
    case emptyKey
    /// A put with `ignoreValue` also supplied a value.
    case valueProvided
    /// A put with `ignoreLease` also supplied a lease.
    case leaseProvided
    /// A transaction writes the same key twice (see `TxnIntervalCheck`).
    case duplicateKeyInTxn
    case tooManyOperations(limit: Int)
    case leaseTTLTooLarge
    /// A write while a NOSPACE alarm is raised, or past the quota.
    case noSpace
    /// A member's attributes break a bound (`MemberAttributes`).
    case invalidMember(String)

    /// The gRPC status message etcd sends for this error (etcd's `rpctypes/error.go`; the mvcc and
    /// lease errors reach the wire through `togRPCError`, which maps them to these texts).
    public var etcdMessage: String {
        switch self {
        case .compacted: "etcdserver: mvcc: required revision has been compacted"
        case .futureRevision: "etcdserver: mvcc: required revision is a future revision"
        case .leaseNotFound: "etcdserver: requested lease not found"
        case .leaseExists: "etcdserver: lease already exists"
        case .keyNotFound: "etcdserver: key not found"
        case .emptyKey: "etcdserver: key is not provided"
        case .valueProvided: "etcdserver: value is provided"
        case .leaseProvided: "etcdserver: lease is provided"
        case .duplicateKeyInTxn: "etcdserver: duplicate key given in txn request"
        case .tooManyOperations: "etcdserver: too many operations in txn request"
        case .leaseTTLTooLarge: "etcdserver: too large lease TTL"
        case .noSpace: "etcdserver: mvcc: database space exceeded"
        case .invalidMember(let reason): "etcdserver: \(reason)"
        }
    }

    /// The gRPC status code etcd sends with `etcdMessage` (numeric values of `google.rpc.Code`).
    public var grpcStatusCode: Int {
        switch self {
        case .compacted, .futureRevision, .leaseTTLTooLarge: GRPCStatusCode.outOfRange
        case .leaseNotFound: GRPCStatusCode.notFound
        case .leaseExists: GRPCStatusCode.failedPrecondition
        case .noSpace: GRPCStatusCode.resourceExhausted
        case .keyNotFound, .emptyKey, .valueProvided, .leaseProvided, .duplicateKeyInTxn, .tooManyOperations, .invalidMember:
            GRPCStatusCode.invalidArgument
        }
    }
}

/// The few `google.rpc.Code` values etcd uses for key-value errors.
enum GRPCStatusCode {
    static let invalidArgument = 3
    static let notFound = 5
    static let resourceExhausted = 8
    static let failedPrecondition = 9
    static let outOfRange = 11
}
