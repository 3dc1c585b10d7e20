import ArgumentParser
import Foundation
import Linearizability

/// `synod check-history FILE`: checks a key-value history that a test recorded against a real
/// cluster (one JSON object per line) for linearizability with the same checker the simulator
/// uses. Exit 0: linearizable; 1: not (with the explanation); 2: undecided within the budget.
///
/// A line: {"client": 3, "op": "put"|"get"|"cas", "key": "k1", "value": "v"|null, "invoke": 123,
/// "complete": 456|null}. A put whose outcome the client never learnt has "complete": null; a get
/// that failed is left out (it had no effect). A "cas" sets "value" if the key holds "expected"
/// (null: absent) and carries "ok": true|false once its outcome is known; it models a versioned
/// write (ZooKeeper's setData with a version, etcd's txn on mod_revision) when every written value
/// is unique, since then a version names exactly one value.
struct CheckHistoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check-history",
        abstract: "Check a recorded key-value history (JSON lines) for linearizability.")

    @Argument(help: "The history file.") var file: String
    @Option(help: "The checker's step budget.") var maxSteps: Int = 20_000_000

    /// Operations one file may hold.
    static let operationsMax = 1_000_000

    struct Line: Decodable {
        var client: Int
        var op: String
        var key: String
        var value: String?
        var invoke: UInt64
        var complete: UInt64?
        var expected: String?
        var ok: Bool?
    }

    func run() throws {
        guard maxSteps > 0 else { throw ValidationError("--max-steps must be positive") }
        guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { throw ValidationError("cannot read \(file)") }
        var history: [HistoryOperation<KeyValueModel.Input, KeyValueModel.Output>] = []
        for (number, raw) in text.split(separator: "\n").enumerated() {
            guard history.count < Self.operationsMax else { throw ValidationError("\(file) holds more than \(Self.operationsMax) operations") }
            guard let line = try? JSONDecoder().decode(Line.self, from: Data(raw.utf8)) else {
                throw ValidationError("\(file):\(number + 1): not a history line: \(raw.prefix(200))")
            }
            if let complete = line.complete, complete < line.invoke {
                throw ValidationError("\(file):\(number + 1): completes before it is invoked")
            }
            switch line.op {
            case "put":
                guard let value = line.value else { throw ValidationError("\(file):\(number + 1): a put needs a value") }
                history.append(HistoryOperation(clientID: line.client, input: .put(key: line.key, value: value), output: .ok, invokedAt: line.invoke, completedAt: line.complete))
            case "cas":
                guard let value = line.value else { throw ValidationError("\(file):\(number + 1): a cas needs a value") }
                let output: KeyValueModel.Output?
                switch (line.complete, line.ok) {
                case (nil, _): output = nil
                case (.some, let succeeded?): output = .compareAndSet(succeeded: succeeded)
                case (.some, nil): throw ValidationError("\(file):\(number + 1): a completed cas needs \"ok\"")
                }
                history.append(HistoryOperation(clientID: line.client, input: .compareAndSet(key: line.key, expected: line.expected, new: value), output: output, invokedAt: line.invoke, completedAt: line.complete))
            case "get":
                guard let complete = line.complete else { continue }
                history.append(HistoryOperation(clientID: line.client, input: .get(key: line.key), output: .value(line.value), invokedAt: line.invoke, completedAt: complete))
            default:
                throw ValidationError("\(file):\(number + 1): unknown op \(line.op)")
            }
        }
        let result = Linearizability.check(KeyValueModel(), history: history, maxSteps: maxSteps)
        let indeterminate = history.filter(\.isIndeterminate).count
        print("history: \(history.count) operations (\(indeterminate) indeterminate): \(result)")
        switch result {
        case .linearizable: return
        case .notLinearizable: throw ExitCode(1)
        case .unknown: throw ExitCode(2)
        }
    }
}
