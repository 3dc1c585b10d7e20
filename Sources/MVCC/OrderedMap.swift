/// The fan-out of `OrderedMap`'s B-tree: a node holds at most this many keys before it splits.
/// 64 keeps a node's keys within a few cache lines of references and the tree three levels deep
/// at a hundred thousand keys.
package enum OrderedMapLayout {
    package static let nodeKeysMax = 64
}

/// An ordered map from byte-string keys to values: a B-tree of copy-on-write nodes.
///
/// Lookups and inserts cost O(log n) key comparisons and shift at most `nodeKeysMax` references.
/// Copying the map is O(1): copies share nodes, and a write first copies each shared node on its
/// path (checked with `isKnownUniquelyReferenced`), so the map keeps value semantics.
///
/// Keys are never removed one by one: the store only drops keys when it compacts, and rebuilds the
/// map then (`retainAndUpdate`), which keeps this structure to insert, update and ordered scan.
package struct OrderedMap<Value> {
    private var root = OrderedMapNode<Value>()
    package private(set) var count = 0

    package init() {}

    package var isEmpty: Bool { count == 0 }

    /// The value stored under `key`, if any.
    package func value(forKey key: [UInt8]) -> Value? {
        var node = root
        while true {
            let position = node.position(of: key)
            if position.found { return node.values[position.index] }
            if node.isLeaf { return nil }
            node = node.children[position.index]
        }
    }

    /// Runs `body` on the value stored under `key`, inserting `makeValue()` first when the key is
    /// missing, and returns what `body` returned. One descent does both the lookup and the insert.
    package mutating func withValue<Result>(
        forKey key: [UInt8], insertingIfMissing makeValue: () -> Value, _ body: (inout Value) -> Result
    ) -> Result {
        makeRootUnique()
        var result: Result?
        let split = root.upsert(key, makeValue: makeValue, body: body, result: &result, count: &count)
        if let split { root = OrderedMapNode(splitRoot: root, split) }
        guard let result else { preconditionFailure("OrderedMap.withValue: body did not run for a key") }
        return result
    }

    /// Runs `body` on the value stored under `key` and returns its result, or returns nil and changes
    /// nothing when the key is missing.
    package mutating func modifyValue<Result>(forKey key: [UInt8], _ body: (inout Value) -> Result) -> Result? {
        guard value(forKey: key) != nil else { return nil }
        return withValue(forKey: key, insertingIfMissing: {
            preconditionFailure("OrderedMap.modifyValue: key vanished between lookup and update")
        }, body)
    }

    /// Visits the entries with keys at or after `lowerBound` in ascending key order until `body`
    /// returns false.
    package func forEach(from lowerBound: [UInt8], _ body: (_ key: [UInt8], _ value: Value) -> Bool) {
        _ = root.visit(from: lowerBound, body)
    }

    /// Visits every entry in ascending key order.
    package func forEach(_ body: (_ key: [UInt8], _ value: Value) -> Void) {
        _ = root.visit(from: nil) { key, value in
            body(key, value)
            return true
        }
    }

    /// Lets `update` change every value in key order and drops the entries it returns false for.
    /// Costs O(n) and rebuilds the tree, which is what compaction wants.
    package mutating func retainAndUpdate(_ update: (_ key: [UInt8], _ value: inout Value) -> Bool) {
        var kept: [([UInt8], Value)] = []
        kept.reserveCapacity(count)
        forEach { key, value in kept.append((key, value)) }
        self = OrderedMap()
        for (key, var value) in kept where update(key, &value) {
            appendInOrder(key, value)
        }
    }

    /// Inserts `key`, which must sort after every key already present (used when rebuilding).
    package mutating func appendInOrder(_ key: [UInt8], _ value: Value) {
        withValue(forKey: key, insertingIfMissing: { value }, { _ in })
    }

    private mutating func makeRootUnique() {
        if !isKnownUniquelyReferenced(&root) { root = root.copy() }
    }

    /// Checks the B-tree's structural invariants, for tests: keys strictly ascending across the whole
    /// tree, no node over `nodeKeysMax`, every leaf at the same depth, and `count` right.
    package func structuralViolations() -> [String] {
        var violations: [String] = []
        var previous: [UInt8]?
        var seen = 0
        forEach { key, _ in
            if let previous, ByteOrder.compare(previous, key) >= 0 {
                violations.append("keys out of order: \(previous) then \(key)")
            }
            previous = key
            seen += 1
        }
        if seen != count { violations.append("count \(count) but \(seen) entries") }
        var leafDepths = Set<Int>()
        root.collectShape(depth: 0, leafDepths: &leafDepths, violations: &violations, isRoot: true)
        if leafDepths.count > 1 { violations.append("leaves at depths \(leafDepths.sorted())") }
        return violations
    }
}

extension OrderedMap: Sendable where Value: Sendable {}

/// A node of `OrderedMap`: a leaf when `children` is empty, otherwise an internal node whose
/// `children[i]` holds the keys between `keys[i - 1]` and `keys[i]`.
///
/// `@unchecked Sendable`: a node is only written while its owner holds the sole reference (every
/// write path checks `isKnownUniquelyReferenced` and copies otherwise), so a node reachable from two
/// map values, and so possibly from two threads, is never mutated.
package final class OrderedMapNode<Value>: @unchecked Sendable {
    package var keys: [[UInt8]] = []
    package var values: [Value] = []
    package var children: [OrderedMapNode<Value>] = []

    /// The right half of a node that overflowed, and the entry that now separates the halves.
    package struct Split {
        var key: [UInt8]
        var value: Value
        var right: OrderedMapNode<Value>
    }

    package init() {}

    private init(keys: [[UInt8]], values: [Value], children: [OrderedMapNode<Value>]) {
        self.keys = keys
        self.values = values
        self.children = children
    }

    /// A new root above an old root that split.
    package convenience init(splitRoot left: OrderedMapNode<Value>, _ split: Split) {
        self.init(keys: [split.key], values: [split.value], children: [left, split.right])
    }

    package var isLeaf: Bool { children.isEmpty }

    package func copy() -> OrderedMapNode<Value> {
        OrderedMapNode(keys: keys, values: values, children: children)
    }

    /// Where `key` is, or where it would be inserted, by binary search.
    @inline(__always)
    package func position(of key: [UInt8]) -> (index: Int, found: Bool) {
        var low = 0
        var high = keys.count
        while low < high {
            let middle = (low + high) / 2
            let order = ByteOrder.compare(keys[middle], key)
            if order < 0 {
                low = middle + 1
            } else if order > 0 {
                high = middle
            } else {
                return (middle, true)
            }
        }
        return (low, false)
    }

    /// Updates or inserts under `key` in this subtree; the caller has made this node unique. Returns
    /// the split when this node overflowed, for the parent to absorb.
    package func upsert<Result>(
        _ key: [UInt8], makeValue: () -> Value, body: (inout Value) -> Result,
        result: inout Result?, count: inout Int
    ) -> Split? {
        let position = position(of: key)
        if position.found {
            result = body(&values[position.index])
            return nil
        }
        if isLeaf {
            var value = makeValue()
            result = body(&value)
            keys.insert(key, at: position.index)
            values.insert(value, at: position.index)
            count += 1
            return splitIfOverfull()
        }
        if !isKnownUniquelyReferenced(&children[position.index]) {
            children[position.index] = children[position.index].copy()
        }
        let childSplit = children[position.index].upsert(
            key, makeValue: makeValue, body: body, result: &result, count: &count)
        guard let childSplit else { return nil }
        keys.insert(childSplit.key, at: position.index)
        values.insert(childSplit.value, at: position.index)
        children.insert(childSplit.right, at: position.index + 1)
        return splitIfOverfull()
    }

    private func splitIfOverfull() -> Split? {
        guard keys.count > OrderedMapLayout.nodeKeysMax else { return nil }
        let middle = keys.count / 2
        let right = OrderedMapNode(
            keys: Array(keys[(middle + 1)...]),
            values: Array(values[(middle + 1)...]),
            children: isLeaf ? [] : Array(children[(middle + 1)...])
        )
        let split = Split(key: keys[middle], value: values[middle], right: right)
        keys.removeSubrange(middle...)
        values.removeSubrange(middle...)
        if !isLeaf { children.removeSubrange((middle + 1)...) }
        return split
    }

    /// In-order visit of the entries at or after `lowerBound` (all entries when nil); returns false
    /// once `body` asked to stop.
    package func visit(from lowerBound: [UInt8]?, _ body: (_ key: [UInt8], _ value: Value) -> Bool) -> Bool {
        var start = 0
        var startsOnExactKey = false
        if let lowerBound {
            let position = position(of: lowerBound)
            start = position.index
            startsOnExactKey = position.found
        }
        if isLeaf {
            for index in start..<keys.count where !body(keys[index], values[index]) { return false }
            return true
        }
        // The child left of an exact match holds only smaller keys, so it is skipped.
        if !startsOnExactKey, !children[start].visit(from: lowerBound, body) { return false }
        for index in start..<keys.count {
            if !body(keys[index], values[index]) { return false }
            if !children[index + 1].visit(from: nil, body) { return false }
        }
        return true
    }

    package func collectShape(depth: Int, leafDepths: inout Set<Int>, violations: inout [String], isRoot: Bool) {
        if keys.count > OrderedMapLayout.nodeKeysMax { violations.append("node with \(keys.count) keys") }
        if !isRoot && keys.isEmpty { violations.append("empty non-root node at depth \(depth)") }
        if keys.count != values.count { violations.append("\(keys.count) keys but \(values.count) values") }
        if isLeaf {
            leafDepths.insert(depth)
            return
        }
        if children.count != keys.count + 1 {
            violations.append("\(keys.count) keys but \(children.count) children")
        }
        for child in children {
            child.collectShape(depth: depth + 1, leafDepths: &leafDepths, violations: &violations, isRoot: false)
        }
    }
}
