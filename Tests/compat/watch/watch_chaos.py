#!/usr/bin/env python3
"""Etcd's watch guarantees on a real 3-member cluster, under writes, leader crashes and restarts.

Usage: python3 Tests/compat/watch/watch_chaos.py SERVER_BINARY [--seed N] [--duration SECONDS]
                                                 [--fault NAME --expect-fail CHECKER[,CHECKER]]
                                                 [--allow-known-etcd-3.4-bugs] [--keep-dir]

SERVER_BINARY is Synod (members run `SERVER_BINARY serve ...`) or etcd 3.4 (`/usr/bin/etcd`).
Environment: WATCH_CHAOS_BASE_PORT (default 14379; member i uses BASE+10*i and BASE+10*i+1),
WATCH_CHAOS_DURATION_SECONDS (default 40; --duration overrides).

The run: three members start in a temporary directory; writers put, delete and run txns on 16
keys, and a bulk writer puts 2,000 keys under a prefix and deletes the prefix in one DeleteRange
(one revision of 2,000 events); watches open on every member from past, present and future
revisions, on one key, a prefix and the whole keyspace, some with prev_kv, some asking for progress
notifications; each watch is resumed on another member at its last seen revision + 1 at least once,
and whenever its member dies. A quarter into the run the leader is killed with SIGKILL and started
again 3 s later; at 60% a follower is stopped with SIGTERM and started again 3 s later. At the end
every member's history is read from revision 1, checked against what the writers were acknowledged,
and every checker of watch_checkers.py runs over every recording.

Prints one `PASS name` / `FAIL name` line per checker, then `watch: N passed, N failed` and counts;
exits 1 if a checker failed, 2 if the cluster could not be run. The seed is printed first; the same
seed replays the same plan (which watches, where, when, which writes), not the same interleaving.

--fault NAME starts the members with SYNOD_WATCH_FAULT=NAME (Synod's deliberately broken watch) and
--expect-fail CHECKER makes the run succeed only if that checker reports a violation.
--allow-known-etcd-3.4-bugs reports, against etcd only, the violations KNOWN_ETCD_34_BUGS explains
as KNOWN instead of FAIL.
"""

import argparse
import atexit
import os
import random
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import grpc  # noqa: E402

import chaos_workload as workload  # noqa: E402
import watch_checkers as checkers  # noqa: E402
from chaos_cluster import MEMBER_COUNT, Cluster  # noqa: E402

TICK_SECONDS = 0.1
STARTUP_TIMEOUT_SECONDS = 30
RECOVERY_TIMEOUT_SECONDS = 30
HISTORY_READ_TIMEOUT_SECONDS = 60
CATCH_UP_TIMEOUT_SECONDS = 30
CATCH_UP_QUIET_SECONDS = 3
RESTART_DELAY_SECONDS = 3
LEADER_WAIT_SECONDS = 5
WRITER_COUNT = 3
WRITER_PAUSE_SECONDS = 0.002
OPEN_ATTEMPTS_MAX = 200  # per watch chain: opens that fail while members restart are retried
REOPEN_DELAY_SECONDS = 0.3
VIOLATIONS_SHOWN_MAX = 12
# Beyond the run itself, the end phase has bounded waits of its own; past this the watchdog stops
# the members and exits, so that no hang outlives the run.
WATCHDOG_MARGIN_SECONDS = 240
WHOLE_KEYSPACE = (b"\0", b"\0")

# The watches opened on every member: (name, when (wave 1 at the start, wave 2 a third in), key
# range, start, prev_kv, progress). A start is ("past", revision), ("now",), ("future", low, high):
# current revision + a random offset, or ("recent", low, high): current revision - an offset.
WATCH_PLANS = [
    ("all-from-1", 1, WHOLE_KEYSPACE, ("past", 1), True, True),
    ("writer-keys-now", 1, (b"w/", b"w0"), ("now",), False, True),
    ("hot-key-future", 1, None, ("future", 20, 60), True, False),
    # Never reached: it must stay silent through every resume (and a server that starts a future
    # watch early shows it here at once, in the first recording and in the resumed one).
    ("all-far-future", 1, WHOLE_KEYSPACE, ("future", 1000000, 1000000), False, True),
    ("bulk-recent", 2, (b"bulk/", b"bulk0"), ("recent", 50, 400), True, True),
    ("all-future", 2, WHOLE_KEYSPACE, ("future", 100, 300), False, True),
    ("all-from-1-late", 2, WHOLE_KEYSPACE, ("past", 1), False, False),
]
SECOND_WAVE_FRACTION = 0.35
BULK_ROUND_FRACTIONS = [0.1, 0.3, 0.5, 0.7]
LEADER_KILL_FRACTION = 0.25
FOLLOWER_STOP_FRACTION = 0.6

# What fails on etcd 3.4.23 itself: checker -> (reason, which of its violations the reason explains).
# --allow-known-etcd-3.4-bugs reports those as KNOWN instead of FAIL, and only when the members are etcd.
PREMATURE_PROGRESS_REASON = ("etcd 3.4.23 answers a progress request at once on the stream's control channel, ahead "
                             "of events still queued for the watch (etcd #15220, fixed by #15237 and backported to "
                             "3.4; kube-apiserver trusts progress requests only from 3.4.31)")
KNOWN_ETCD_34_BUGS = {
    "bookmarkable": (PREMATURE_PROGRESS_REASON, lambda violation: True),
    "resumable": (PREMATURE_PROGRESS_REASON + "; a resume at such a notification's revision + 1 loses the events "
                  "still queued",
                  lambda violation: checkers.RESUMED_AFTER_PREMATURE_PROGRESS in violation),
}

FAULTS = {"reorder": "ordered", "duplicate": "unique", "split": "atomic", "drop": "reliable",
          "early": "start-revision", "progress-ahead": "bookmarkable"}


def parse_arguments(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("server_binary")
    parser.add_argument("--seed", type=int, default=None, help="replays a run's plan (printed at the start)")
    parser.add_argument("--duration", type=float, default=float(os.environ.get("WATCH_CHAOS_DURATION_SECONDS", 40)),
                        help="seconds of writes and chaos (default 40)")
    parser.add_argument("--fault", choices=sorted(FAULTS), help="start the members with SYNOD_WATCH_FAULT=NAME")
    parser.add_argument("--expect-fail", dest="expect_fail",
                        help="succeed only if these checkers (comma-separated) each report a violation")
    parser.add_argument("--allow-known-etcd-3.4-bugs", dest="allow_known_etcd_bugs", action="store_true",
                        help="against etcd, report the checkers in KNOWN_ETCD_34_BUGS as KNOWN, not FAIL")
    parser.add_argument("--keep-dir", action="store_true", help="keep member logs and data even when everything passed")
    arguments = parser.parse_args(argv)
    known = [name for name, _ in checkers.WATCH_CHECKERS]
    arguments.expect_fail = arguments.expect_fail.split(",") if arguments.expect_fail else []
    if any(name not in known for name in arguments.expect_fail):
        parser.error("--expect-fail must name checkers among %s, separated by commas" % ", ".join(known))
    if arguments.seed is None:
        arguments.seed = random.SystemRandom().randrange(1, 2 ** 31)
    if arguments.duration < 8:
        parser.error("--duration must be at least 8 s: the leader restart alone takes %d s" % RESTART_DELAY_SECONDS)
    return arguments


class ChaosRun:
    def __init__(self, arguments, cluster, stop):
        self.arguments = arguments
        self.cluster = cluster
        self.duration = arguments.duration
        self.random = random.Random(arguments.seed)
        self.stop = stop  # set when the writers must stop: at the end of the run, or on any exit
        self.log = workload.WriteLog()
        self.chains = []
        self.threads = []
        self.harness_problems = []  # what kept the run from doing what it planned, reported as a failure
        self.started_at = None

    def elapsed(self):
        return time.monotonic() - self.started_at

    def any_current_revision(self):
        for _ in range(int(RECOVERY_TIMEOUT_SECONDS / 0.2)):
            for index in self.random.sample(range(MEMBER_COUNT), MEMBER_COUNT):
                if self.cluster.members[index].alive():
                    try:
                        return self.cluster.current_revision(index)
                    except grpc.RpcError:
                        pass
            time.sleep(0.2)
        raise RuntimeError("no member served a read for %d s" % RECOVERY_TIMEOUT_SECONDS)

    def open_wave(self, wave):
        current = self.any_current_revision()
        for name, plan_wave, key_range, start, prev_kv, progress in WATCH_PLANS:
            if plan_wave != wave:
                continue
            for member_index in range(MEMBER_COUNT):
                # No key range in the plan: one writer key, a different draw for each member.
                watched = key_range or (self.random.choice(workload.WRITER_KEYS), b"")
                if start[0] == "past":
                    start_revision = start[1]
                elif start[0] == "now":
                    start_revision = 0
                elif start[0] == "future":
                    start_revision = current + self.random.randint(start[1], start[2])
                else:
                    start_revision = max(1, current - self.random.randint(start[1], start[2]))
                # At least one planned resume, and about half the watches get a second one.
                opened_at = self.elapsed()
                resume_times = [self.random.uniform(opened_at + 0.1 * self.duration, 0.9 * self.duration)
                                for _ in range(self.random.choice([1, 2]))]
                chain = workload.WatchChain("%s-%d" % (name, member_index), watched[0], watched[1], start_revision,
                                            prev_kv, progress, member_index, resume_times)
                chain.next_progress_time = opened_at + self.random.uniform(0.5, 1.5)
                chain.next_open_time = 0.0
                chain.open(self.cluster, member_index)
                self.chains.append(chain)

    def other_alive_member(self, current):
        candidates = [index for index in range(MEMBER_COUNT)
                      if index != current and self.cluster.members[index].alive()]
        return self.random.choice(candidates) if candidates else None

    def tend(self, chain, during_run):
        """Resumes a watch whose stream ended, at its last seen revision + 1 on another member; during
        the run, also runs a planned resume when one is due, and asks for progress when due."""
        live = chain.live
        now = self.elapsed()
        if live is None:
            return
        if live.ended.is_set():
            if now < chain.next_open_time or chain.open_attempts >= OPEN_ATTEMPTS_MAX:
                return
            was_created = live.is_created()
            chain.close()
            member_index = self.other_alive_member(chain.member)
            if member_index is None:
                return
            chain.failover_resumes += 1 if was_created else 0
            chain.next_open_time = now + REOPEN_DELAY_SECONDS
            chain.open(self.cluster, member_index)
            return
        if during_run and chain.resume_times and now >= chain.resume_times[0] and live.is_created():
            member_index = self.other_alive_member(chain.member)
            if member_index is not None:
                chain.resume_times.pop(0)
                chain.close()
                chain.planned_resumes += 1
                chain.open(self.cluster, member_index)
            return
        if during_run and chain.progress and now >= chain.next_progress_time and live.is_created():
            live.request_progress()
            chain.next_progress_time = now + self.random.uniform(0.5, 1.5)

    def agreed_leader(self):
        """The leader every member names, waiting up to LEADER_WAIT_SECONDS (an election may be on,
        right after a restart); None if there is still none."""
        deadline = time.monotonic() + LEADER_WAIT_SECONDS
        for _ in range(int(LEADER_WAIT_SECONDS / 0.1) + 1):
            leader = self.cluster.leader_index()
            if leader is not None or time.monotonic() >= deadline:
                return leader
            time.sleep(0.1)
        return None

    def kill_leader(self):
        leader = self.agreed_leader()
        if leader is None:
            self.harness_problems.append("no agreed leader to kill at %.1f s" % self.elapsed())
            return
        self.cluster.kill(leader)
        self.schedule(RESTART_DELAY_SECONDS, "restart killed leader", lambda: self.restart(leader))

    def stop_follower(self):
        leader = self.agreed_leader()
        followers = [index for index in range(MEMBER_COUNT) if index != leader and self.cluster.members[index].alive()]
        if leader is None or not followers:
            self.harness_problems.append("no follower to stop at %.1f s" % self.elapsed())
            return
        follower = self.random.choice(followers)
        if not self.cluster.stop(follower):
            self.harness_problems.append("member %d ignored SIGTERM and was killed" % follower)
        self.schedule(RESTART_DELAY_SECONDS, "restart stopped follower", lambda: self.restart(follower))

    def restart(self, index):
        if not self.cluster.members[index].alive():
            self.cluster.start(index)

    def schedule(self, delay_seconds, name, action):
        self.actions.append((self.elapsed() + delay_seconds, name, action))
        self.actions.sort(key=lambda item: item[0])

    def run(self):
        self.started_at = time.monotonic()
        self.actions = []
        self.schedule(0, "first watches", lambda: self.open_wave(1))
        self.schedule(SECOND_WAVE_FRACTION * self.duration, "second watches", lambda: self.open_wave(2))
        self.schedule(LEADER_KILL_FRACTION * self.duration, "kill the leader", self.kill_leader)
        self.schedule(FOLLOWER_STOP_FRACTION * self.duration, "stop a follower", self.stop_follower)
        for writer_id in range(WRITER_COUNT):
            writer_random = random.Random(self.arguments.seed * 1000 + writer_id)
            self.start_thread(workload.writer_loop, writer_id, self.cluster, self.log, writer_random, self.stop,
                              WRITER_PAUSE_SECONDS)
        self.start_thread(workload.bulk_loop, self.cluster, self.log, random.Random(self.arguments.seed * 1000 + 999),
                          self.stop, [fraction * self.duration for fraction in BULK_ROUND_FRACTIONS], self.started_at)
        for _ in range(int(self.duration / TICK_SECONDS) + 1):
            if self.elapsed() >= self.duration:
                break
            while self.actions and self.actions[0][0] <= self.elapsed():
                _, name, action = self.actions.pop(0)
                print("%6.1f s  %s" % (self.elapsed(), name), flush=True)
                action()
            for chain in self.chains:
                self.tend(chain, during_run=True)
            time.sleep(TICK_SECONDS)
        self.stop.set()
        for thread in self.threads:
            thread.join(RECOVERY_TIMEOUT_SECONDS)
        # Restarts still pending (a short run) happen now: the end phase needs every member.
        for _, name, action in self.actions:
            if name.startswith("restart"):
                print("%6.1f s  %s (after the writers stopped)" % (self.elapsed(), name), flush=True)
                action()
        self.actions = []

    def start_thread(self, function, *arguments):
        thread = threading.Thread(target=function, args=arguments, daemon=True)
        thread.start()
        self.threads.append(thread)

    def read_histories(self, final_revision):
        """Every member's history, read from revision 1 with prev_kv by a fresh watch."""
        readers = []
        for index, member in enumerate(self.cluster.members):
            recording = checkers.WatchRecording("history-%d" % index, 0, member.name, WHOLE_KEYSPACE[0],
                                                WHOLE_KEYSPACE[1], 1, True)
            readers.append(workload.LiveWatch(recording, member.endpoint))
        started = time.monotonic()
        deadline = started + HISTORY_READ_TIMEOUT_SECONDS
        for _ in range(int(HISTORY_READ_TIMEOUT_SECONDS / TICK_SECONDS) + 1):
            if time.monotonic() >= deadline or all(self.read_through(reader, final_revision) for reader in readers):
                break
            time.sleep(TICK_SECONDS)
        print("histories read in %.1f s" % (time.monotonic() - started), flush=True)
        for reader in readers:
            reader.close()
            reader.recording.complete_through_revision = final_revision
        return [reader.recording for reader in readers]

    @staticmethod
    def read_through(reader, revision):
        with reader.lock:
            responses = list(reader.recording.responses)
        return reader.ended.is_set() or any(event.mod_revision >= revision
                                            for item in responses[-1:] for event in item.events)

    def catch_up(self, history, final_revision):
        """Waits until every open watch has delivered its last matching event of the history, or no
        watch has received anything for CATCH_UP_QUIET_SECONDS (the writers have stopped, so a
        silent watch that still owes events is stuck, not slow), or CATCH_UP_TIMEOUT_SECONDS passed;
        then marks each open watch as owing everything through the final revision."""
        last_owed = {chain.name: self.last_owed_revision(chain, history) for chain in self.chains}
        started = time.monotonic()
        deadline = started + CATCH_UP_TIMEOUT_SECONDS
        responses_seen, quiet_since = -1, started
        for _ in range(int(CATCH_UP_TIMEOUT_SECONDS / TICK_SECONDS) + 1):
            for chain in self.chains:
                self.tend(chain, during_run=False)
            now = time.monotonic()
            if now >= deadline or all(self.caught_up(chain, last_owed[chain.name]) for chain in self.chains):
                break
            responses = sum(len(chain.recordings[-1].responses) for chain in self.chains if chain.recordings)
            if responses != responses_seen:
                responses_seen, quiet_since = responses, now
            elif now - quiet_since >= CATCH_UP_QUIET_SECONDS:
                break
            time.sleep(TICK_SECONDS)
        print("watches caught up (or gave up) in %.1f s" % (time.monotonic() - started), flush=True)
        for chain in self.chains:
            if chain.live is not None and not chain.live.ended.is_set():
                chain.live.freeze()
                chain.recordings[-1].complete_through_revision = final_revision
            else:
                self.harness_problems.append("watch %s was not open at the end (%s)"
                                             % (chain.name, chain.live.end_reason if chain.live else "never opened"))
            chain.close()

    @staticmethod
    def last_owed_revision(chain, history):
        """The revision of the chain's last matching event in the history (0 if none), or None when
        the chain never learnt where it starts."""
        start = next((recording.effective_start_revision() for recording in chain.recordings
                      if recording.effective_start_revision() is not None), None)
        if start is None:
            return None
        owed = history.matching(chain.recordings[0], start, history.last_revision)
        return owed[-1].mod_revision if owed else 0

    @staticmethod
    def caught_up(chain, last_owed_revision):
        if chain.live is None or chain.live.ended.is_set() or last_owed_revision is None:
            return False
        with chain.live.lock:
            delivered = [event.mod_revision for recording in chain.recordings for event in recording.events()[-1:]]
        return last_owed_revision == 0 or (bool(delivered) and max(delivered) >= last_owed_revision)


def report(results, counts, known_bugs):
    """Prints a PASS, FAIL or KNOWN line per checker; returns the number of failures. A checker is
    KNOWN when a known bug explains every one of its violations."""
    passed = failed = known = 0
    for name, violations in results:
        reason, explained = known_bugs.get(name, (None, lambda violation: False))
        unexplained = [violation for violation in violations if not explained(violation)]
        if not violations:
            passed += 1
            print("PASS %s" % name)
            continue
        if not unexplained:
            known += 1
            print("KNOWN %s (%d violations): %s" % (name, len(violations), reason))
            shown = violations
        else:
            failed += 1
            print("FAIL %s (%d violations%s)" % (name, len(unexplained), ", and %d explained by known bugs"
                                                 % (len(violations) - len(unexplained)) if reason else ""))
            shown = unexplained
        for violation in shown[:VIOLATIONS_SHOWN_MAX]:
            print("    " + violation)
        if len(shown) > VIOLATIONS_SHOWN_MAX:
            print("    ... and %d more" % (len(shown) - VIOLATIONS_SHOWN_MAX))
    print("watch: %d passed, %d failed" % (passed, failed) + (", %d known etcd 3.4 bugs" % known if known else ""))
    print("counts: " + ", ".join("%s %d" % item for item in counts))
    return failed


def check_everything(run, final_revision):
    """Runs every checker; returns ([(name, violations)], counts)."""
    history_recordings = run.read_histories(final_revision)
    histories = {recording.member: checkers.History(recording.events()) for recording in history_recordings}
    # The first member whose history reaches the final revision is the ground truth; the others are
    # compared with it (history-same-on-every-member), so a member that served less shows there.
    complete = [history for history in histories.values() if history.last_revision == final_revision]
    ground_truth = (complete or sorted(histories.values(), key=lambda history: -len(history.events)))[0]
    run.catch_up(ground_truth, final_revision)
    recordings = [recording for chain in run.chains for recording in chain.recordings] + history_recordings
    results = [("history-matches-acknowledged-writes",
                checkers.check_history_against_writes(ground_truth, run.log.acknowledged, run.log.attempted_puts,
                                                      run.log.attempted_deletes, final_revision)),
               ("history-same-on-every-member", checkers.check_history_same_on_members(histories))]
    for name, checker in checkers.WATCH_CHECKERS:
        started = time.monotonic()
        results.append((name, checker(recordings, ground_truth)))
        print("checked %s in %.1f s" % (name, time.monotonic() - started), flush=True)
    crashed = ["%s exited with status %s" % (member.name, member.process.returncode)
               for member in run.cluster.members if not member.alive()]
    end_reasons = Counter((recording.end_reason or "open at the end").split(":")[0] for recording in recordings)
    undecodable = ["%s ended: %s" % (recording.label, recording.end_reason) for recording in recordings
                   if (recording.end_reason or "").startswith(workload.UNDECODABLE)]
    print("how watch streams ended: " + ", ".join("%s %d" % item for item in sorted(end_reasons.items())))
    results.append(("run-as-planned (members up, watches open to the end, responses decodable)",
                    run.harness_problems + crashed + undecodable))
    counts = [("watches", len(run.chains)),
              ("recordings", len(recordings)),
              ("responses", sum(len(recording.responses) for recording in recordings)),
              ("events checked", sum(len(recording.events()) for recording in recordings)),
              ("history events", len(ground_truth.events)),
              ("events in the largest revision", max(Counter(ground_truth.revisions).values(), default=0)),
              ("final revision", final_revision),
              ("planned resumes", sum(chain.planned_resumes for chain in run.chains)),
              ("failover resumes", sum(chain.failover_resumes for chain in run.chains)),
              ("progress notifications", sum(len(recording.progress_revisions()) for recording in recordings)),
              ("acknowledged writes", len(run.log.acknowledged)),
              ("failed write requests", run.log.failed_requests)]
    return results, counts


def main(argv):
    arguments = parse_arguments(argv)
    base_port = int(os.environ.get("WATCH_CHAOS_BASE_PORT", 14379))
    print("watch chaos: seed %d, duration %.0f s, server %s, fault %s, expect-fail %s"
          % (arguments.seed, arguments.duration, arguments.server_binary, arguments.fault or "none",
             ",".join(arguments.expect_fail) or "none"), flush=True)
    work_dir = tempfile.mkdtemp(prefix="synod-watch-chaos.")
    keep_dir = [arguments.keep_dir]
    try:
        cluster = Cluster(arguments.server_binary, base_port, work_dir, arguments.fault)
    except (RuntimeError, OSError) as error:
        print("FAIL setup: %s" % error)
        return 2

    stop = threading.Event()

    def cleanup():
        # A second Ctrl-C must not cut the members' shutdown short (setpriv's death signal would
        # still kill them, but without a graceful stop).
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signal_number, signal.SIG_IGN)
        stop.set()
        cluster.stop_all()
        if keep_dir[0]:
            print("member logs and data kept in %s" % work_dir)
        else:
            shutil.rmtree(work_dir, ignore_errors=True)

    atexit.register(cleanup)
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda number, frame: sys.exit(128 + number))
    watchdog = threading.Timer(arguments.duration + WATCHDOG_MARGIN_SECONDS, watchdog_expired, args=(cluster,))
    watchdog.daemon = True
    watchdog.start()

    print("starting %d %s members, client ports %s"
          % (MEMBER_COUNT, cluster.kind, [member.client_port for member in cluster.members]), flush=True)
    cluster.start_all()
    try:
        healthy = cluster.wait_healthy(STARTUP_TIMEOUT_SECONDS)
    except RuntimeError as error:
        healthy = False
        print("FAIL setup: %s" % error)
        print_dead_members(cluster)
    if not healthy:
        print("FAIL setup: cluster not healthy within %d s" % STARTUP_TIMEOUT_SECONDS)
        keep_dir[0] = True
        return 2
    run = ChaosRun(arguments, cluster, stop)
    try:
        run.run()
        if not cluster.wait_healthy(RECOVERY_TIMEOUT_SECONDS):
            print("FAIL setup: cluster not healthy within %d s after the run" % RECOVERY_TIMEOUT_SECONDS)
            keep_dir[0] = True
            return 2
        final_revision = max(cluster.current_revision(index) for index in range(MEMBER_COUNT))
    except (RuntimeError, grpc.RpcError) as error:
        print("FAIL setup: %s" % error)
        print_dead_members(cluster)
        keep_dir[0] = True
        return 2
    print("%6.1f s  writers stopped at revision %d; reading every member's history" % (run.elapsed(), final_revision),
          flush=True)
    for offset, text in cluster.events:
        print("    cluster at %5.1f s: %s" % (offset, text))
    results, counts = check_everything(run, final_revision)
    known_bugs = KNOWN_ETCD_34_BUGS if arguments.allow_known_etcd_bugs and cluster.kind == "etcd" else {}
    failed = report(results, counts, known_bugs)
    print("seed %d (replay with --seed %d)" % (arguments.seed, arguments.seed))
    if arguments.expect_fail:
        failing = {name for name, violations in results if violations}
        undetected = [name for name in arguments.expect_fail if name not in failing]
        print("%s fault %s detected by %s%s" % ("FAIL" if undetected else "PASS", arguments.fault or "none",
                                               ", ".join(arguments.expect_fail),
                                               " (no violation from %s)" % ", ".join(undetected) if undetected else ""))
        keep_dir[0] = keep_dir[0] or bool(undetected)
        return 1 if undetected else 0
    keep_dir[0] = keep_dir[0] or failed != 0
    return 0 if failed == 0 else 1


def print_dead_members(cluster, lines_shown=20):
    for member in cluster.members:
        if member.process is not None and not member.alive():
            print("%s exited with status %s; the end of its log:" % (member.name, member.process.returncode))
            with open(member.log_path, "rb") as log:
                for line in log.read().decode("utf-8", "replace").splitlines()[-lines_shown:]:
                    print("    " + line)


def watchdog_expired(cluster):
    print("FAIL watchdog: the run outlived its bound; stopping the members", flush=True)
    for member in cluster.members:
        if member.alive():
            member.process.kill()
    os._exit(3)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
