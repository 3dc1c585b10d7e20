/// The part of a search node that must match exactly for one node to stand in for another: which
/// completed operations are linearized, and the model state reached.
///
/// The indeterminate operations linearized so far are kept apart (see ``VisitedIndeterminateSets``),
/// because there a smaller set is as good as an equal one.
package struct SearchConfiguration<State: Hashable>: Hashable {
    package var linearizedCompleted: OperationBitset
    package var state: State
}
