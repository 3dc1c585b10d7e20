import ArgumentParser
import EtcdAPI
import Foundation
import Histogram
import NIOPosix
import Synchronization

/// `synod bench etcd`: a load generator for any server of the etcd v3 API (Synod or etcd itself),
/// so both are measured by the same client in the same way (`LeanGRPCConnection` says why that
/// client is not grpc-swift's).
struct EtcdBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "etcd",
        abstract: "etcd v3 API load: put, range (linearizable or serializable) or mixed; ops/s and p50/p99/p999."
    )

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case put, range, rangeSerializable = "range-serializable", mixed
    }

    @Option(help: "Comma-separated host:port list; clients spread over them.") var endpoints: String = "127.0.0.1:2379"
    @Option(help: "put, range, range-serializable or mixed (90% linearizable ranges, 10% puts).") var workload: Workload = .put
    @Option(help: "Concurrent clients, each with one request in flight.") var clients: Int = 64
    @Option(help: "gRPC connections shared by the clients.") var connections: Int = 8
    @Option(name: .customLong("key-size"), help: "Key bytes.") var keySize: Int = 8
    @Option(name: .customLong("value-size"), help: "Value bytes.") var valueSize: Int = 256
    @Option(name: .customLong("key-space"), help: "Distinct keys used.") var keySpace: Int = 100_000
    @Option(help: "Seconds to run (ignored when --count is given).") var duration: Double = 10
    @Option(help: "Total requests to send, instead of a duration.") var count: Int?
    @Option(help: "A name printed with the figures.") var label: String = "server"

    func validate() throws {
        guard clients >= 1, connections >= 1, keySize >= 1, valueSize >= 0, keySpace >= 1 else {
            throw ValidationError("clients, connections, key size and key space must be positive")
        }
    }

    func run() async throws {
        let targets = try parseEndpoints(endpoints)
        let group = MultiThreadedEventLoopGroup.singleton
        var connected: [LeanGRPCConnection] = []
        for index in 0..<connections {
            let (host, port) = targets[index % targets.count]
            connected.append(try await LeanGRPCConnection.connect(host: host, port: port, group: group))
        }
        if workload != .put { try await populate(connected[0]) }
        let figures = try await measure(connected)
        for connection in connected { await connection.close() }
        print(figures)
    }

    static func key(_ number: Int, size: Int) -> Data {
        Data(String(number).leftPadded(to: size).utf8.suffix(size))
    }

    /// Range workloads read keys that exist.
    func populate(_ kv: LeanGRPCConnection) async throws {
        let value = Data(repeating: 0x61, count: valueSize)
        for number in 0..<min(keySpace, 10_000) {
            try await Self.put(kv, Self.key(number, size: keySize), value)
        }
    }

    func measure(_ kvs: [LeanGRPCConnection]) async throws -> String {
        let value = Data(repeating: 0x62, count: valueSize)
        let counters = Counters()
        let keySize = keySize
        let limit = count ?? Int.max
        let start = ContinuousClock.now
        let deadline = count == nil ? start + .milliseconds(Int(duration * 1000)) : start + .seconds(86_400)
        let progress = Task {
            let bar = ProgressBar(total: count ?? Int(duration * 10))
            var shown = 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(100))
                let target = count.map { _ in counters.completed.load(ordering: .relaxed) } ?? (shown + 1)
                while shown < target { shown += 1; bar.advance(label: "\(counters.completed.load(ordering: .relaxed)) ops", failed: false) }
            }
            bar.finish()
        }
        let workload = workload
        let keySpace = keySpace
        let results = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int).self) { group in
            for index in 0..<clients {
                let kv = kvs[index % kvs.count]
                group.addTask {
                    var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                    var errors = 0
                    var generator = SystemRandomNumberGenerator()
                    while ContinuousClock.now < deadline, counters.issued.add(1, ordering: .relaxed).newValue <= limit {
                        let number = Int.random(in: 0..<keySpace, using: &generator)
                        let began = ContinuousClock.now
                        do {
                            switch workload {
                            case .put:
                                try await Self.put(kv, Self.key(number, size: keySize), value)
                            case .range, .rangeSerializable:
                                try await Self.range(kv, Self.key(number % min(keySpace, 10_000), size: keySize), serializable: workload == .rangeSerializable)
                            case .mixed:
                                if number % 10 == 0 { try await Self.put(kv, Self.key(number, size: keySize), value) } else { try await Self.range(kv, Self.key(number % min(keySpace, 10_000), size: keySize), serializable: false) }
                            }
                            _ = histogram.record(microsecondsSince(began))
                        } catch {
                            errors += 1
                            if errors == 1 { FileHandle.standardError.write("client \(index): first error: \(error)\n".data(using: .utf8)!) }
                        }
                        counters.completed.add(1, ordering: .relaxed)
                    }
                    return (histogram, errors)
                }
            }
            var total = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            var errors = 0
            for try await (histogram, clientErrors) in group {
                total.add(histogram)
                errors += clientErrors
            }
            return (total, errors)
        }
        progress.cancel()
        _ = await progress.value
        let seconds = secondsSince(start)
        let histogram = results.0
        return "label=\(label) workload=\(workload.rawValue) clients=\(clients) connections=\(connections) key=\(keySize)B value=\(valueSize)B "
            + "ops=\(histogram.totalCount) errors=\(results.1) ops/s=\(Int(Double(histogram.totalCount) / seconds)) "
            + latencyFigures(histogram)
    }

    static let putPath = "/etcdserverpb.KV/Put"
    static let rangePath = "/etcdserverpb.KV/Range"

    static func put(_ kv: LeanGRPCConnection, _ key: Data, _ value: Data) async throws {
        var request = Etcdserverpb_PutRequest()
        request.key = key
        request.value = value
        try await kv.unary(path: putPath, message: request.serializedBytes())
    }

    static func range(_ kv: LeanGRPCConnection, _ key: Data, serializable: Bool) async throws {
        var request = Etcdserverpb_RangeRequest()
        request.key = key
        request.serializable = serializable
        try await kv.unary(path: rangePath, message: request.serializedBytes())
    }
}

/// Shared by every client task of one measurement.
final class Counters: Sendable {
    let issued = Atomic<Int>(0)
    let completed = Atomic<Int>(0)
}
