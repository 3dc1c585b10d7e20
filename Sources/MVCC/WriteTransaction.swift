/// The changes one command is making, etcd's `storeTxnWrite`: every change is written at
/// `beginRevision + 1` with the next sub revision, and the store moves to that revision when the
/// command commits, only if there was a change.
package struct WriteTransaction {
    package let beginRevision: Int64
    /// One event per change, in order; its count is the next sub revision.
    private(set) var events: [Event] = []

    package init(beginRevision: Int64) {
        self.beginRevision = beginRevision
    }

    /// The revision reads inside the transaction see: its own writes once it has made any, as etcd's
    /// `storeTxnWrite.Range` does.
    package var readRevision: Int64 { events.isEmpty ? beginRevision : beginRevision + 1 }

    /// Where the next change is written.
    package var nextRevision: Revision {
        guard let sub = Int32(exactly: events.count) else {
            preconditionFailure("WriteTransaction: more than Int32.max changes in one command")
        }
        return Revision(main: beginRevision + 1, sub: sub)
    }

    package mutating func record(_ event: Event) {
        events.append(event)
    }
}
