import ConsensusCore
import Foundation
import MVCC
import Synchronization

/// One answer of the plain-HTTP endpoints that etcd serves beside gRPC on its client port.
struct HTTPEndpointResponse: Sendable, Equatable {
    var status: Int
    var contentType: String
    var body: String

    static func json(_ status: Int, _ body: String) -> HTTPEndpointResponse {
        HTTPEndpointResponse(status: status, contentType: "application/json", body: body)
    }

    static func text(_ status: Int, _ body: String) -> HTTPEndpointResponse {
        HTTPEndpointResponse(status: status, contentType: "text/plain; charset=utf-8", body: body)
    }

    /// Go's net/http answer to a path nobody serves, as etcd gives it.
    static let notFound = text(404, "404 page not found\n")
    /// etcd's handlers take GET only (and say so in an `Allow` header).
    static let methodNotAllowed = text(405, "Method Not Allowed\n")
}

/// `/health`, `/livez`, `/readyz` and `/version`, with etcd's semantics:
/// - `/health` (etcd 3.4's body and codes): unhealthy with an alarm raised or no leader; otherwise
///   healthy if a read through the log answers within `healthReadTimeout` (etcd's QGET), or, with
///   `?serializable=true`, from this member's own store.
/// - `/livez` (etcd 3.5.12+): the member's loop answers, whatever the cluster does.
/// - `/readyz` (etcd 3.5.12+): a leader, no CORRUPT alarm, and a linearizable read that answers.
/// - `/version`: the server and cluster versions `Status` reports.
/// - `/metrics`: `EtcdMetrics` in Prometheus's text format.
extension EtcdService {
    /// etcd 3.4 gives its health read one second.
    static let healthReadTimeout: Duration = .seconds(1)

    func httpResponse(method: String, uri: String) async -> HTTPEndpointResponse {
        let (path, query) = Self.split(uri)
        guard ["/health", "/livez", "/readyz", "/version", "/metrics", "/ui", "/ui/status"].contains(path) else { return .notFound }
        guard method == "GET" else { return .methodNotAllowed }
        switch path {
        case "/ui":
            return HTTPEndpointResponse(status: 200, contentType: "text/html; charset=utf-8", body: DashboardPage.html)
        case "/ui/status":
            return await dashboardResponse()
        case "/health":
            let healthy = await isHealthy(serializable: query.contains("serializable=true"), ignoringNoSpace: false)
            // etcd writes a healthy answer as is and an unhealthy one through Go's http.Error,
            // which adds a newline.
            return healthy ? .text(200, "{\"health\":\"true\"}") : .text(503, "{\"health\":\"false\"}\n")
        case "/livez":
            let live = await onLoop { _ in true } ?? false
            return .text(live ? 200 : 503, live ? "ok\n" : "livez check failed\n")
        case "/metrics":
            let status = replica.status
            let sample = await onLoop { service in
                EtcdMetrics.Sample(
                    hasLeader: status.leader != nil, isLeader: status.isLeader, committedIndex: status.commitIndex,
                    appliedIndex: service.appliedIndex, pendingProposals: service.pendingWrites.count,
                    storeBytes: service.store.sizeBytes, quotaBytes: service.limits.quotaBytes,
                    watchers: service.watches.watcherCount, slowWatchers: service.watches.unsyncedCount,
                    droppedPeerFrames: service.droppedPeerFrames?.count.load(ordering: .relaxed) ?? 0
                )
            }
            guard let sample else { return .text(503, "the member is too busy to report its metrics\n") }
            return HTTPEndpointResponse(status: 200, contentType: "text/plain; version=0.0.4; charset=utf-8", body: String(decoding: metrics.render(sample), as: UTF8.self))
        case "/readyz":
            let ready = await isHealthy(serializable: false, ignoringNoSpace: true)
            return .text(ready ? 200 : 503, ready ? "ok\n" : "readyz check failed\n")
        default:
            let version = MaintenanceService.apiVersion
            return .json(200, "{\"etcdserver\":\"\(version)\",\"etcdcluster\":\"\(version)\"}")
        }
    }

    /// A leader, no alarm that makes the member unhealthy, and a read that answers in time.
    /// `/readyz` tolerates NOSPACE (the member still serves reads), as etcd 3.6's does.
    private func isHealthy(serializable: Bool, ignoringNoSpace: Bool) async -> Bool {
        guard replica.status.leader != nil else { return false }
        guard let alarms = await onLoop({ $0.store.alarms }) else { return false }
        if alarms.contains(where: { !ignoringNoSpace || $0.kind != .noSpace }) { return false }
        return await readAnswers(serializable: serializable, within: Self.healthReadTimeout)
    }

    /// Whether a one-key read completes within `timeout`. The read itself runs on to its own
    /// deadline; only the answer stops waiting for it.
    private func readAnswers(serializable: Bool, within timeout: Duration) async -> Bool {
        let answered = Mutex(false)
        return await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            let finish: @Sendable (Bool) -> Void = { outcome in
                let first = answered.withLock { done in
                    defer { done = true }
                    return !done
                }
                if first { continuation.resume(returning: outcome) }
            }
            let timer = Task {
                // Cancelled: the read answered first.
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                finish(false)
            }
            read(.range(RangeRequest(key: Array("health".utf8))), serializable: serializable) { answer in
                if case .success = answer { finish(true) } else { finish(false) }
                timer.cancel()
            }
        }
    }

    private static func split(_ uri: String) -> (path: String, query: String) {
        guard let mark = uri.firstIndex(of: "?") else { return (uri, "") }
        return (String(uri[..<mark]), String(uri[uri.index(after: mark)...]))
    }
}
