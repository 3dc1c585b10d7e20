import Linearizability

/// Generates histories that are linearizable by construction.
///
/// Operations are executed one by one against the model, the i-th at linearization point
/// `i * pointSpacingTicks`; each is then given an invocation up to `jitterMaxTicks` before its point and
/// a completion up to `jitterMaxTicks` after it. Whenever A completes before B is invoked, A's point
/// precedes B's, so the sequential order is a linearization of the jittered history.
struct RandomHistoryGenerator {
    var operationCount = 60
    var keys = ["x", "y", "z"]
    var pointSpacingTicks: UInt64 = 10
    var jitterMaxTicks: UInt64 = 30
    /// The chance that a write's client times out; the write may still have taken effect.
    var timeoutPercent = 10

    func generate(using random: inout SplitMix64) -> [KeyValueOperation] {
        var values: [String: String] = [:]
        var writtenValues: [String] = []
        var history: [KeyValueOperation] = []
        for index in 0..<operationCount {
            let key = keys.randomElement(using: &random)!
            let point = jitterMaxTicks + UInt64(index) * pointSpacingTicks
            let invokedAt = point - UInt64.random(in: 0...jitterMaxTicks, using: &random)
            let completedAt = point + UInt64.random(in: 0...jitterMaxTicks, using: &random)
            let client = Int.random(in: 0..<5, using: &random)
            let newValue = "v\(index)"
            let current = values[key]

            let input: KeyValueModel.Input
            let output: KeyValueModel.Output
            let isRead: Bool
            // Whether the operation changes the value (a compare-and-set may fail).
            let writes: Bool
            switch Int.random(in: 0..<10, using: &random) {
            case 0..<4:
                input = .get(key: key)
                output = .value(current)
                isRead = true
                writes = false
            case 4..<8:
                input = .put(key: key, value: newValue)
                output = .ok
                isRead = false
                writes = true
            default:
                // Half the time expect the current value, so that both outcomes occur.
                let expected = Bool.random(using: &random) ? current : writtenValues.randomElement(using: &random)
                input = .compareAndSet(key: key, expected: expected, new: newValue)
                output = .compareAndSet(succeeded: expected == current)
                isRead = false
                writes = expected == current
            }
            if writes {
                values[key] = newValue
                writtenValues.append(newValue)
            }

            if !isRead, Int.random(in: 0..<100, using: &random) < timeoutPercent {
                // A timed-out write whose effect is dropped (it never reached the store) is just as
                // linearizable as one that took effect: undo it half the time.
                if writes, Bool.random(using: &random) {
                    values[key] = current
                }
                history.append(
                    KeyValueOperation(
                        clientID: client,
                        input: input,
                        output: nil,
                        invokedAt: invokedAt,
                        completedAt: nil
                    )
                )
            } else {
                history.append(
                    KeyValueOperation(
                        clientID: client,
                        input: input,
                        output: output,
                        invokedAt: invokedAt,
                        completedAt: completedAt
                    )
                )
            }
        }
        return history
    }
}
