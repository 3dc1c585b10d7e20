import MVCC
import Testing

/// The log encoding of commands: exact round trips, and no trap on any input.
@Suite struct CommandCodecTests {
    @Test func everyKindOfCommandRoundTrips() throws {
        let nested = TxnRequest(
            compare: [Compare(key: bytes("k"), rangeEnd: toEnd, result: .notEqual, target: .lease(-4))],
            success: [.txn(TxnRequest(success: [.deleteRange(DeleteRangeRequest(key: bytes("x"), previousKV: true))]))],
            failure: [.range(RangeRequest(key: bytes("r"), limit: .max, revision: .min, sortOrder: .descend, sortTarget: .value, keysOnly: true, countOnly: true, minModRevision: 1, maxModRevision: 2, minCreateRevision: 3, maxCreateRevision: 4))])
        let commands: [Command] = [
            .put(PutRequest(key: bytes("key"), value: [0, 255], lease: 77, previousKV: true, ignoreValue: true, ignoreLease: true)),
            .put(PutRequest(key: bytes("k"))),
            .deleteRange(DeleteRangeRequest(key: bytes("a"), rangeEnd: [0], previousKV: false)),
            .txn(nested),
            .txn(TxnRequest()),
            .compact(revision: -1),
            .leaseGrant(id: .max, ttlSeconds: .min),
            .leaseRevoke(id: 0),
        ]
        for command in commands {
            #expect(try Command(decoding: command.encoded) == command)
        }
        #expect(Command.put(PutRequest(key: bytes("k"), value: bytes("v"))).encoded == [1, 0, 1, 0x6B, 1, 0x76, 0, 0])
    }

    @Test(arguments: [11 as UInt64, 12, 13])
    func randomCommandsRoundTripAndEveryPrefixIsRefused(seed: UInt64) throws {
        var generator = RandomCommands(seed: seed)
        generator.includesAlarms = true
        var acceptedPrefixes = 0
        for _ in 0..<1_000 {
            let command = generator.wildCommand()
            let encoded = command.encoded
            #expect(try Command(decoding: encoded) == command)
            for length in 0..<encoded.count where (try? Command(decoding: Array(encoded.prefix(length)))) != nil {
                acceptedPrefixes += 1
            }
            #expect(throws: CommandDecodingError.trailingBytes(count: 1)) { try Command(decoding: encoded + [0]) }
        }
        #expect(acceptedPrefixes == 0)
    }

    /// Random bytes, and valid encodings with bytes flipped: decoding throws or gives a command
    /// that encodes back to exactly the input.
    @Test(arguments: [21 as UInt64, 22])
    func anyBytesDecodeWithoutTrappingAndAcceptedBytesAreCanonical(seed: UInt64) {
        var generator = RandomCommands(seed: seed)
        var accepted = 0
        for round in 0..<40_000 {
            var input: [UInt8]
            if round % 2 == 0 {
                input = (0..<generator.random.int(in: 0...40)).map { _ in UInt8(generator.random.int(in: 0...255)) }
                if !input.isEmpty && generator.random.chance(80) { input[0] = 1 }
                if input.count > 1 && generator.random.chance(80) { input[1] = UInt8(generator.random.int(in: 0...6)) }
            } else {
                input = generator.command(current: 10).encoded
                for _ in 0..<generator.random.int(in: 1...3) {
                    let position = generator.random.int(in: 0...(input.count - 1))
                    input[position] ^= UInt8(1 << generator.random.int(in: 0...7))
                }
            }
            if let command = try? Command(decoding: input) {
                accepted += 1
                #expect(command.encoded == input)
            }
        }
        #expect(accepted > 1_000)
    }

    @Test func txnsNestedDeeperThanAnyValidCommandAreRefused() throws {
        func nested(_ levels: Int) -> Command {
            var txn = TxnRequest()
            for _ in 1..<levels { txn = TxnRequest(success: [.txn(txn)]) }
            return .txn(txn)
        }
        let deepest = nested(CommandCodec.txnNestingLevelsMax)
        #expect(try Command(decoding: deepest.encoded) == deepest)
        #expect(throws: Never.self) { try MVCCStore().validate(deepest) }
        let tooDeep = nested(CommandCodec.txnNestingLevelsMax + 1)
        #expect(throws: CommandDecodingError.nestingTooDeep(limit: CommandCodec.txnNestingLevelsMax)) {
            try Command(decoding: tooDeep.encoded)
        }
        #expect(throws: MVCCError.tooManyOperations(limit: 128)) { try MVCCStore().validate(tooDeep) }
    }

    @Test func malformedInputsNameTheirFault() {
        #expect(throws: CommandDecodingError.empty) { try Command(decoding: []) }
        #expect(throws: CommandDecodingError.unsupportedFormatVersion(2)) { try Command(decoding: [2, 0]) }
        #expect(throws: CommandDecodingError.malformed(.invalidTag(8, offset: 1))) { try Command(decoding: [1, 8]) }
        #expect(throws: CommandDecodingError.malformed(.invalidTag(2, offset: 2))) { try Command(decoding: [1, 6, 2, 1, 0]) }
        #expect(throws: CommandDecodingError.malformed(.lengthOutOfBounds(200, offset: 2))) { try Command(decoding: [1, 0, 0xC8, 0x01]) }
        #expect(throws: CommandDecodingError.malformed(.malformedVarint(offset: 2))) { try Command(decoding: [1, 3, 0x80, 0x00]) }
        #expect(throws: CommandDecodingError.malformed(.malformedVarint(offset: 2))) { try Command(decoding: [1, 3] + [UInt8](repeating: 0xFF, count: 10)) }
        #expect(throws: CommandDecodingError.malformed(.invalidBoolean(2, offset: 4))) { try Command(decoding: [1, 1, 0, 0, 2]) }
        #expect(throws: CommandDecodingError.malformed(.invalidTag(8, offset: 6))) { try Command(decoding: [1, 0, 1, 0x6B, 0, 0, 8]) }
    }
}
