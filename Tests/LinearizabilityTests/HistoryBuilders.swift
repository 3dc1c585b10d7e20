import Linearizability

/// Builders that keep hand-made histories readable, e.g. `put("x", "a", from: 0, to: 10)`.
typealias KeyValueOperation = HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>

func put(_ key: String, _ value: String, client: Int = 0, from invokedAt: UInt64, to completedAt: UInt64)
    -> KeyValueOperation
{
    KeyValueOperation(
        clientID: client,
        input: .put(key: key, value: value),
        output: .ok,
        invokedAt: invokedAt,
        completedAt: completedAt
    )
}

func get(_ key: String, returns value: String?, client: Int = 0, from invokedAt: UInt64, to completedAt: UInt64)
    -> KeyValueOperation
{
    KeyValueOperation(
        clientID: client,
        input: .get(key: key),
        output: .value(value),
        invokedAt: invokedAt,
        completedAt: completedAt
    )
}

func compareAndSet(
    _ key: String,
    expected: String?,
    new: String,
    succeeded: Bool,
    client: Int = 0,
    from invokedAt: UInt64,
    to completedAt: UInt64
) -> KeyValueOperation {
    KeyValueOperation(
        clientID: client,
        input: .compareAndSet(key: key, expected: expected, new: new),
        output: .compareAndSet(succeeded: succeeded),
        invokedAt: invokedAt,
        completedAt: completedAt
    )
}

/// A put whose client gave up waiting: it may have taken effect at any time after `invokedAt`, or never.
func timedOutPut(_ key: String, _ value: String, client: Int = 0, from invokedAt: UInt64) -> KeyValueOperation {
    KeyValueOperation(
        clientID: client,
        input: .put(key: key, value: value),
        output: nil,
        invokedAt: invokedAt,
        completedAt: nil
    )
}

func checkKeyValue(_ history: [KeyValueOperation], maxSteps: Int = Linearizability.defaultMaxSteps)
    -> LinearizabilityResult
{
    Linearizability.check(KeyValueModel(), history: history, maxSteps: maxSteps)
}

/// The key a `.notLinearizable` result names, or nil for any other result.
func failedKey(_ result: LinearizabilityResult) -> String? {
    if case .notLinearizable(let key, _) = result { return key }
    return nil
}

func isUnknown(_ result: LinearizabilityResult) -> Bool {
    if case .unknown = result { return true }
    return false
}
