import MVCC
import Testing

/// Snapshots: exact round trips, identical behaviour after restore, and no trap on any input.
@Suite struct SnapshotTests {
    /// A store with history, a compaction, a tombstone kept at the compacted revision, and leases.
    func richStore() -> MVCCStore {
        var store = MVCCStore()
        store.mustApply(.leaseGrant(id: 5, ttlSeconds: 60))
        store.mustApply(.leaseGrant(id: -9, ttlSeconds: 1))
        store.put("a", "1")  // 2
        store.put("b", "1", lease: 5)  // 3
        store.put("a", "2")  // 4
        store.delete("c", rangeEnd: bytes("d"))  // deletes nothing
        store.put("c", "1")  // 5
        store.delete("c")  // 6
        store.mustApply(.compact(revision: 6))
        store.put("a", "3", lease: 5)  // 7
        store.put("d", "")  // 8
        return store
    }

    @Test func snapshotRestoresEveryPartOfTheState() throws {
        let store = richStore()
        let restored = try MVCCStore(snapshot: store.snapshot())
        #expect(restored.snapshot() == store.snapshot())
        #expect(restored.revision == store.revision)
        #expect(restored.compactedRevision == store.compactedRevision)
        #expect(restored.hasCompacted == store.hasCompacted)
        #expect(restored.keyCount == store.keyCount)
        #expect(restored.sizeBytes == store.sizeBytes)
        #expect(restored.leases == store.leases)
        #expect(restored.changeLog == store.changeLog)
        #expect(restored.lastAppliedEvents == [])
        for revision in store.compactedRevision...store.revision {
            let everything = RangeRequest(key: [0], rangeEnd: toEnd, revision: revision)
            #expect(try restored.range(everything) == store.range(everything))
            #expect(
                try restored.events(key: [0], rangeEnd: toEnd, from: revision, limit: 100).events
                    == store.events(key: [0], rangeEnd: toEnd, from: revision, limit: 100).events)
        }
    }

    @Test func aFreshStoreRoundTrips() throws {
        let fresh = MVCCStore()
        #expect(fresh.snapshot() == [3, 2, 0, 0, 0, 0, 0, 0, 0, 0])
        // Version 1 (no alarms section) and 2 (no members) are still read.
        #expect(try MVCCStore(snapshot: [1, 2, 0, 0, 0, 0]).revision == 1)
        #expect(try MVCCStore(snapshot: [2, 2, 0, 0, 0, 0, 0]).revision == 1)
        let restored = try MVCCStore(snapshot: fresh.snapshot())
        #expect(restored.revision == 1)
        #expect(restored.snapshot() == fresh.snapshot())
        var compactedAtZero = fresh
        compactedAtZero.mustApply(.compact(revision: 0))
        let restoredCompacted = try MVCCStore(snapshot: compactedAtZero.snapshot())
        #expect(restoredCompacted.applying(.compact(revision: 0)).error == .compacted(compactRevision: 0))
    }

    /// Apply a random sequence to A, restore B from A's snapshot, go on applying to both: every
    /// outcome, event and read must stay identical.
    @Test(arguments: [31 as UInt64, 32, 33])
    func aRestoredStoreBehavesIdentically(seed: UInt64) throws {
        var generator = RandomCommands(seed: seed)
        generator.includesAlarms = true
        var original = MVCCStore()
        for _ in 0..<600 { _ = original.apply(generator.command(current: original.revision)) }
        var restored = try MVCCStore(snapshot: original.snapshot())
        for step in 0..<1_500 {
            let command = generator.command(current: original.revision)
            let outcome = original.apply(command)
            #expect(restored.apply(command) == outcome, "step \(step): \(command)")
            #expect(restored.lastAppliedEvents == original.lastAppliedEvents)
            let request = generator.range(current: original.revision)
            let read = Result { () throws(MVCCError) in try original.range(request) }
            #expect(Result { () throws(MVCCError) in try restored.range(request) } == read)
        }
        #expect(restored.snapshot() == original.snapshot())
        for revision in max(original.compactedRevision, 1)...original.revision {
            let everything = RangeRequest(key: [0], rangeEnd: toEnd, revision: revision)
            #expect(try restored.range(everything) == original.range(everything))
            let replayed = try restored.events(key: [0], rangeEnd: toEnd, from: revision, limit: 10_000)
            #expect(try original.events(key: [0], rangeEnd: toEnd, from: revision, limit: 10_000) == replayed)
        }
    }

    /// Random bytes, truncations and bit flips of real snapshots: decoding throws or yields a store
    /// that re-encodes to exactly the input and keeps working.
    @Test(arguments: [41 as UInt64, 42])
    func anyBytesRestoreWithoutTrapping(seed: UInt64) {
        var generator = RandomCommands(seed: seed)
        generator.includesAlarms = true
        var source = MVCCStore()
        var snapshots: [[UInt8]] = []
        for step in 0..<400 {
            _ = source.apply(generator.command(current: source.revision))
            if step % 40 == 0 { snapshots.append(source.snapshot()) }
        }
        var accepted = 0
        for round in 0..<6_000 {
            var input = generator.random.pick(snapshots)
            switch round % 3 {
            case 0:
                input = Array(input.prefix(generator.random.int(in: 0...(input.count - 1))))
            case 1:
                for _ in 0..<generator.random.int(in: 1...4) {
                    let position = generator.random.int(in: 0...(input.count - 1))
                    input[position] ^= UInt8(1 << generator.random.int(in: 0...7))
                }
            default:
                input = [1] + (0..<generator.random.int(in: 0...30)).map { _ in UInt8(generator.random.int(in: 0...255)) }
            }
            guard var store = try? MVCCStore(snapshot: input) else { continue }
            accepted += 1
            #expect(store.snapshot() == input)
            #expect(store.keyIndex.structuralViolations() == [])
            for _ in 0..<20 { _ = store.apply(generator.command(current: store.revision)) }
        }
        #expect(accepted > 50)
    }

    @Test func everyPrefixOfASnapshotIsRefused() {
        let snapshot = richStore().snapshot()
        for length in 0..<snapshot.count {
            #expect(throws: SnapshotDecodingError.self) { try MVCCStore(snapshot: Array(snapshot.prefix(length))) }
        }
        #expect(throws: SnapshotDecodingError.trailingBytes(count: 2)) { try MVCCStore(snapshot: snapshot + [0, 0]) }
    }

    /// Well-formed snapshots that describe states no sequence of commands reaches.
    @Test func inconsistentStatesAreRefused() {
        struct Entry {
            var revision: Int64
            var tombstone = false
            var create: Int64 = 0
            var version: Int64 = 1
            var lease: Int64 = 0
        }
        func snapshot(
            revision: Int64 = 10, compacted: Int64 = 0, hasCompacted: Bool = false, leases: [Int64] = [],
            keys: [(String, [Entry])]
        ) -> [UInt8] {
            var writer = WireWriter()
            writer.writeByte(1)
            writer.writeSigned(revision)
            writer.writeSigned(compacted)
            writer.writeBool(hasCompacted)
            writer.writeCount(leases.count)
            for id in leases {
                writer.writeSigned(id)
                writer.writeSigned(10)
            }
            writer.writeCount(keys.count)
            for (key, entries) in keys {
                writer.writeBytes(bytes(key))
                writer.writeCount(entries.count)
                for entry in entries {
                    writer.writeSigned(entry.revision)
                    writer.writeUnsigned(0)
                    writer.writeByte(entry.tombstone ? 1 : 0)
                    if !entry.tombstone {
                        writer.writeSigned(entry.create == 0 ? entry.revision : entry.create)
                        writer.writeSigned(entry.version)
                        writer.writeSigned(entry.lease)
                        writer.writeBytes([])
                    }
                }
            }
            return writer.bytes
        }
        func refused(_ input: [UInt8]) -> Bool {
            do {
                _ = try MVCCStore(snapshot: input)
                return false
            } catch {
                if case .inconsistent = error { return true }
                return false
            }
        }
        let valid = snapshot(leases: [4], keys: [("a", [Entry(revision: 2), Entry(revision: 3, create: 2, version: 2, lease: 4), Entry(revision: 5, tombstone: true), Entry(revision: 6)])])
        #expect(throws: Never.self) { try MVCCStore(snapshot: valid) }
        #expect(refused(snapshot(revision: 0, keys: [])))
        #expect(refused(snapshot(compacted: 11, hasCompacted: true, keys: [])))
        #expect(refused(snapshot(compacted: 3, hasCompacted: false, keys: [])))
        #expect(refused(snapshot(leases: [0], keys: [])))
        #expect(refused(snapshot(leases: [5, 4], keys: [])))
        #expect(refused(snapshot(keys: [("b", [Entry(revision: 2)]), ("a", [Entry(revision: 3)])])))
        #expect(refused(snapshot(keys: [("", [Entry(revision: 2)])])))
        #expect(refused(snapshot(keys: [("a", [])])))
        #expect(refused(snapshot(keys: [("a", [Entry(revision: 11)])])))
        #expect(refused(snapshot(keys: [("a", [Entry(revision: 3), Entry(revision: 3, create: 3, version: 2)])])))
        #expect(refused(snapshot(keys: [("a", [Entry(revision: 2), Entry(revision: 3, create: 2, version: 3)])])))
        #expect(refused(snapshot(keys: [("a", [Entry(revision: 3, create: 2, version: 2)])])))
        #expect(refused(snapshot(keys: [("a", [Entry(revision: 2, tombstone: true)])])))
        #expect(refused(snapshot(keys: [("a", [Entry(revision: 2), Entry(revision: 3, tombstone: true), Entry(revision: 4, tombstone: true)])])))
        #expect(refused(snapshot(keys: [("a", [Entry(revision: 2, lease: 4)])])))
        #expect(refused(snapshot(compacted: 5, hasCompacted: true, keys: [("a", [Entry(revision: 2), Entry(revision: 3, create: 2, version: 2)])])))
        #expect(refused(snapshot(compacted: 5, hasCompacted: true, keys: [("a", [Entry(revision: 2), Entry(revision: 4, tombstone: true)])])))
        // What compaction does leave: a version continuing a dropped generation start, a tombstone at
        // exactly the compacted revision.
        #expect(!refused(snapshot(compacted: 5, hasCompacted: true, keys: [("a", [Entry(revision: 4, create: 2, version: 3)]), ("b", [Entry(revision: 5, tombstone: true)])])))
    }
}
