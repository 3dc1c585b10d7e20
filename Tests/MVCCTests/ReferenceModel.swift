import MVCC

/// A deliberately naive model of the same etcd semantics: the whole key space at every revision as
/// a dictionary, and every event in one list. It shares no code with `MVCCStore` except `validate`
/// (the stateless request checks, tested on their own), so the two agreeing over thousands of random
/// commands is evidence that both say what etcd does.
struct ReferenceModel {
    private(set) var revision: Int64 = 1
    /// The live keys at every revision ever reached.
    private var states: [Int64: [[UInt8]: KeyValue]] = [1: [:]]
    private var compactedAt: Int64?
    private var leaseTTLs: [Int64: Int64] = [:]
    private var alarms: Set<Alarm> = []
    private var memberAttributes: [UInt64: MemberAttributes] = [:]
    /// Every event ever, in order; what compaction drops is filtered out when read.
    private var allEvents: [Event] = []
    private(set) var lastEvents: [Event] = []

    var current: [[UInt8]: KeyValue] { states[revision]! }
    var compactedRevision: Int64 { compactedAt ?? 0 }
    private var firstReadable: Int64 { compactedAt ?? -1 }
    var keyCount: Int { current.count }

    var leases: [Lease] {
        leaseTTLs.keys.sorted().map { id in
            Lease(id: id, ttlSeconds: leaseTTLs[id]!, keys: current.values.filter { $0.lease == id }.map(\.key).sorted(by: Self.precedes))
        }
    }

    static func precedes(_ left: [UInt8], _ right: [UInt8]) -> Bool { left.lexicographicallyPrecedes(right) }

    static func inRange(_ candidate: [UInt8], key: [UInt8], rangeEnd: [UInt8]) -> Bool {
        if rangeEnd.isEmpty { return candidate == key }
        if precedes(candidate, key) { return false }
        return rangeEnd == [0] || precedes(candidate, rangeEnd)
    }

    // MARK: Reads

    func range(_ request: RangeRequest) -> Result<RangeResult, MVCCError> {
        if request.key.isEmpty { return .failure(.emptyKey) }
        return readRange(request, current: revision, latest: current)
    }

    /// A read as seen from `current`, whose state is `latest` (a txn's working state inside one).
    private func readRange(_ request: RangeRequest, current: Int64, latest: [[UInt8]: KeyValue]) -> Result<RangeResult, MVCCError> {
        if request.revision > current { return .failure(.futureRevision) }
        let at = request.revision <= 0 ? current : request.revision
        if at < firstReadable { return .failure(.compacted(compactRevision: compactedRevision)) }
        let state = at == current ? latest : states[at]!
        var kvs = state.values.filter { Self.inRange($0.key, key: request.key, rangeEnd: request.rangeEnd) }
            .sorted { Self.precedes($0.key, $1.key) }
        let count = Int64(kvs.count)
        if request.countOnly { return .success(RangeResult(kvs: [], more: false, count: count)) }
        let filtered = request.minModRevision != 0 || request.maxModRevision != 0 || request.minCreateRevision != 0
            || request.maxCreateRevision != 0
        if request.sortOrder == .none && !filtered && request.limit > 0 && request.limit < Int64.max {
            kvs = Array(kvs.prefix(Int(request.limit + 1)))
        }
        if request.maxModRevision != 0 { kvs = kvs.filter { $0.modRevision <= request.maxModRevision } }
        if request.minModRevision != 0 { kvs = kvs.filter { $0.modRevision >= request.minModRevision } }
        if request.maxCreateRevision != 0 { kvs = kvs.filter { $0.createRevision <= request.maxCreateRevision } }
        if request.minCreateRevision != 0 { kvs = kvs.filter { $0.createRevision >= request.minCreateRevision } }
        var order = request.sortOrder
        if order == .none && request.sortTarget != .key { order = .ascend }
        if order != .none { kvs = Self.stableSort(kvs, target: request.sortTarget, descending: order == .descend) }
        var more = false
        if request.limit > 0 && kvs.count > request.limit {
            kvs = Array(kvs.prefix(Int(request.limit)))
            more = true
        }
        if request.keysOnly { kvs = kvs.map { var kv = $0; kv.value = []; return kv } }
        return .success(RangeResult(kvs: kvs, more: more, count: count))
    }

    private static func stableSort(_ kvs: [KeyValue], target: SortTarget, descending: Bool) -> [KeyValue] {
        // Insertion sort: stable by construction, and slow enough to be obviously so.
        var sorted: [KeyValue] = []
        for kv in kvs {
            var position = sorted.count
            while position > 0 && before(kv, sorted[position - 1], target: target, descending: descending) { position -= 1 }
            sorted.insert(kv, at: position)
        }
        return sorted
    }

    private static func before(_ left: KeyValue, _ right: KeyValue, target: SortTarget, descending: Bool) -> Bool {
        func ordered<T: Comparable>(_ a: T, _ b: T) -> Bool { descending ? a > b : a < b }
        switch target {
        case .key: return descending ? precedes(right.key, left.key) : precedes(left.key, right.key)
        case .value: return descending ? precedes(right.value, left.value) : precedes(left.value, right.value)
        case .version: return ordered(left.version, right.version)
        case .create: return ordered(left.createRevision, right.createRevision)
        case .mod: return ordered(left.modRevision, right.modRevision)
        }
    }

    func events(key: [UInt8], rangeEnd: [UInt8], from start: Int64, limit: Int) -> Result<[Event], MVCCError> {
        if start < firstReadable { return .failure(.compacted(compactRevision: compactedRevision)) }
        var retained = allEvents
        if let compactedAt {
            // Below the compacted revision nothing; at it, each key's last change only.
            retained = retained.enumerated().filter { index, event in
                if event.kv.modRevision > compactedAt { return true }
                if event.kv.modRevision < compactedAt { return false }
                return !allEvents[(index + 1)...].contains { $0.kv.modRevision == compactedAt && $0.kv.key == event.kv.key }
            }.map(\.element)
        }
        let selected = retained.filter { $0.kv.modRevision >= start && Self.inRange($0.kv.key, key: key, rangeEnd: rangeEnd) }
        return .success(selected.map { event in
            var event = event
            let creates = event.kind == .put && event.kv.createRevision == event.kv.modRevision
            let before = event.kv.modRevision - 1
            event.previous = creates || before < firstReadable ? nil : states[before]![event.kv.key]
            return event
        })
    }

    // MARK: Commands

    /// The changes of one command in progress.
    private struct Write {
        let revision: Int64
        var state: [[UInt8]: KeyValue]
        let before: [[UInt8]: KeyValue]
        var events: [Event] = []

        mutating func put(_ key: [UInt8], _ value: [UInt8], lease: Int64) -> KeyValue? {
            let old = state[key]
            let kv = KeyValue(key: key, createRevision: old?.createRevision ?? revision, modRevision: revision, version: (old?.version ?? 0) + 1, value: value, lease: lease)
            state[key] = kv
            events.append(Event(kind: .put, kv: kv, previous: old == nil ? nil : before[key]))
            return old
        }

        mutating func delete(_ key: [UInt8]) {
            state[key] = nil
            events.append(Event(kind: .delete, kv: KeyValue(key: key, modRevision: revision), previous: before[key]))
        }

        func keys(from key: [UInt8], to rangeEnd: [UInt8]) -> [[UInt8]] {
            state.keys.filter { ReferenceModel.inRange($0, key: key, rangeEnd: rangeEnd) }.sorted(by: ReferenceModel.precedes)
        }
    }

    private func beginWrite() -> Write { Write(revision: revision + 1, state: current, before: current) }

    private mutating func commit(_ write: Write) {
        guard !write.events.isEmpty else { return }
        revision += 1
        states[revision] = write.state
        allEvents += write.events
        lastEvents = write.events
    }

    mutating func apply(_ command: Command) -> Result<CommandOutcome, MVCCError> {
        lastEvents = []
        if alarms.contains(where: { $0.kind == .noSpace }) && Self.mayAddData(command) { return .failure(.noSpace) }
        do {
            try MVCCStore().validate(command)
        } catch {
            return .failure(error)
        }
        switch command {
        case .put(let put):
            if put.lease != 0 && leaseTTLs[put.lease] == nil { return .failure(.leaseNotFound(put.lease)) }
            var write = beginWrite()
            guard let result = runPut(put, &write) else { return .failure(.keyNotFound) }
            commit(write)
            return .success(.put(result))
        case .deleteRange(let delete):
            var write = beginWrite()
            let result = runDelete(delete, &write)
            commit(write)
            return .success(.deleteRange(result))
        case .txn(let txn):
            return applyTxn(txn).map { .txn($0) }
        case .compact(let target):
            if target <= firstReadable { return .failure(.compacted(compactRevision: compactedRevision)) }
            if target > revision { return .failure(.futureRevision) }
            compactedAt = target
            return .success(.compact)
        case .leaseGrant(let id, let ttl):
            if leaseTTLs[id] != nil { return .failure(.leaseExists(id)) }
            leaseTTLs[id] = ttl
            return .success(.leaseGrant(Lease(id: id, ttlSeconds: ttl)))
        case .leaseRevoke(let id):
            guard leaseTTLs[id] != nil else { return .failure(.leaseNotFound(id)) }
            var write = beginWrite()
            for key in current.values.filter({ $0.lease == id }).map(\.key).sorted(by: Self.precedes) { write.delete(key) }
            leaseTTLs[id] = nil
            commit(write)
            return .success(.leaseRevoke)
        case .alarm(.activate, let alarm):
            alarms.insert(alarm)
            return .success(.alarm([alarm]))
        case .alarm(.deactivate, let alarm):
            return .success(.alarm(alarms.remove(alarm).map { [$0] } ?? []))
        case .memberAttributes(let attributes):
            if memberAttributes[attributes.id] == nil && memberAttributes.count >= MemberAttributes.membersMax {
                return .failure(.invalidMember("more than \(MemberAttributes.membersMax) members"))
            }
            memberAttributes[attributes.id] = attributes
            return .success(.memberAttributes)
        }
    }

    /// What is refused under a NOSPACE alarm: puts, lease grants, and txns with a put anywhere.
    static func mayAddData(_ command: Command) -> Bool {
        func writes(_ operations: [RequestOp]) -> Bool {
            operations.contains { operation in
                switch operation {
                case .range, .deleteRange: false
                case .put: true
                case .txn(let nested): writes(nested.success) || writes(nested.failure)
                }
            }
        }
        switch command {
        case .put, .leaseGrant: return true
        case .txn(let txn): return writes(txn.success) || writes(txn.failure)
        case .deleteRange, .compact, .leaseRevoke, .alarm, .memberAttributes: return false
        }
    }

    /// nil when an ignore flag finds no key.
    private func runPut(_ put: PutRequest, _ write: inout Write) -> PutResult? {
        let existing = write.state[put.key]
        if (put.ignoreValue || put.ignoreLease) && existing == nil { return nil }
        let value = put.ignoreValue ? existing!.value : put.value
        let lease = put.ignoreLease ? existing!.lease : put.lease
        let old = write.put(put.key, value, lease: lease)
        return PutResult(previous: put.previousKV ? old : nil)
    }

    private func runDelete(_ delete: DeleteRangeRequest, _ write: inout Write) -> DeleteRangeResult {
        let keys = write.keys(from: delete.key, to: delete.rangeEnd)
        let previous = delete.previousKV ? keys.map { write.state[$0]! } : []
        for key in keys { write.delete(key) }
        return DeleteRangeResult(deleted: Int64(keys.count), previous: previous)
    }

    private indirect enum Path {
        case chosen(succeeded: Bool, nested: [Path])
    }

    private func path(_ txn: TxnRequest) -> Path {
        let succeeded = txn.compare.allSatisfy { compare in
            let kvs = current.values.filter { Self.inRange($0.key, key: compare.key, rangeEnd: compare.rangeEnd) }
            if kvs.isEmpty {
                if case .value = compare.target { return false }
                return Self.holds(compare, KeyValue(key: compare.key))
            }
            return kvs.allSatisfy { Self.holds(compare, $0) }
        }
        let nested = (succeeded ? txn.success : txn.failure).compactMap { operation -> Path? in
            if case .txn(let child) = operation { return path(child) }
            return nil
        }
        return .chosen(succeeded: succeeded, nested: nested)
    }

    private static func holds(_ compare: Compare, _ kv: KeyValue) -> Bool {
        func result<T: Comparable>(_ actual: T, _ target: T) -> Bool {
            switch compare.result {
            case .equal: actual == target
            case .notEqual: actual != target
            case .greater: actual > target
            case .less: actual < target
            }
        }
        switch compare.target {
        case .value(let value):
            let order = kv.value == value ? 0 : (precedes(kv.value, value) ? -1 : 1)
            return result(order, 0)
        case .version(let version): return result(kv.version, version)
        case .createRevision(let revision): return result(kv.createRevision, revision)
        case .modRevision(let revision): return result(kv.modRevision, revision)
        case .lease(let lease): return result(kv.lease, lease)
        }
    }

    private mutating func applyTxn(_ txn: TxnRequest) -> Result<TxnResult, MVCCError> {
        let path = path(txn)
        // The put checks, by simulating the run: an ignore-flag put needs its key both before the
        // txn (etcd's check) and when it runs (where etcd would panic).
        var simulation = beginWrite()
        if let error = checkPuts(txn, path, &simulation) { return .failure(error) }
        if let error = checkRanges(txn, path) { return .failure(error) }
        var write = beginWrite()
        let result = run(txn, path, &write)
        commit(write)
        return .success(result)
    }

    private func operations(_ txn: TxnRequest, _ path: Path) -> (ops: [RequestOp], nested: [Path], succeeded: Bool) {
        guard case .chosen(let succeeded, let nested) = path else { fatalError() }
        return (succeeded ? txn.success : txn.failure, nested, succeeded)
    }

    private func checkPuts(_ txn: TxnRequest, _ path: Path, _ simulation: inout Write) -> MVCCError? {
        var (ops, nested, _) = operations(txn, path)
        for operation in ops {
            switch operation {
            case .range: break
            case .put(let put):
                if (put.ignoreValue || put.ignoreLease) && (current[put.key] == nil || simulation.state[put.key] == nil) {
                    return .keyNotFound
                }
                if put.lease != 0 && leaseTTLs[put.lease] == nil { return .leaseNotFound(put.lease) }
                _ = runPut(put, &simulation)
            case .deleteRange(let delete):
                _ = runDelete(delete, &simulation)
            case .txn(let child):
                if let error = checkPuts(child, nested.removeFirst(), &simulation) { return error }
            }
        }
        return nil
    }

    private func checkRanges(_ txn: TxnRequest, _ path: Path) -> MVCCError? {
        var (ops, nested, _) = operations(txn, path)
        for operation in ops {
            switch operation {
            case .range(let range):
                if range.revision == 0 { continue }
                if range.revision > revision { return .futureRevision }
                if range.revision < firstReadable { return .compacted(compactRevision: compactedRevision) }
            case .txn(let child):
                if let error = checkRanges(child, nested.removeFirst()) { return error }
            case .put, .deleteRange: break
            }
        }
        return nil
    }

    private func run(_ txn: TxnRequest, _ path: Path, _ write: inout Write) -> TxnResult {
        var (ops, nested, succeeded) = operations(txn, path)
        var responses: [ResponseOp] = []
        for operation in ops {
            switch operation {
            case .range(let range):
                let current = write.events.isEmpty ? revision : revision + 1
                guard case .success(let result) = readRange(range, current: current, latest: write.state) else { fatalError("checked range failed") }
                responses.append(.range(result))
            case .put(let put):
                guard let result = runPut(put, &write) else { fatalError("checked put failed") }
                responses.append(.put(result))
            case .deleteRange(let delete):
                responses.append(.deleteRange(runDelete(delete, &write)))
            case .txn(let child):
                responses.append(.txn(run(child, nested.removeFirst(), &write)))
            }
        }
        return TxnResult(succeeded: succeeded, responses: responses)
    }
}
