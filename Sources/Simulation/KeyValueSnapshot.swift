import ConsensusCore
import Linearizability
import Replica

extension KeyValueStateMachine {
    /// The state as snapshot bytes: canonical (sorted) text lines, so equal states give equal bytes
    /// and the checker can compare digests.
    ///
    ///     applied <index>
    ///     value <key> <value>
    ///     session <client> <sequence> ok | value <v or -> | cas <1 or 0>
    public var snapshotData: [UInt8] {
        var lines = ["applied \(appliedIndex)"]
        for key in values.keys.sorted() { lines.append("value \(key) \(values[key]!)") }
        for client in sessionTable.keys.sorted() {
            let session = sessionTable[client]!
            let output: String
            switch session.output {
            case .ok: output = "ok"
            case .value(let value): output = "value \(value ?? "-")"
            case .compareAndSet(let succeeded): output = "cas \(succeeded ? 1 : 0)"
            case .deleted, .values:
                // The key-value service takes no deletes or multi-key operations
                // (`takesMultiKeyOperations`), so no session ends with one.
                preconditionFailure("the key-value service recorded \(session.output)")
            }
            lines.append("session \(client) \(session.sequence) \(output)")
        }
        return Array(lines.joined(separator: "\n").utf8)
    }

    /// Rebuilds a state machine from `snapshotData`, or returns nil if the bytes are not one.
    public init?(restoring data: [UInt8]) {
        self.init()
        var applied: LogIndex?
        var values: [String: String] = [:]
        var sessions: [Int: (sequence: UInt64, output: Output)] = [:]
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            switch (words.first, words.count) {
            case ("applied", 2):
                applied = LogIndex(words[1])
            case ("value", 3):
                values[words[1]] = words[2]
            case ("session", 4...5):
                guard let client = Int(words[1]), let sequence = UInt64(words[2]) else { return nil }
                let output: Output
                switch (words[3], words.count) {
                case ("ok", 4): output = .ok
                case ("value", 5): output = .value(words[4] == "-" ? nil : words[4])
                case ("cas", 5): output = .compareAndSet(succeeded: words[4] == "1")
                default: return nil
                }
                sessions[client] = (sequence, output)
            default:
                return nil
            }
        }
        guard let applied else { return nil }
        restore(appliedIndex: applied, values: values, sessions: sessions)
    }
}

extension KeyValueStateMachine: StateMachine {
    public struct NotASnapshot: Error {}

    public func snapshot() -> [UInt8] { snapshotData }

    public init(restoring snapshot: Snapshot) throws {
        guard let restored = KeyValueStateMachine(restoring: snapshot.data) else { throw NotASnapshot() }
        self = restored
    }
}
