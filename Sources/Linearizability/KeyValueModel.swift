/// A key-value store of registers supporting put, get, compare-and-set and delete on one key, and
/// atomic puts and reads of several keys (etcd txns).
///
/// Values are `String?`, where nil means the key is absent. Keys are partitioned by `groups`: each
/// key is its own partition unless it names a group, and an operation on several keys must keep to
/// one group. The model's state is the values of one partition's keys, and starts empty.
public struct KeyValueModel: LinearizabilityModel {
    public enum Input: Hashable, Sendable {
        case put(key: String, value: String)
        case get(key: String)
        /// Sets `key` to `new` if its current value is `expected` (nil: the key is absent).
        case compareAndSet(key: String, expected: String?, new: String)
        /// Removes `key`; the output says whether it was there.
        case delete(key: String)
        /// Sets every key to `value`, atomically.
        case putAll(keys: [String], value: String)
        /// Reads every key, atomically.
        case getAll(keys: [String])
    }

    public enum Output: Hashable, Sendable {
        /// The output of a put or a put of several keys.
        case ok
        /// The output of a get: the value read, nil when the key was absent.
        case value(String?)
        /// The output of a compare-and-set.
        case compareAndSet(succeeded: Bool)
        /// The output of a delete: whether the key existed.
        case deleted(Bool)
        /// The output of a read of several keys, in the order asked.
        case values([String?])
    }

    /// The values of one partition's keys; an absent key has no entry.
    public typealias State = [String: String]

    /// The partition of each key that shares one with others (multi-key operations).
    public let groups: [String: String]

    public init(groups: [String: String] = [:]) { self.groups = groups }

    public var initialState: [String: String] { [:] }

    public func step(_ state: [String: String], _ input: Input, _ output: Output?) -> [String: String]? {
        var after = state
        let expected: Output
        switch input {
        case .put(let key, let value):
            after[key] = value
            expected = .ok
        case .get(let key):
            expected = .value(state[key])
        case .compareAndSet(let key, let wanted, let new):
            let succeeds = state[key] == wanted
            if succeeds { after[key] = new }
            expected = .compareAndSet(succeeded: succeeds)
        case .delete(let key):
            expected = .deleted(after.removeValue(forKey: key) != nil)
        case .putAll(let keys, let value):
            for key in keys { after[key] = value }
            expected = .ok
        case .getAll(let keys):
            expected = .values(keys.map { state[$0] })
        }
        guard let output else { return after }
        return output == expected ? after : nil
    }

    public func partitionKey(_ input: Input) -> String {
        let key: String
        switch input {
        case .put(let first, _), .get(let first), .compareAndSet(let first, _, _), .delete(let first): key = first
        case .putAll(let keys, _), .getAll(let keys): key = keys.first ?? ""
        }
        return groups[key] ?? key
    }

    public func describe(_ input: Input, _ output: Output?) -> String {
        let outputText: String
        switch output {
        case .none: outputText = "?"
        case .ok: outputText = "ok"
        case .value(let value): outputText = Self.describeValue(value)
        case .compareAndSet(let succeeded): outputText = succeeded ? "succeeded" : "failed"
        case .deleted(let existed): outputText = existed ? "deleted" : "absent"
        case .values(let values): outputText = "[" + values.map(Self.describeValue).joined(separator: ", ") + "]"
        }
        switch input {
        case .put(let key, let value):
            return "put(\(key), \(Self.describeValue(value))) -> \(outputText)"
        case .get(let key):
            return "get(\(key)) -> \(outputText)"
        case .compareAndSet(let key, let expected, let new):
            let arguments = "\(key), expected: \(Self.describeValue(expected)), new: \(Self.describeValue(new))"
            return "compareAndSet(\(arguments)) -> \(outputText)"
        case .delete(let key):
            return "delete(\(key)) -> \(outputText)"
        case .putAll(let keys, let value):
            return "putAll(\(keys.joined(separator: ", ")), \(Self.describeValue(value))) -> \(outputText)"
        case .getAll(let keys):
            return "getAll(\(keys.joined(separator: ", "))) -> \(outputText)"
        }
    }

    public func describeState(_ state: [String: String]) -> String {
        "{" + state.keys.sorted().map { "\($0): \(Self.describeValue(state[$0]))" }.joined(separator: ", ") + "}"
    }

    private static func describeValue(_ value: String?) -> String {
        value.map { "\"\($0)\"" } ?? "absent"
    }
}
