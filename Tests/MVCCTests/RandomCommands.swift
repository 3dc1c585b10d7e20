import MVCC

/// Seeded random commands and reads over a small key space, so that keys collide often: the
/// model-based test and the codec tests draw from it.
struct RandomCommands {
    var random: SplitMix64
    /// Alarm commands among the rest: off by default, since a raised NOSPACE refuses writes that
    /// tests further on may expect to succeed.
    var includesAlarms = false
    /// Keys from a few letters, with prefixes of each other, so ranges and prefixes overlap.
    let keys: [[UInt8]] = ["a", "aa", "ab", "b", "ba", "c", "d", "e", "f", "g"].map(bytes)
    let leaseIDs: [Int64] = [1, 2, 3]
    /// How deep random txns nest.
    let txnDepthMax = 2

    init(seed: UInt64) {
        random = SplitMix64(seed: seed)
    }

    mutating func key() -> [UInt8] { random.pick(keys) }

    mutating func rangeEnd(after key: [UInt8]) -> [UInt8] {
        switch random.int(in: 0...3) {
        case 0: []
        case 1: [0]
        case 2: self.key()  // may lie before `key`: an empty range
        default: key + [0xFF]
        }
    }

    mutating func value() -> [UInt8] {
        (0..<random.int(in: 0...3)).map { _ in UInt8(random.int(in: 0x30...0x33)) }
    }

    mutating func lease() -> Int64 { random.chance(70) ? 0 : random.pick(leaseIDs + [9]) }

    /// A revision near the store's history, including 0, negative and future ones.
    mutating func revision(current: Int64) -> Int64 {
        random.chance(40) ? 0 : Int64(random.int(in: -1...Int(current) + 1))
    }

    mutating func command(current: Int64) -> Command {
        switch random.int(in: 0...99) {
        case 0..<38: .put(put())
        case 38..<48: .deleteRange(deleteRange())
        case 48..<78: .txn(txn(depth: 0, current: current))
        case 78..<84: .compact(revision: Int64(random.int(in: 0...Int(current) + 1)))
        case 84..<92: .leaseGrant(id: random.pick(leaseIDs + [0]), ttlSeconds: random.chance(5) ? 9_000_000_001 : Int64(random.int(in: 1...100)))
        case 92..<95 where includesAlarms:
            // Mostly clearing, so that a raised NOSPACE does not refuse most of a run's writes.
            .alarm(
                random.chance(10) ? .activate : .deactivate,
                Alarm(memberID: 1, kind: random.pick(Alarm.Kind.allCases)))
        case 95..<97 where includesAlarms:
            .memberAttributes(MemberAttributes(
                id: UInt64(random.int(in: 0...3)), name: random.chance(50) ? "" : "m",
                peerURLs: (0..<random.int(in: 0...2)).map { "http://127.0.0.1:\(2380 + $0)" }, clientURLs: []))
        default: .leaseRevoke(id: random.pick(leaseIDs + [7]))
        }
    }

    mutating func put() -> PutRequest {
        var put = PutRequest(key: random.chance(2) ? [] : key(), value: value(), lease: lease(), previousKV: random.chance(50))
        if random.chance(12) {
            put.ignoreValue = true
            if !random.chance(10) { put.value = [] }
        }
        if random.chance(12) {
            put.ignoreLease = true
            if !random.chance(10) { put.lease = 0 }
        }
        return put
    }

    mutating func deleteRange() -> DeleteRangeRequest {
        let key = random.chance(2) ? [] : key()
        return DeleteRangeRequest(key: key, rangeEnd: rangeEnd(after: key), previousKV: random.chance(50))
    }

    mutating func range(current: Int64) -> RangeRequest {
        let key = random.chance(2) ? [] : key()
        var filters: [Int64] = (0..<4).map { _ in random.chance(75) ? 0 : Int64(random.int(in: 1...Int(current) + 1)) }
        if random.chance(50) { filters = [0, 0, 0, 0] }
        return RangeRequest(
            key: key, rangeEnd: rangeEnd(after: key), limit: random.chance(50) ? 0 : Int64(random.int(in: -1...4)),
            revision: revision(current: current), sortOrder: random.pick([.none, .none, .ascend, .descend]),
            sortTarget: random.pick([.key, .key, .version, .create, .mod, .value]), keysOnly: random.chance(15),
            countOnly: random.chance(10), minModRevision: filters[0], maxModRevision: filters[1],
            minCreateRevision: filters[2], maxCreateRevision: filters[3])
    }

    mutating func compare() -> Compare {
        let target: Compare.Target =
            switch random.int(in: 0...4) {
            case 0: .value(value())
            case 1: .version(Int64(random.int(in: 0...3)))
            case 2: .createRevision(Int64(random.int(in: 0...20)))
            case 3: .modRevision(Int64(random.int(in: 0...20)))
            default: .lease(random.pick([0] + leaseIDs))
            }
        let key = random.chance(2) ? [] : key()
        return Compare(
            key: key, rangeEnd: random.chance(70) ? [] : rangeEnd(after: key),
            result: random.pick([.equal, .notEqual, .greater, .less]), target: target)
    }

    /// A txn whose writes mostly touch distinct keys, so that most pass the duplicate check.
    mutating func txn(depth: Int, current: Int64) -> TxnRequest {
        func branch(_ generator: inout RandomCommands) -> [RequestOp] {
            (0..<generator.random.int(in: 0...4)).map { _ in
                switch generator.random.int(in: 0...9) {
                case 0..<3: .range(generator.range(current: current))
                case 3..<6: .put(generator.put())
                case 6..<8: .deleteRange(generator.deleteRange())
                default:
                    depth < generator.txnDepthMax
                        ? .txn(generator.txn(depth: depth + 1, current: current))
                        : .range(generator.range(current: current))
                }
            }
        }
        let compares = (0..<random.int(in: 0...2)).map { _ in compare() }
        return TxnRequest(compare: compares, success: branch(&self), failure: branch(&self))
    }

    /// Any value at all, for codec round trips: extreme integers, long byte strings, every flag.
    mutating func wildCommand() -> Command {
        func wildInteger(_ generator: inout RandomCommands) -> Int64 {
            switch generator.random.int(in: 0...4) {
            case 0: .min
            case 1: .max
            case 2: 0
            case 3: -Int64(generator.random.int(in: 1...300))
            default: Int64(bitPattern: generator.random.next())
            }
        }
        func wildBytes(_ generator: inout RandomCommands) -> [UInt8] {
            (0..<generator.random.int(in: 0...(generator.random.chance(10) ? 300 : 4))).map { _ in
                UInt8(truncatingIfNeeded: generator.random.next())
            }
        }
        var command = self.command(current: 10)
        switch command {
        case .put(var put):
            put.key = wildBytes(&self)
            put.value = wildBytes(&self)
            put.lease = wildInteger(&self)
            put.ignoreLease = random.chance(50)
            put.ignoreValue = random.chance(50)
            command = .put(put)
        case .compact: command = .compact(revision: wildInteger(&self))
        case .leaseGrant: command = .leaseGrant(id: wildInteger(&self), ttlSeconds: wildInteger(&self))
        case .leaseRevoke: command = .leaseRevoke(id: wildInteger(&self))
        case .alarm(let action, var alarm):
            alarm.memberID = UInt64(bitPattern: wildInteger(&self))
            command = .alarm(action, alarm)
        case .memberAttributes(var attributes):
            attributes.id = UInt64(bitPattern: wildInteger(&self))
            attributes.clientURLs = (0..<random.int(in: 0...MemberAttributes.urlsMax)).map { _ in String(decoding: wildBytes(&self), as: UTF8.self) }
            command = .memberAttributes(attributes)
        case .txn(var txn):
            if var range = txn.success.compactMap({ if case .range(let range) = $0 { range } else { nil } }).first {
                range.limit = wildInteger(&self)
                range.revision = wildInteger(&self)
                range.maxCreateRevision = wildInteger(&self)
                range.rangeEnd = wildBytes(&self)
                txn.failure.append(.range(range))
            }
            command = .txn(txn)
        case .deleteRange: break
        }
        return command
    }
}
