import ArgumentParser
import Foundation
import Histogram

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

/// A comma-separated HOST:PORT list, as the load generators take their endpoints.
func parseEndpoints(_ text: String) throws -> [(host: String, port: Int)] {
    try text.split(separator: ",").map { endpoint in
        let parts = endpoint.split(separator: ":")
        guard parts.count == 2, let port = Int(parts[1]) else { throw ValidationError("endpoint \(endpoint) is not host:port") }
        return (String(parts[0]), port)
    }
}

/// A latency histogram in microseconds, as the load generators print it: "p50=…ms p99=…ms p999=…ms".
func latencyFigures(_ histogram: Histogram<UInt64>) -> String {
    func millis(_ percentile: Double) -> String { String(format: "%.3f", Double(histogram.valueAtPercentile(percentile)) / 1000) }
    return "p50=\(millis(50))ms p99=\(millis(99))ms p999=\(millis(99.9))ms"
}

/// Microseconds since `start`, for a latency histogram.
func microsecondsSince(_ start: ContinuousClock.Instant) -> UInt64 {
    let elapsed = ContinuousClock.now - start
    return UInt64(max(0, elapsed.components.seconds * 1_000_000 + elapsed.components.attoseconds / 1_000_000_000_000))
}
