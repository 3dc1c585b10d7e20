/// The verdict of ``Linearizability/check(_:history:maxSteps:)``.
public enum LinearizabilityResult: Sendable, Equatable {
    /// Every partition has a linearization.
    case linearizable
    /// The partition `key` has no linearization; `explanation` shows the longest linearizable prefix
    /// the search found and the operations that could not be placed after it.
    case notLinearizable(key: String, explanation: String)
    /// The search budget ran out before a verdict. This is never reported as linearizable, because an
    /// unfinished search proves nothing.
    case unknown(reason: String)
}
