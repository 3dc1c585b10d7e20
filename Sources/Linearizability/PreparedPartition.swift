/// The operations of one partition, indexed from zero, with the event order the search walks.
///
/// Events are ordered by time; at equal times calls come before returns, because operations whose
/// boundaries touch are concurrent, and remaining ties go by operation index so the order (and with
/// it the search and its explanation) is deterministic.
package struct PreparedPartition<Input: Sendable & Hashable, Output: Sendable & Hashable> {
    package let key: String
    package let operations: [HistoryOperation<Input, Output>]
    /// `operations[i].input`, kept apart so the search loop touches only what it needs.
    package let inputs: [Input]
    /// The output handed to the model: the observed one for a completed operation, nil for an
    /// indeterminate one, whose recorded output (if any) is not to be trusted.
    package let modelOutputs: [Output?]
    /// Each operation's call position among all events of the partition.
    package let callPositions: [Int]
    /// Each operation's return position, or nil when it is indeterminate.
    package let returnPositions: [Int?]
    package let completedCount: Int
    package let eventList: EventList
    /// The indeterminate operations, ordered by call position.
    package let indeterminateOperations: [Int]

    package init(key: String, operations: [HistoryOperation<Input, Output>]) {
        self.key = key
        self.operations = operations
        inputs = operations.map(\.input)
        modelOutputs = operations.map { $0.isIndeterminate ? nil : $0.output }

        var events: [(time: UInt64, isReturn: Bool, operation: Int)] = []
        events.reserveCapacity(operations.count * 2)
        for (index, operation) in operations.enumerated() {
            events.append((operation.invokedAt, false, index))
            if let completedAt = operation.completedAt {
                precondition(
                    completedAt >= operation.invokedAt,
                    "an operation of client \(operation.clientID) on key \(key) is invoked at "
                        + "\(operation.invokedAt) but completes earlier, at \(completedAt)"
                )
                events.append((completedAt, true, index))
            }
        }
        events.sort { left, right in
            if left.time != right.time { return left.time < right.time }
            if left.isReturn != right.isReturn { return !left.isReturn }
            return left.operation < right.operation
        }

        var calls = Array(repeating: 0, count: operations.count)
        var returns: [Int?] = Array(repeating: nil, count: operations.count)
        var listEvents: [EventList.Event] = []
        listEvents.reserveCapacity(events.count)
        var indeterminate: [Int] = []
        for (position, event) in events.enumerated() {
            if event.isReturn {
                returns[event.operation] = position
            } else {
                calls[event.operation] = position
            }
            if operations[event.operation].isIndeterminate {
                indeterminate.append(event.operation)
            } else {
                listEvents.append(
                    EventList.Event(operation: event.operation, isCall: !event.isReturn, position: position)
                )
            }
        }
        callPositions = calls
        returnPositions = returns
        completedCount = operations.count - indeterminate.count
        eventList = EventList(events: listEvents)
        indeterminateOperations = indeterminate
    }

    package var operationCount: Int { operations.count }
}
