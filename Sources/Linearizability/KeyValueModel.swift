/// A key-value store of registers, one per key, supporting put, get and compare-and-set.
///
/// Values are `String?`, where nil means the key is absent. Each key is its own partition, so the
/// model's state is the value of a single key and starts absent.
public struct KeyValueModel: LinearizabilityModel {
    public enum Input: Hashable, Sendable {
        case put(key: String, value: String)
        case get(key: String)
        /// Sets `key` to `new` if its current value is `expected` (nil: the key is absent).
        case compareAndSet(key: String, expected: String?, new: String)
    }

    public enum Output: Hashable, Sendable {
        /// The output of a put.
        case ok
        /// The output of a get: the value read, nil when the key was absent.
        case value(String?)
        /// The output of a compare-and-set.
        case compareAndSet(succeeded: Bool)
    }

    /// The value of one key; nil when absent.
    public typealias State = String?

    public init() {}

    public var initialState: String? { nil }

    public func step(_ state: String?, _ input: Input, _ output: Output?) -> String?? {
        // The result is doubly optional: `.none` rejects the observation, `.some(nil)` is an absent key.
        let rejected: String?? = .none
        switch input {
        case .put(_, let value):
            guard output == nil || output == .ok else { return rejected }
            return .some(value)
        case .get:
            guard let output else { return .some(state) }
            return output == .value(state) ? .some(state) : rejected
        case .compareAndSet(_, let expected, let new):
            let succeeds = state == expected
            let after: String? = succeeds ? new : state
            guard let output else { return .some(after) }
            return output == .compareAndSet(succeeded: succeeds) ? .some(after) : rejected
        }
    }

    public func partitionKey(_ input: Input) -> String {
        switch input {
        case .put(let key, _), .get(let key), .compareAndSet(let key, _, _):
            return key
        }
    }

    public func describe(_ input: Input, _ output: Output?) -> String {
        let outputText: String
        switch output {
        case .none: outputText = "?"
        case .ok: outputText = "ok"
        case .value(let value): outputText = Self.describeValue(value)
        case .compareAndSet(let succeeded): outputText = succeeded ? "succeeded" : "failed"
        }
        switch input {
        case .put(let key, let value):
            return "put(\(key), \(Self.describeValue(value))) -> \(outputText)"
        case .get(let key):
            return "get(\(key)) -> \(outputText)"
        case .compareAndSet(let key, let expected, let new):
            let arguments = "\(key), expected: \(Self.describeValue(expected)), new: \(Self.describeValue(new))"
            return "compareAndSet(\(arguments)) -> \(outputText)"
        }
    }

    public func describeState(_ state: String?) -> String { Self.describeValue(state) }

    private static func describeValue(_ value: String?) -> String {
        value.map { "\"\($0)\"" } ?? "absent"
    }
}
