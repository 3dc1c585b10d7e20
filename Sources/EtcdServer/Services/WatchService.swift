import EtcdAPI
import GRPCCore

/// etcdserverpb.Watch: one bidirectional stream per client, many watchers on it.
///
/// Backpressure, never loss: the reader takes the client's next request only when the stream's
/// queued replies fit its bound and the replica loop has accepted the previous one, so a create or
/// cancel is never dropped; the client's own sends wait instead (HTTP/2 flow control).
struct WatchService: Etcdserverpb_Watch.SimpleServiceProtocol {
    let service: EtcdService

    func watch(
        request: RPCAsyncSequence<Etcdserverpb_WatchRequest, any Error>,
        response: RPCWriter<Etcdserverpb_WatchResponse>,
        context: ServerContext
    ) async throws {
        let (replies, continuation) = AsyncStream<WatchStream.Queued>.makeStream()
        let stream = WatchStream(continuation: continuation)
        try await service.onLoopWaiting { $0.watches.add(stream) }
        let service = service
        let fragmentBytesMax = service.limits.requestBytesMax
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Writer: turns what the loop queued into responses, off the loop's thread.
            group.addTask {
                for await queued in replies {
                    let header = service.header()
                    for message in queued.reply.responses(header: header, fragmentBytesMax: fragmentBytesMax) {
                        try await response.write(message)
                    }
                    stream.written(queued)
                }
            }
            // Reader: the client's create, cancel and progress requests, performed on the loop.
            group.addTask {
                defer { continuation.finish() }
                for try await message in request {
                    try await stream.waitForRoom()
                    switch message.requestUnion {
                    case .createRequest(let create):
                        try await service.onLoopWaiting { $0.watches.create(create, on: stream, store: $0.store) }
                    case .cancelRequest(let cancel):
                        try await service.onLoopWaiting { $0.watches.cancel(cancel.watchID, on: stream, revision: $0.store.revision) }
                    case .progressRequest:
                        try await service.onLoopWaiting { $0.watches.requestProgress(on: stream, revision: $0.store.revision) }
                    case nil:
                        break
                    }
                }
            }
            // The node stopping ends the stream, as etcd closes its watch streams on shutdown.
            group.addTask { await service.shutdown.wait() }
            defer {
                // Never refused: a stream's watchers must not outlive it.
                service.replica.performAlways { service.watches.remove(stream) }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}

extension WatchStream {
    /// How long the reader sleeps between looks at a full stream.
    static let roomPollInterval: Duration = .milliseconds(2)

    /// Returns once the queued replies fit the bound; throws when the stream is cancelled.
    func waitForRoom() async throws {
        while !hasRoom { try await Task.sleep(for: Self.roomPollInterval) }
    }
}
