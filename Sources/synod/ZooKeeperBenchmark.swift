import ArgumentParser
import Foundation
import Histogram
import NIOPosix
import Synchronization
import ZooKeeperWire

/// `synod bench zk`: a neutral asynchronous load generator for any ZooKeeper server (Synod or
/// ZooKeeper itself): many sessions, many requests in flight on each, 256-byte values; so both
/// are measured by the same client in the same way.
struct ZooKeeperBenchmark: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zk",
        abstract: "ZooKeeper API load: create, set, get or mixed; ops/s and p50/p99/p999."
    )

    enum Workload: String, ExpressibleByArgument, CaseIterable {
        case create, set, get, mixed
    }

    @Option(help: "Comma-separated host:port list; sessions spread over them.") var endpoints: String = "127.0.0.1:2181"
    @Option(help: "create (new nodes), set, get, or mixed (80% get, 20% set).") var workload: Workload = .create
    @Option(help: "Sessions (one connection each).") var sessions: Int = 16
    @Option(help: "Requests in flight per session.") var outstanding: Int = 4
    @Option(name: .customLong("value-size"), help: "Value bytes.") var valueSize: Int = 256
    @Option(name: .customLong("key-space"), help: "Nodes that set and get use.") var keySpace: Int = 1_000
    @Option(help: "Seconds to run.") var duration: Double = 10
    @Option(help: "Stop after this many requests in all (0: none; with create, exactly this many new nodes).") var count: Int = 0
    @Option(help: "A name printed with the figures.") var label: String = "server"

    func validate() throws {
        guard (1...10_000).contains(sessions), (1...1_000).contains(outstanding), (0...(1 << 20)).contains(valueSize), keySpace >= 1, duration > 0, count >= 0 else {
            throw ValidationError("sessions 1-10000, outstanding 1-1000, value size up to 1 MiB, key space and duration positive, count not negative")
        }
    }

    /// Connection attempts per session before the benchmark gives up: 20 s of a cluster electing.
    static let connectAttemptsMax = 100

    final class Counter: @unchecked Sendable {
        let next = Atomic<Int64>(0)
    }

    func run() async throws {
        let targets = try parseEndpoints(endpoints)
        let group = MultiThreadedEventLoopGroup.singleton
        var clients: [ZooKeeperBenchClient] = []
        for index in 0..<sessions {
            let (host, port) = targets[index % targets.count]
            // A cluster that has just started may have no leader to create the session yet: the
            // member closes the connection, and the client tries again (bounded, as any client).
            var attempt = 0
            while true {
                do {
                    clients.append(try await ZooKeeperBenchClient.connect(host: host, port: port, group: group))
                    break
                } catch {
                    attempt += 1
                    guard attempt < Self.connectAttemptsMax else { throw error }
                    try await Task.sleep(for: .milliseconds(200))
                }
            }
        }
        let root = "/synod-bench-\(UInt32.random(in: 0...UInt32.max))"
        let value = [UInt8](repeating: 0x61, count: valueSize)
        _ = try await clients[0].call(.create(.init(path: root, data: [], flags: 0)), xid: 1)
        if workload != .create {
            for key in 0..<keySpace { _ = try await clients[0].call(.create(.init(path: "\(root)/k\(key)", data: value, flags: 0)), xid: Int32(key + 2)) }
        }
        let deadline = ContinuousClock.now + .milliseconds(Int64(duration * 1_000))
        let start = ContinuousClock.now
        let sequence = Counter()
        let workload = self.workload
        let keySpace = self.keySpace
        let count = Int64(self.count)
        let results = try await withThrowingTaskGroup(of: (Histogram<UInt64>, Int, Int).self) { group in
            for (index, client) in clients.enumerated() {
                for lane in 0..<outstanding {
                    group.addTask {
                        var histogram = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
                        var errors = 0
                        var bytes = 0
                        var generator = SystemRandomNumberGenerator()
                        var xid = Int32(lane * 1_000_000 + 1_000)
                        while ContinuousClock.now < deadline {
                            xid &+= 1
                            let number = sequence.next.wrappingAdd(1, ordering: .relaxed).newValue
                            if count > 0 && number > count { break }
                            let key = "\(root)/k\(Int.random(in: 0..<keySpace, using: &generator))"
                            let request: ZooKeeperRequest
                            switch workload {
                            case .create: request = .create(.init(path: "\(root)/c\(index)-\(number)", data: value, flags: 0))
                            case .set: request = .setData(path: key, data: value, version: -1)
                            case .get: request = .getData(path: key, watch: false)
                            case .mixed: request = number % 5 == 0 ? .setData(path: key, data: value, version: -1) : .getData(path: key, watch: false)
                            }
                            let began = ContinuousClock.now
                            do {
                                let (header, body) = try await client.call(request, xid: xid)
                                if header.error != 0 { errors += 1 }
                                bytes += body.count
                                _ = histogram.record(microsecondsSince(began))
                            } catch {
                                errors += 1
                                break
                            }
                        }
                        return (histogram, errors, bytes)
                    }
                }
            }
            var total = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
            var errors = 0
            var bytes = 0
            for try await (histogram, laneErrors, laneBytes) in group {
                total.add(histogram)
                errors += laneErrors
                bytes += laneBytes
            }
            return (total, errors, bytes)
        }
        let seconds = secondsSince(start)
        for client in clients { await client.close() }
        let histogram = results.0
        print("label=\(label) workload=\(workload.rawValue) sessions=\(sessions) outstanding=\(outstanding) value=\(valueSize)B "
            + "ops=\(histogram.totalCount) errors=\(results.1) ops/s=\(Int(Double(histogram.totalCount) / seconds)) "
            + latencyFigures(histogram) + " reply-bytes=\(results.2)")
    }
}
