/// A message an engine exchanges with its peers. The shell routes it by `to`; the engine trusts only
/// what it can check, never the transport.
public protocol EngineMessage: Sendable, CustomStringConvertible {
    var from: NodeID { get }
    var to: NodeID { get }
    /// The payload when this message carries a client's proposal from one node to another, so the
    /// shell can check it is one its application can apply before the engine appends it.
    var forwardedProposalPayload: [UInt8]? { get }
}

extension EngineMessage {
    public var forwardedProposalPayload: [UInt8]? { nil }
}

/// An input to an engine. Time, the network and clients reach an engine only through these.
public enum EngineEvent<Message: EngineMessage>: Sendable {
    /// One unit of logical time has passed. Engines count ticks; they never read a clock.
    case tick
    /// A message from a peer arrived.
    case receive(Message)
    /// A client asks to append a command. Answered by the command being applied, or by
    /// `proposalRejected` with the same id.
    case propose(RequestID, [UInt8])
    /// Several client proposals at once, as a shell gathers them while the engine was busy. The
    /// engine appends them together, so they share one persist and one message per follower; each is
    /// answered as if proposed alone.
    case proposeBatch([Proposal])
    /// A client asks for a linearizable read. Answered by `readReady` or `readRejected` with the same id.
    case read(RequestID)
    /// The shell serialised its state machine, as a `createSnapshot` action asked.
    case snapshotCreated(Snapshot)
    /// An operator asks for a membership change. Answered by the applied configuration entry that
    /// carries the same id, or by `proposalRejected`.
    case changeMembership(RequestID, MembershipChange)
    /// An operator asks the leader to hand leadership to `target`. Answered by `proposalRejected`
    /// when refused; success shows as `target` leading.
    case transferLeadership(RequestID, to: NodeID)
    /// A `persist` whose `overlapsSends` was set is now durable, through the entry at `index` of
    /// `term` (its `lastEntry`). Shells report every such write, in write order.
    case persisted(LogIndex, term: Term)
    /// An operator asks for a snapshot of everything applied, and the log behind it compacted, now
    /// rather than at the next threshold (etcd's Defragment). Answered by `createSnapshot` when
    /// anything was applied since the last snapshot; otherwise nothing.
    case snapshotNow
}

/// One client command offered for the log.
public struct Proposal: Sendable, Equatable {
    /// Unique per node, also across the node's restarts (front ends start their counters at a
    /// random point): a leader drops a forwarded proposal whose sender and id it saw lately, so a
    /// reused id would never be answered.
    public var id: RequestID
    public var data: [UInt8]
    /// Who asked, for engines that execute a client's request at most once and answer the client
    /// from every replica (PBFT). Raft ignores it: its front ends answer from the node the client
    /// asked.
    public var client: ClientIdentity?

    public init(id: RequestID, data: [UInt8], client: ClientIdentity? = nil) {
        self.id = id
        self.data = data
        self.client = client
    }
}

/// A client as an engine knows it: its id, the sequence number (PBFT's timestamp) of this request,
/// and an optional authenticator over both and the operation (PBFT's client MAC or signature),
/// which the engine checks through an injected verifier.
public struct ClientIdentity: Sendable, Hashable, CustomStringConvertible {
    public var clientID: UInt64
    public var sequence: UInt64
    public var authenticator: [UInt8]?

    public init(clientID: UInt64, sequence: UInt64, authenticator: [UInt8]? = nil) {
        self.clientID = clientID
        self.sequence = sequence
        self.authenticator = authenticator
    }

    public var description: String { "client \(clientID)#\(sequence)" }
}

/// What a shell must write durably for an engine, in this order: the snapshot, the removal of
/// entries it makes redundant, the entries, the hard state.
public struct PersistRequest<HardState: Sendable & Equatable>: Sendable {
    /// A snapshot to store. Once it is durable, older snapshots may be deleted.
    public var snapshot: Snapshot?
    /// Entries at or below this index are covered by a durable snapshot and may be deleted.
    public var discardEntriesThrough: LogIndex?
    /// When set, every stored entry after this index is deleted (a follower whose log conflicts with
    /// an installed snapshot starts over behind it).
    public var truncateEntriesAfter: LogIndex?
    /// Entries to write. If non-empty, every stored entry at or after `entries[0].index` is replaced:
    /// this is how a follower overwrites a conflicting suffix.
    public var entries: [Entry]
    /// Entries written at their own index, each replacing only what that index held: holes are
    /// allowed and later entries stay. A Multi-Paxos acceptor accepts slots out of order, and a
    /// slot may be accepted before the ones below it are known. Written after `entries`.
    public var slots: [Entry]
    /// New hard state (for Raft: term, vote, commit), or nil when it has not changed.
    public var hardState: HardState?
    /// When set, nothing the engine sends in this step depends on this write being durable, so the
    /// shell may perform the step's later actions while the write is in flight (a leader replicating
    /// its new entries while its own disk syncs them, Raft thesis §10.2.1). The shell must then report
    /// durability with `EngineEvent.persisted` for `lastEntry`; until it does, the engine does not
    /// count its own copy of those entries towards a quorum.
    public var overlapsSends: Bool

    public init(
        hardState: HardState?,
        entries: [Entry],
        snapshot: Snapshot? = nil,
        discardEntriesThrough: LogIndex? = nil,
        truncateEntriesAfter: LogIndex? = nil,
        overlapsSends: Bool = false,
        slots: [Entry] = []
    ) {
        self.slots = slots
        self.hardState = hardState
        self.overlapsSends = overlapsSends
        self.entries = entries
        self.snapshot = snapshot
        self.discardEntriesThrough = discardEntriesThrough
        self.truncateEntriesAfter = truncateEntriesAfter
    }

    /// The position to report in `EngineEvent.persisted` once an overlapping write is durable.
    public var lastEntry: (index: LogIndex, term: Term)? {
        entries.last.map { ($0.index, $0.term) }
    }

    public var isEmpty: Bool {
        hardState == nil && entries.isEmpty && slots.isEmpty && snapshot == nil && discardEntriesThrough == nil && truncateEntriesAfter == nil
    }
}

/// An output of an engine, to be performed by the shell.
///
/// ### Ordering contract
/// A shell performs the actions of one `step` **in the order returned**, and:
/// 1. a `persist` must be durable (written and synced) before any action after it is performed,
///    in particular before any `send`: a vote or an acknowledgement may depend on it. The one
///    exception is a persist marked `overlapsSends`: the shell may go on at once and reports the
///    write's durability later with `EngineEvent.persisted`. Writes stay ordered: a later persist is
///    durable only once every earlier one is;
/// 2. every action of a step is performed before the next event is given to the engine;
/// 3. `apply` hands entries to the state machine in index order; the engine counts them as applied.
///
/// Engines return at most one `persist`, and always first, so rule 1 is cheap to follow: one write
/// and one sync per step. The simulator checks rule 1 independently on every message sent.
public enum EngineAction<Message: EngineMessage, HardState: Sendable & Equatable>: Sendable {
    case persist(PersistRequest<HardState>)
    case send(Message)
    /// Committed entries, contiguous and in index order, to apply to the state machine.
    case apply([Entry])
    /// The read `RequestID` may be served once the local state machine has applied `index`.
    case readReady(RequestID, index: LogIndex)
    case readRejected(RequestID, RequestRejection)
    /// The proposal was not appended to any log; it will never be applied.
    case proposalRejected(RequestID, RequestRejection)
    /// Serialise the state machine as of `metadata.index` (which it has applied, since this action
    /// follows the step's `apply`) and hand it back, with this metadata, in `snapshotCreated`. The
    /// engine then compacts its log behind it.
    case createSnapshot(SnapshotMetadata)
    /// Replace the state machine's state with the snapshot's; it has applied through its index.
    case restoreSnapshot(Snapshot)
    /// The entry at `index` (applied by this step or an earlier one) executed the client's request:
    /// this replica answers the client itself, whichever replica the client asked. PBFT's clients
    /// wait for f + 1 matching answers; engines that answer from one node never return it.
    case answerClient(ClientIdentity, index: LogIndex)
}

/// An engine's own reason for refusing a request: the engine's name, a code stable across
/// versions (it crosses the wire), and a message for people.
public struct EngineRejection: Sendable, Hashable, CustomStringConvertible {
    public var engine: String
    public var code: UInt16
    public var message: String

    public init(engine: String, code: UInt16, message: String) {
        self.engine = engine
        self.code = code
        self.message = message
    }

    public var description: String { "\(engine): \(message)" }
}

/// Why an engine refused a client request. A refusal is definite: the request had no effect.
public enum RequestRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// This node is not the leader; `leader` names the one it knows of, if any.
    case notLeader(leader: NodeID?)
    /// No leader is known, so the request cannot be served now.
    case noLeader
    /// The proposal is larger than the engine accepts.
    case proposalTooLarge(bytes: Int, limitBytes: Int)
    /// Too many bytes are appended but not yet committed; the cluster is behind.
    case uncommittedLogFull(limitBytes: Int)
    /// A bounded queue of pending requests is full.
    case tooManyPendingRequests(limit: Int)
    /// The leader changed before a read was answered; it is safe to retry.
    case leaderChanged
    /// A forwarded read got no answer in time; it is safe to retry.
    case timedOut
    /// Another membership change has not committed yet; one change at a time.
    case membershipChangeInProgress
    /// A learner cannot be promoted before it has caught up with the leader's log.
    case learnerNotCaughtUp(NodeID, matchIndex: LogIndex, leaderLastIndex: LogIndex)
    case invalidMembershipChange(String)
    /// A change of voters would leave fewer voters that answer lately than its quorum needs.
    case notEnoughActiveMembers(active: Int, needed: Int)
    /// Leadership is being handed to another node; proposals wait for the new leader.
    case leadershipTransferInProgress(to: NodeID)
    /// The transfer target is not a voter of the current configuration.
    case transferTargetNotVoter(NodeID)
    /// The node the client used is not a member of the group (it was removed, or has not joined
    /// yet), so it cannot serve the request; another node can.
    case notMember(NodeID)
    /// A reason only one engine has (a Paxos ballot preempted, a PBFT view change in progress).
    /// The reasons above are common: every engine with a leader, a log and membership changes
    /// gives them in the same situations, and front ends map them to their own errors.
    case engineSpecific(EngineRejection)
    /// The host refused the proposal before the engine saw it: it belongs to no service, or its
    /// payload does not decode (it would otherwise be appended and then refused by every replica).
    case invalidProposal(String)

    public var description: String {
        switch self {
        case .notLeader(let leader): return "not leader (leader: \(leader.map(\.description) ?? "unknown"))"
        case .noLeader: return "no leader"
        case .proposalTooLarge(let bytes, let limit): return "proposal of \(bytes) bytes exceeds \(limit)"
        case .uncommittedLogFull(let limit): return "uncommitted log exceeds \(limit) bytes"
        case .tooManyPendingRequests(let limit): return "more than \(limit) pending requests"
        case .leaderChanged: return "leader changed"
        case .timedOut: return "timed out"
        case .membershipChangeInProgress: return "a membership change is in progress"
        case .learnerNotCaughtUp(let node, let match, let last): return "learner \(node) has \(match) of \(last) entries"
        case .invalidMembershipChange(let reason): return "invalid membership change: \(reason)"
        case .notEnoughActiveMembers(let active, let needed): return "only \(active) voters answer lately, \(needed) needed"
        case .leadershipTransferInProgress(let target): return "leadership transfer to \(target) in progress"
        case .transferTargetNotVoter(let node): return "\(node) is not a voter"
        case .notMember(let node): return "\(node) is not a member"
        case .invalidProposal(let reason): return "invalid proposal: \(reason)"
        case .engineSpecific(let rejection): return "\(rejection)"
        }
    }
}

/// What any engine can tell its shell and the checkers about itself.
public struct EngineStatus: Sendable, Equatable {
    public var id: NodeID
    /// Term, ballot round or view.
    public var term: Term
    public var isLeader: Bool
    public var leader: NodeID?
    public var commitIndex: LogIndex
    public var appliedIndex: LogIndex

    public init(id: NodeID, term: Term, isLeader: Bool, leader: NodeID?, commitIndex: LogIndex, appliedIndex: LogIndex) {
        self.id = id
        self.term = term
        self.isLeader = isLeader
        self.leader = leader
        self.commitIndex = commitIndex
        self.appliedIndex = appliedIndex
    }
}

/// A replication engine: a deterministic value type that turns events into actions.
///
/// Raft, Multi-Paxos and PBFT all fit this shape; docs/ARCHITECTURE.md explains how each maps onto it.
public protocol ConsensusEngine: Sendable {
    associatedtype Message: EngineMessage
    associatedtype HardState: Sendable & Equatable

    var status: EngineStatus { get }

    /// Feeds one event and returns what the shell must do, in the order the contract above requires.
    mutating func step(_ event: EngineEvent<Message>) -> [EngineAction<Message, HardState>]

    /// Peer messages dropped at the engine's boundary so far (malformed, misaddressed, or
    /// contradicting what this node knows), and the last one with its reason, for the shell to log.
    var droppedMessages: (count: Int, last: String?) { get }
}

extension ConsensusEngine {
    public var droppedMessages: (count: Int, last: String?) { (0, nil) }
}

/// What survives a crash: the state a restarted engine is rebuilt from.
///
/// A shell restores its state machine from `snapshot` before giving the engine its first event; the
/// engine then counts the snapshot's index as applied and applies the committed entries after it.
public struct DurableState<HardState: Sendable & Equatable>: Sendable {
    public var hardState: HardState
    public var snapshot: Snapshot?
    /// Entries after the snapshot (entries at or below its index are ignored), in index order:
    /// contiguous, except for holes an engine's slot writes left (`PersistRequest.slots`).
    public var entries: [Entry]

    public init(hardState: HardState, entries: [Entry], snapshot: Snapshot? = nil) {
        self.hardState = hardState
        self.entries = entries
        self.snapshot = snapshot
    }
}

extension EngineAction: CustomStringConvertible {
    /// One line per action, the form traces and golden interaction tests show.
    public var description: String {
        switch self {
        case .persist(let request):
            var text = "persist hard=" + (request.hardState.map { "\($0)" } ?? "-")
            if let first = request.entries.first, let last = request.entries.last { text += " entries=\(first.index)...\(last.index)" }
            if let snapshot = request.snapshot { text += " \(snapshot.metadata)" }
            if let through = request.discardEntriesThrough { text += " discard<=\(through)" }
            if let after = request.truncateEntriesAfter { text += " truncate>\(after)" }
            if request.overlapsSends { text += " overlapping" }
            return text
        case .send(let message): return "send \(message)"
        case .apply(let entries): return "apply " + entries.map(\.description).joined(separator: ", ")
        case .readReady(let id, let index): return "read-ready \(id) index=\(index)"
        case .readRejected(let id, let reason): return "read-rejected \(id): \(reason)"
        case .proposalRejected(let id, let reason): return "proposal-rejected \(id): \(reason)"
        case .createSnapshot(let metadata): return "create-\(metadata)"
        case .restoreSnapshot(let snapshot): return "restore \(snapshot)"
        case .answerClient(let client, let index): return "answer \(client) at \(index)"
        }
    }
}

extension EngineEvent: CustomStringConvertible {
    public var description: String {
        switch self {
        case .tick: return "tick"
        case .receive(let message): return "recv \(message)"
        case .propose(let id, let data): return "propose \(id) \(Entry.printable(data))"
        case .proposeBatch(let proposals): return "propose " + proposals.map { "\($0.id) \(Entry.printable($0.data))" }.joined(separator: ", ")
        case .read(let id): return "read \(id)"
        case .snapshotCreated(let snapshot): return "snapshot-created \(snapshot)"
        case .changeMembership(let id, let change): return "change-membership \(id) \(change)"
        case .transferLeadership(let id, let target): return "transfer-leadership \(id) to \(target)"
        case .persisted(let index, let term): return "persisted \(term)/\(index)"
        case .snapshotNow: return "snapshot-now"
        }
    }
}
