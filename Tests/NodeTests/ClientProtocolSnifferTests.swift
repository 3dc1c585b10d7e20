import EtcdServer
import NIOCore
import NIOEmbedded
import Testing

/// The client port decides between gRPC and plain HTTP from a connection's first bytes.
@Suite struct ClientProtocolSnifferTests {
    /// Records which pipeline the sniffer built and what reached the handler behind it.
    final class Outcome: @unchecked Sendable {
        var chosen: [String] = []
        var received = ByteBuffer()
    }

    final class Collector: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        let outcome: Outcome
        init(_ outcome: Outcome) { self.outcome = outcome }
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var bytes = unwrapInboundIn(data)
            outcome.received.writeBuffer(&bytes)
        }
    }

    func channel(_ outcome: Outcome) throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ClientProtocolSniffer(configureHTTP2: { channel in
            outcome.chosen.append("http2")
            try channel.pipeline.syncOperations.addHandler(Collector(outcome))
        }, configureHTTP1: { channel in
            outcome.chosen.append("http1")
            try channel.pipeline.syncOperations.addHandler(Collector(outcome))
        }))
        return channel
    }

    func send(_ text: String, to channel: EmbeddedChannel) throws {
        try channel.writeInbound(ByteBuffer(string: text))
    }

    @Test func theHTTP2PrefaceGoesToGRPCWithEveryByte() throws {
        let outcome = Outcome()
        let channel = try channel(outcome)
        try send("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", to: channel)
        #expect(outcome.chosen == ["http2"])
        #expect(String(buffer: outcome.received) == "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
    }

    @Test func anHTTP1RequestGoesToThePlainEndpoints() throws {
        let outcome = Outcome()
        let channel = try channel(outcome)
        try send("GET /health HTTP/1.1\r\n\r\n", to: channel)
        #expect(outcome.chosen == ["http1"])
        #expect(String(buffer: outcome.received) == "GET /health HTTP/1.1\r\n\r\n")
    }

    /// A first read shorter than the deciding bytes waits for more, and nothing is lost or repeated.
    @Test func aPrefaceSplitAcrossReadsIsHeldUntilItDecides() throws {
        let outcome = Outcome()
        let channel = try channel(outcome)
        try send("P", to: channel)
        try send("RI", to: channel)
        #expect(outcome.chosen.isEmpty)
        try send(" * HTTP/2.0", to: channel)
        try send("\r\n", to: channel)
        #expect(outcome.chosen == ["http2"])
        #expect(String(buffer: outcome.received) == "PRI * HTTP/2.0\r\n")
    }

    /// The sniffer decides once: later bytes that look like the other protocol change nothing.
    @Test func theDecisionIsMadeOnce() throws {
        let outcome = Outcome()
        let channel = try channel(outcome)
        try send("GET / HTTP/1.1\r\n", to: channel)
        try send("PRI * HTTP/2.0\r\n", to: channel)
        #expect(outcome.chosen == ["http1"])
    }
}
