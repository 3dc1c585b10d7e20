/// The longest sequence of operations the search managed to linearize, kept for the explanation of a
/// failure.
///
/// Copying the whole stack whenever it grows would be quadratic on the common path where the search
/// walks straight to success, so the tracker remembers how many of its leading operations still equal
/// the stack's and copies only the differing tail when the stack grows past it.
package struct DeepestPrefix<State> {
    package private(set) var operations: [Int] = []
    /// The model state after ``operations``.
    package private(set) var state: State
    /// How many completed operations ``operations`` holds. Progress is measured in completed
    /// operations because an indeterminate one added at a dead end explains nothing.
    private var completedCount = 0
    /// How many leading entries of ``operations`` equal the search stack's operations.
    private var sharedLength = 0

    package init(initialState: State) {
        state = initialState
    }

    /// Call after pushing a frame onto `stack`, which now holds `completedOnStack` completed operations.
    package mutating func didPush(onto stack: [SearchFrame<State>], completedOnStack: Int, reaching newState: State) {
        let depth = stack.count
        precondition(depth > 0 && sharedLength < depth, "push recorded on stack of \(depth), shared \(sharedLength)")
        if sharedLength == depth - 1, sharedLength < operations.count,
            operations[sharedLength] == stack[depth - 1].operation
        {
            sharedLength += 1
        }
        guard completedOnStack > completedCount else { return }
        operations.removeSubrange(sharedLength...)
        for frame in stack[sharedLength...] {
            operations.append(frame.operation)
        }
        sharedLength = depth
        completedCount = completedOnStack
        state = newState
    }

    /// Call after popping a frame, with the stack's new depth.
    package mutating func didPop(toDepth depth: Int) {
        sharedLength = min(sharedLength, depth)
    }
}
