import EtcdAPI
import GRPCCore

/// etcdserverpb.Watch: one bidirectional stream per client, many watchers on it.
struct WatchService: Etcdserverpb_Watch.SimpleServiceProtocol {
    let service: EtcdService

    func watch(
        request: RPCAsyncSequence<Etcdserverpb_WatchRequest, any Error>,
        response: RPCWriter<Etcdserverpb_WatchResponse>,
        context: ServerContext
    ) async throws {
        let (responses, continuation) = AsyncStream<Etcdserverpb_WatchResponse>.makeStream()
        let stream = WatchStream(continuation: continuation)
        stream.headerTemplate = service.header()
        guard await service.onLoop({ $0.watches.add(stream) }) != nil else { throw EtcdError.tooManyRequests.rpcError }
        let service = service
        try await withThrowingTaskGroup(of: Void.self) { group in
            // Writer: drains what the loop queued for this client.
            group.addTask {
                for await message in responses {
                    try await response.write(message)
                    stream.written()
                }
            }
            // Reader: the client's create, cancel and progress requests, performed on the loop.
            group.addTask {
                defer { continuation.finish() }
                for try await message in request {
                    switch message.requestUnion {
                    case .createRequest(let create):
                        _ = await service.onLoop { $0.watches.create(create, on: stream, store: $0.store, header: $0.header(revision: $0.store.revision)) }
                    case .cancelRequest(let cancel):
                        _ = await service.onLoop { $0.watches.cancel(cancel.watchID, on: stream, header: $0.header(revision: $0.store.revision)) }
                    case .progressRequest:
                        _ = await service.onLoop { $0.watches.progress(on: stream, header: $0.header(revision: $0.store.revision)) }
                    case nil:
                        break
                    }
                }
            }
            // The node stopping ends the stream, as etcd closes its watch streams on shutdown.
            group.addTask { await service.shutdown.wait() }
            defer {
                _ = service.loop.perform { service.watches.remove(stream) }
            }
            try await group.next()
            group.cancelAll()
        }
    }
}
