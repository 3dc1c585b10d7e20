import ConsensusCore

/// The in-memory view of a Raft log. Every entry in it has been, or is about to be, persisted by the
/// shell: the engine emits entries to persist in the same step it appends them.
///
/// `offsetIndex` and `offsetTerm` describe the prefix that is no longer held (index 0 / term 0 until log
/// compaction arrives with snapshots), so the log is the sequence (offsetIndex, lastIndex].
public struct RaftLog: Sendable {
    public private(set) var entries: [Entry]
    public private(set) var offsetIndex: LogIndex = 0
    public private(set) var offsetTerm: Term = 0

    /// A log that starts after `offsetIndex` (a snapshot's index, or 0); `entries` must follow it
    /// contiguously.
    public init(offsetIndex: LogIndex = 0, offsetTerm: Term = 0, entries: [Entry] = []) {
        for (position, entry) in entries.enumerated() {
            precondition(entry.index == offsetIndex + LogIndex(position + 1), "log entries must be contiguous after \(offsetIndex), found \(entry.index) at position \(position)")
        }
        self.offsetIndex = offsetIndex
        self.offsetTerm = offsetTerm
        self.entries = entries
    }

    public var lastIndex: LogIndex { offsetIndex + LogIndex(entries.count) }
    public var lastTerm: Term { entries.last?.term ?? offsetTerm }

    /// The term of the entry at `index`, or nil when the log does not hold it.
    public func term(at index: LogIndex) -> Term? {
        if index == offsetIndex { return offsetTerm }
        guard index > offsetIndex, index <= lastIndex else { return nil }
        return entries[Int(index - offsetIndex) - 1].term
    }

    public func entry(at index: LogIndex) -> Entry? {
        guard index > offsetIndex, index <= lastIndex else { return nil }
        return entries[Int(index - offsetIndex) - 1]
    }

    /// Entries from `first` on, as many as fit the bounds, but at least one when any exists.
    public func entries(from first: LogIndex, countMax: Int = .max, bytesMax: Int = .max) -> [Entry] {
        precondition(first > offsetIndex, "entries from \(first) are compacted (offset \(offsetIndex))")
        guard first <= lastIndex else { return [] }
        let start = Int(first - offsetIndex) - 1
        var end = start
        var bytes = 0
        while end < entries.count, end - start < countMax {
            bytes += entries[end].sizeBytes
            if bytes > bytesMax, end > start { break }
            end += 1
        }
        return Array(entries[start..<end])
    }

    /// Entries in the closed range, which must be held.
    public func entries(in range: ClosedRange<LogIndex>) -> [Entry] {
        precondition(range.lowerBound > offsetIndex && range.upperBound <= lastIndex, "range \(range) outside log (\(offsetIndex), \(lastIndex)]")
        return Array(entries[Int(range.lowerBound - offsetIndex) - 1..<Int(range.upperBound - offsetIndex)])
    }

    /// Raft's election restriction (§5.4.1): a candidate's log is at least as up to date as ours.
    public func isUpToDate(lastIndex candidateIndex: LogIndex, lastTerm candidateTerm: Term) -> Bool {
        candidateTerm > lastTerm || (candidateTerm == lastTerm && candidateIndex >= lastIndex)
    }

    public func matches(index: LogIndex, term: Term) -> Bool { self.term(at: index) == term }

    mutating func append(_ entry: Entry) {
        precondition(entry.index == lastIndex + 1, "append of \(entry.index) after \(lastIndex)")
        precondition(entry.term >= lastTerm, "append of term \(entry.term) after term \(lastTerm)")
        entries.append(entry)
    }

    /// Drops every entry after `index`, to make room for a leader's conflicting suffix.
    mutating func truncate(after index: LogIndex) {
        precondition(index >= offsetIndex && index <= lastIndex, "truncate after \(index) outside [\(offsetIndex), \(lastIndex)]")
        entries.removeSubrange(Int(index - offsetIndex)...)
    }

    /// Forgets every entry through `index`, which a durable snapshot covers.
    mutating func compact(through index: LogIndex) {
        guard index > offsetIndex else { return }
        guard let newOffsetTerm = term(at: index) else {
            preconditionFailure("compacting through \(index) beyond the log end \(lastIndex)")
        }
        entries.removeSubrange(0..<Int(index - offsetIndex))
        offsetIndex = index
        offsetTerm = newOffsetTerm
    }

    /// Discards the whole log and starts again after a snapshot's index and term.
    mutating func reset(toSnapshotIndex index: LogIndex, term: Term) {
        entries.removeAll()
        offsetIndex = index
        offsetTerm = term
    }

    /// The first index of the run of entries sharing the term of `index`, not looking below `floor`.
    /// A follower sends it as the conflict hint so the leader can skip the whole term at once.
    func firstIndex(ofTermAt index: LogIndex, floor: LogIndex) -> LogIndex {
        guard let term = term(at: index) else { return index }
        var first = index
        while first - 1 > max(floor, offsetIndex), self.term(at: first - 1) == term { first -= 1 }
        return first
    }

    /// The last index at or before `index` whose term is `term`, if the log has one.
    func lastIndex(ofTerm term: Term, atOrBefore index: LogIndex) -> LogIndex? {
        var candidate = min(index, lastIndex)
        while candidate > offsetIndex {
            guard let found = self.term(at: candidate) else { return nil }
            if found == term { return candidate }
            if found < term { return nil }
            candidate -= 1
        }
        return nil
    }
}
