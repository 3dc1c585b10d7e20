import Linearizability
import Testing

/// The sequential semantics of the key-value model, one step at a time.
@Suite struct KeyValueModelTests {
    let model = KeyValueModel()

    @Test func putSetsTheValueAndMustAnswerOk() {
        #expect(model.step(nil, .put(key: "x", value: "a"), .ok) == .some("a"))
        #expect(model.step("b", .put(key: "x", value: "a"), nil) == .some("a"))
        #expect(model.step(nil, .put(key: "x", value: "a"), .value("a")) == nil)
    }

    @Test func getMustReturnTheCurrentValue() {
        #expect(model.step("a", .get(key: "x"), .value("a")) == .some("a"))
        #expect(model.step(nil, .get(key: "x"), .value(nil)) == .some(nil))
        #expect(model.step("a", .get(key: "x"), .value("b")) == nil)
        #expect(model.step(nil, .get(key: "x"), .value("a")) == nil)
        #expect(model.step("a", .get(key: "x"), nil) == .some("a"))
    }

    @Test func compareAndSetSucceedsExactlyWhenTheExpectedValueIsPresent() {
        #expect(
            model.step("a", .compareAndSet(key: "x", expected: "a", new: "b"), .compareAndSet(succeeded: true))
                == .some("b")
        )
        #expect(
            model.step(nil, .compareAndSet(key: "x", expected: nil, new: "b"), .compareAndSet(succeeded: true))
                == .some("b")
        )
        #expect(
            model.step("a", .compareAndSet(key: "x", expected: "c", new: "b"), .compareAndSet(succeeded: false))
                == .some("a")
        )
        #expect(
            model.step("a", .compareAndSet(key: "x", expected: "c", new: "b"), .compareAndSet(succeeded: true)) == nil
        )
        #expect(
            model.step("a", .compareAndSet(key: "x", expected: "a", new: "b"), .compareAndSet(succeeded: false)) == nil
        )
        #expect(model.step("a", .compareAndSet(key: "x", expected: "a", new: "b"), nil) == .some("b"))
        #expect(model.step("a", .compareAndSet(key: "x", expected: "c", new: "b"), nil) == .some("a"))
    }

    @Test func everyInputIsPartitionedByItsKey() {
        #expect(model.partitionKey(.put(key: "k1", value: "a")) == "k1")
        #expect(model.partitionKey(.get(key: "k2")) == "k2")
        #expect(model.partitionKey(.compareAndSet(key: "k3", expected: nil, new: "a")) == "k3")
    }

    @Test func descriptionsAreReadable() {
        #expect(model.describe(.put(key: "x", value: "a"), .ok) == "put(x, \"a\") -> ok")
        #expect(model.describe(.get(key: "x"), .value(nil)) == "get(x) -> absent")
        #expect(model.describe(.put(key: "x", value: "a"), nil) == "put(x, \"a\") -> ?")
        #expect(
            model.describe(.compareAndSet(key: "x", expected: nil, new: "b"), .compareAndSet(succeeded: false))
                == "compareAndSet(x, expected: absent, new: \"b\") -> failed"
        )
        #expect(model.describeState(nil) == "absent")
    }
}
