import Prometheus
import Synchronization

/// grpc-go's server metrics as etcd exports them (go-grpc-prometheus): calls handled by method
/// and status code, and how long unary calls took. Each method's handles are made once, at start,
/// so recording an answered call is a dictionary read and two atomic updates, with no lock; only
/// a call ending in an error code not seen before for its method takes the registry's lock.
final class GRPCServerMetrics: Sendable {
    private struct Method: Sendable {
        var handledOK: Counter
        var handling: DurationHistogram?
        var labels: [(String, String)]
    }

    private let registry: PrometheusCollectorRegistry
    private let methods: [String: Method]
    private let otherCodes = Mutex<[String: Counter]>([:])
    /// Unary latencies in buckets the dashboard reads.
    let unaryLatency: LatencyBuckets

    static let handledName = "grpc_server_handled_total"
    static let handledHelp = "Total number of RPCs completed on the server, regardless of success or failure."

    /// `paths` maps each gRPC path to whether it is unary.
    init(registry: PrometheusCollectorRegistry, paths: [String: Bool], unaryLatency: LatencyBuckets) {
        self.registry = registry
        self.unaryLatency = unaryLatency
        var methods: [String: Method] = [:]
        for (path, unary) in paths {
            let parts = path.split(separator: "/")
            guard parts.count == 2 else { continue }
            let labels = [("grpc_method", String(parts[1])), ("grpc_service", String(parts[0])), ("grpc_type", unary ? "unary" : "bidi_stream")]
            let handledOK = registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: Self.handledName, unitName: "", helpText: Self.handledHelp),
                labels: labels + [("grpc_code", "OK")])
            // grpc-prometheus's default buckets.
            let handling = unary ? registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    metricName: "grpc_server_handling_seconds", unitName: "",
                    helpText: "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server."),
                labels: labels,
                buckets: [.milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .milliseconds(2500), .seconds(5), .seconds(10)]) : nil
            methods[path] = Method(handledOK: handledOK, handling: handling, labels: labels)
        }
        self.methods = methods
    }

    /// One call ended with `code` (0 is OK) after `duration`.
    func handled(path: String, code: Int, duration: Duration) {
        guard let method = methods[path] else { return }
        if let handling = method.handling {
            handling.recordNanoseconds(duration.nanoseconds)
            unaryLatency.record(duration)
        }
        if code == 0 {
            method.handledOK.increment()
            return
        }
        let name = Self.codeNames[code] ?? "Unknown"
        let key = path + "|" + name
        let counter = otherCodes.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(metricName: Self.handledName, unitName: "", helpText: Self.handledHelp),
                labels: method.labels + [("grpc_code", name)])
            counters[key] = counter
            return counter
        }
        counter.increment()
    }

    /// gRPC's code names, as grpc-go's `codes.Code.String()` gives them.
    static let codeNames = [
        0: "OK", 1: "Canceled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded", 5: "NotFound",
        6: "AlreadyExists", 7: "PermissionDenied", 8: "ResourceExhausted", 9: "FailedPrecondition", 10: "Aborted",
        11: "OutOfRange", 12: "Unimplemented", 13: "Internal", 14: "Unavailable", 15: "DataLoss", 16: "Unauthenticated",
    ]
}

extension Duration {
    var nanoseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds &* 1_000_000_000 &+ attoseconds / 1_000_000_000
    }
}
