/// How the search of one partition ended.
package enum PartitionSearchOutcome<State> {
    case linearizable(stepsUsed: Int)
    /// Every order was exhausted; `deepest` is the longest linearizable prefix found.
    case notLinearizable(deepest: DeepestPrefix<State>)
    case budgetExhausted(stepsUsed: Int)
}

/// The depth-first search for a linearization of one partition (see ``Linearizability`` for the
/// algorithm and where it departs from Porcupine).
///
/// A search node is the set of operations linearized so far with the state they reach; the stack holds
/// the path to the current node. At each node the completed candidates are tried first, in event-list
/// order, then the indeterminate ones (see ``IndeterminatePhase``). A value of this type runs once.
package struct PartitionSearch<Model: LinearizabilityModel> {
    package typealias State = Model.State

    /// Where the search looks for the next operation to linearize at the current node.
    private enum Cursor {
        /// At this event-list entry; every entry before it is a call already tried at this node.
        case eventList(entry: Int)
        /// Every completed candidate has been tried; the node's phase is the top of `indeterminatePhases`.
        case indeterminateChildren
    }

    private let model: Model
    private let partition: PreparedPartition<Model.Input, Model.Output>
    private let stepBudget: Int
    private var steps = 0
    private var hasRun = false

    private var eventList: EventList
    private var linearizedCompleted: OperationBitset
    /// Indexed like `partition.indeterminateOperations`, not by operation.
    private var linearizedIndeterminate: OperationBitset
    private var state: State
    private var completedRemaining: Int
    private var stack: [SearchFrame<State>] = []
    private var indeterminatePhases: [IndeterminatePhase<State>] = []
    private var visited: [SearchConfiguration<State>: VisitedIndeterminateSets] = [:]
    private var deepest: DeepestPrefix<State>

    /// Prepares a search that runs at most `stepBudget` steps; a step is one call of the model's
    /// `step` (one attempt to linearize an operation next) or one backtrack.
    package init(model: Model, partition: PreparedPartition<Model.Input, Model.Output>, stepBudget: Int) {
        precondition(stepBudget >= 0, "negative step budget \(stepBudget)")
        self.model = model
        self.partition = partition
        self.stepBudget = stepBudget
        eventList = partition.eventList
        linearizedCompleted = OperationBitset(capacity: partition.operationCount)
        linearizedIndeterminate = OperationBitset(capacity: partition.indeterminateOperations.count)
        state = model.initialState
        completedRemaining = partition.completedCount
        deepest = DeepestPrefix(initialState: state)
        _ = visitIfNew(state: state)
    }

    package mutating func run() -> PartitionSearchOutcome<State> {
        // The search consumes its own state (the event list, the memo), so a second run would start
        // from wherever the first stopped.
        precondition(!hasRun, "a partition search ran twice on key \(partition.key)")
        hasRun = true
        var cursor = Cursor.eventList(entry: eventList.first)
        while completedRemaining > 0 {
            switch cursor {
            case .eventList(let entry):
                // While a completed operation is unlinearized its return is in the list, and every
                // entry before the cursor is a call, so the cursor meets a return before the tail.
                precondition(
                    entry != eventList.tail,
                    "reached the list tail with \(completedRemaining) completed operations left"
                )
                guard let operation = eventList.calledOperation(entry) else {
                    // The first return left: its operation must come before anything invoked later.
                    guard beginIndeterminatePhase(boundaryEntry: entry) else {
                        return .budgetExhausted(stepsUsed: steps)
                    }
                    cursor = .indeterminateChildren
                    continue
                }
                guard takeStep() else { return .budgetExhausted(stepsUsed: steps) }
                if linearizeCompleted(operation, callEntry: entry) {
                    cursor = .eventList(entry: eventList.first)
                } else {
                    cursor = .eventList(entry: eventList.next(after: entry))
                }

            case .indeterminateChildren:
                if descendIntoNextIndeterminateChild() {
                    cursor = .eventList(entry: eventList.first)
                    continue
                }
                indeterminatePhases.removeLast()
                guard takeStep() else { return .budgetExhausted(stepsUsed: steps) }
                guard let resumed = backtrack() else { return .notLinearizable(deepest: deepest) }
                cursor = resumed
            }
        }
        return .linearizable(stepsUsed: steps)
    }

    /// Counts one step, or returns false when the budget is spent.
    private mutating func takeStep() -> Bool {
        guard steps < stepBudget else { return false }
        steps += 1
        return true
    }

    /// Linearizes the completed `operation` next, if the model accepts it there and the resulting node
    /// is new.
    private mutating func linearizeCompleted(_ operation: Int, callEntry: Int) -> Bool {
        guard let newState = model.step(state, partition.inputs[operation], partition.modelOutputs[operation]) else {
            return false
        }
        linearizedCompleted.insert(operation)
        guard visitIfNew(state: newState) else {
            linearizedCompleted.remove(operation)
            return false
        }
        stack.append(SearchFrame(operation: operation, stateBefore: state, resume: .eventList(callEntry: callEntry)))
        state = newState
        eventList.lift(callEntry)
        completedRemaining -= 1
        deepest.didPush(
            onto: stack,
            completedOnStack: partition.completedCount - completedRemaining,
            reaching: newState
        )
        return true
    }

    /// Records every new node one indeterminate operation leads to from the current node, as the
    /// node's phase. Only operations invoked before `boundaryEntry`, the first return left, qualify.
    /// Returns false when the budget runs out.
    private mutating func beginIndeterminatePhase(boundaryEntry: Int) -> Bool {
        let boundaryPosition = eventList.position(of: boundaryEntry)
        var children: [IndeterminatePhase<State>.Child] = []
        for (candidateIndex, operation) in partition.indeterminateOperations.enumerated() {
            guard partition.callPositions[operation] < boundaryPosition else { break }
            if linearizedIndeterminate.contains(candidateIndex) { continue }
            guard takeStep() else { return false }
            // An indeterminate operation that leaves the state as it is can always be left out
            // instead; the dominance rule would reject its node too, but this saves the lookup.
            guard let newState = model.step(state, partition.inputs[operation], nil), newState != state else {
                continue
            }
            linearizedIndeterminate.insert(candidateIndex)
            if visitIfNew(state: newState) {
                children.append(IndeterminatePhase.Child(candidateIndex: candidateIndex, stateAfter: newState))
            }
            linearizedIndeterminate.remove(candidateIndex)
        }
        indeterminatePhases.append(IndeterminatePhase(children: children))
        return true
    }

    /// Linearizes the next child of the current node's phase, if one is left.
    private mutating func descendIntoNextIndeterminateChild() -> Bool {
        guard let phaseIndex = indeterminatePhases.indices.last else {
            preconditionFailure("indeterminate cursor without a phase at depth \(stack.count)")
        }
        guard let child = indeterminatePhases[phaseIndex].takeNextChild() else { return false }
        let operation = partition.indeterminateOperations[child.candidateIndex]
        linearizedIndeterminate.insert(child.candidateIndex)
        let resume = SearchFrame<State>.Resume.indeterminateChild(candidateIndex: child.candidateIndex)
        stack.append(SearchFrame(operation: operation, stateBefore: state, resume: resume))
        deepest.didPush(
            onto: stack,
            completedOnStack: partition.completedCount - completedRemaining,
            reaching: child.stateAfter
        )
        state = child.stateAfter
        return true
    }

    /// Undoes the latest linearized operation and returns where the search resumes, or nil when the
    /// stack is empty and every order has been tried.
    private mutating func backtrack() -> Cursor? {
        guard let frame = stack.popLast() else { return nil }
        deepest.didPop(toDepth: stack.count)
        state = frame.stateBefore
        switch frame.resume {
        case .eventList(let callEntry):
            linearizedCompleted.remove(frame.operation)
            eventList.unlift(callEntry)
            completedRemaining += 1
            return .eventList(entry: eventList.next(after: callEntry))
        case .indeterminateChild(let candidateIndex):
            linearizedIndeterminate.remove(candidateIndex)
            return .indeterminateChildren
        }
    }

    /// Records the current linearized sets with `state` as a visited node and returns true, unless
    /// that node was visited before or is dominated by one that was (see ``VisitedIndeterminateSets``).
    private mutating func visitIfNew(state: State) -> Bool {
        visited[SearchConfiguration(linearizedCompleted: linearizedCompleted, state: state), default: .init()]
            .insertUnlessDominated(linearizedIndeterminate)
    }
}
