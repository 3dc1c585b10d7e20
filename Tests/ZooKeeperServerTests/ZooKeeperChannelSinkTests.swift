import NIOCore
import NIOEmbedded
import Testing
import ZooKeeperServer

/// What a client has not read is bounded: the sink writes while the channel is writable and
/// closes it once the channel turns unwritable at its high-water mark (`pendingBytesMax`).
@Suite struct ZooKeeperChannelSinkTests {
    @Test func aClientThatStopsReadingIsClosedNotBufferedWithoutEnd() throws {
        let channel = EmbeddedChannel()
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 2181)).wait()
        let sink = ZooKeeperChannelSink(channel: channel)
        sink.send([1, 2, 3])
        channel.embeddedEventLoop.run()
        #expect(try channel.readOutbound(as: ByteBuffer.self)?.readableBytes == 3)
        #expect(channel.isActive)
        channel.isWritable = false
        sink.send([4, 5, 6])
        channel.embeddedEventLoop.run()
        #expect(try channel.readOutbound(as: ByteBuffer.self) == nil, "nothing more is queued")
        #expect(!channel.isActive, "the connection is closed")
        #expect(ZooKeeperChannelSink.pendingBytesMax >= 8 * 0xfffff, "a reply of jute.maxbuffer always fits")
    }
}
