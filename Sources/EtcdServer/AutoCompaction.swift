import Foundation

/// etcd's `--auto-compaction-mode` and `--auto-compaction-retention`: the leader compacts the
/// key-value history on its own, so that it (and every snapshot) stops growing with each write.
///
/// - `revision` mode keeps the last N revisions: every five minutes, compact to current − N.
/// - `periodic` mode keeps a time window: sample the revision every tenth of the window (of an
///   hour at most), and compact to the newest sample at least one window old, at most once per
///   window (or hour).
///
/// Pure: the caller passes the clock and the store's revisions, and proposes what it returns.
public struct AutoCompaction: Sendable {
    public enum Mode: Sendable, Equatable {
        case periodic(Duration)
        case revision(Int64)
    }

    public let mode: Mode
    private var samples: [(at: ContinuousClock.Instant, revision: Int64)] = []
    private var lastCompaction: ContinuousClock.Instant?
    private var lastSample: ContinuousClock.Instant?

    /// etcd's revision-mode interval.
    static let revisionCheckInterval: Duration = .seconds(300)

    public init(mode: Mode) { self.mode = mode }

    /// Parses etcd's flag values; nil when auto-compaction is off (retention "0", etcd's default).
    /// In periodic mode a bare number counts hours, as in etcd; otherwise a duration such as
    /// "30m", "1h30m" or "45s".
    public static func parse(mode: String, retention: String) throws(EtcdNodeConfiguration.Problem) -> AutoCompaction? {
        let text = retention.trimmingCharacters(in: .whitespaces)
        switch mode {
        case "revision":
            guard let revisions = Int64(text), revisions >= 0 else {
                throw .invalid("--auto-compaction-retention must be a number of revisions in revision mode, not \(retention)")
            }
            return revisions == 0 ? nil : AutoCompaction(mode: .revision(revisions))
        case "periodic":
            guard let window = duration(text) else {
                throw .invalid("--auto-compaction-retention must be hours or a duration like 30m in periodic mode, not \(retention)")
            }
            return window == .zero ? nil : AutoCompaction(mode: .periodic(window))
        default:
            throw .invalid("--auto-compaction-mode must be periodic or revision, not \(mode)")
        }
    }

    /// The longest retention window accepted: ten years, far beyond any use and far inside
    /// `Duration`'s range, so the arithmetic below cannot overflow.
    static let retentionMillisMax: Double = 10 * 365 * 24 * 3_600_000

    /// "1.5" (hours), "90m", "1h30m", "45s", "500ms"; nil for anything else, including infinities,
    /// NaN and windows above `retentionMillisMax`.
    static func duration(_ text: String) -> Duration? {
        if let hours = Double(text) {
            let millis = hours * 3_600_000
            guard millis.isFinite, millis >= 0, millis <= retentionMillisMax else { return nil }
            return .milliseconds(Int64(millis))
        }
        var totalMillis: Double = 0
        var number = ""
        var rest = Substring(text)
        guard !rest.isEmpty else { return nil }
        while let character = rest.first {
            if character.isNumber || character == "." {
                number.append(character)
                rest = rest.dropFirst()
                continue
            }
            guard let value = Double(number) else { return nil }
            number = ""
            let unitMillis: Double
            if rest.hasPrefix("ms") { unitMillis = 1; rest = rest.dropFirst(2) }
            else if rest.hasPrefix("h") { unitMillis = 3_600_000; rest = rest.dropFirst() }
            else if rest.hasPrefix("m") { unitMillis = 60_000; rest = rest.dropFirst() }
            else if rest.hasPrefix("s") { unitMillis = 1_000; rest = rest.dropFirst() }
            else { return nil }
            totalMillis += value * unitMillis
            guard totalMillis.isFinite, totalMillis <= retentionMillisMax else { return nil }
        }
        return number.isEmpty ? .milliseconds(Int64(totalMillis)) : nil
    }

    /// Forget what was sampled: called when this node becomes the leader, since etcd pauses its
    /// compactor while a node follows.
    public mutating func reset() {
        samples = []
        lastCompaction = nil
        lastSample = nil
    }

    /// The revision to compact to now, if one is due. `compacted` is the store's compacted revision.
    public mutating func due(now: ContinuousClock.Instant, revision: Int64, compacted: Int64) -> Int64? {
        // The first compaction is one interval in, not at once.
        let since = lastCompaction ?? now
        lastCompaction = since
        switch mode {
        case .revision(let keep):
            guard now - since >= Self.revisionCheckInterval else { return nil }
            lastCompaction = now
            let target = revision - keep
            return target > compacted ? target : nil
        case .periodic(let window):
            let cadence = min(window, .seconds(3_600))
            if lastSample.map({ now - $0 >= cadence / 10 }) ?? true {
                samples.append((now, revision))
                lastSample = now
            }
            guard now - since >= cadence else { return nil }
            // The newest sample at least one window old; older ones are no longer needed.
            guard let index = samples.lastIndex(where: { now - $0.at >= window }) else { return nil }
            let target = samples[index].revision
            samples.removeFirst(index + 1)
            lastCompaction = now
            return target > compacted ? target : nil
        }
    }
}
