import ConsensusCore
import Linearizability

/// A client command as it travels through the log: who sent it, its sequence number in that client's
/// session, and the operation. Encoded as readable text so traces show it as is.
public struct KeyValueCommand: Sendable, Equatable {
    public enum Operation: Sendable, Equatable {
        case put(key: String, value: String)
        case compareAndSet(key: String, expected: String?, new: String)
    }

    public var client: Int
    public var sequence: UInt64
    public var operation: Operation

    public init(client: Int, sequence: UInt64, operation: Operation) {
        self.client = client
        self.sequence = sequence
        self.operation = operation
    }

    /// "c<client>#<sequence> put <key> <value>" or "c<client>#<sequence> cas <key> <expected|-> <new>".
    /// Keys and values never contain spaces or "-" alone; the simulator generates them.
    public var encoded: [UInt8] {
        let prefix = "c\(client)#\(sequence)"
        switch operation {
        case .put(let key, let value): return Array("\(prefix) put \(key) \(value)".utf8)
        case .compareAndSet(let key, let expected, let new): return Array("\(prefix) cas \(key) \(expected ?? "-") \(new)".utf8)
        }
    }

    /// Parsed from the bytes, not through `String`: every replica decodes every command it applies,
    /// and string splitting was a tenth of the simulator's time.
    public init?(decoding bytes: [UInt8]) {
        let space = UInt8(ascii: " ")
        let words = bytes.split(separator: space, omittingEmptySubsequences: false)
        guard words.count >= 4, words[0].first == UInt8(ascii: "c") else { return nil }
        let session = words[0].dropFirst().split(separator: UInt8(ascii: "#"), omittingEmptySubsequences: false)
        guard session.count == 2, let client = Self.decimal(session[0]), client <= UInt64(Int.max), let sequence = Self.decimal(session[1]) else {
            return nil
        }
        self.client = Int(client)
        self.sequence = sequence
        func text(_ word: ArraySlice<UInt8>) -> String { String(decoding: word, as: UTF8.self) }
        switch (words[1].elementsEqual("put".utf8), words[1].elementsEqual("cas".utf8), words.count) {
        case (true, _, 4): operation = .put(key: text(words[2]), value: text(words[3]))
        case (_, true, 5): operation = .compareAndSet(key: text(words[2]), expected: words[3].elementsEqual("-".utf8) ? nil : text(words[3]), new: text(words[4]))
        default: return nil
        }
    }

    /// A non-empty run of ASCII digits that fits in 64 bits.
    private static func decimal(_ digits: ArraySlice<UInt8>) -> UInt64? {
        guard !digits.isEmpty, digits.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, overflow1) = value.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !overflow1, !overflow2 else { return nil }
            value = sum
        }
        return value
    }
}

/// The replicated key-value store the simulated clients use, with client sessions (dissertation §6.3):
/// a command whose sequence number was already applied is not applied again, and its first result is
/// returned, so retries are exactly-once.
public struct KeyValueStateMachine: Sendable {
    public typealias Output = KeyValueModel.Output

    public private(set) var values: [String: String] = [:]
    public private(set) var appliedIndex: LogIndex = 0
    private var sessions: [Int: (sequence: UInt64, output: Output)] = [:]

    public init() {}

    var sessionTable: [Int: (sequence: UInt64, output: Output)] { sessions }

    mutating func restore(appliedIndex: LogIndex, values: [String: String], sessions: [Int: (sequence: UInt64, output: Output)]) {
        self.appliedIndex = appliedIndex
        self.values = values
        self.sessions = sessions
    }

    public struct Applied: Sendable {
        public var client: Int
        public var sequence: UInt64
        public var output: Output
    }

    /// Applies the next committed entry; returns the session result for command entries.
    public mutating func apply(_ entry: Entry) -> Applied? {
        precondition(entry.index == appliedIndex + 1, "applied \(entry.index) after \(appliedIndex)")
        appliedIndex = entry.index
        // No-ops and configuration entries occupy an index but do not touch the state.
        guard entry.kind == .command else { return nil }
        guard let command = KeyValueCommand(decoding: entry.data) else {
            preconditionFailure("undecodable command at \(entry.index): \(Entry.printable(entry.data))")
        }
        if let session = sessions[command.client], command.sequence <= session.sequence {
            // A duplicate (retry or network duplicate): answer with the original result if it is the
            // latest; an older one has been superseded and its client moved on.
            guard command.sequence == session.sequence else { return nil }
            return Applied(client: command.client, sequence: command.sequence, output: session.output)
        }
        let output: Output
        switch command.operation {
        case .put(let key, let value):
            values[key] = value
            output = .ok
        case .compareAndSet(let key, let expected, let new):
            let matches = values[key] == expected
            if matches { values[key] = new }
            output = .compareAndSet(succeeded: matches)
        }
        sessions[command.client] = (command.sequence, output)
        return Applied(client: command.client, sequence: command.sequence, output: output)
    }

    public func value(of key: String) -> String? { values[key] }
}
