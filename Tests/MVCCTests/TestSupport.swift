import MVCC
import Testing

/// Test shorthand: a string's UTF-8 bytes.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// The `range_end` meaning "every key from `key` on".
let toEnd: [UInt8] = [0]

extension MVCCStore {
    /// Applies a command that the test expects to succeed, and returns its outcome.
    @discardableResult
    mutating func mustApply(_ command: Command, sourceLocation: SourceLocation = #_sourceLocation) -> CommandOutcome? {
        switch apply(command) {
        case .success(let outcome): return outcome
        case .failure(let error):
            Issue.record("\(command) failed with \(error)", sourceLocation: sourceLocation)
            return nil
        }
    }

    /// Applies a command the test expects to fail, and returns its error.
    mutating func applyError(_ command: Command) -> MVCCError? {
        if case .failure(let error) = apply(command) { return error }
        return nil
    }

    @discardableResult
    mutating func put(_ key: String, _ value: String, lease: Int64 = 0) -> CommandOutcome? {
        mustApply(.put(PutRequest(key: bytes(key), value: bytes(value), lease: lease)))
    }

    @discardableResult
    mutating func delete(_ key: String, rangeEnd: [UInt8] = []) -> CommandOutcome? {
        mustApply(.deleteRange(DeleteRangeRequest(key: bytes(key), rangeEnd: rangeEnd)))
    }

    /// The current version of `key`, or nil.
    func get(_ key: String, revision: Int64 = 0) -> KeyValue? {
        try? range(RangeRequest(key: bytes(key), revision: revision)).kvs.first
    }

    /// The keys of a range read, as strings.
    func keys(_ request: RangeRequest) -> [String] {
        ((try? range(request))?.kvs ?? []).map { String(decoding: $0.key, as: UTF8.self) }
    }
}

extension Result where Failure == MVCCError {
    var error: MVCCError? {
        if case .failure(let error) = self { return error }
        return nil
    }
}

/// What a throwing read threw, as a value.
func thrownError<Value>(_ body: () throws -> Value) -> MVCCError? {
    do {
        _ = try body()
        return nil
    } catch let error as MVCCError {
        return error
    } catch {
        Issue.record("unexpected error type: \(error)")
        return nil
    }
}

/// A tiny seeded generator, so that every randomized test is reproduced by its seed.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) {
        state = seed
    }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }

    mutating func int(in range: ClosedRange<Int>) -> Int { Int.random(in: range, using: &self) }
    mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &self) < percent }
    mutating func pick<Element>(_ elements: [Element]) -> Element { elements.randomElement(using: &self)! }
}
