import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// The listeners of `--listen-metrics-urls`, on Hummingbird: etcd's `/metrics`, `/health`,
/// `/livez`, `/readyz` and `/version`, and the live dashboard (`/ui`, its data at `/ui/status`
/// and, every second, at `/ui/events` as server-sent events). The client port answers the same
/// paths over plain HTTP, except the event stream.
enum DashboardServer {
    /// Connections one listener holds at once.
    static let connectionsMax = 256
    /// Event streams open at once, over all listeners of the node.
    static let eventStreamsMax = 64
    /// How long one event stream lasts; the page reconnects, so a stream never outlives its use.
    static let eventStreamEventsMax = 3600

    static func application(service: EtcdService, host: String, port: Int, logger: Logger) -> some ApplicationProtocol {
        let router = Router()
        for path in ["/metrics", "/health", "/livez", "/readyz", "/version"] {
            router.get(RouterPath(path)) { request, _ -> Response in
                await response(service.httpResponse(method: "GET", uri: request.uri.description))
            }
        }
        router.get("/ui") { _, _ -> Response in
            Response(status: .ok, headers: [.contentType: "text/html; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(string: DashboardPage.html)))
        }
        router.get("/ui/status") { _, _ -> Response in
            await response(service.dashboardResponse())
        }
        router.get("/ui/events") { _, _ -> Response in
            guard service.dashboardStreams.add(1, ordering: .relaxed).newValue <= eventStreamsMax else {
                service.dashboardStreams.subtract(1, ordering: .relaxed)
                return Response(status: .serviceUnavailable, body: .init(byteBuffer: ByteBuffer(string: "too many dashboard streams\n")))
            }
            var headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache"]
            headers[allowOrigin] = "*"
            return Response(status: .ok, headers: headers, body: ResponseBody { writer in
                defer { service.dashboardStreams.subtract(1, ordering: .relaxed) }
                for _ in 0..<eventStreamEventsMax where !service.shutdown.isFired {
                    if let status = await service.dashboardStatus() {
                        try await writer.write(ByteBuffer(string: "data: \(status.json)\n\n"))
                    }
                    try await Task.sleep(for: .seconds(1))
                }
                try await writer.finish(nil)
            })
        }
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(host, port: port), serverName: "synod",
                availableConnectionsDelegate: MaximumAvailableConnections(connectionsMax)),
            logger: logger)
    }

    static let allowOrigin = HTTPField.Name("Access-Control-Allow-Origin")!

    static func response(_ answer: HTTPEndpointResponse) -> Response {
        var headers: HTTPFields = [.contentType: answer.contentType]
        // The dashboard page reads every member, each from its own origin.
        if answer.contentType == "application/json" { headers[allowOrigin] = "*" }
        return Response(status: .init(code: answer.status), headers: headers, body: .init(byteBuffer: ByteBuffer(string: answer.body)))
    }
}

extension EtcdService {
    /// `/ui/status` as an HTTP answer (on the metrics listeners and the client port).
    func dashboardResponse() async -> HTTPEndpointResponse {
        guard let status = await dashboardStatus() else { return .text(503, "the member is too busy to report its status\n") }
        return .json(200, status.json)
    }
}
