import EtcdServer
import MVCC

/// etcd's watch guarantees (api_guarantees.md), checked reply by reply against the committed
/// history: every revision's events as the first member to apply it produced them.
///
/// - ordered and unique: a watcher's events come in increasing revision order, each once;
/// - atomic: the events of one revision come in one reply;
/// - reliable: no event between the start revision and the last one delivered is missing;
/// - resumable: a watch resumed on another member from its last revision + 1 goes on with no gap
///   and no repeat (the same watcher, checked across members);
/// - bookmarkable: a progress notification at revision R means every event up to R was delivered;
/// - a watch is canceled only when history it still needs was compacted;
/// - and no event below the start revision (etcd #20281).
struct WatchChecker {
    /// The committed history: each revision's events.
    private(set) var history: [Int64: [Event]] = [:]
    private(set) var violations: [String] = []
    /// Events delivered and checked.
    private(set) var eventsChecked = 0
    /// Watches canceled because their history was compacted (each then resumed).
    private(set) var compactionCancels = 0

    /// A member applied `revision` with `events`; every member must produce the same.
    mutating func applied(revision: Int64, events: [Event], node: Int) {
        if let known = history[revision] {
            if known != events { fail("history: n\(node + 1) applied revision \(revision) with other events than another member") }
        } else {
            history[revision] = events
        }
    }

    /// The committed events matching `watcher`'s range in (after, through].
    func expected(for watcher: SimulatedWatcher, after: Int64, through: Int64) -> [Event] {
        guard through > after else { return [] }
        var events: [Event] = []
        for revision in (after + 1)...through {
            guard let all = history[revision] else { continue }
            events += all.filter { watcher.covers($0.kv.key) }
        }
        return events
    }

    mutating func check(_ reply: WatchReply, watcher: inout SimulatedWatcher) {
        switch reply {
        case .created(let id, let revision):
            watcher.watchID = id
            if watcher.requestedStart == 0 {
                // "From now": the member's revision at creation is where the watch stands.
                watcher.delivered = max(watcher.delivered, revision)
                watcher.firstAllowed = watcher.delivered + 1
            }
        case .refused(let reason, _):
            fail("watch \(watcher.name): create refused: \(reason)")
        case .canceled(let id, _, let compactRevision, let reason):
            guard id == watcher.watchID else { return }
            guard compactRevision > 0, compactRevision > watcher.delivered + 1 else {
                return fail("watch \(watcher.name): canceled by the server (compact revision \(compactRevision), \(reason)) though it had every event up to \(watcher.delivered)")
            }
            // The history it needed is compacted: as a client does, it watches again from the
            // compacted revision, and the events below it are gone for good.
            compactionCancels += 1
            watcher.delivered = compactRevision - 1
            watcher.firstAllowed = compactRevision
            watcher.requestedStart = compactRevision
            watcher.watchID = nil
            watcher.node = nil
        case .events(let id, _, let events, _, _):
            guard id == watcher.watchID, !events.isEmpty else { return }
            checkEvents(events, watcher: &watcher)
        case .progress(let id, let revision):
            guard id == -1 || id == watcher.watchID else { return }
            let missing = expected(for: watcher, after: watcher.delivered, through: revision)
            if !missing.isEmpty {
                fail("bookmarkable: watch \(watcher.name) was told of progress to revision \(revision) but \(missing.count) event(s) from revision \(missing[0].kv.modRevision) were not delivered")
            }
            watcher.delivered = max(watcher.delivered, revision)
            watcher.bookmark = max(watcher.bookmark, revision)
        }
    }

    private mutating func checkEvents(_ events: [Event], watcher: inout SimulatedWatcher) {
        eventsChecked += events.count
        let revisions = events.map(\.kv.modRevision)
        if let low = revisions.first(where: { $0 < watcher.firstAllowed }) {
            return fail("start revision: watch \(watcher.name) from revision \(watcher.firstAllowed) got an event of revision \(low)")
        }
        if zip(revisions, revisions.dropFirst()).contains(where: { $0 > $1 }) {
            return fail("ordered: watch \(watcher.name) got revisions \(revisions) in one reply")
        }
        if revisions[0] <= watcher.bookmark && revisions[0] > watcher.lastEvent {
            return fail("bookmarkable: watch \(watcher.name) got revision \(revisions[0]) after a progress notification at revision \(watcher.bookmark)")
        }
        guard revisions[0] > watcher.delivered else {
            return fail(revisions[0] == watcher.delivered
                ? "unique or atomic: watch \(watcher.name) got revision \(revisions[0]) again, or split across replies"
                : "ordered: watch \(watcher.name) got revision \(revisions[0]) after revision \(watcher.delivered)")
        }
        let last = revisions[revisions.count - 1]
        let wanted = expected(for: watcher, after: watcher.delivered, through: last)
        // The previous versions are not compared: the watchers do not ask for them, and a replay
        // cannot know one that compaction removed.
        if !events.elementsEqual(wanted, by: { $0.kind == $1.kind && $0.kv == $1.kv }) {
            let got = Set(revisions)
            if let gap = wanted.first(where: { !got.contains($0.kv.modRevision) }) {
                return fail("reliable: watch \(watcher.name) missed revision \(gap.kv.modRevision) (got \(revisions) after \(watcher.delivered))")
            }
            if events.count < wanted.count {
                return fail("atomic: watch \(watcher.name) got \(events.count) of the \(wanted.count) events of revisions \(Array(got).sorted()) in one reply")
            }
            return fail("watch \(watcher.name) got events that are not the committed ones at revisions \(revisions)")
        }
        watcher.delivered = last
        watcher.lastEvent = last
    }

    /// A watcher on a running member that is behind that member's revision, once everything
    /// settled, lost events.
    mutating func checkCaughtUp(_ watcher: SimulatedWatcher, memberRevision: Int64) {
        let missing = expected(for: watcher, after: watcher.delivered, through: memberRevision)
        if !missing.isEmpty {
            fail("reliable: watch \(watcher.name) on a member at revision \(memberRevision) still lacks \(missing.count) event(s) from revision \(missing[0].kv.modRevision)")
        }
    }

    mutating func fail(_ message: String) {
        if violations.count < 10 { violations.append(message) }
    }
}

/// One simulated watcher: a key range watched from a start revision, on one member at a time,
/// resumed on another from its last delivered revision + 1 when its member dies.
struct SimulatedWatcher {
    let index: Int
    let key: [UInt8]
    let rangeEnd: [UInt8]
    /// The start revision of the current stream's create request (0: from now).
    var requestedStart: Int64
    /// No event below this revision may arrive.
    var firstAllowed: Int64
    /// Every matching event up to this revision has been delivered.
    var delivered: Int64
    /// The revision of the last event, and of the last progress notification, delivered.
    var lastEvent: Int64 = 0
    var bookmark: Int64 = 0
    var node: Int?
    var stream: InProcessWatchStream?
    var watchID: Int64?
    /// Streams opened; a reply from an older one is ignored.
    var generation = 0

    var name: String { "w\(index)[\(String(decoding: key, as: UTF8.self))\(rangeEnd.isEmpty ? "" : "…")]" }

    func covers(_ candidate: [UInt8]) -> Bool {
        rangeEnd.isEmpty ? candidate == key : !candidate.lexicographicallyPrecedes(key) && candidate.lexicographicallyPrecedes(rangeEnd)
    }
}
