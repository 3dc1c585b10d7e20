import ConsensusCore
import Replica
import Testing

@Suite struct CompositeSnapshotTests {
    @Test func partsRoundTripInTagOrder() throws {
        let snapshot = CompositeSnapshot(parts: [.zookeeper: [9, 9], .etcd: [1, 2, 3], .keyValue: []])
        let bytes = snapshot.encoded
        #expect(try CompositeSnapshot(decoding: bytes) == snapshot)
        // Equal states give equal bytes whatever order the parts were gathered in.
        #expect(CompositeSnapshot(parts: [.etcd: [1, 2, 3], .keyValue: [], .zookeeper: [9, 9]]).encoded == bytes)
    }

    @Test func dataWrittenBeforeTagsIsTheEtcdPart() throws {
        // An MVCC snapshot starts with its format version (1 to 3), never the magic.
        let legacy: [UInt8] = [3, 2, 0, 0, 0, 0, 0, 0, 0, 0]
        #expect(try CompositeSnapshot(decoding: legacy).parts == [.etcd: legacy])
    }

    @Test func malformedSnapshotsAreRefusedWithTheirReason() {
        let valid = CompositeSnapshot(parts: [.etcd: [1, 2, 3]]).encoded
        #expect(throws: CompositeSnapshot.DecodingError.truncated) { try CompositeSnapshot(decoding: Array(valid.dropLast())) }
        #expect(throws: CompositeSnapshot.DecodingError.trailingBytes(1)) { try CompositeSnapshot(decoding: valid + [0]) }
        var future = valid
        future[4] = 2
        #expect(throws: CompositeSnapshot.DecodingError.unsupportedVersion(2)) { try CompositeSnapshot(decoding: future) }
        var twice = CompositeSnapshot.magic + [1, 2]
        for _ in 0..<2 { twice += [ServiceTag.etcd.rawValue] + [0, 0, 0, 0, 0, 0, 0, 0] }
        #expect(throws: CompositeSnapshot.DecodingError.duplicatePart(.etcd)) { try CompositeSnapshot(decoding: twice) }
        // A length beyond the data is refused before anything is allocated for it.
        let huge = CompositeSnapshot.magic + [1, 1, ServiceTag.etcd.rawValue] + [UInt8](repeating: 0xFF, count: 8)
        #expect(throws: CompositeSnapshot.DecodingError.truncated) { try CompositeSnapshot(decoding: huge) }
    }

    /// The decoder is total: every prefix and every byte flip of a valid snapshot, and seeded random
    /// bytes behind the magic, give parts or an error, never a trap.
    @Test func decodingIsTotal() {
        let valid = CompositeSnapshot(parts: [.etcd: [1, 2, 3, 4], .zookeeper: [5, 6]]).encoded
        for length in 0...valid.count { _ = try? CompositeSnapshot(decoding: Array(valid.prefix(length))) }
        for position in valid.indices {
            for bit in 0..<8 {
                var flipped = valid
                flipped[position] ^= 1 << bit
                _ = try? CompositeSnapshot(decoding: flipped)
            }
        }
        let seed: UInt64 = 0x5EED_C0DE
        var random = SeededRandom(seed: seed)
        for _ in 0..<5_000 {
            let tail = (0..<Int(random.next() % 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            let decoded = try? CompositeSnapshot(decoding: CompositeSnapshot.magic + [1] + tail)
            if let decoded { #expect((try? CompositeSnapshot(decoding: decoded.encoded)) == decoded, "seed \(seed)") }
        }
    }
}
