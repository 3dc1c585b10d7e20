#!/usr/bin/env python3
"""Hostile peers against a live 3-member Synod cluster: `synod fuzz peer-live` at every member's peer
port while a writer runs, then checks that no member stopped and that the cluster stayed safe.

Usage: python3 Tests/compat/faults/peer_fuzz_live.py SYNOD_BINARY [--seed N] [--frames N]

Environment: PEER_FUZZ_BASE_PORT (default 11379; member i uses BASE+10*i for clients and the next
port for peers). The seed is printed first; the same seed sends the same frames (the interleaving
with the cluster's own traffic differs).

Phases, each aimed at every member in turn:
 1. transport: frames the transport must refuse (another cluster's hello, frames past the hello and
    frame bounds, bad checksums and versions, unknown envelope tags, truncated messages, engine
    traffic before a hello); the fuzzer fails unless the node closes every such connection.
 2. boundary-only: well-formed engine messages the engine's boundary must drop (misaddressed, from
    the target itself, terms past the bound, non-contiguous entries, terms out of order, forwarded
    proposals that do not decode); the target's log must count at least as many drops as the
    fuzzer sent.
 3. any-fields: well-formed messages with random fields near the target's term and index, and
    random node-level calls. Raft trusts its peers, so these may disrupt the cluster (elections,
    even entries written under a forged leader's name: peer authentication comes with TLS); what
    must hold is that no member stops and the cluster serves again once the fuzzer stops.
After phases 1 and 2, and after each member was fuzzed: every member still runs, the cluster has a
leader and serves linearizable reads within a bound, and (after 1 and 2) every write the writer was
acknowledged is on every member, with all members holding the same keys at the same revision.
Prints PASS/FAIL per check and "peer fuzz live: N passed, N failed"; exits non-zero on a failure.
"""

import argparse
import atexit
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "python"))
sys.path.insert(0, os.path.join(HERE, "..", "watch"))
from compat_checks import Checks, wait_until  # noqa: E402
from chaos_cluster import MEMBER_COUNT, Cluster  # noqa: E402

import grpc  # noqa: E402
from etcd3.etcdrpc import rpc_pb2  # noqa: E402

STARTUP_TIMEOUT_SECONDS = 30
RECOVERY_TIMEOUT_SECONDS = 40
CATCH_UP_TIMEOUT_SECONDS = 30
FUZZER_TIMEOUT_SECONDS = 120
WRITE_TIMEOUT_SECONDS = 2
WRITE_INTERVAL_SECONDS = 0.02
# Seconds the fuzzer runs at most per member and phase; --frames bounds it too.
PHASE_SECONDS = {"transport": 20, "boundary-only": 12, "any-fields": 12}
TRANSPORT_FRAMES = 300
LOG_TAIL_LINES = 15
DROP_LINES = (re.compile(r"peer message\(s\) at the engine's boundary \((\d+) in all\)"),
              re.compile(r"forwarded proposal\(s\) that do not decode \((\d+) in all\)"))


class Writer(threading.Thread):
    """Puts /fuzz/<n> = n through the members in turn and records which puts were acknowledged."""

    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.cluster = cluster
        self.acknowledged = {}
        self.attempted = 0
        self.stopping = threading.Event()

    def run(self):
        number = 0
        while not self.stopping.is_set():
            key = b"/fuzz/%08d" % number
            value = b"%d" % number
            self.attempted += 1
            try:
                self.cluster.kv(number % MEMBER_COUNT).Put(rpc_pb2.PutRequest(key=key, value=value), timeout=WRITE_TIMEOUT_SECONDS)
                self.acknowledged[key] = value
            except grpc.RpcError:
                pass  # indeterminate: it may or may not have been applied, and either is fine
            number += 1
            time.sleep(WRITE_INTERVAL_SECONDS)


def log_tail(member):
    try:
        with open(member.log_path, "rb") as log:
            lines = log.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-LOG_TAIL_LINES:])


def boundary_drops(member):
    """Messages the member's log reports dropped at the boundary: the engine's drops and the
    forwarded proposals refused before the engine (each the largest 'N in all' logged)."""
    with open(member.log_path, "rb") as log:
        text = log.read().decode("utf-8", "replace")
    return sum(max((int(found) for found in line.findall(text)), default=0) for line in DROP_LINES)


def run_fuzzer(synod, cluster, index, mode, seed, frames):
    member = cluster.members[index]
    command = [synod, "fuzz", "peer-live", "--initial-cluster", cluster.initial_cluster,
               "--initial-cluster-token", cluster.token, "--target", member.name,
               "--target-client", member.endpoint, "--mode", mode, "--seed", str(seed),
               "--frames", str(frames), "--seconds", str(PHASE_SECONDS[mode])]
    completed = subprocess.run(command, capture_output=True, timeout=FUZZER_TIMEOUT_SECONDS)
    output = completed.stdout.decode("utf-8", "replace").strip()
    print("    %s -> %s: %s" % (mode, member.name, output.splitlines()[0] if output else "(no output)"))
    if completed.returncode != 0:
        raise AssertionError("fuzzer exited %d:\n%s\n%s" % (completed.returncode, output, completed.stderr.decode("utf-8", "replace")[-2000:]))
    return dict(field.split("=", 1) for field in output.splitlines()[0].split() if "=" in field)


def expect_all_running(cluster):
    stopped = [member for member in cluster.members if not member.alive()]
    if stopped:
        raise AssertionError("\n".join("%s exited with %s; log tail:\n%s" % (member.name, member.process.returncode, log_tail(member))
                                       for member in stopped))


def expect_recovered(cluster):
    wait_until("a leader and linearizable reads on every member", RECOVERY_TIMEOUT_SECONDS, cluster.healthy, 0.5)


def serializable_range(cluster, index, revision):
    request = rpc_pb2.RangeRequest(key=b"/fuzz/", range_end=b"/fuzz0", serializable=True, revision=revision)
    return cluster.kv(index).Range(request, timeout=10)


def expect_safe(cluster, writer):
    """Every acknowledged write on every member; every member the same keys at one revision."""
    # Taken before the revision is read: every write acknowledged by then has a revision at or
    # below it, so each member's view at that revision must hold it.
    acknowledged = dict(writer.acknowledged)
    leader = cluster.leader_index()
    if leader is None:
        raise AssertionError("no leader")
    revision = cluster.current_revision(leader)

    def caught_up():
        try:
            return all(serializable_range(cluster, index, 0).header.revision >= revision for index in range(MEMBER_COUNT))
        except grpc.RpcError:
            return False

    wait_until("every member at revision %d" % revision, CATCH_UP_TIMEOUT_SECONDS, caught_up, 0.3)
    contents = []
    for index in range(MEMBER_COUNT):
        held = {kv.key: kv.value for kv in serializable_range(cluster, index, revision).kvs}
        lost = sorted(key for key, value in acknowledged.items() if held.get(key) != value)
        if lost:
            raise AssertionError("%s lacks %d acknowledged writes at revision %d, e.g. %s" % (cluster.members[index].name, len(lost), revision, lost[:5]))
        contents.append(held)
    if not (contents[0] == contents[1] == contents[2]):
        differing = sorted(set(contents[0].items()) ^ set(contents[1].items()) ^ set(contents[2].items()))[:5]
        raise AssertionError("members differ at revision %d, e.g. %s" % (revision, differing))
    print("    revision %d: %d keys on every member, %d acknowledged writes checked" % (revision, len(contents[0]), len(acknowledged)))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("synod")
    parser.add_argument("--seed", type=int, default=int(time.time()) % 1_000_000)
    parser.add_argument("--frames", type=int, default=20_000, help="frames per member in the boundary-only and any-fields phases")
    options = parser.parse_args(argv[1:])
    print("seed %d (replay: python3 %s %s --seed %d --frames %d)" % (options.seed, argv[0], options.synod, options.seed, options.frames))

    checks = Checks("peer fuzz live")
    work_dir = tempfile.mkdtemp(prefix="synod-peer-fuzz-")
    base_port = int(os.environ.get("PEER_FUZZ_BASE_PORT", "11379"))
    cluster = Cluster(options.synod, base_port, work_dir)
    if cluster.kind != "synod":
        print("FAIL setup\n    %s is not synod: the live peer fuzzer speaks Synod's peer protocol" % options.synod)
        return 1
    atexit.register(cluster.stop_all)
    for signal_number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signal_number, lambda number, frame: sys.exit(128 + number))
    cluster.start_all()
    writer = Writer(cluster)
    try:
        wait_until("the cluster to serve", STARTUP_TIMEOUT_SECONDS, cluster.healthy, 0.5)
    except AssertionError as error:
        print("FAIL setup\n    %s" % error)
        for member in cluster.members:
            print("    %s:\n%s" % (member.name, log_tail(member)))
        return 1
    writer.start()
    totals = {}

    def phase(mode, frames):
        def run():
            for index in range(MEMBER_COUNT):
                before = boundary_drops(cluster.members[index])
                report = run_fuzzer(options.synod, cluster, index, mode, options.seed + index, frames)
                for name in ("frames", "engine", "spoofed", "calls", "refused"):
                    totals[(mode, name)] = totals.get((mode, name), 0) + int(report.get(name, 0))
                expect_all_running(cluster)
                if mode == "boundary-only":
                    sent = int(report["engine"])
                    # The drop count is logged at most once a second, so wait for the last line.
                    wait_until("%s to log %d boundary drops" % (cluster.members[index].name, sent), 10,
                               lambda: boundary_drops(cluster.members[index]) - before >= sent, 0.5)
                expect_recovered(cluster)
        return run

    checks.check("transport refusals: every bad frame closes its connection, no member stops", phase("transport", TRANSPORT_FRAMES))
    checks.check("transport refusals: the cluster stayed safe", lambda: expect_safe(cluster, writer))
    checks.check("boundary-only messages: all dropped and counted, no member stops", phase("boundary-only", options.frames))
    checks.check("boundary-only messages: the cluster stayed safe", lambda: expect_safe(cluster, writer))
    checks.check("any-fields messages and calls: no member stops, the cluster serves again", phase("any-fields", options.frames))

    def writes_resume():
        count = len(writer.acknowledged)
        wait_until("new writes to be acknowledged", RECOVERY_TIMEOUT_SECONDS, lambda: len(writer.acknowledged) > count + 10, 0.5)

    checks.check("any-fields messages and calls: writes are acknowledged again", writes_resume)
    writer.stopping.set()
    writer.join(timeout=WRITE_TIMEOUT_SECONDS * 2)
    print("figures: " + " ".join("%s.%s=%d" % (mode, name, value) for (mode, name), value in sorted(totals.items())))
    print("writer: %d puts attempted, %d acknowledged" % (writer.attempted, len(writer.acknowledged)))
    status = checks.finish()
    if status == 0:
        shutil.rmtree(work_dir, ignore_errors=True)
    else:
        print("logs kept in %s" % work_dir)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
