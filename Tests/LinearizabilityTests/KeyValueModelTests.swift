import Linearizability
import Testing

/// The sequential semantics of the key-value model, one step at a time.
@Suite struct KeyValueModelTests {
    let model = KeyValueModel()

    @Test func putSetsTheValueAndMustAnswerOk() {
        #expect(model.step([:], .put(key: "x", value: "a"), .ok) == .some(["x": "a"]))
        #expect(model.step(["x": "b"], .put(key: "x", value: "a"), nil) == .some(["x": "a"]))
        #expect(model.step([:], .put(key: "x", value: "a"), .value("a")) == nil)
    }

    @Test func getMustReturnTheCurrentValue() {
        #expect(model.step(["x": "a"], .get(key: "x"), .value("a")) == .some(["x": "a"]))
        #expect(model.step([:], .get(key: "x"), .value(nil)) == .some([:]))
        #expect(model.step(["x": "a"], .get(key: "x"), .value("b")) == nil)
        #expect(model.step([:], .get(key: "x"), .value("a")) == nil)
        #expect(model.step(["x": "a"], .get(key: "x"), nil) == .some(["x": "a"]))
    }

    @Test func compareAndSetSucceedsExactlyWhenTheExpectedValueIsPresent() {
        #expect(
            model.step(["x": "a"], .compareAndSet(key: "x", expected: "a", new: "b"), .compareAndSet(succeeded: true))
                == .some(["x": "b"])
        )
        #expect(
            model.step([:], .compareAndSet(key: "x", expected: nil, new: "b"), .compareAndSet(succeeded: true))
                == .some(["x": "b"])
        )
        #expect(
            model.step(["x": "a"], .compareAndSet(key: "x", expected: "c", new: "b"), .compareAndSet(succeeded: false))
                == .some(["x": "a"])
        )
        #expect(
            model.step(["x": "a"], .compareAndSet(key: "x", expected: "c", new: "b"), .compareAndSet(succeeded: true)) == nil
        )
        #expect(
            model.step(["x": "a"], .compareAndSet(key: "x", expected: "a", new: "b"), .compareAndSet(succeeded: false)) == nil
        )
        #expect(model.step(["x": "a"], .compareAndSet(key: "x", expected: "a", new: "b"), nil) == .some(["x": "b"]))
        #expect(model.step(["x": "a"], .compareAndSet(key: "x", expected: "c", new: "b"), nil) == .some(["x": "a"]))
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
        #expect(model.describeState([:]) == "{}")
        #expect(model.describeState(["y": "b", "x": "a"]) == "{x: \"a\", y: \"b\"}")
    }

    @Test func deleteRemovesTheKeyAndSaysWhetherItWasThere() {
        #expect(model.step(["x": "a"], .delete(key: "x"), .deleted(true)) == .some([:]))
        #expect(model.step([:], .delete(key: "x"), .deleted(false)) == .some([:]))
        #expect(model.step([:], .delete(key: "x"), .deleted(true)) == nil)
        #expect(model.step(["x": "a"], .delete(key: "x"), .deleted(false)) == nil)
    }

    @Test func multiKeyOperationsActOnEveryKeyAtOnce() {
        let grouped = KeyValueModel(groups: ["x": "x+y", "y": "x+y"])
        #expect(grouped.step([:], .putAll(keys: ["x", "y"], value: "a"), .ok) == .some(["x": "a", "y": "a"]))
        #expect(grouped.step(["x": "a", "y": "b"], .getAll(keys: ["x", "y"]), .values(["a", "b"])) == .some(["x": "a", "y": "b"]))
        #expect(grouped.step(["x": "a"], .getAll(keys: ["x", "y"]), .values(["a", nil])) == .some(["x": "a"]))
        #expect(grouped.step(["x": "a", "y": "b"], .getAll(keys: ["x", "y"]), .values(["a", "a"])) == nil)
        #expect(grouped.partitionKey(.getAll(keys: ["x", "y"])) == "x+y")
        #expect(grouped.partitionKey(.put(key: "y", value: "c")) == "x+y")
        #expect(grouped.partitionKey(.put(key: "z", value: "c")) == "z")
    }

    /// A read of both keys that sees one of them from before an atomic write of both and the other
    /// from after it is not linearizable: what a txn that is not atomic would show.
    @Test func aTornMultiKeyReadIsCaught() {
        let grouped = KeyValueModel(groups: ["x": "x+y", "y": "x+y"])
        let history = [
            KeyValueOperation(clientID: 0, input: .putAll(keys: ["x", "y"], value: "a"), output: .ok, invokedAt: 0, completedAt: 10),
            KeyValueOperation(clientID: 1, input: .putAll(keys: ["x", "y"], value: "b"), output: .ok, invokedAt: 20, completedAt: 30),
            KeyValueOperation(clientID: 2, input: .getAll(keys: ["x", "y"]), output: .values(["a", "b"]), invokedAt: 15, completedAt: 40),
        ]
        guard case .notLinearizable = Linearizability.check(grouped, history: history, maxSteps: 10_000) else {
            Issue.record("a torn read of two keys was accepted")
            return
        }
        var whole = history
        whole[2].output = .values(["b", "b"])
        #expect(Linearizability.check(grouped, history: whole, maxSteps: 10_000) == .linearizable)
    }
}
