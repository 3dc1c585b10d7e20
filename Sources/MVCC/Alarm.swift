/// etcd's alarms: a member raised a condition that changes what the cluster accepts. They live in
/// the replicated state (etcd's `alarm` bucket), so every member refuses the same writes, and they
/// stay until an operator disarms them (`etcdctl alarm disarm`).
public struct Alarm: Sendable, Hashable, Comparable {
    /// etcd's `AlarmType` values, which are also their wire numbers.
    public enum Kind: UInt8, Sendable, Hashable, CaseIterable {
        /// The store passed its quota, or a member's disk filled: writes that add data are refused.
        case noSpace = 1
        /// Members disagree on the store's hash.
        case corrupt = 2
    }

    public var memberID: UInt64
    public var kind: Kind

    public init(memberID: UInt64, kind: Kind) {
        self.memberID = memberID
        self.kind = kind
    }

    public static func < (left: Alarm, right: Alarm) -> Bool {
        (left.memberID, left.kind.rawValue) < (right.memberID, right.kind.rawValue)
    }
}

/// What an alarm command does (etcd's `AlarmRequest.AlarmAction`, less GET, which is a read).
public enum AlarmAction: UInt8, Sendable, Hashable, CaseIterable {
    case activate = 1
    case deactivate = 2
}

extension MVCCStore {
    /// Raises or clears one alarm. It writes no key, so the revision does not move. Returns the
    /// alarms the command changed, as etcd's `AlarmResponse` lists them.
    mutating func applyAlarm(_ action: AlarmAction, _ alarm: Alarm) -> [Alarm] {
        switch action {
        case .activate:
            // etcd answers with the alarm whether or not it was already raised.
            alarmSet.insert(alarm)
            return [alarm]
        case .deactivate:
            return alarmSet.remove(alarm).map { [$0] } ?? []
        }
    }

    /// etcd's `applierV3Capped`: while a NOSPACE alarm is raised, a command that could add data is
    /// refused: puts, transactions that write, and lease grants. Reads, deletes, compaction and
    /// lease revocation still apply, so an operator can make room.
    func refusedForSpace(_ command: Command) -> Bool {
        hasNoSpaceAlarm && command.mayAddData
    }

    /// Every raised alarm, in member then kind order.
    public var alarms: [Alarm] { alarmSet.sorted() }

    public var hasNoSpaceAlarm: Bool { alarmSet.contains { $0.kind == .noSpace } }
}

extension Command {
    /// Whether the command could make the store larger: what a quota or a NOSPACE alarm refuses.
    /// etcd's capped applier refuses a txn whose puts cost anything (`costTxn`), so one that only
    /// reads and deletes still runs and can free space; etcd counts only a txn's top-level puts,
    /// Synod any put at any depth.
    public var mayAddData: Bool {
        switch self {
        case .put, .leaseGrant: return true
        case .txn(let txn): return txn.containsPut
        case .deleteRange, .compact, .leaseRevoke, .alarm, .memberAttributes: return false
        }
    }
}

extension TxnRequest {
    /// A put in either branch, at any depth.
    var containsPut: Bool {
        func anyPut(_ operations: [RequestOp]) -> Bool {
            operations.contains { operation in
                switch operation {
                case .range, .deleteRange: return false
                case .put: return true
                case .txn(let nested): return nested.containsPut
                }
            }
        }
        return anyPut(success) || anyPut(failure)
    }
}
