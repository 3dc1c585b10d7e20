import ConsensusCore
import Node

extension EtcdService {
    /// Leader only: proposes the compaction `--auto-compaction-*` asks for, when one is due.
    func compactIfDue(now: ContinuousClock.Instant) {
        guard let revision = autoCompaction?.due(now: now, revision: store.revision, compacted: store.compactedRevision) else { return }
        logger.info("auto-compaction: compacting to revision \(revision)")
        let proposal = EtcdProposal(requestID: RequestID(0), command: .compact(revision: revision))
        replica.propose(Proposal(id: nextRequestID(), data: proposal.encoded))
    }
}
