/// A Raft term, a Paxos ballot round or a PBFT view: the logical epoch in which a leader is unique.
public typealias Term = UInt64

/// The position of an entry in the replicated log. Index 0 is the empty prefix; entries start at 1.
public typealias LogIndex = UInt64

/// What an entry carries. Engines add their own control entries here so that every shell can tell
/// client commands from protocol bookkeeping without decoding payloads.
public enum EntryKind: UInt8, Sendable, Hashable {
    /// A client command for the state machine.
    case command = 0
    /// An empty entry a new leader appends to commit entries of earlier terms (Raft §5.4.2).
    case noop = 1
    /// A membership configuration (`ConfigurationEntry`); it takes effect when appended.
    case configuration = 2
}

/// One slot of the replicated log.
public struct Entry: Hashable, Sendable, CustomStringConvertible {
    public var index: LogIndex
    public var term: Term
    public var kind: EntryKind
    public var data: [UInt8]

    public init(index: LogIndex, term: Term, kind: EntryKind = .command, data: [UInt8] = []) {
        self.index = index
        self.term = term
        self.kind = kind
        self.data = data
    }

    /// The size charged against byte bounds (message batches, in-flight windows, uncommitted log).
    /// A fixed header cost keeps empty entries from being free.
    public var sizeBytes: Int { data.count + Entry.headerBytes }

    /// Index, term and kind as they are framed on the wire and on disk.
    public static let headerBytes = 17

    public var description: String {
        switch kind {
        case .noop: return "\(term)/\(index) noop"
        case .configuration: return "\(term)/\(index) " + (ConfigurationEntry(decoding: data).map { "config \($0.membership)" } ?? "config <undecodable>")
        case .command: return "\(term)/\(index) \(Entry.printable(data))"
        }
    }

    /// Renders a payload for traces: UTF-8 text when it is printable, hex otherwise.
    public static func printable(_ data: [UInt8]) -> String {
        if data.allSatisfy({ $0 >= 0x20 && $0 < 0x7f }) {
            return "\"" + String(decoding: data, as: UTF8.self) + "\""
        }
        return "0x" + data.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    /// Pads with leading zeros to `width` characters, for fixed-width numbers in traces and file names.
    public func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
