import ConsensusCore
import Linearizability

/// The record of a run: a digest of every event (to prove two runs of a seed are identical), the last
/// events kept unformatted in a ring (formatting every event would dominate the simulator's cost),
/// and optionally every event formatted.
struct Trace<Engine: SimulatableEngine> {
    enum Record {
        case step(node: Int, event: EngineEvent<Engine.Message>, actions: [EngineAction<Engine.Message, Engine.HardState>])
        case note(String)
        /// Client events are kept structured and formatted only when shown: they are frequent.
        case client(Int, sequence: UInt64, ClientEvent)
    }

    enum ClientEvent {
        case invoke(KeyValueModel.Input)
        case complete(KeyValueModel.Input, KeyValueModel.Output)
        case abandon(KeyValueModel.Input)
        case timedOut(retryAt: Int)
    }

    let tailCapacity: Int
    var tail: [(time: UInt64, record: Record)] = []
    var tailStart = 0
    internal(set) var digest: UInt64 = Digest.offset
    internal(set) var fullTrace: [String]?

    init(tailCapacity: Int, recordEverything: Bool) {
        self.tailCapacity = max(1, tailCapacity)
        self.fullTrace = recordEverything ? [] : nil
    }

    mutating func record(_ record: Record, at time: UInt64) {
        digest = Digest.combine(digest, time)
        switch record {
        case .step(let node, let event, let actions):
            digest = Digest.combine(digest, UInt64(node) << 32 | UInt64(actions.count) << 8 | Self.code(of: event))
        case .note(let text):
            digest = Digest.of(text, seed: digest)
        case .client(let client, let sequence, _):
            digest = Digest.combine(Digest.combine(digest, UInt64(client)), sequence)
        }
        if fullTrace != nil { fullTrace!.append(Self.format(time: time, record)) }
        if tail.count < tailCapacity {
            tail.append((time, record))
        } else {
            tail[tailStart] = (time, record)
            tailStart = (tailStart + 1) % tailCapacity
        }
    }

    var formattedTail: [String] {
        (0..<tail.count).map { offset in
            let item = tail[(tailStart + offset) % tail.count]
            return Self.format(time: item.time, item.record)
        }
    }

    static func code(of event: EngineEvent<Engine.Message>) -> UInt64 {
        switch event {
        case .tick: return 1
        case .receive: return 2
        case .propose: return 3
        case .read: return 4
        case .proposeBatch: return 5
        case .snapshotCreated: return 6
        case .changeMembership: return 7
        case .transferLeadership: return 8
        case .persisted: return 9
        case .snapshotNow: return 10
        }
    }

    static func format(time: UInt64, _ record: Record) -> String {
        let stamp = formatTime(time)
        switch record {
        case .note(let text):
            return "\(stamp) \(text)"
        case .client(let client, let sequence, .invoke(let input)):
            return "\(stamp) client \(client) invokes #\(sequence) \(format(input))"
        case .client(let client, let sequence, .complete(let input, let output)):
            return "\(stamp) client \(client) completes #\(sequence) \(format(input)) -> \(format(output))"
        case .client(let client, let sequence, .abandon(let input)):
            return "\(stamp) client \(client) abandons #\(sequence) \(format(input))"
        case .client(let client, let sequence, .timedOut(let node)):
            return "\(stamp) client \(client) #\(sequence) timed out; retrying at n\(node + 1)"
        case .step(let node, let event, let actions):
            var line = "\(stamp) n\(node + 1) "
            line += event.description
            for action in actions { line += "\n        \(action)" }
            return line
        }
    }

    static func format(_ input: KeyValueModel.Input) -> String {
        switch input {
        case .get(let key): return "get \(key)"
        case .put(let key, let value): return "put \(key)=\(value)"
        case .compareAndSet(let key, let expected, let new): return "cas \(key) \(expected ?? "<absent>")->\(new)"
        case .delete(let key): return "delete \(key)"
        case .putAll(let keys, let value): return "put \(keys.joined(separator: ","))=\(value)"
        case .getAll(let keys): return "get \(keys.joined(separator: ","))"
        }
    }

    static func format(_ output: KeyValueModel.Output) -> String {
        switch output {
        case .ok: return "ok"
        case .value(let value): return value ?? "<absent>"
        case .compareAndSet(let succeeded): return succeeded ? "swapped" : "not swapped"
        case .deleted(let existed): return existed ? "deleted" : "absent"
        case .values(let values): return values.map { $0 ?? "<absent>" }.joined(separator: ",")
        }
    }

    static func formatTime(_ micros: UInt64) -> String {
        let millis = micros / 1000, fraction = micros % 1000
        let padded = String(fraction).leftPadded(to: 3)
        return "[\(millis).\(padded)ms]"
    }
}
