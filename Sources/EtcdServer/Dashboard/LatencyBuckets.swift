import Synchronization

/// Cumulative latency buckets a dashboard can difference over time: a count per upper bound, kept
/// with relaxed atomics so recording costs a few increments and no lock.
final class LatencyBuckets: Sendable {
    let boundsSeconds: [Double]
    /// One counter per bucket (boxed: an `Atomic` cannot be copied into an array).
    private final class Count: Sendable {
        let value = Atomic<Int>(0)
    }

    private let bucketCounts: [Count]
    private let total = Atomic<Int>(0)

    init(boundsSeconds: [Double]) {
        self.boundsSeconds = boundsSeconds
        bucketCounts = boundsSeconds.map { _ in Count() }
    }

    func record(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) + Double(attoseconds) * 1e-18
        total.wrappingAdd(1, ordering: .relaxed)
        // Only the first bucket that holds it is counted; `snapshot` accumulates.
        if let index = boundsSeconds.firstIndex(where: { value <= $0 }) { bucketCounts[index].value.wrappingAdd(1, ordering: .relaxed) }
    }

    /// The total and, per bound, how many took at most that long.
    var snapshot: (count: Int, cumulative: [Int]) {
        var running = 0
        let cumulative = bucketCounts.map { counter in
            running += counter.value.load(ordering: .relaxed)
            return running
        }
        return (total.load(ordering: .relaxed), cumulative)
    }

    /// Request latencies: 0.5 ms to about 1 s.
    static func requests() -> LatencyBuckets { LatencyBuckets(boundsSeconds: (0..<12).map { 0.0005 * Double(1 << $0) }) }
    /// etcd's WAL fsync buckets: 1 ms to 8.192 s.
    static func walFsync() -> LatencyBuckets { LatencyBuckets(boundsSeconds: (0..<14).map { 0.001 * Double(1 << $0) }) }
}
