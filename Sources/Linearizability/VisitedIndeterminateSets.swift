/// The sets of linearized indeterminate operations already visited together with one
/// ``SearchConfiguration``, kept as an antichain (no member contains another).
///
/// A node (completed set C, indeterminate set I, state s) has every future that a node (C, J, s) with
/// J ⊇ I has: the extra indeterminate operations of J may simply never take effect, and since they
/// have no completion they constrain nothing else. So once (C, I, s) is visited, any (C, J, s) with
/// J ⊇ I can be skipped. Porcupine memoises exact matches only; without this rule a history with k
/// pending timed-out writes can be re-searched once for every subset of them.
package struct VisitedIndeterminateSets {
    private var minimalSets: [OperationBitset] = []

    /// Records `candidate` and returns true, unless a visited set is contained in it, in which case the
    /// node is dominated and nothing changes.
    package mutating func insertUnlessDominated(_ candidate: OperationBitset) -> Bool {
        if minimalSets.contains(where: { $0.isSubset(of: candidate) }) { return false }
        // Supersets of the new set can never dominate anything it does not, so they are dropped to
        // keep the scan short.
        minimalSets.removeAll { candidate.isSubset(of: $0) }
        minimalSets.append(candidate)
        return true
    }
}
