// Temporary stand-in for the checker being written on branch `lin`; replaced at merge.
public enum Linearizability {}
public protocol LinearizabilityModel: Sendable {
    associatedtype State: Hashable & Sendable
    associatedtype Input: Sendable & Hashable
    associatedtype Output: Sendable & Hashable
    var initialState: State { get }
    func step(_ state: State, _ input: Input, _ output: Output?) -> State?
    func partitionKey(_ input: Input) -> String
    func describe(_ input: Input, _ output: Output?) -> String
}
public struct HistoryOperation<Input: Sendable & Hashable, Output: Sendable & Hashable>: Sendable {
    public var clientID: Int
    public var input: Input
    public var output: Output?
    public var invokedAt: UInt64
    public var completedAt: UInt64?
    public init(clientID: Int, input: Input, output: Output?, invokedAt: UInt64, completedAt: UInt64?) {
        self.clientID = clientID; self.input = input; self.output = output; self.invokedAt = invokedAt; self.completedAt = completedAt
    }
}
public enum LinearizabilityResult: Sendable, Equatable {
    case linearizable
    case notLinearizable(key: String, explanation: String)
    case unknown(reason: String)
}
extension Linearizability {
    public static func check<Model: LinearizabilityModel>(_ model: Model, history: [HistoryOperation<Model.Input, Model.Output>], maxSteps: Int = 1_000_000) -> LinearizabilityResult { .unknown(reason: "stub") }
}
public struct KeyValueModel: LinearizabilityModel {
    public enum Input: Hashable, Sendable { case put(key: String, value: String); case get(key: String); case compareAndSet(key: String, expected: String?, new: String) }
    public enum Output: Hashable, Sendable { case ok; case value(String?); case compareAndSet(succeeded: Bool) }
    public init() {}
    public var initialState: String? { nil }
    public func step(_ state: String?, _ input: Input, _ output: Output?) -> String?? { nil }
    public func partitionKey(_ input: Input) -> String { "" }
    public func describe(_ input: Input, _ output: Output?) -> String { "" }
}
