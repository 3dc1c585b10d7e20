/// The keys a request covers, decoded once from etcd's `(key, range_end)` pair.
enum KeyRange: Equatable {
    /// `range_end` empty: just this key.
    case single([UInt8])
    /// `range_end == [0]`: every key at or after this one (etcd's `mkGteRange`).
    case fromKey([UInt8])
    /// Any other `range_end`: the half-open interval `[lower, upper)`, empty when `upper <= lower`.
    case interval(lower: [UInt8], upper: [UInt8])

    /// The `range_end` byte string that means "to the end of the key space".
    static let toEndMarker: [UInt8] = [0]

    init(key: [UInt8], rangeEnd: [UInt8]) {
        if rangeEnd.isEmpty {
            self = .single(key)
        } else if rangeEnd == KeyRange.toEndMarker {
            self = .fromKey(key)
        } else {
            self = .interval(lower: key, upper: rangeEnd)
        }
    }

    /// The first key the range can contain.
    var lowerBound: [UInt8] {
        switch self {
        case .single(let key), .fromKey(let key): key
        case .interval(let lower, _): lower
        }
    }

    /// Whether `key`, which is at or after `lowerBound`, still lies inside the range; a scan in key
    /// order stops at the first key for which this is false.
    @inline(__always)
    func admitsKeyAtOrAfterLowerBound(_ key: [UInt8]) -> Bool {
        switch self {
        case .single(let only): key == only
        case .fromKey: true
        case .interval(_, let upper): ByteOrder.precedes(key, upper)
        }
    }

    func contains(_ key: [UInt8]) -> Bool {
        ByteOrder.compare(key, lowerBound) >= 0 && admitsKeyAtOrAfterLowerBound(key)
    }
}
