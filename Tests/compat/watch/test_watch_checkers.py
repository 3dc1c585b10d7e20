#!/usr/bin/env python3
"""Unit tests of watch_checkers.py on synthetic recordings: each checker passes a correct
recording and reports the one deliberately broken.

Usage: python3 Tests/compat/watch/test_watch_checkers.py   (plain unittest; no server, no pytest)
"""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from watch_checkers import (DELETE, PUT, RESUMED_AFTER_PREMATURE_PROGRESS, Delete, Event, History,  # noqa: E402
                            KeyValue, Put, WatchRecording, check_atomic, check_bookmarkable,
                            check_history_against_writes, check_history_same_on_members, check_ordered,
                            check_reliable, check_resumable, check_same_events, check_start_revision, check_unique,
                            response)

WHOLE_KEYSPACE = (b"\0", b"\0")


def put(key, revision, value, create_revision, version, prev_kv=None):
    return Event(PUT, key, create_revision, revision, version, value, prev_kv)


def delete(key, revision, prev_kv=None):
    return Event(DELETE, key, 0, revision, 0, b"", prev_kv)


def previous(event):
    return KeyValue(event.key, event.create_revision, event.mod_revision, event.version, event.value)


# The ground truth every test shares, as a watch with prev_kv from revision 1 reads it:
#   2: put a   3: put b   4: txn put a, put c   5: delete b   6: put a   7: delete range a..d (a, c)
A2 = put(b"a", 2, b"a1", 2, 1)
B3 = put(b"b", 3, b"b1", 3, 1)
A4 = put(b"a", 4, b"a2", 2, 2, previous(A2))
C4 = put(b"c", 4, b"c1", 4, 1)
B5 = delete(b"b", 5, previous(B3))
A6 = put(b"a", 6, b"a3", 2, 3, previous(A4))
A7 = delete(b"a", 7, previous(A6))
C7 = delete(b"c", 7, previous(C4))
HISTORY = History([A2, B3, A4, C4, B5, A6, A7, C7])
EVENTS_BY_REVISION = {2: [A2], 3: [B3], 4: [A4, C4], 5: [B5], 6: [A6], 7: [A7, C7]}


def without_prev_kv(events):
    return [event._replace(prev_kv=None) for event in events]


def recording(responses, start_revision=2, key_range=WHOLE_KEYSPACE, prev_kv=True, chain="w", segment=0,
              member="m0", complete_through_revision=None):
    """A watch that got a created response (header revision 1) and then the given responses."""
    return WatchRecording(chain, segment, member, key_range[0], key_range[1], start_revision, prev_kv,
                          [response(1, created=True)] + responses, complete_through_revision)


def one_response_per_revision(revisions, prev_kv=True):
    responses = []
    for revision in revisions:
        events = EVENTS_BY_REVISION[revision]
        responses.append(response(revision, events if prev_kv else without_prev_kv(events)))
    return responses


def correct_recording(**options):
    return recording(one_response_per_revision(range(2, 8)), complete_through_revision=7, **options)


class CorrectRecordingsPass(unittest.TestCase):
    def test_every_checker_passes_a_correct_whole_keyspace_watch(self):
        recordings = [correct_recording()]
        for checker in (check_ordered, check_unique, check_atomic, check_reliable, check_start_revision,
                        check_resumable, check_bookmarkable, check_same_events):
            self.assertEqual([], checker(recordings, HISTORY), checker.__name__)

    def test_a_single_key_watch_without_prev_kv_passes(self):
        watch = recording([response(4, without_prev_kv([A4])), response(6, without_prev_kv([A6])),
                           response(7, without_prev_kv([A7]))], start_revision=3, key_range=(b"a", b""),
                          prev_kv=False, complete_through_revision=7)
        for checker in (check_atomic, check_reliable, check_start_revision, check_same_events):
            self.assertEqual([], checker([watch], HISTORY), checker.__name__)

    def test_several_revisions_in_one_response_are_fine(self):
        watch = recording([response(7, [A2, B3, A4, C4]), response(7, [B5, A6, A7, C7])], complete_through_revision=7)
        self.assertEqual([], check_atomic([watch], HISTORY))
        self.assertEqual([], check_reliable([watch], HISTORY))


class Ordered(unittest.TestCase):
    def test_reordered_responses_fail(self):
        responses = one_response_per_revision(range(2, 8))
        responses[1], responses[2] = responses[2], responses[1]
        violations = check_ordered([recording(responses)])
        self.assertEqual(1, len(violations), violations)
        self.assertIn("PUT b@3 arrived after revision 4", violations[0])

    def test_reordered_events_within_a_response_fail(self):
        self.assertNotEqual([], check_ordered([recording([response(3, [B3, A2])])]))


class Unique(unittest.TestCase):
    def test_a_duplicated_response_fails(self):
        responses = one_response_per_revision(range(2, 8))
        responses.insert(2, responses[1])
        violations = check_unique([recording(responses)])
        self.assertEqual(1, len(violations), violations)
        self.assertIn("PUT b@3 delivered again", violations[0])


class Atomic(unittest.TestCase):
    def test_a_revision_split_over_two_responses_fails(self):
        responses = one_response_per_revision([2, 3]) + [response(4, [A4]), response(4, [C4])]
        violations = check_atomic([recording(responses)], HISTORY)
        self.assertTrue(any("revision 4 split over responses" in item for item in violations), violations)

    def test_part_of_a_revision_fails_even_when_the_rest_never_comes(self):
        violations = check_atomic([recording([response(4, [A4])])], HISTORY)
        self.assertEqual(1, len(violations), violations)
        self.assertIn("1 of the 2 matching events of revision 4", violations[0])

    def test_fragments_are_joined_before_checking(self):
        responses = [response(4, [A4], fragment=True), response(4, [C4])]
        self.assertEqual([], check_atomic([recording(responses)], HISTORY))

    def test_a_narrow_watch_owes_only_its_matching_events(self):
        watch = recording([response(4, [A4])], key_range=(b"a", b"b"))
        self.assertEqual([], check_atomic([watch], HISTORY))


class Reliable(unittest.TestCase):
    def test_a_dropped_response_fails(self):
        responses = one_response_per_revision([2, 3, 4, 6, 7])
        violations = check_reliable([recording(responses)], HISTORY)
        self.assertEqual(1, len(violations), violations)
        self.assertIn("DELETE b@5", violations[0])

    def test_a_watch_open_at_the_end_owes_events_after_its_last_one(self):
        watch = recording(one_response_per_revision([2, 3, 4, 5]), complete_through_revision=7)
        self.assertNotEqual([], check_reliable([watch], HISTORY))

    def test_a_watch_that_ended_early_owes_nothing_after_its_last_event(self):
        self.assertEqual([], check_reliable([recording(one_response_per_revision([2, 3, 4]))], HISTORY))

    def test_an_event_that_never_happened_fails(self):
        invented = put(b"z", 3, b"z1", 3, 1)
        violations = check_reliable([recording([response(3, [invented])], key_range=(b"z", b""))], HISTORY)
        self.assertTrue(any("not in the history" in item for item in violations), violations)


class StartRevision(unittest.TestCase):
    def test_an_event_below_the_requested_start_fails(self):
        watch = recording(one_response_per_revision([3, 4, 5]), start_revision=4)
        violations = check_start_revision([watch])
        self.assertEqual(1, len(violations), violations)
        self.assertIn("below the start revision 4", violations[0])

    def test_a_now_watch_starts_after_its_created_revision(self):
        watch = WatchRecording("now", 0, "m0", b"\0", b"\0", 0, True,
                               [response(5, created=True)] + one_response_per_revision([5, 6]))
        violations = check_start_revision([watch])
        self.assertEqual(1, len(violations), violations)
        self.assertIn("below the start revision 6", violations[0])

    def test_a_future_watch_getting_earlier_events_fails(self):
        # etcd 3.4's #20281: a watch from revision 6, created when the store was at 3.
        watch = recording(one_response_per_revision([4, 5, 6]), start_revision=6)
        self.assertEqual(2, len(check_start_revision([watch])))

    def test_events_before_the_created_response_fail(self):
        watch = WatchRecording("w", 0, "m0", b"\0", b"\0", 2, True, one_response_per_revision([2]))
        self.assertNotEqual([], check_start_revision([watch]))


def resumed_chain(first_revisions, second_start, second_revisions):
    first = recording(one_response_per_revision(first_revisions), member="m0")
    second = recording(one_response_per_revision(second_revisions), start_revision=second_start, segment=1,
                       member="m1", complete_through_revision=7)
    return [first, second]


class Resumable(unittest.TestCase):
    def test_a_resume_at_last_revision_plus_one_passes(self):
        self.assertEqual([], check_resumable(resumed_chain([2, 3, 4], 5, [5, 6, 7]), HISTORY))

    def test_a_repeat_after_resume_fails(self):
        violations = check_resumable(resumed_chain([2, 3, 4], 5, [4, 5, 6, 7]), HISTORY)
        self.assertEqual(1, len(violations), violations)
        self.assertIn("repeated", violations[0])

    def test_a_loss_after_resume_fails(self):
        violations = check_resumable(resumed_chain([2, 3, 4], 5, [6, 7]), HISTORY)
        self.assertEqual(1, len(violations), violations)
        self.assertIn("lost", violations[0])
        self.assertIn("DELETE b@5", violations[0])

    def test_a_loss_after_trusting_a_premature_progress_notification_names_its_cause(self):
        first = recording(one_response_per_revision([2, 3]) + [response(5)])
        second = recording(one_response_per_revision([6, 7]), start_revision=6, segment=1, member="m1",
                           complete_through_revision=7)
        violations = check_resumable([first, second], HISTORY)
        self.assertEqual(1, len(violations), violations)
        self.assertIn(RESUMED_AFTER_PREMATURE_PROGRESS, violations[0])
        self.assertIn("3 events lost at the resume", violations[0])

    def test_a_resume_at_the_wrong_revision_is_reported(self):
        violations = check_resumable(resumed_chain([2, 3, 4], 6, [6, 7]), HISTORY)
        self.assertTrue(any("resumed at revision 6" in item for item in violations), violations)

    def test_a_resume_after_a_progress_notification_continues_from_it(self):
        first = recording(one_response_per_revision([2, 3]) + [response(5, [B5]), response(5)])
        second = recording(one_response_per_revision([6, 7]), start_revision=6, segment=1, member="m2",
                           complete_through_revision=7)
        first.responses[3:3] = [response(4, [A4, C4])]
        self.assertEqual([], check_resumable([first, second], HISTORY))

    def test_a_future_watch_resumes_at_its_requested_start_not_below(self):
        # A progress notification of a future watch carries a revision below the watch's start.
        first = recording([response(3)], start_revision=6)
        second = recording(one_response_per_revision([6, 7]), start_revision=6, segment=1, complete_through_revision=7)
        self.assertEqual([], check_resumable([first, second], HISTORY))


class Bookmarkable(unittest.TestCase):
    def test_progress_after_its_events_passes(self):
        responses = (one_response_per_revision([2, 3, 4]) + [response(4)] + one_response_per_revision([5])
                     + [response(5)])
        self.assertEqual([], check_bookmarkable([recording(responses)], HISTORY))

    def test_progress_ahead_of_delivered_events_fails(self):
        responses = one_response_per_revision([2, 3]) + [response(6)] + one_response_per_revision([4, 5, 6])
        violations = check_bookmarkable([recording(responses)], HISTORY)
        self.assertTrue(any("progress notification at revision 6 before 4 matching events" in item
                            for item in violations), violations)
        self.assertTrue(any("arrived after a progress notification at revision 6" in item for item in violations))

    def test_progress_below_the_last_event_is_not_a_loss(self):
        # etcd 3.4 can answer a progress request with an older revision (#15220); nothing is lost.
        responses = one_response_per_revision([2, 3, 4]) + [response(3)]
        self.assertEqual([], check_bookmarkable([recording(responses)], HISTORY))


class SameEvents(unittest.TestCase):
    def test_a_different_value_fails(self):
        wrong = A4._replace(value=b"other")
        violations = check_same_events([recording([response(4, [wrong, C4])])], HISTORY)
        self.assertEqual(1, len(violations), violations)
        self.assertIn("differs from the history", violations[0])

    def test_prev_kv_when_not_asked_for_fails(self):
        watch = recording(one_response_per_revision([4]), prev_kv=False)
        self.assertNotEqual([], check_same_events([watch], HISTORY))

    def test_two_clients_that_disagree_fail_even_without_a_history(self):
        first = recording([response(4, [A4, C4])], member="m0")
        second = recording([response(4, [A4._replace(version=9), C4])], chain="other", member="m1")
        violations = check_same_events([first, second], None)
        self.assertEqual(1, len(violations), violations)
        self.assertIn("disagree", violations[0])


class HistoryChecks(unittest.TestCase):
    def test_members_with_the_same_history_pass_and_a_different_one_fails(self):
        self.assertEqual([], check_history_same_on_members({"m0": HISTORY, "m1": History(list(HISTORY.events))}))
        shorter = History(HISTORY.events[:-1])
        self.assertNotEqual([], check_history_same_on_members({"m0": HISTORY, "m1": shorter}))

    def writes(self):
        acknowledged = [(2, [Put(b"a", b"a1")]), (4, [Put(b"a", b"a2"), Put(b"c", b"c1")]),
                        (5, [Delete(b"b", b"", 1)]), (7, [Delete(b"a", b"d", 2)])]
        attempted_puts = {(b"a", b"a1"), (b"b", b"b1"), (b"a", b"a2"), (b"c", b"c1"), (b"a", b"a3")}
        attempted_deletes = [Delete(b"b", b"", 1), Delete(b"a", b"d", 2)]
        return acknowledged, attempted_puts, attempted_deletes

    def test_a_history_made_of_the_writes_passes(self):
        acknowledged, attempted_puts, attempted_deletes = self.writes()
        self.assertEqual([], check_history_against_writes(HISTORY, acknowledged, attempted_puts, attempted_deletes, 7))

    def test_a_lost_acknowledged_write_and_an_invented_event_fail(self):
        acknowledged, attempted_puts, attempted_deletes = self.writes()
        acknowledged.append((8, [Put(b"d", b"d1")]))
        attempted_puts.discard((b"a", b"a3"))
        violations = check_history_against_writes(HISTORY, acknowledged, attempted_puts, attempted_deletes, 8)
        self.assertTrue(any("acknowledged put" in item for item in violations), violations)
        self.assertTrue(any("nobody attempted" in item for item in violations), violations)
        self.assertTrue(any("have no event" in item for item in violations), violations)


class WireDecoder(unittest.TestCase):
    """watch_wire decodes what the generated stubs encode (skipped where python-etcd3 is missing)."""

    def setUp(self):
        try:
            from etcd3.etcdrpc import rpc_pb2
        except ImportError:
            self.skipTest("python-etcd3 is not installed")
        self.rpc_pb2 = rpc_pb2

    def test_events_flags_and_negative_ids_survive(self):
        import watch_wire
        message = self.rpc_pb2.WatchResponse(watch_id=-1, created=True, compact_revision=3)
        message.header.revision = 2 ** 40
        message.header.member_id = 2 ** 63 + 5  # uint64: must not disturb the revision
        for source in (A4, B5):
            event = message.events.add()
            event.type = 0 if source.type == PUT else 1
            event.kv.key, event.kv.value = source.key, source.value
            event.kv.create_revision, event.kv.mod_revision, event.kv.version = (
                source.create_revision, source.mod_revision, source.version)
            prev = source.prev_kv
            event.prev_kv.key, event.prev_kv.value = prev.key, prev.value
            event.prev_kv.create_revision, event.prev_kv.mod_revision, event.prev_kv.version = (
                prev.create_revision, prev.mod_revision, prev.version)
        # fragment (field 7) is not in python-etcd3's stubs: append it as raw bytes.
        decoded = watch_wire.decode_watch_response(message.SerializeToString() + b"\x38\x01")
        expected = response(2 ** 40, [A4, B5], watch_id=-1, created=True, compact_revision=3, fragment=True)
        self.assertEqual(expected, decoded)

    def test_an_event_without_prev_kv_has_none(self):
        import watch_wire
        message = self.rpc_pb2.WatchResponse()
        message.events.add().kv.key = b"a"
        self.assertIsNone(watch_wire.decode_watch_response(message.SerializeToString()).events[0].prev_kv)

    def test_truncated_bytes_raise(self):
        import watch_wire
        message = self.rpc_pb2.WatchResponse(watch_id=7)
        message.events.add().kv.key = b"abc"
        with self.assertRaises(watch_wire.DecodeError):
            watch_wire.decode_watch_response(message.SerializeToString()[:-2])


if __name__ == "__main__":
    unittest.main()
