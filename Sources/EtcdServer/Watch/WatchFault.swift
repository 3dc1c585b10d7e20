import Foundation

/// A deliberately broken watch, for showing that the watch-guarantee checkers catch what they
/// check (etcd's robustness tests do the same with gofail failpoints). Off unless the environment
/// variable `SYNOD_WATCH_FAULT` names one; a production node never sets it.
///
/// Each fault breaks exactly one guarantee, every `period`-th events reply of a stream:
/// - `reorder`: holds a reply back and sends it after the watch's next one (ordered);
/// - `duplicate`: sends a reply twice (unique);
/// - `split`: sends a reply of several events as two (atomic);
/// - `drop`: never sends a reply (reliable);
/// - `early`: a watch from a future revision starts at the current one, etcd 3.4's bug #20281
///   (no event below the start revision);
/// - `progressAhead`: progress notifications claim a revision ahead of what was sent (bookmarkable).
public enum WatchFault: String, Sendable, CaseIterable {
    case reorder
    case duplicate
    case split
    case drop
    case early
    case progressAhead = "progress-ahead"

    package static let environmentVariable = "SYNOD_WATCH_FAULT"
    package static let period = 5
    /// How far ahead `progressAhead` claims to be.
    package static let progressAheadRevisions: Int64 = 10

    /// The fault the environment asks for; nil (and a warning from the caller) for an unknown name.
    package static func fromEnvironment() -> (fault: WatchFault?, unknown: String?) {
        guard let name = ProcessInfo.processInfo.environment[environmentVariable], !name.isEmpty else { return (nil, nil) }
        guard let fault = WatchFault(rawValue: name) else { return (nil, name) }
        return (fault, nil)
    }
}
