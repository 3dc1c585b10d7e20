import ConsensusCore

/// The shapes of partition the fault scheduler can impose.
public enum PartitionKind: String, Sendable, CaseIterable {
    /// Two groups that cannot reach each other in either direction.
    case symmetric
    /// One group can send to the other, but not hear back.
    case asymmetric
    /// One node cut off from everyone.
    case isolatedNode
    /// Two groups that cannot reach each other, both connected to one bridge node.
    case bridge
}

/// Links between nodes and the conditions messages meet on them. Time is in microseconds.
public struct SimulatedNetwork: Sendable {
    public struct Conditions: Sendable, Equatable {
        public var lossProbability = 0.0
        public var duplicationProbability = 0.0
        /// With this probability a message is held back much longer, so it arrives out of order.
        public var reorderProbability = 0.0
        public var delayMinMicros: UInt64 = 100
        public var delayMaxMicros: UInt64 = 2_000
        public var reorderDelayMaxMicros: UInt64 = 30_000

        public init() {}
    }

    public let nodeCount: Int
    public var conditions = Conditions()
    /// blocked[from * nodeCount + to]: messages on that directed link are dropped.
    var blocked: [Bool]
    public internal(set) var partitionDescription = "none"

    public init(nodeCount: Int) {
        self.nodeCount = nodeCount
        self.blocked = Array(repeating: false, count: nodeCount * nodeCount)
    }

    public func isBlocked(from: Int, to: Int) -> Bool { blocked[from * nodeCount + to] }

    public var isPartitioned: Bool { blocked.contains(true) }

    public mutating func heal() {
        for index in blocked.indices { blocked[index] = false }
        partitionDescription = "none"
    }

    /// Imposes a partition of `kind` over nodes 0..<nodeCount, choosing the groups with `random`.
    /// `focus`, when given, is the node isolated, bridging, or alone on its side of a split.
    public mutating func partition(_ kind: PartitionKind, focus: Int? = nil, random: inout SeededRandom) {
        heal()
        var nodes = Array(0..<nodeCount)
        nodes.shuffle(using: &random)
        if let focus, let position = nodes.firstIndex(of: focus) { nodes.swapAt(0, position) }
        switch kind {
        case .symmetric, .asymmetric:
            let split = focus == nil ? random.int(in: 1..<nodeCount) : 1
            let left = Array(nodes[..<split]), right = Array(nodes[split...])
            for a in left {
                for b in right {
                    blocked[b * nodeCount + a] = true
                    if kind == .symmetric { blocked[a * nodeCount + b] = true }
                }
            }
            partitionDescription = kind == .symmetric ? "\(names(left)) | \(names(right))" : "\(names(left)) -> \(names(right)) only"
        case .isolatedNode:
            let node = nodes[0]
            for other in 0..<nodeCount where other != node {
                blocked[node * nodeCount + other] = true
                blocked[other * nodeCount + node] = true
            }
            partitionDescription = "\(names([node])) isolated"
        case .bridge:
            guard nodeCount >= 3 else {
                partition(.isolatedNode, focus: focus, random: &random)
                return
            }
            let bridge = nodes[0]
            let rest = Array(nodes.dropFirst())
            let split = random.int(in: 1..<rest.count)
            let left = Array(rest[..<split]), right = Array(rest[split...])
            for a in left {
                for b in right {
                    blocked[a * nodeCount + b] = true
                    blocked[b * nodeCount + a] = true
                }
            }
            partitionDescription = "\(names(left)) | \(names(right)) bridged by \(names([bridge]))"
        }
    }

    /// The delivery delays for one message: empty when it is lost, two entries when duplicated.
    public func deliveryDelays(from: Int, to: Int, random: inout SeededRandom) -> [UInt64] {
        if isBlocked(from: from, to: to) || random.chance(conditions.lossProbability) { return [] }
        var delays = [delay(random: &random)]
        if random.chance(conditions.duplicationProbability) { delays.append(delay(random: &random)) }
        return delays
    }

    func delay(random: inout SeededRandom) -> UInt64 {
        if random.chance(conditions.reorderProbability) {
            return UInt64(random.int(in: Int(conditions.delayMinMicros)..<Int(conditions.reorderDelayMaxMicros) + 1))
        }
        return UInt64(random.int(in: Int(conditions.delayMinMicros)..<Int(conditions.delayMaxMicros) + 1))
    }

    func names(_ nodes: [Int]) -> String {
        "{" + nodes.sorted().map { "n\($0 + 1)" }.joined(separator: ",") + "}"
    }
}
