/// The indeterminate children of one search node, entered once every completed candidate at that
/// node has been tried.
///
/// All of them are recorded as visited before the first is explored. Otherwise the search would go
/// depth first through chains of timed-out writes: from "apply p1" it would try "p1 then p2", and only
/// later "p2 alone", which dominates it, so every subset of the pending writes would be searched. With
/// the siblings recorded first, "p1 then p2" (which leaves the state p2 left) is seen to be dominated
/// by "p2 alone" and skipped.
package struct IndeterminatePhase<State> {
    package struct Child {
        /// The index into ``PreparedPartition/indeterminateOperations``.
        var candidateIndex: Int
        var stateAfter: State
    }

    package var children: [Child]
    package var nextChildIndex = 0

    package init(children: [Child]) {
        self.children = children
    }

    /// The next child to explore, if any is left.
    package mutating func takeNextChild() -> Child? {
        guard nextChildIndex < children.count else { return nil }
        defer { nextChildIndex += 1 }
        return children[nextChildIndex]
    }
}
