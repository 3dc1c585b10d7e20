import Testing

import Linearizability

/// The search's internal structures, which the end-to-end tests exercise only indirectly.
@Suite struct SearchStructureTests {
    /// Walks the list from the head and returns (operation, isCall) of each entry.
    static func contents(_ list: EventList) -> [String] {
        var entries: [String] = []
        var entry = list.first
        while entry != list.tail {
            if let operation = list.calledOperation(entry) {
                entries.append("call\(operation)")
            } else {
                entries.append("return")
            }
            entry = list.next(after: entry)
        }
        return entries
    }

    @Test func liftingAndUnliftingRestoresTheEventList() {
        // Operation 0 is [call, return] around operation 1's call; operation 1 returns last.
        let events = [
            EventList.Event(operation: 0, isCall: true, position: 0),
            EventList.Event(operation: 1, isCall: true, position: 1),
            EventList.Event(operation: 0, isCall: false, position: 2),
            EventList.Event(operation: 1, isCall: false, position: 3),
        ]
        var list = EventList(events: events)
        let original = Self.contents(list)
        #expect(original == ["call0", "call1", "return", "return"])

        let firstCall = list.first
        list.lift(firstCall)
        #expect(Self.contents(list) == ["call1", "return"])
        let secondCall = list.first
        list.lift(secondCall)
        #expect(Self.contents(list).isEmpty)
        list.unlift(secondCall)
        list.unlift(firstCall)
        #expect(Self.contents(list) == original)
    }

    @Test func bitsetEqualityFollowsMembersNotHistory() {
        var left = OperationBitset(capacity: 130)
        var right = OperationBitset(capacity: 130)
        left.insert(3)
        left.insert(129)
        right.insert(129)
        right.insert(64)
        right.remove(64)
        #expect(left != right)
        right.insert(3)
        #expect(left == right)
        #expect(left.hashValue == right.hashValue)
        #expect(left.contains(129) && !left.contains(64))
    }

    @Test func preparedPartitionOrdersCallsBeforeReturnsAtEqualTimes() {
        let history = [
            put("x", "a", from: 0, to: 10),
            get("x", returns: nil, from: 10, to: 12),
            timedOutPut("x", "b", from: 11),
        ]
        let partition = PreparedPartition(key: "x", operations: history)
        // Events: put call 0, get call 10, put return 10, timed-out call 11, get return 12.
        #expect(partition.callPositions == [0, 1, 3])
        #expect(partition.returnPositions == [2, 4, nil])
        #expect(partition.indeterminateOperations == [2])
        #expect(partition.completedCount == 2)
    }
}
