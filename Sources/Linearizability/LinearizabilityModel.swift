/// A deterministic model of a sequential object, against which histories are checked.
///
/// The model is applied to one partition at a time, so `State` is the state of one partition (for a
/// key-value store, the value of one key), and every partition starts from ``initialState``.
public protocol LinearizabilityModel: Sendable {
    associatedtype State: Hashable & Sendable
    associatedtype Input: Sendable & Hashable
    associatedtype Output: Sendable & Hashable

    /// The state of every partition before any operation.
    var initialState: State { get }

    /// Applies `input` to `state`. `output` is the observed output, or nil when the operation is
    /// indeterminate (any output is acceptable). Returns the new state if the observation is legal.
    func step(_ state: State, _ input: Input, _ output: Output?) -> State?

    /// The partition key of an input (operations on different keys are independent).
    func partitionKey(_ input: Input) -> String

    /// A short human-readable form of one operation, used in failure explanations.
    func describe(_ input: Input, _ output: Output?) -> String

    /// A short human-readable form of a partition's state, used in failure explanations.
    func describeState(_ state: State) -> String
}

extension LinearizabilityModel {
    public func describeState(_ state: State) -> String { String(describing: state) }
}
