/// One operation of a recorded history: what a client asked, what it observed, and when.
///
/// Times are in whatever unit the recorder uses (simulator ticks, for instance); only their order
/// matters. `A` happens before `B` exactly when `A.completedAt < B.invokedAt`.
public struct HistoryOperation<Input: Sendable & Hashable, Output: Sendable & Hashable>: Sendable {
    /// The client that issued the operation; used only to explain failures.
    public var clientID: Int
    public var input: Input
    /// nil while indeterminate
    public var output: Output?
    public var invokedAt: UInt64
    /// nil when the operation is indeterminate (never observed to complete)
    public var completedAt: UInt64?

    /// Creates an operation.
    ///
    /// An operation with `completedAt == nil` is indeterminate: its `output` is ignored by the checker.
    /// A completed operation must not complete before it is invoked.
    public init(clientID: Int, input: Input, output: Output?, invokedAt: UInt64, completedAt: UInt64?) {
        self.clientID = clientID
        self.input = input
        self.output = output
        self.invokedAt = invokedAt
        self.completedAt = completedAt
    }

    /// True when the client never learnt the outcome, so the operation may or may not have taken effect.
    public var isIndeterminate: Bool { completedAt == nil }
}

extension HistoryOperation: Equatable {}
extension HistoryOperation: Hashable {}
