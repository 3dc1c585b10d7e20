/// The human-readable account of why a partition has no linearization.
///
/// It names the longest linearizable prefix the search found (its last few operations and the state
/// they reach) and the operations that could be placed next after it, none of which fitted. Lists are
/// cut to a named bound so that a failure in a history of thousands of operations stays readable.
package enum FailureExplanation {
    /// How many operations of the prefix are shown, counted back from its end.
    package static let prefixOperationsShownMax = 5
    /// How many operations that could not be placed are shown.
    package static let stuckOperationsShownMax = 8

    package static func explain<Model: LinearizabilityModel>(
        model: Model,
        partition: PreparedPartition<Model.Input, Model.Output>,
        deepest: DeepestPrefix<Model.State>
    ) -> String {
        let prefix = deepest.operations
        var inPrefix = Array(repeating: false, count: partition.operationCount)
        for operation in prefix { inPrefix[operation] = true }

        // The operations that could have come next: those invoked before the earliest return among
        // the completed operations left out of the prefix.
        let pending = (0..<partition.operationCount).filter { !inPrefix[$0] }
        let boundaryPosition = pending.compactMap { partition.returnPositions[$0] }.min() ?? Int.max
        let candidates = pending
            .filter { partition.callPositions[$0] < boundaryPosition }
            .sorted { partition.callPositions[$0] < partition.callPositions[$1] }
        let stuckCompleted = candidates.filter { !partition.operations[$0].isIndeterminate }
        let helplessIndeterminateCount = candidates.count - stuckCompleted.count

        var text = "no linearization of the \(partition.operationCount) operations on key \"\(partition.key)\" exists. "
        if prefix.isEmpty {
            let initialState = model.describeState(deepest.state)
            text += "Not even a first operation can be linearized from the initial state \(initialState). "
        } else {
            let shown = prefix.suffix(prefixOperationsShownMax)
            text += "The longest linearizable prefix has \(prefix.count) operation(s)"
            text += prefix.count > shown.count ? ", ending with: " : ": "
            text += describeList(shown, model: model, partition: partition)
            text += "; it leaves the state \(model.describeState(deepest.state)). "
        }
        text += "None of these can be linearized next: "
        text += describeList(stuckCompleted.prefix(stuckOperationsShownMax), model: model, partition: partition)
        if stuckCompleted.count > stuckOperationsShownMax {
            text += " and \(stuckCompleted.count - stuckOperationsShownMax) more"
        }
        if helplessIndeterminateCount > 0 {
            text += "; nor does letting any of the \(helplessIndeterminateCount) operation(s) of unknown outcome"
            text += " invoked by then take effect first"
        }
        return text + "."
    }

    private static func describeList<Model: LinearizabilityModel>(
        _ operations: some Collection<Int>,
        model: Model,
        partition: PreparedPartition<Model.Input, Model.Output>
    ) -> String {
        operations.map { describe(partition.operations[$0], model: model) }.joined(separator: "; ")
    }

    private static func describe<Model: LinearizabilityModel>(
        _ operation: HistoryOperation<Model.Input, Model.Output>,
        model: Model
    ) -> String {
        let completion = operation.completedAt.map { "completed at \($0)" } ?? "never completed"
        let output = operation.isIndeterminate ? nil : operation.output
        return "client \(operation.clientID) \(model.describe(operation.input, output)) "
            + "(invoked at \(operation.invokedAt), \(completion))"
    }
}
