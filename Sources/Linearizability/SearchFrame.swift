/// One linearized operation on the search stack, with what backtracking needs to undo it.
package struct SearchFrame<State> {
    /// How to undo the operation and where the search resumes at the node below it.
    package enum Resume {
        /// The operation was a completed one whose call is this event-list entry: put its events back
        /// and try the entries after the call.
        case eventList(callEntry: Int)
        /// The operation was the indeterminate candidate at this index of
        /// ``PreparedPartition/indeterminateOperations``: go on with the node's ``IndeterminatePhase``.
        case indeterminateChild(candidateIndex: Int)
    }

    package var operation: Int
    package var stateBefore: State
    package var resume: Resume
}
