import ConsensusCore
import MVCC

/// The quota and the NOSPACE alarm, as etcd's `quotaKVServer` and `applierV3Capped` do them.
///
/// What Synod counts: `MVCCStore.sizeBytes`, the bytes of every key, every retained version and
/// every value, plus a fixed overhead per version (see `StoreSizing`). It is what the store holds
/// in memory and what a snapshot writes, and unlike etcd's bbolt file it shrinks as soon as a
/// compaction drops old versions, so defragmentation has nothing left to give back.
///
/// A write that could add data is checked before it is proposed: with the alarm raised, or the
/// disk out of space, it is refused; past the quota, the alarm is raised through the log (once) and
/// the write refused. Every replica then refuses such writes at apply (`MVCCStore.apply`), until an
/// operator disarms the alarm. Reads, deletes, compaction and lease revocation are always served.
///
/// A full disk raises the same alarm. The log then has only what is left of its current segment
/// (half of one at least); deletes, compactions and revocations still append, so a disk that
/// stays full through a great many of them still ends in the loop's storage failure.
extension EtcdService {
    /// Why `command` may not be proposed now, if it may not.
    func spaceRefusal(_ command: Command, proposalBytes: Int) -> EtcdError? {
        guard command.mayAddData else { return nil }
        if publishedNoSpaceAlarm.load(ordering: .relaxed) || storageExhausted.load(ordering: .relaxed) {
            return .store(.noSpace)
        }
        guard publishedSizeBytes.load(ordering: .relaxed) + proposalBytes > limits.quotaBytes else { return nil }
        raiseNoSpaceAlarm()
        return .store(.noSpace)
    }

    /// Proposes this member's NOSPACE alarm, unless one is on its way.
    func raiseNoSpaceAlarm() {
        guard noSpaceAlarmProposed.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        logger.warning("raising a NOSPACE alarm: the store holds \(publishedSizeBytes.load(ordering: .relaxed)) bytes of a \(limits.quotaBytes)-byte quota, or the disk is full")
        let command = Command.alarm(.activate, Alarm(memberID: identity.id.rawValue, kind: .noSpace))
        let proposal = EtcdProposal(requestID: RequestID(0), command: command)
        if !replica.propose(Proposal(id: nextRequestID(), data: proposal.encoded)) {
            noSpaceAlarmProposed.store(false, ordering: .relaxed)
        }
    }

    /// The replica loop's report on the disk (`ReplicaApplication`).
    public func storageSpace(exhausted: Bool) {
        storageExhausted.store(exhausted, ordering: .relaxed)
        if exhausted { raiseNoSpaceAlarm() }
    }

    /// Loop state: what handlers read without the loop, after each apply.
    func publish() {
        publishedRevision.store(store.revision, ordering: .relaxed)
        publishedSizeBytes.store(store.sizeBytes, ordering: .relaxed)
        let raised = store.hasNoSpaceAlarm
        if raised != publishedNoSpaceAlarm.load(ordering: .relaxed) {
            publishedNoSpaceAlarm.store(raised, ordering: .relaxed)
            // Applied either way: a later overflow may propose again.
            noSpaceAlarmProposed.store(false, ordering: .relaxed)
        }
    }

    /// A NOSPACE proposal that never applied (lost with a leader) is proposed again; so is the
    /// alarm for a disk that is still full, since nothing else would raise it.
    func retryStuckAlarmProposal() {
        guard !publishedNoSpaceAlarm.load(ordering: .relaxed) else { return }
        noSpaceAlarmProposed.store(false, ordering: .relaxed)
        if storageExhausted.load(ordering: .relaxed) { raiseNoSpaceAlarm() }
    }
}
