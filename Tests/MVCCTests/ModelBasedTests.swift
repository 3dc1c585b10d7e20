import MVCC
import Testing

/// `MVCCStore` against `ReferenceModel` over seeded random command sequences: every outcome, every
/// event, and random reads at random revisions (errors included) must agree. Every so often the
/// store is replaced by its own snapshot, restored, so restore is exercised along the way.
@Suite struct ModelBasedTests {
    static let stepsPerSeed = 2_500
    static let readsPerStep = 3
    static let snapshotEverySteps = 97

    @Test(arguments: [1 as UInt64, 2, 3, 4, 5, 6])
    func storeAgreesWithTheReferenceModel(seed: UInt64) {
        var generator = RandomCommands(seed: seed)
        generator.includesAlarms = true
        var store = MVCCStore()
        var model = ReferenceModel()
        var successes = 0
        for step in 0..<Self.stepsPerSeed {
            let command = generator.command(current: store.revision)
            let outcome = store.apply(command)
            let expected = model.apply(command)
            if case .success = outcome { successes += 1 }
            guard outcome == expected, store.lastAppliedEvents == model.lastEvents else {
                Issue.record("seed \(seed) step \(step): \(command)\nstore: \(outcome) \(store.lastAppliedEvents)\nmodel: \(expected) \(model.lastEvents)")
                return
            }
            #expect(store.revision == model.revision)
            #expect(store.compactedRevision == model.compactedRevision)
            #expect(store.keyCount == model.keyCount)
            #expect(store.leases == model.leases)
            for _ in 0..<Self.readsPerStep where !Self.readsAgree(store, model, &generator, context: "seed \(seed) step \(step)") {
                return
            }
            if step % Self.snapshotEverySteps == 0 {
                let snapshot = store.snapshot()
                guard let restored = try? MVCCStore(snapshot: snapshot) else {
                    Issue.record("seed \(seed) step \(step): snapshot does not restore")
                    return
                }
                #expect(restored.snapshot() == snapshot)
                #expect(restored.keyIndex.structuralViolations() == [])
                #expect(restored.changeLog == store.changeLog)
                #expect(restored.sizeBytes == store.sizeBytes)
                store = restored
            }
        }
        // The generator must exercise the happy paths, not only the error paths.
        #expect(successes > Self.stepsPerSeed / 2)
    }

    /// One random range read and one random event replay, compared; false after recording a mismatch.
    static func readsAgree(
        _ store: MVCCStore, _ model: ReferenceModel, _ generator: inout RandomCommands, context: String
    ) -> Bool {
        let request = generator.range(current: store.revision)
        let read = Result { () throws(MVCCError) in try store.range(request) }
        let expectedRead = model.range(request)
        guard read == expectedRead else {
            Issue.record("\(context): \(request)\nstore: \(read)\nmodel: \(expectedRead)")
            return false
        }
        let key = generator.key()
        let rangeEnd = generator.rangeEnd(after: key)
        let start = Int64(generator.random.int(in: -1...Int(store.revision) + 1))
        let limit = generator.random.int(in: 1...6)
        let replay = Result { () throws(MVCCError) in try store.events(key: key, rangeEnd: rangeEnd, from: start, limit: limit) }
        let expectedReplay = model.events(key: key, rangeEnd: rangeEnd, from: start, limit: limit)
        switch (replay, expectedReplay) {
        case (.success(let got), .success(let expected)):
            // A batch holds `limit` events, then the rest of its last revision.
            var cut = min(limit, expected.count)
            while cut > 0 && cut < expected.count && expected[cut].kv.modRevision == expected[cut - 1].kv.modRevision { cut += 1 }
            // `more` means the batch stopped at a bound, which it must when events are left; it
            // may stop at a later change outside the range too.
            if got.events == Array(expected.prefix(cut)) && (got.more || expected.count == cut) { return true }
        case (.failure(let got), .failure(let expected)):
            if got == expected { return true }
        default:
            break
        }
        Issue.record("\(context): events \(key) \(rangeEnd) from \(start) limit \(limit)\nstore: \(replay)\nmodel: \(expectedReplay)")
        return false
    }
}
