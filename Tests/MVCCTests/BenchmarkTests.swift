import MVCC
import Testing

/// Prints how fast puts are applied; asserts nothing about time (numbers belong in benchmarks, not
/// in pass/fail). Meaningful in a release build:
/// `swift test -c release -Xswiftc -enable-testing --filter BenchmarkTests`.
@Suite struct BenchmarkTests {
    static let distinctKeys = 100_000
    static let puts = 400_000
    static let valueBytes = 64

    @Test func appliedPutsPerSecond() {
        let keys = (0..<Self.distinctKeys).map { index in bytes("/registry/pods/default/pod-\(index * 7_919 % Self.distinctKeys)") }
        let value = [UInt8](repeating: 0x61, count: Self.valueBytes)
        let commands = (0..<Self.puts).map { index in
            Command.put(PutRequest(key: keys[index % keys.count], value: value))
        }
        var store = MVCCStore()
        let clock = ContinuousClock()
        let elapsed = clock.measure {
            for command in commands {
                if case .failure(let error) = store.apply(command) { Issue.record("put failed: \(error)") }
            }
        }
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
        print("MVCC benchmark: \(Self.puts) puts over \(Self.distinctKeys) keys in \(seconds) s = \(Int(Double(Self.puts) / seconds)) puts/s applied; \(store.sizeBytes) bytes held")
        #expect(store.keyCount == Self.distinctKeys)
        #expect(store.revision == Int64(Self.puts) + 1)
    }
}
