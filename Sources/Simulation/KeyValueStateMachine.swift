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

    public init?(decoding bytes: [UInt8]) {
        let words = String(decoding: bytes, as: UTF8.self).split(separator: " ")
        guard words.count >= 4, words[0].first == "c" else { return nil }
        let session = words[0].dropFirst().split(separator: "#")
        guard session.count == 2, let client = Int(session[0]), let sequence = UInt64(session[1]) else { return nil }
        self.client = client
        self.sequence = sequence
        switch (words[1], words.count) {
        case ("put", 4): operation = .put(key: String(words[2]), value: String(words[3]))
        case ("cas", 5): operation = .compareAndSet(key: String(words[2]), expected: words[3] == "-" ? nil : String(words[3]), new: String(words[4]))
        default: return nil
        }
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
