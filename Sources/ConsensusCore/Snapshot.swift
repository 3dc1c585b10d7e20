/// What a snapshot covers: the log prefix through `index` (whose last entry has `term`) and the
/// membership in force at that point, which the log behind it no longer records.
public struct SnapshotMetadata: Sendable, Hashable, CustomStringConvertible {
    public var index: LogIndex
    public var term: Term
    public var membership: Membership

    public init(index: LogIndex, term: Term, membership: Membership) {
        self.index = index
        self.term = term
        self.membership = membership
    }

    public var description: String { "snapshot \(term)/\(index) \(membership)" }
}

/// A state machine image as of `metadata.index`. The bytes are the state machine's own format;
/// engines only carry them.
public struct Snapshot: Sendable, Hashable, CustomStringConvertible {
    public var metadata: SnapshotMetadata
    public var data: [UInt8]

    public init(metadata: SnapshotMetadata, data: [UInt8]) {
        self.metadata = metadata
        self.data = data
    }

    public var description: String { "\(metadata) (\(data.count) bytes)" }
}
