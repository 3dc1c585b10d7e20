import ConsensusCore
import Testing
import ZooKeeperWire

/// Bytes from a client are untrusted: packets drip in a byte at a time, lengths lie, bodies are cut
/// short or garbled. The codec never consumes a partial frame, never allocates what a length claims
/// before the bytes are there, and answers everything with a value or a `JuteError`.
@Suite struct ZooKeeperHostileInputTests {
    /// A stream of several packets, fed one byte at a time, yields exactly those packets.
    @Test func packetsDripFedAByteAtATimeComeOutWhole() {
        let payloads: [[UInt8]] = [[], [1], Array(repeating: 7, count: 300)] + ZooKeeperCodecTests.requests.map(\.encoded)
        let stream = payloads.flatMap(ZooKeeperFrame.encode)
        var buffered: [UInt8] = []
        var decoded: [[UInt8]] = []
        for byte in stream {
            buffered.append(byte)
            while case .packet(let payload, let next) = ZooKeeperFrame.decode(buffered, at: 0) {
                decoded.append(Array(buffered[payload]))
                buffered.removeFirst(next)
            }
        }
        #expect(decoded == payloads)
        #expect(buffered.isEmpty)
    }

    @Test func aLengthPastTheBoundOrNegativeIsRefusedBeforeTheBodyArrives() {
        var writer = JuteWriter()
        writer.writeInt(Int32(ZooKeeperFrame.defaultPacketBytesMax + 1))
        #expect(ZooKeeperFrame.decode(writer.bytes, at: 0) == .badLength(Int64(ZooKeeperFrame.defaultPacketBytesMax + 1)))
        var negative = JuteWriter()
        negative.writeInt(-5)
        #expect(ZooKeeperFrame.decode(negative.bytes, at: 0) == .badLength(-5))
        var atBound = JuteWriter()
        atBound.writeInt(Int32(ZooKeeperFrame.defaultPacketBytesMax))
        #expect(ZooKeeperFrame.decode(atBound.bytes, at: 0) == .needMore)
        #expect(ZooKeeperFrame.decode(atBound.bytes, at: 0, packetBytesMax: 100) == .badLength(Int64(ZooKeeperFrame.defaultPacketBytesMax)))
    }

    @Test func everyTruncationOfEveryRequestIsAnErrorNotATrap() {
        for request in ZooKeeperCodecTests.requests {
            let bytes = request.encoded
            for length in 0..<bytes.count {
                var reader = JuteReader(Array(bytes.prefix(length)))
                // A body without fields (ping) decodes from nothing; anything else must fail.
                if let decoded = try? ZooKeeperRequest.decode(operation: request.operation.rawValue, from: &reader) {
                    #expect(decoded != request || bytes.isEmpty, "\(request) decoded from \(length) of \(bytes.count) bytes")
                }
            }
        }
    }

    @Test func aCountClaimingBillionsOfElementsIsRefusedWithoutAllocating() {
        var writer = JuteWriter()
        writer.writeLong(0)
        writer.writeInt(Int32.max)  // dataWatches: 2^31 - 1 strings, in a few bytes.
        var reader = JuteReader(writer.bytes)
        #expect(throws: JuteError.self) { try ZooKeeperRequest.decode(operation: ZooKeeperOperation.setWatches.rawValue, from: &reader) }
        var buffer = JuteWriter()
        buffer.writeInt(Int32.max)
        var bufferReader = JuteReader(buffer.bytes)
        #expect(throws: JuteError.truncated(field: "data")) { try bufferReader.readBuffer("data") }
    }

    @Test func unknownOperationsAndOperationsAMultiMayNotHoldAreRefused() {
        var empty = JuteReader([])
        #expect(throws: JuteError.unknownOperation(999)) { try ZooKeeperRequest.decode(operation: 999, from: &empty) }
        var writer = JuteWriter()
        writer.writeInt(ZooKeeperOperation.sync.rawValue)
        writer.writeBool(false)
        writer.writeInt(-1)
        writer.writeString("/a")
        var reader = JuteReader(writer.bytes)
        #expect(throws: JuteError.operationNotAllowedInMulti(ZooKeeperOperation.sync.rawValue)) {
            try ZooKeeperRequest.decode(operation: ZooKeeperOperation.multi.rawValue, from: &reader)
        }
    }

    /// Seeded: random and mutated packets through every decoder. Prints its seed on failure.
    @Test(arguments: [UInt64(1), 2, 3])
    func randomAndMutatedBytesNeverTrap(seed: UInt64) {
        var random = SeededRandom(seed: seed)
        let valid = ZooKeeperCodecTests.requests.map(\.encoded) + ZooKeeperCodecTests.responses.map(\.1.encoded)
        var decodedSomething = 0
        for round in 0..<4_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(random.next() % 80)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            } else {
                bytes = valid[Int(random.next() % UInt64(valid.count))]
                for _ in 0..<(1 + random.next() % 4) where !bytes.isEmpty {
                    bytes[Int(random.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            for operation in ZooKeeperOperation.allCases {
                var reader = JuteReader(bytes)
                if (try? ZooKeeperRequest.decode(operation: operation.rawValue, from: &reader)) != nil { decodedSomething += 1 }
                var responseReader = JuteReader(bytes)
                _ = try? ZooKeeperResponse.decode(for: operation, from: &responseReader)
            }
            _ = try? ZooKeeperConnectRequest(decoding: bytes)
            _ = ZooKeeperFrame.decode(bytes, at: 0)
        }
        #expect(decodedSomething > 0, "seed \(seed): the mutations should leave some packets decodable")
    }
}
