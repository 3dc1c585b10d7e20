"""Checkers for etcd's watch guarantees, as pure functions over recorded watch streams.

The guarantees are those of etcd's api_guarantees.md (ordered, unique, atomic, reliable,
resumable, bookmarkable), plus "a watch never gets an event below its start revision" (etcd
broke it until 3.6.2, #20281) and "every client sees the same events at each revision".

Vocabulary:
- A *recording* is one watch on one member: its create request and every response it got, in
  arrival order, until it ended (the member died, or the client closed it to resume elsewhere).
- A *chain* is one logical watch as a client sees it: a first recording and every recording that
  resumed it, on another member, at its last seen revision + 1 (what clientv3 does on reconnect).
- The *history* is the ground truth: every event of the run, in revision order, read at the end
  from revision 1 with prev_kv by a fresh watch on a healthy member with nothing compacted.

Each checker takes (recordings, history) and returns a list of violation strings, empty when the
guarantee held. History may be None for the checkers that need none. No checker talks to a
server, so each one is unit-tested on synthetic recordings (test_watch_checkers.py).
"""

import bisect
from collections import Counter, namedtuple

PUT = "PUT"
DELETE = "DELETE"

KeyValue = namedtuple("KeyValue", "key create_revision mod_revision version value")
# prev_kv is a KeyValue, or None when the watch did not ask for it or the key had no earlier value.
Event = namedtuple("Event", "type key create_revision mod_revision version value prev_kv")
Response = namedtuple("Response", "header_revision watch_id created canceled compact_revision fragment events")


def response(header_revision, events=(), watch_id=0, created=False, canceled=False, compact_revision=0,
             fragment=False):
    """A Response with the flags defaulted, for the recorder and the tests."""
    return Response(header_revision, watch_id, created, canceled, compact_revision, fragment, tuple(events))


def is_progress_notification(watch_response):
    """clientv3's IsProgressNotify: no events, not a created, canceled or compaction response."""
    return (not watch_response.events and not watch_response.created and not watch_response.canceled
            and not watch_response.compact_revision and not watch_response.fragment
            and watch_response.header_revision != 0)


def identity(event):
    """What makes an event itself: one key changes at most once per revision (etcd refuses a txn
    that touches a key twice), so (revision, key, type) names it."""
    return (event.mod_revision, event.key, event.type)


def describe(event_identity):
    revision, key, event_type = event_identity
    return "%s %s@%d" % (event_type, key.decode("utf-8", "backslashreplace"), revision)


def describe_some(identities, shown_max=3):
    ordered = sorted(identities)
    text = ", ".join(describe(item) for item in ordered[:shown_max])
    if len(ordered) > shown_max:
        text += " and %d more" % (len(ordered) - shown_max)
    return text


def key_in_range(key, range_start, range_end):
    """etcd's range rule: no range_end is one key, b"\\0" is every key from range_start on."""
    if not range_end:
        return key == range_start
    if range_end == b"\0":
        return key >= range_start
    return range_start <= key < range_end


class WatchRecording:
    """One watch on one member: what it asked for and every response it got, in arrival order."""

    def __init__(self, chain, segment, member, key, range_end, start_revision, prev_kv=False,
                 responses=None, complete_through_revision=None):
        self.chain = chain
        self.segment = segment
        self.member = member
        self.key = key
        self.range_end = range_end
        # As requested: 0 means "from now on", which the created response's header pins down.
        self.start_revision = start_revision
        self.prev_kv = prev_kv
        self.responses = list(responses or [])
        # Set by the recorder when the watch was still open at the end of the run and had caught
        # up: it then owes every matching event up to this revision. None for a watch that ended
        # early (its member died, or it was closed to resume elsewhere).
        self.complete_through_revision = complete_through_revision
        self._delivered_cache = (-1, [])
        self.end_reason = None  # how the stream ended, for the report; no checker reads it

    @property
    def label(self):
        return "%s#%d@%s" % (self.chain, self.segment, self.member)

    def matches(self, key):
        return key_in_range(key, self.key, self.range_end)

    def delivered_responses(self):
        """Responses as a client sees them: fragments joined into one (clientv3 buffers them),
        and a trailing incomplete fragment dropped (a client never hands it to the application).
        Cached per response count: the checkers ask for it many times, the recorder only appends."""
        if self._delivered_cache[0] != len(self.responses):
            self._delivered_cache = (len(self.responses), self._join_fragments())
        return self._delivered_cache[1]

    def _join_fragments(self):
        joined = []
        pending_events = []
        for item in self.responses:
            if item.fragment:
                pending_events.extend(item.events)
                continue
            if pending_events:
                item = item._replace(events=tuple(pending_events) + item.events)
                pending_events = []
            joined.append(item)
        return joined

    def events(self):
        return [event for item in self.delivered_responses() for event in item.events]

    def created_response(self):
        for item in self.responses:
            if item.created:
                return item
        return None

    def effective_start_revision(self):
        """The first revision the watch owes: the requested one, or for "now" (0) the revision after
        the created response's header (etcd starts such a watch at its current revision + 1)."""
        if self.start_revision > 0:
            return self.start_revision
        created = self.created_response()
        return None if created is None else created.header_revision + 1

    def progress_revisions(self):
        return [item.header_revision for item in self.delivered_responses() if is_progress_notification(item)]

    def last_seen_revision(self):
        """The revision through which the client believes it has everything: the last event, a
        later progress notification, or for a "now" watch the revision it was created at."""
        candidates = [event.mod_revision for event in self.events()[-1:]] + self.progress_revisions()
        created = self.created_response()
        if self.start_revision <= 0 and created is not None:
            candidates.append(created.header_revision)
        return max(candidates) if candidates else None


def resume_revision(requested_start_revision, last_seen_revision):
    """Where a client resumes a chain: after its last seen revision, but never below the revision
    the watch first asked for (a progress notification of a future watch is below its start)."""
    if last_seen_revision is None:
        return requested_start_revision
    return max(requested_start_revision, last_seen_revision + 1)


class History:
    """The ground truth: every event of the run in revision order (within a revision, as read)."""

    def __init__(self, events):
        self.events = sorted(events, key=lambda event: event.mod_revision)  # stable: keeps txn order
        self.revisions = [event.mod_revision for event in self.events]
        self.by_revision_and_key = {(event.mod_revision, event.key): event for event in self.events}

    @property
    def last_revision(self):
        return self.revisions[-1] if self.revisions else 0

    def at(self, revision, key):
        return self.by_revision_and_key.get((revision, key))

    def between(self, first_revision, last_revision):
        low = bisect.bisect_left(self.revisions, first_revision)
        high = bisect.bisect_right(self.revisions, last_revision)
        return self.events[low:high]

    def matching(self, recording, first_revision, last_revision):
        return [event for event in self.between(first_revision, last_revision) if recording.matches(event.key)]


def check_ordered(recordings, history=None):
    """Ordered: mod revisions never decrease, within a response or across responses."""
    violations = []
    for recording in recordings:
        previous_revision = 0
        for index, item in enumerate(recording.delivered_responses()):
            for event in item.events:
                if event.mod_revision < previous_revision:
                    violations.append("%s: response %d: %s arrived after revision %d"
                                      % (recording.label, index, describe(identity(event)), previous_revision))
                previous_revision = max(previous_revision, event.mod_revision)
    return violations


def check_unique(recordings, history=None):
    """Unique: no event twice on one watch."""
    violations = []
    for recording in recordings:
        seen = set()
        for index, item in enumerate(recording.delivered_responses()):
            for event in item.events:
                if identity(event) in seen:
                    violations.append("%s: response %d: %s delivered again"
                                      % (recording.label, index, describe(identity(event))))
                seen.add(identity(event))
    return violations


def check_atomic(recordings, history):
    """Atomic: the matching events of one revision arrive in one response (fragments joined),
    never split over two, and never a part of them only."""
    violations = []
    for recording in recordings:
        response_of_revision = {}
        for index, item in enumerate(recording.delivered_responses()):
            events_by_revision = {}
            for event in item.events:
                events_by_revision.setdefault(event.mod_revision, set()).add(identity(event))
            for revision, delivered in events_by_revision.items():
                if revision in response_of_revision:
                    violations.append("%s: revision %d split over responses %d and %d"
                                      % (recording.label, revision, response_of_revision[revision], index))
                    continue
                response_of_revision[revision] = index
                if history is None:
                    continue
                expected = {identity(event) for event in history.matching(recording, revision, revision)}
                missing = expected - delivered
                if missing:
                    violations.append("%s: response %d has %d of the %d matching events of revision %d; missing %s"
                                      % (recording.label, index, len(expected & delivered), len(expected), revision,
                                         describe_some(missing)))
    return violations


def check_reliable(recordings, history):
    """Reliable: no gap. From its start revision to the last revision it saw (or, for a watch open
    at the end of the run, to the end) a watch delivers every matching event of the history and
    nothing the history lacks. A watch canceled for compaction owes nothing after its last event."""
    violations = []
    for recording in recordings:
        start = recording.effective_start_revision()
        events = recording.events()
        if start is None or not (events or recording.complete_through_revision):
            continue
        compacted = any(item.compact_revision for item in recording.responses)
        through = events[-1].mod_revision if events else 0
        if recording.complete_through_revision is not None and not compacted:
            through = max(through, recording.complete_through_revision)
        delivered = {identity(event) for event in events if start <= event.mod_revision <= through}
        expected = {identity(event) for event in history.matching(recording, start, through)}
        if expected - delivered:
            violations.append("%s: gap in revisions %d..%d: %d matching events never delivered: %s"
                              % (recording.label, start, through, len(expected - delivered),
                                 describe_some(expected - delivered)))
        outside_range = {item for item in delivered - expected if not recording.matches(item[1])}
        not_in_history = delivered - expected - outside_range
        if outside_range:
            violations.append("%s: %d delivered events are outside the watched range: %s"
                              % (recording.label, len(outside_range), describe_some(outside_range)))
        if not_in_history:
            violations.append("%s: %d delivered events are not in the history: %s"
                              % (recording.label, len(not_in_history), describe_some(not_in_history)))
    return violations


def check_start_revision(recordings, history=None):
    """No event below the start revision (etcd 3.4 #20281), and none before the created response."""
    violations = []
    for recording in recordings:
        created = False
        start = recording.effective_start_revision()
        for index, item in enumerate(recording.delivered_responses()):
            created = created or item.created
            if item.events and not created:
                violations.append("%s: response %d carries events before the created response"
                                  % (recording.label, index))
            below = [identity(event) for event in item.events if start is not None and event.mod_revision < start]
            if below:
                violations.append("%s: response %d: %d events below the start revision %d: %s"
                                  % (recording.label, index, len(below), start, describe_some(below)))
    return violations


def group_chains(recordings):
    chains = {}
    for recording in recordings:
        chains.setdefault(recording.chain, []).append(recording)
    return {name: sorted(segments, key=lambda recording: recording.segment) for name, segments in chains.items()}


# Marks a loss at a resume whose revision came from a progress notification ahead of the events
# delivered; the harness recognises it to attribute the loss to a bookmark bug (etcd 3.4's #15220).
RESUMED_AFTER_PREMATURE_PROGRESS = "resumed after a progress notification ahead of the delivered events"


def check_resumable(recordings, history):
    """Resumable: a watch resumed at lastRevision+1 on another member continues with no loss and no
    repeat: the events of all its recordings, concatenated, are exactly the history's matching
    events from the chain's start to the last revision the chain saw (or to the end of the run).
    A loss is attributed to the resume it straddles, to tell a resume that skipped events from a
    resume that trusted a progress notification which had skipped them."""
    violations = []
    for name, segments in sorted(group_chains(recordings).items()):
        if len(segments) < 2:
            continue  # never resumed: reliable covers it
        requested_start = max(segments[0].start_revision, 0)
        chain_start = None
        last_seen = None
        last_event = last_progress = 0
        # Per resume: (resumed recording's label, last event before it, its start, last progress before it).
        seams = []
        delivered = Counter()
        for recording in segments:
            if recording is not segments[0] and (requested_start > 0 or last_seen is not None):
                expected_start = resume_revision(requested_start, last_seen)
                if recording.start_revision != expected_start:
                    violations.append("%s: resumed at revision %d, but the chain had seen through %s (expected %d)"
                                      % (recording.label, recording.start_revision, last_seen, expected_start))
                seams.append((recording.label, last_event, recording.start_revision, last_progress))
            if chain_start is None:
                chain_start = recording.effective_start_revision()
            events = recording.events()
            delivered.update(identity(event) for event in events)
            last_event = max([last_event] + [event.mod_revision for event in events])
            last_progress = max([last_progress] + recording.progress_revisions())
            seen = recording.last_seen_revision()
            if seen is not None:
                last_seen = seen if last_seen is None else max(last_seen, seen)
        if chain_start is None:
            continue
        through = last_seen or 0
        if segments[-1].complete_through_revision is not None:
            through = max(through, segments[-1].complete_through_revision)
        expected = Counter(identity(event) for event in history.matching(segments[0], chain_start, through))
        lost = set(expected - delivered)
        repeated = delivered - expected
        for label, event_before, resumed_at, progress_before in seams:
            at_seam = {item for item in lost if event_before < item[0] < resumed_at}
            if not at_seam:
                continue
            lost -= at_seam
            cause = (RESUMED_AFTER_PREMATURE_PROGRESS if event_before < progress_before == resumed_at - 1
                     else "resumed past its last event")
            violations.append("chain %s: %d events lost at the resume to %s at revision %d (last event %d, "
                              "last progress notification %d; %s): %s"
                              % (name, len(at_seam), label, resumed_at, event_before, progress_before, cause,
                                 describe_some(at_seam)))
        if lost:
            violations.append("chain %s (%d recordings, revisions %d..%d): %d events lost: %s"
                              % (name, len(segments), chain_start, through, len(lost), describe_some(lost)))
        if repeated:
            violations.append("chain %s (%d recordings, revisions %d..%d): %d events repeated or outside it: %s"
                              % (name, len(segments), chain_start, through, sum(repeated.values()),
                                 describe_some(repeated)))
    return violations


def check_bookmarkable(recordings, history):
    """Bookmarkable: a progress notification at revision R means every matching event at or below R
    was delivered before it, and none arrives after it (so resuming at R+1 loses nothing; the
    resumable checker then sees any loss across the resume)."""
    violations = []
    for recording in recordings:
        start = recording.effective_start_revision()
        delivered_responses = recording.delivered_responses()
        progress = [item.header_revision for item in delivered_responses if is_progress_notification(item)]
        if not progress or start is None:
            continue
        owed = history.matching(recording, start, max(progress)) if history is not None else []
        owed_revisions = [event.mod_revision for event in owed]
        next_owed_index = 0
        delivered = set()
        highest_progress = 0
        for index, item in enumerate(delivered_responses):
            for event in item.events:
                delivered.add(identity(event))
                if event.mod_revision <= highest_progress:
                    violations.append("%s: response %d: %s arrived after a progress notification at revision %d"
                                      % (recording.label, index, describe(identity(event)), highest_progress))
            if not is_progress_notification(item):
                continue
            highest_progress = max(highest_progress, item.header_revision)
            owed_through = bisect.bisect_right(owed_revisions, item.header_revision)
            undelivered = [identity(event) for event in owed[next_owed_index:owed_through]
                           if identity(event) not in delivered]
            next_owed_index = max(next_owed_index, owed_through)
            if undelivered:
                violations.append("%s: response %d: progress notification at revision %d before %d matching events "
                                  "at or below it: %s" % (recording.label, index, item.header_revision,
                                                          len(undelivered), describe_some(undelivered)))
    return violations


def check_same_events(recordings, history):
    """Every client sees the same events at each revision: each delivered event equals the history's
    event for that key and revision (value, versions, and prev_kv exactly when asked for), and every
    pair of clients agrees on it."""
    violations = []
    first_seen = {}
    for recording in recordings:
        for event in recording.events():
            location = (event.mod_revision, event.key)
            content = event[:6]  # everything but prev_kv, which only some clients ask for
            if location not in first_seen:
                first_seen[location] = (recording.label, content)
            elif first_seen[location][1] != content:
                violations.append("%s and %s disagree on %s: %s vs %s"
                                  % (first_seen[location][0], recording.label, describe(identity(event)),
                                     first_seen[location][1], content))
            if history is None:
                continue
            truth = history.at(event.mod_revision, event.key)
            if truth is None:
                continue  # reliable reports events missing from the history
            expected_prev_kv = truth.prev_kv if recording.prev_kv else None
            if content != truth[:6] or event.prev_kv != expected_prev_kv:
                expected = truth if recording.prev_kv else truth._replace(prev_kv=None)
                violations.append("%s: %s differs from the history: got %s, expected %s"
                                  % (recording.label, describe(identity(event)), event, expected))
    return violations


WATCH_CHECKERS = [
    ("ordered", check_ordered),
    ("unique", check_unique),
    ("atomic", check_atomic),
    ("reliable", check_reliable),
    ("start-revision", check_start_revision),
    ("resumable", check_resumable),
    ("bookmarkable", check_bookmarkable),
    ("same-events", check_same_events),
]


# The history itself is checked against what the writers were told and against the other members.

Put = namedtuple("Put", "key value")
# A DeleteRange (range_end b"" for one key) and how many keys the server said it deleted.
Delete = namedtuple("Delete", "key range_end deleted")


def check_history_same_on_members(histories_by_member):
    """Every member, read at the end from revision 1, serves the same history."""
    violations = []
    members = sorted(histories_by_member)
    reference_member = members[0]
    reference = histories_by_member[reference_member].events
    for member in members[1:]:
        events = histories_by_member[member].events
        for position, (expected, actual) in enumerate(zip(reference, events)):
            if expected != actual:
                violations.append("%s and %s differ at event %d: %s vs %s"
                                  % (reference_member, member, position, expected, actual))
                break
        else:
            if len(reference) != len(events):
                violations.append("%s has %d events, %s has %d"
                                  % (reference_member, len(reference), member, len(events)))
    return violations


def check_history_against_writes(history, acknowledged_writes, attempted_puts, attempted_deletes, final_revision):
    """The history is the run's writes: revisions 2..final each carry events, every acknowledged
    write is at the revision it was acknowledged with and is exactly that revision's events, and
    every event is something a writer attempted (acknowledged or not: a write that timed out
    during an election may still have been applied).

    acknowledged_writes: (revision, [Put or Delete, ...]) per acknowledged request.
    attempted_puts: set of (key, value); attempted_deletes: a list of Delete.
    """
    violations = []
    present = set(history.revisions)
    missing_revisions = [revision for revision in range(2, final_revision + 1) if revision not in present]
    if missing_revisions:
        violations.append("%d revisions in 2..%d have no event, first %s"
                          % (len(missing_revisions), final_revision, missing_revisions[:5]))
    if history.last_revision != final_revision:
        violations.append("the history ends at revision %d, the cluster is at %d"
                          % (history.last_revision, final_revision))
    for revision, operations in acknowledged_writes:
        events = history.between(revision, revision)
        expected_count = 0
        for operation in operations:
            if isinstance(operation, Put):
                expected_count += 1
                event = history.at(revision, operation.key)
                if event is None or event.type != PUT or event.value != operation.value:
                    violations.append("acknowledged put %s=%s at revision %d: history has %s"
                                      % (operation.key, operation.value, revision, event))
            else:
                expected_count += operation.deleted
                deleted = [event for event in events if event.type == DELETE
                           and key_in_range(event.key, operation.key, operation.range_end)]
                if len(deleted) != operation.deleted:
                    violations.append("acknowledged delete of %s..%s at revision %d deleted %d keys; history has %d"
                                      % (operation.key, operation.range_end, revision, operation.deleted, len(deleted)))
        if expected_count and len(events) != expected_count:
            violations.append("revision %d: acknowledged with %d events, history has %d"
                              % (revision, expected_count, len(events)))
    deleted_keys = {delete.key for delete in attempted_deletes if not delete.range_end}
    deleted_ranges = sorted({(delete.key, delete.range_end) for delete in attempted_deletes if delete.range_end})
    for event in history.events:
        if event.type == PUT and (event.key, event.value) not in attempted_puts:
            violations.append("history has a put nobody attempted: %s" % (event,))
        if event.type == DELETE and event.key not in deleted_keys and not any(
                key_in_range(event.key, range_start, range_end) for range_start, range_end in deleted_ranges):
            violations.append("history has a delete nobody attempted: %s" % (event,))
    return violations
