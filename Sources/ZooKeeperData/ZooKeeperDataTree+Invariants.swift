/// What must hold of any tree every replica reaches, whatever the transactions were: the links
/// between parents and children, between sessions and their ephemerals, and the sweep's index.
/// The simulator checks every member's tree at the end of each run; O(nodes).
extension ZooKeeperDataTree {
    /// The broken rules, at most `limit` of them; empty for a sound tree.
    public func invariantViolations(limit: Int = 10) -> [String] {
        var found: [String] = []
        func report(_ text: String) { if found.count < limit { found.append(text) } }
        guard nodes[ZooKeeperPath.root] != nil else { return ["the root is missing"] }
        for (path, node) in nodes {
            if path != ZooKeeperPath.root {
                let parent = ZooKeeperPath.parent(of: path)
                if nodes[parent]?.children.contains(ZooKeeperPath.name(of: path)) != true {
                    report("\(path) is not among its parent's children")
                }
            }
            for child in node.children where nodes[path == ZooKeeperPath.root ? "/" + child : path + "/" + child] == nil {
                report("\(path) lists a child \(child) that does not exist")
            }
            if Self.isSessionOwner(node.ephemeralOwner), sessions[node.ephemeralOwner]?.ephemerals.contains(path) != true {
                report("\(path) is an ephemeral of session \(node.ephemeralOwner), which does not hold it")
            }
            if !node.children.isEmpty && Self.isSessionOwner(node.ephemeralOwner) {
                report("the ephemeral \(path) has children")
            }
            let swept = node.ephemeralOwner == Self.containerOwner || Self.ttlMillis(ofOwner: node.ephemeralOwner) != nil
            if swept != sweptNodes.contains(path) { report("\(path) is \(swept ? "missing from" : "wrongly in") the sweep's index") }
        }
        for (id, session) in sessions {
            for path in session.ephemerals where nodes[path]?.ephemeralOwner != id {
                report("session \(id) holds \(path), which is not its ephemeral")
            }
        }
        for path in sweptNodes where nodes[path] == nil { report("the sweep's index holds \(path), which does not exist") }
        return found
    }
}
