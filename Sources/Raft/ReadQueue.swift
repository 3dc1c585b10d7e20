import ConsensusCore

/// Reads a leader holds until it may answer them (dissertation §6.4).
///
/// A read first waits for the leader to commit an entry of its own term (only then is its commit
/// index at least that of any earlier leader), then for a heartbeat round started after the read
/// arrived to be acknowledged by a quorum (only then is it still the leader). Rounds are numbered so
/// that one acknowledged round confirms every read queued before it.
struct ReadQueue: Sendable {
    struct PendingRead: Sendable {
        var id: RequestID
        /// The node whose client asked: this leader, or a follower that forwarded the read.
        var origin: NodeID
        var readIndex: LogIndex
        var round: UInt64
    }

    var latestRound: UInt64 = 0
    var awaitingCommit: [(id: RequestID, origin: NodeID)] = []
    var awaitingConfirmation: [PendingRead] = []

    var count: Int { awaitingCommit.count + awaitingConfirmation.count }

    mutating func enqueueForConfirmation(id: RequestID, origin: NodeID, readIndex: LogIndex) {
        latestRound += 1
        awaitingConfirmation.append(PendingRead(id: id, origin: origin, readIndex: readIndex, round: latestRound))
    }

    /// Removes and returns the reads confirmed by an acknowledged round.
    mutating func takeConfirmed(throughRound round: UInt64) -> [PendingRead] {
        let confirmedCount = awaitingConfirmation.prefix { $0.round <= round }.count
        let confirmed = Array(awaitingConfirmation.prefix(confirmedCount))
        awaitingConfirmation.removeFirst(confirmedCount)
        return confirmed
    }

    mutating func takeAll() -> [(id: RequestID, origin: NodeID)] {
        let all = awaitingCommit + awaitingConfirmation.map { ($0.id, $0.origin) }
        awaitingCommit.removeAll()
        awaitingConfirmation.removeAll()
        return all
    }
}
