/// A checker that decides whether a recorded history of concurrent operations is linearizable.
///
/// A history is *linearizable* with respect to a sequential model when every operation can be given
/// a single instant, its *linearization point*, somewhere between its invocation and its completion,
/// such that applying the operations one by one in the order of those instants to the model produces
/// exactly the outputs the clients observed.
///
/// ## Terms
///
/// - **History**: every operation the clients issued, each with its invocation and completion time.
/// - **Happens-before**: operation A happens before B when `A.completedAt < B.invokedAt`, strictly.
///   Operations with equal timestamps at the boundary are concurrent, so either order is allowed.
/// - **Indeterminate operation**: an operation that was invoked but whose outcome was never observed
///   (the client timed out). It may have taken effect at any instant after its invocation, or never.
///   It is treated as completing at +infinity with any output acceptable, and it need not be
///   linearized at all.
/// - **Partition**: the operations sharing one ``LinearizabilityModel/partitionKey(_:)``. A history is
///   linearizable if and only if each partition's sub-history is (P-compositionality, Horn and Kroening
///   2015), so partitions are checked independently, which keeps each search small.
/// - **Search step**: one call of the model's `step` (one attempt to linearize an operation next), or
///   one backtrack. The budget `maxSteps` of ``check(_:history:maxSteps:)`` counts these, over all
///   partitions together.
///
/// ## Algorithm
///
/// The search is Wing and Gong's (1993) depth-first search with Lowe's (2017) just-in-time
/// linearization and memoisation, in the form Porcupine (Anish Athalye) uses: the call and return
/// events of a partition sit in a doubly linked list in time order; an operation may be linearized
/// next when its call precedes the earliest return still in the list; linearizing it lifts both of its
/// events out of the list, and backtracking puts them back. Each search node is remembered as the pair
/// (set of linearized operations as a bitset, model state), and a node seen before is never expanded
/// again, because its future depends on nothing else.
///
/// Where this departs from Porcupine, which gives an indeterminate operation a return event at
/// +infinity and so must linearize all of them:
///
/// - Indeterminate operations are kept off the event list and need never be linearized. At each search
///   node they are tried only after every completed candidate has failed, and only when applying one
///   changes the state: one that leaves the state as it is can always be left out instead.
/// - A node stands for every node with the same completed operations and state whose set of
///   indeterminate operations is a superset of its own, since those extra operations may simply never
///   have taken effect (see `VisitedIndeterminateSets`).
/// - All indeterminate children of a node are recorded before any is explored, so that a chain of
///   timed-out writes is recognised as dominated by its last write alone (see `IndeterminatePhase`).
///
/// Without the last two rules a history with k pending timed-out writes can be searched once per
/// subset of them.
public enum Linearizability {}
