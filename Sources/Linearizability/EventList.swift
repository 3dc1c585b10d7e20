/// The call and return events of a partition's completed operations, as a doubly linked list in time
/// order, from which linearized operations are lifted and to which backtracking restores them.
///
/// This is the structure of Lowe's just-in-time linearization: an operation may be linearized next
/// exactly when its call comes before the first return still in the list, because that return's
/// operation must be linearized before anything invoked after it completed. Entries live in arrays
/// and link by index; removal keeps an entry's own links, so restoring entries in the reverse order of
/// their removal (which the depth-first search does) puts the list back exactly ("dancing links").
///
/// Indeterminate operations have no return event and are not in this list; see ``PreparedPartition``.
package struct EventList {
    /// One event of a completed operation, in the order the list should hold them.
    package struct Event {
        package var operation: Int
        package var isCall: Bool
        /// The event's position among all events of the partition, indeterminate calls included.
        package var position: Int

        package init(operation: Int, isCall: Bool, position: Int) {
            self.operation = operation
            self.isCall = isCall
            self.position = position
        }
    }

    /// The sentinel before the first event.
    package static let head = 0
    /// The sentinel after the last event.
    package let tail: Int

    private var nextEntry: [Int]
    private var previousEntry: [Int]
    /// For a call entry, the index of its operation's return entry; `noEntry` for every other entry.
    private let matchingReturn: [Int]
    private let operationOfEntry: [Int]
    private let positionOfEntry: [Int]

    private static let noEntry = -1

    package init(events: [Event]) {
        let entryCount = events.count + 2
        let tailEntry = entryCount - 1
        tail = tailEntry
        nextEntry = (0..<entryCount).map { $0 == tailEntry ? Self.noEntry : $0 + 1 }
        previousEntry = (0..<entryCount).map { $0 == Self.head ? Self.noEntry : $0 - 1 }
        var matching = Array(repeating: Self.noEntry, count: entryCount)
        var operations = Array(repeating: Self.noEntry, count: entryCount)
        // The sentinels sort before and after every event, which keeps comparisons total.
        var positions = Array(repeating: Int.min, count: entryCount)
        positions[tailEntry] = Int.max
        var callEntryOfOperation: [Int: Int] = [:]
        for (offset, event) in events.enumerated() {
            let entry = offset + 1
            operations[entry] = event.operation
            positions[entry] = event.position
            if event.isCall {
                precondition(callEntryOfOperation[event.operation] == nil, "operation \(event.operation) called twice")
                callEntryOfOperation[event.operation] = entry
            } else {
                guard let callEntry = callEntryOfOperation[event.operation] else {
                    preconditionFailure("operation \(event.operation) returns before its call")
                }
                precondition(matching[callEntry] == Self.noEntry, "operation \(event.operation) returned twice")
                matching[callEntry] = entry
            }
        }
        for (operation, callEntry) in callEntryOfOperation {
            precondition(matching[callEntry] != Self.noEntry, "operation \(operation) has a call but no return")
        }
        matchingReturn = matching
        operationOfEntry = operations
        positionOfEntry = positions
    }

    /// The first entry after the head sentinel; the tail when the list is empty.
    package var first: Int { nextEntry[Self.head] }

    package func next(after entry: Int) -> Int {
        precondition(entry != tail, "stepped past the tail of the event list")
        return nextEntry[entry]
    }

    /// The operation whose call `entry` is, or nil when `entry` is a return.
    package func calledOperation(_ entry: Int) -> Int? {
        matchingReturn[entry] == Self.noEntry ? nil : operationOfEntry[entry]
    }

    package func position(of entry: Int) -> Int { positionOfEntry[entry] }

    /// Removes a call entry and its return entry.
    package mutating func lift(_ callEntry: Int) {
        let returnEntry = matchingReturn[callEntry]
        precondition(returnEntry != Self.noEntry, "lifted entry \(callEntry) is not a call")
        unlink(callEntry)
        unlink(returnEntry)
    }

    /// Restores a call entry and its return entry; only valid as the inverse of the latest `lift`.
    package mutating func unlift(_ callEntry: Int) {
        let returnEntry = matchingReturn[callEntry]
        precondition(returnEntry != Self.noEntry, "unlifted entry \(callEntry) is not a call")
        relink(returnEntry)
        relink(callEntry)
    }

    private mutating func unlink(_ entry: Int) {
        nextEntry[previousEntry[entry]] = nextEntry[entry]
        previousEntry[nextEntry[entry]] = previousEntry[entry]
    }

    private mutating func relink(_ entry: Int) {
        nextEntry[previousEntry[entry]] = entry
        previousEntry[nextEntry[entry]] = entry
    }
}
