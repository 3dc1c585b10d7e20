import Foundation

/// Seconds elapsed since `start`, as a Double.
func secondsSince(_ start: ContinuousClock.Instant) -> Double {
    let elapsed = ContinuousClock.now - start
    return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
}

/// The value at quantile `q` (0...1) of `samples`, which must be sorted.
func quantile<T>(_ samples: [T], _ q: Double) -> T? {
    guard !samples.isEmpty else { return nil }
    return samples[min(samples.count - 1, Int(Double(samples.count) * q))]
}
