import GRPCCore
import NIOCore
import SwiftProtobuf

/// One method the gRPC server answers, by the shape of its call. Bodies take and give serialized
/// messages; the factories below wrap typed handlers.
enum GRPCMethod: Sendable {
    typealias Respond = @Sendable (Result<[UInt8], RPCError>) -> Void

    /// One request, one response, answered through a callback. The hot methods (Put, Range) answer
    /// straight from the replica loop's callback, with no task per call.
    case unary(@Sendable (ByteBuffer, @escaping Respond) -> Void)
    /// A stream each way (Watch, LeaseKeepAlive), handled by one task per call. The body calls
    /// `consumed` with each request's size as it takes it, which lets the stream read more.
    case bidirectionalStreaming(@Sendable (AsyncThrowingStream<ByteBuffer, any Error>, GRPCResponseWriter, _ consumed: @escaping @Sendable (Int) -> Void) async throws -> Void)

    /// A unary method whose handler answers through a callback.
    static func unary<Request: Message, Response: Message>(
        _ body: @escaping @Sendable (Request, @escaping @Sendable (Result<Response, RPCError>) -> Void) -> Void
    ) -> GRPCMethod {
        .unary { bytes, respond in
            let request: Request
            do {
                request = try Request(serializedBytes: Array(buffer: bytes))
            } catch {
                return respond(.failure(RPCError(code: .internalError, message: "grpc: error unmarshalling request: \(error)")))
            }
            body(request) { result in respond(result.flatMap(serialized)) }
        }
    }

    /// A unary method with an async handler (grpc-swift's service signature), run as a task.
    static func unary<Request: Message, Response: Message>(
        task body: @escaping @Sendable (Request, ServerContext) async throws -> Response
    ) -> GRPCMethod {
        unary { (request: Request, completion: @escaping @Sendable (Result<Response, RPCError>) -> Void) in
            Task { completion(await Self.result { try await body(request, context()) }) }
        }
    }

    /// A bidirectional-streaming method with grpc-swift's service signature.
    static func bidirectionalStreaming<Request: Message, Response: Message>(
        _ body: @escaping @Sendable (RPCAsyncSequence<Request, any Error>, RPCWriter<Response>, ServerContext) async throws -> Void
    ) -> GRPCMethod {
        .bidirectionalStreaming { requests, writer, consumed in
            let decoded = requests.map { buffer in
                consumed(buffer.readableBytes)
                return try Request(serializedBytes: Array(buffer: buffer))
            }
            try await body(RPCAsyncSequence(wrapping: decoded), RPCWriter(wrapping: TypedWriter<Response>(writer: writer)), context())
        }
    }

    /// A server-streaming method (Maintenance.Snapshot): one request, then the handler's stream.
    static func serverStreaming<Request: Message, Response: Message>(
        _ body: @escaping @Sendable (Request, RPCWriter<Response>, ServerContext) async throws -> Void
    ) -> GRPCMethod {
        .bidirectionalStreaming { requests, writer, consumed in
            var iterator = requests.makeAsyncIterator()
            guard let buffer = try await iterator.next() else {
                throw RPCError(code: .internalError, message: "grpc: a server-streaming call sent no request")
            }
            consumed(buffer.readableBytes)
            let request: Request
            do {
                request = try Request(serializedBytes: Array(buffer: buffer))
            } catch {
                throw RPCError(code: .internalError, message: "grpc: error unmarshalling request: \(error)")
            }
            try await body(request, RPCWriter(wrapping: TypedWriter<Response>(writer: writer)), context())
        }
    }

    static func serialized(_ response: some Message) -> Result<[UInt8], RPCError> {
        do {
            return .success(try response.serializedBytes())
        } catch {
            return .failure(RPCError(code: .internalError, message: "grpc: error marshalling response: \(error)"))
        }
    }

    /// The handler's outcome, with any error that is not already an `RPCError` reported as UNKNOWN,
    /// as grpc-go reports a plain error.
    static func result<Response>(_ body: () async throws -> Response) async -> Result<Response, RPCError> {
        do {
            return .success(try await body())
        } catch let error as RPCError {
            return .failure(error)
        } catch {
            return .failure(RPCError(code: .unknown, message: "\(error)"))
        }
    }

    /// grpc-swift's handler signature wants a context; etcd's handlers never read it.
    private static func context() -> ServerContext {
        ServerContext(
            descriptor: MethodDescriptor(fullyQualifiedService: "", method: ""),
            remotePeer: "", localPeer: "", cancellation: ServerContext.RPCCancellationHandle()
        )
    }
}

/// Writes typed responses to a stream through its `GRPCResponseWriter`.
private struct TypedWriter<Response: Message>: RPCWriterProtocol {
    let writer: GRPCResponseWriter

    func write(_ element: Response) async throws {
        try await writer.write(try element.serializedBytes())
    }

    func write(contentsOf elements: some Sequence<Response>) async throws {
        for element in elements { try await write(element) }
    }
}
