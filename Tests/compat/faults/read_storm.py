#!/usr/bin/env python3
"""A read storm against a 3-member cluster this script starts and stops itself: while 10 clients
repeatedly read 1,000,000 keys, the leader stays the leader and keeps its followers hearing from it.

Usage: python3 Tests/compat/faults/read_storm.py SERVER_BINARY

SERVER_BINARY is synod (etcd's flags after `serve`) or a real etcd 3.4 (/usr/bin/etcd), so that
the figures can be compared; the checks are the same for both. Member i listens for clients on
BASE+10*i and for peers on BASE+10*i+1, BASE from READ_STORM_BASE_PORT (default 17379); data, logs
and the packet captures go to a temporary directory that is kept when a check failed
(READ_STORM_KEEP_DIR=1 keeps it always). Every member, tcpdump and probe child is stopped on any
exit of this script (atexit, SIGTERM, SIGINT, SIGHUP); only a SIGKILL of the script itself can leave
them running. Needs root (tcpdump on lo) and tcpdump (Tests/compat/install-deps.sh installs it).
READ_STORM_KEYS (default 1000000) shrinks the data set for a quick try of the script itself.

What it does:
 1. starts 3 members with --heartbeat-interval 100 --election-timeout 1000 (etcd's defaults) and
    --quota-backend-bytes 8 GiB (Synod's maximum);
 2. loads 1,000,000 keys /storm/%07d with 16-byte values, in txns of 128 puts (etcd's default
    --max-txn-ops) from several threads, and prints the load time;
 3. records every member's view of the leader and the raft term;
 4. captures leader->follower TCP segments on the peer connections (tcpdump on lo), first for a few
    seconds with the cluster idle, to show that the capture sees the leader's heartbeats (about
    one per heartbeat interval), then through the storm;
 5. storm: 10 reader threads, spread over the 3 members, each with its own connection, range over
    all of /storm/ (full values, linearizable) again and again for READ_STORM_SECONDS (default 60);
    every response must hold 1,000,000 keys with count 1,000,000 and more false. Meanwhile a writer
    puts a key every 50 ms and times each put; each member's RSS is sampled every second.
Checks: the leader and term are unchanged on every member; the longest silence of the leader
towards each follower during the storm is under half the election timeout; every put succeeded;
every range was complete; each member's RSS grew by at most 10 readers x 4 x one response's size.

Two probes run through the storm, each a process of its own, to tell the server's silences from the
machine's: one sleeps 5 ms at a time and reports late wake-ups (CPU starvation), one fdatasyncs 4 KiB
in the members' directory every 200 ms and reports slow syncs. A leader syncs its log on the thread
that sends heartbeats (Synod's replica loop, like etcd's raft loop), so a disk that another process
keeps busy silences it for as long as a sync takes: each long silence is printed with what the
probes saw meanwhile. Run it on a machine whose disk is otherwise quiet.
Prints PASS/FAIL per check, then "read storm: N passed, N failed"; exits non-zero on any failure.
Every wait is bounded by time and by attempts.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from compat_checks import Checks, expect_equal, wait_until  # noqa: E402
from compat_suite import LocalCluster, LocalMember, clean_up_on_exit, cluster_arguments, fail_setup, log, varint  # noqa: E402

import grpc  # noqa: E402
from etcd3 import etcdrpc  # noqa: E402

MEMBER_COUNT = 3
# Given explicitly (they are also etcd's defaults): the heartbeat bound below is stated in terms of them.
HEARTBEAT_INTERVAL_MILLIS = 100
ELECTION_TIMEOUT_MILLIS = 1000
# Synod's largest accepted quota; 1,000,000 small keys need far less (about 150 MB of store).
QUOTA_BACKEND_BYTES = 8 << 30
STARTUP_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10
CALL_TIMEOUT_SECONDS = 5

KEY_COUNT = int(os.environ.get("READ_STORM_KEYS", "1000000"))
KEY_PREFIX = b"/storm/"
KEY_PREFIX_END = b"/storm0"  # the prefix with its last byte + 1
KEY_FORMAT = "/storm/%07d"
VALUE_FORMAT = "%016d"  # 16 ASCII digits: no byte of a value can look like a protobuf tag below
TXN_OPS = 128  # etcd's default --max-txn-ops
LOAD_THREADS = 16  # the load waits on commits, not on CPU: more in flight, fewer waits
LOAD_SECONDS_MAX = 600

READER_COUNT = 10
STORM_SECONDS = float(os.environ.get("READ_STORM_SECONDS", "60"))
# A whole range must come back within this; a range still running when the storm ends is waited for
# at most this long.
RANGE_TIMEOUT_SECONDS = 120
WRITE_INTERVAL_SECONDS = 0.05
WRITE_KEY = b"/storm-writer/key"  # outside /storm/, so that every range sees exactly KEY_COUNT keys
RSS_SAMPLE_SECONDS = 1.0
IDLE_CAPTURE_SECONDS = 3.0
SILENCES_SHOWN = 10  # the longest gaps over 1.5 heartbeat intervals, per follower, with the probes' view

# The followers must never go an election timeout without hearing from the leader, or one of them
# starts an election. Half of it leaves room for scheduling on a loaded 2-core machine while still
# failing long before a follower would time out; it is 5 heartbeat intervals.
HEARTBEAT_GAP_MAX_SECONDS = ELECTION_TIMEOUT_MILLIS / 2 / 1000
# Memory: "a response is built without needing many times its own size". Per response in flight a
# server may need the encoded response (S), what it encodes from, and the transport's copy: 4 x S.
# The bound allows that for all 10 readers on every member, although each member serves only 3 or 4
# of them (so 10 to 13 S per reader it serves): the rest covers memory the allocator keeps after a
# response is freed (per-thread arenas do not hand it back at once) and the copy-on-write store's
# copies made while the writer's puts overlap reads. A member that held several copies of each
# response, or built it from per-key objects many times the encoding's size, goes past it. The
# figures per reader served are printed, to compare servers more finely than the bound does.
RSS_RESPONSES_PER_READER_MAX = 4

RANGE_METHOD = "/etcdserverpb.KV/Range"
TXN_METHOD = "/etcdserverpb.KV/Txn"
PUT_METHOD = "/etcdserverpb.KV/Put"
STATUS_METHOD = "/etcdserverpb.Maintenance/Status"
# Responses of 40 MB and more; the default receive limit is 4 MiB. A local subchannel pool gives
# each channel a TCP connection of its own, as 10 separate clients would have.
CHANNEL_OPTIONS = [("grpc.max_receive_message_length", -1), ("grpc.max_send_message_length", -1),
                   ("grpc.use_local_subchannel_pool", 1)]




def length_delimited(field_number, payload):
    return varint(field_number << 3 | 2) + varint(len(payload)) + payload


def txn_of_puts(pairs):
    """A TxnRequest with one RequestOp{request_put} per (key, value) in success, encoded by hand:
    python-etcd3's protobuf is the pure-python one, far too slow for a million messages."""
    return b"".join(length_delimited(2, length_delimited(2, length_delimited(1, k) + length_delimited(2, v)))
                    for k, v in pairs)


def key(i):
    return (KEY_FORMAT % i).encode()


def value(i):
    return (VALUE_FORMAT % i).encode()


# Every key and value has the same length, so every txn operation has the same encoding around them:
# one %-format per put instead of four nested encodings.
PUT_OP_TEMPLATE = txn_of_puts([(key(0), value(0))]).replace(key(0), KEY_FORMAT.encode()).replace(
    value(0), VALUE_FORMAT.encode())


def txn_of_key_range(numbers):
    return b"".join(PUT_OP_TEMPLATE % (i, i) for i in numbers)


def txn_succeeded(data):
    """TxnResponse.succeeded (field 2), read without decoding the 128 responses that follow it."""
    position = 0
    while position < len(data):
        tag, position = read_varint(data, position)
        if tag & 7 == 0:
            number, position = read_varint(data, position)
            if tag >> 3 == 2:
                return number != 0
        elif tag & 7 == 2:
            length, position = read_varint(data, position)
            position += length
        else:
            raise AssertionError("unexpected wire type in a TxnResponse: tag %d" % tag)
    return False


# The pattern that starts every key in a range response: KeyValue.key's tag and length, then the prefix.
KEY_FIELD_PATTERN = b"\x0a" + varint(len(key(0))) + KEY_PREFIX


def read_varint(data, position):
    number = shift = 0
    while True:
        byte = data[position]
        position += 1
        number |= (byte & 0x7F) << shift
        if byte < 0x80:
            return number, position
        shift += 7


def parse_range_fully(data):
    """Walks every field of a RangeResponse: (count, more, kvs, first key, last key, bad values)."""
    position, count, more, kvs, first, last, bad = 0, 0, False, 0, None, None, 0
    while position < len(data):
        tag, position = read_varint(data, position)
        field, wire_type = tag >> 3, tag & 7
        if wire_type == 0:
            number, position = read_varint(data, position)
            if field == 3:
                more = number != 0
            elif field == 4:
                count = number
        elif wire_type == 2:
            length, position = read_varint(data, position)
            if field == 2:
                kv = data[position:position + length]
                kvs += 1
                inner, kv_key, kv_value = 0, None, b""
                while inner < len(kv):
                    kv_tag, inner = read_varint(kv, inner)
                    if kv_tag & 7 == 0:
                        _, inner = read_varint(kv, inner)
                    else:
                        kv_length, inner = read_varint(kv, inner)
                        if kv_tag >> 3 == 1:
                            kv_key = kv[inner:inner + kv_length]
                        elif kv_tag >> 3 == 5:
                            kv_value = kv[inner:inner + kv_length]
                        inner += kv_length
                first = first if first is not None else kv_key
                last = kv_key
                if kv_value != value(int(kv_key[len(KEY_PREFIX):])):
                    bad += 1
            position += length
        else:
            raise AssertionError("unexpected wire type %d for field %d at byte %d" % (wire_type, field, position))
    return count, more, kvs, first, last, bad


def parse_range_tail(data):
    """count and more from the end of a RangeResponse, without walking its million keys.

    Servers encode fields in field-number order (Go's gogoproto and swift-protobuf both do; checked
    against parse_range_fully on one response from each member before the storm), so a response
    ends with [more: 0x18 0x01] count: 0x20 varint. A varint's last byte is below 0x80 and its
    others are not; the tag before it is below 0x80 too. The byte before the tags is the last
    value's last digit, never 0x18 or 0x01."""
    end = len(data) - 1
    if end < 1 or data[end] >= 0x80:
        raise AssertionError("a range response that does not end with a varint (%d bytes)" % len(data))
    start = end
    while start > 0 and data[start - 1] >= 0x80:
        start -= 1
    if start < 1 or data[start - 1] != 0x20:
        raise AssertionError("a range response that does not end with its count field")
    count, _ = read_varint(data, start)
    more = start >= 3 and data[start - 3:start - 1] == b"\x18\x01"
    return count, more


class Member(LocalMember):
    def __init__(self, index, base_port, work_dir):
        LocalMember.__init__(self, index, "storm", base_port, work_dir)
        self.member_id = None
        self._channel = None

    def channel(self):
        """A shared channel for small calls (status, puts, load)."""
        if self._channel is None:
            self._channel = self.new_channel()
        return self._channel

    def new_channel(self):
        return grpc.insecure_channel("127.0.0.1:%d" % self.client_port, options=CHANNEL_OPTIONS)

    def status(self, timeout=CALL_TIMEOUT_SECONDS):
        call = self.channel().unary_unary(STATUS_METHOD, request_serializer=etcdrpc.StatusRequest.SerializeToString,
                                          response_deserializer=etcdrpc.StatusResponse.FromString)
        return call(etcdrpc.StatusRequest(), timeout=timeout)

    def rss_bytes(self):
        try:
            with open("/proc/%d/status" % self.process.pid) as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        return int(line.split()[1]) * 1024
        except OSError:
            pass
        return None


class Cluster(LocalCluster):
    def __init__(self, server_command, base_port, work_dir):
        flags = [
            "--heartbeat-interval", str(HEARTBEAT_INTERVAL_MILLIS),
            "--election-timeout", str(ELECTION_TIMEOUT_MILLIS),
            "--quota-backend-bytes", str(QUOTA_BACKEND_BYTES),
        ]
        members = [Member(i, base_port, work_dir) for i in range(MEMBER_COUNT)]
        LocalCluster.__init__(self, server_command, members, "read-storm", flags)
        self.work_dir = work_dir

    def views(self):
        """Each member's (leader id, raft term), or an error text for a member that did not answer."""
        views = {}
        for member in self.members:
            try:
                status = member.status()
                member.member_id = status.header.member_id
                views[member.name] = (status.leader, status.raftTerm)
            except grpc.RpcError as error:
                views[member.name] = "%s: %s" % (error.code(), error.details())
        return views

    def start_all(self):
        for member in self.members:
            self.start(member)
        agreed = []

        def one_leader():
            if not all(serving(m) for m in self.members):
                return False
            views = set(self.views().values())
            agreed[:] = list(views)
            return len(views) == 1 and isinstance(agreed[0], tuple) and agreed[0][0] != 0

        wait_until("3 members serving and agreeing on a leader", STARTUP_TIMEOUT_SECONDS, one_leader)
        leader_id = agreed[0][0]
        return next(m for m in self.members if m.member_id == leader_id)


def serving(member):
    """True once the member answers Status; a member that exited fails at once, with its log."""
    member.require_running()
    try:
        member.status(timeout=1)
        return True
    except grpc.RpcError:
        return False


def load(leader):
    """Puts KEY_COUNT keys through the leader in txns of TXN_OPS puts from LOAD_THREADS threads."""
    # Raw bytes both ways: decoding 128 responses with their headers takes the pure-python protobuf
    # about 8 ms, a minute for the whole load.
    txn = leader.channel().unary_unary(TXN_METHOD, request_serializer=None, response_deserializer=None)
    # The hand encoding must be what protobuf makes of the same txn, and the raw reading of the answer
    # what protobuf reads.
    sample = etcdrpc.TxnRequest(success=[etcdrpc.RequestOp(request_put=etcdrpc.PutRequest(key=key(i), value=value(i)))
                                         for i in range(3)])
    expect_equal(sample.SerializeToString(), txn_of_key_range(range(3)), "the hand-encoded txn")
    answer = txn(txn_of_key_range(range(3)), timeout=30)
    expect_equal(etcdrpc.TxnResponse.FromString(answer).succeeded, txn_succeeded(answer), "succeeded, read raw")
    expect_equal(True, txn_succeeded(answer), "the first txn succeeded")
    batches = [range(start, min(start + TXN_OPS, KEY_COUNT)) for start in range(0, KEY_COUNT, TXN_OPS)]
    lock = threading.Lock()
    next_batch = [0]
    failures = []
    started_at = time.monotonic()
    deadline = started_at + LOAD_SECONDS_MAX

    def worker():
        while time.monotonic() < deadline and not failures:
            with lock:
                index = next_batch[0]
                next_batch[0] += 1
            if index >= len(batches):
                return
            request = txn_of_key_range(batches[index])
            for attempt in range(3):  # a put is idempotent here: a retry after a timeout does no harm
                try:
                    if not txn_succeeded(txn(request, timeout=30)):
                        failures.append("txn %d did not succeed" % index)
                    break
                except grpc.RpcError as error:
                    if attempt == 2:
                        failures.append("txn %d: %s %s" % (index, error.code(), error.details()))

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.1, deadline + 60 - time.monotonic()))
    seconds = time.monotonic() - started_at
    if failures:
        raise AssertionError("loading failed: %s" % "; ".join(failures[:3]))
    if next_batch[0] < len(batches) or any(t.is_alive() for t in threads):
        raise AssertionError("loading took more than %d s" % LOAD_SECONDS_MAX)
    log("loaded %d keys (%d txns of up to %d puts, %d threads, through the leader) in %.1f s: %.0f keys/s"
        % (KEY_COUNT, len(batches), TXN_OPS, LOAD_THREADS, seconds, KEY_COUNT / seconds))
    return seconds


def range_call(channel):
    return channel.unary_unary(RANGE_METHOD, request_serializer=etcdrpc.RangeRequest.SerializeToString,
                               response_deserializer=None)


STORM_RANGE = etcdrpc.RangeRequest(key=KEY_PREFIX, range_end=KEY_PREFIX_END)


def check_range(data):
    """None if the raw response holds every key with count KEY_COUNT and more false, else why not."""
    count, more = parse_range_tail(data)
    kvs = data.count(KEY_FIELD_PATTERN)
    if count != KEY_COUNT or more or kvs != KEY_COUNT:
        return "count %d, more %s, %d keys in %d bytes" % (count, more, kvs, len(data))
    return None


# A process of its own that sleeps 5 ms at a time and reports every wake-up more than 50 ms late:
# how long a runnable thread on this machine waited for a core. A silence of the leader that the
# probe shares was (at least partly) the machine's; one the probe does not share was the server's.
STALL_PROBE_SOURCE = """
import sys, time
end = time.monotonic() + float(sys.argv[1])
while time.monotonic() < end:
    before = time.monotonic()
    time.sleep(0.005)
    late = time.monotonic() - before - 0.005
    if late > 0.05:
        print("%.6f %.6f" % (time.time() - late, late), flush=True)
"""


# Another that overwrites 4 KiB of a file in the members' directory and fdatasyncs it every 200 ms,
# reporting every sync that took more than 50 ms: the disk the members' logs sync to. A Raft
# replica thread that syncs its log before it goes on (Synod's replica loop does, as etcd's raft
# loop does) falls silent while a sync is slow.
DISK_PROBE_SOURCE = """
import os, sys, time
end = time.monotonic() + float(sys.argv[1])
descriptor = os.open(sys.argv[2], os.O_WRONLY | os.O_CREAT, 0o600)
block = b"x" * 4096
while time.monotonic() < end:
    before = time.monotonic()
    os.pwrite(descriptor, block, 0)
    os.fdatasync(descriptor)
    took = time.monotonic() - before
    if took > 0.05:
        print("%.6f %.6f" % (time.time() - took, took), flush=True)
    time.sleep(0.2)
"""


class StallProbe:
    def __init__(self, cluster, path, seconds, source=STALL_PROBE_SOURCE, arguments=()):
        self.path = path
        with open(path, "wb") as out:
            self.process = cluster.spawn([sys.executable, "-c", source, str(seconds)] + list(arguments), stdout=out)

    def stop(self):
        """[(wall time the late sleep was due, seconds late)]."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
        with open(self.path) as lines:
            return [tuple(float(field) for field in line.split()) for line in lines if len(line.split()) == 2]


class PeerCapture:
    """tcpdump on lo of the peer connections, and which member owns each end of them.

    Synod dials every peer once and sends only on that connection, so leader->follower data goes
    from an ephemeral port of the leader to the follower's peer port. etcd's streams are HTTP GETs
    that the follower dials (the leader writes messages into the response, from its peer port to an
    ephemeral port of the follower), its pipeline and snapshots POSTs that the leader dials. Either
    way one end of every peer connection is some member's peer port and the other an ephemeral port
    of another member; the ephemeral ends are found in /proc (sockets of each member's pid),
    sampled while the capture runs."""

    def __init__(self, cluster, path):
        self.cluster = cluster
        self.path = path
        self.process = None
        self.stderr_path = path + ".stderr"
        self.owners = {}  # (local port, remote port) -> member index, for connections among peer ports
        self._stop = threading.Event()
        self._thread = None

    def start(self):
        ports = " or ".join("port %d" % m.peer_port for m in self.cluster.members)
        with open(self.stderr_path, "wb") as stderr:
            self.process = self.cluster.spawn(
                ["tcpdump", "-i", "lo", "-n", "-tt", "-s", "96", "-B", "16384", "-Z", "root", "-w", self.path,
                 "tcp and (%s)" % ports], stdout=subprocess.DEVNULL, stderr=stderr)
        wait_until("tcpdump to listen", 10, lambda: self._started(), interval_seconds=0.1)
        self.sample_owners()
        self._thread = threading.Thread(target=self._sample_loop, daemon=True)
        self._thread.start()

    def _started(self):
        if self.process.poll() is not None:
            raise AssertionError("tcpdump exited with status %s: %s" % (self.process.returncode, self.stderr()))
        return "listening on" in self.stderr()

    def stderr(self):
        with open(self.stderr_path, errors="replace") as stderr:
            return stderr.read().strip()

    def _sample_loop(self):
        while not self._stop.wait(1.0):
            self.sample_owners()

    def sample_owners(self):
        peer_ports = {m.peer_port for m in self.cluster.members}
        inode_owner = {}
        for member in self.cluster.members:
            if not member.alive():
                continue
            fd_dir = "/proc/%d/fd" % member.process.pid
            try:
                names = os.listdir(fd_dir)
            except OSError:
                continue
            for name in names:
                try:
                    target = os.readlink(os.path.join(fd_dir, name))
                except OSError:
                    continue
                if target.startswith("socket:["):
                    inode_owner[target[8:-1]] = member.index
        for table in ("/proc/net/tcp", "/proc/net/tcp6"):
            try:
                with open(table) as rows:
                    next(rows)
                    for row in rows:
                        fields = row.split()
                        local_port = int(fields[1].rsplit(":", 1)[1], 16)
                        remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                        owner = inode_owner.get(fields[9])
                        if owner is not None and (local_port in peer_ports or remote_port in peer_ports):
                            self.owners[(local_port, remote_port)] = owner
            except OSError:
                continue

    def stop(self):
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sample_owners()
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)  # tcpdump flushes its file and prints its counts
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        counts = [line for line in self.stderr().splitlines() if "packets" in line]
        return counts

    def segments(self):
        """[(time, sender member index, receiver member index, payload bytes, leader dialled?)]."""
        output = subprocess.run(["tcpdump", "-r", self.path, "-n", "-tt"], capture_output=True, text=True,
                                timeout=120).stdout
        pattern = re.compile(r"^(\d+\.\d+) IP6? [\d.:a-f]+\.(\d+) > [\d.:a-f]+\.(\d+): .*length (\d+)")
        by_port = {m.peer_port: m.index for m in self.cluster.members}
        result = []
        for line in output.splitlines():
            match = pattern.match(line)
            if not match:
                continue
            at, source, destination, length = float(match[1]), int(match[2]), int(match[3]), int(match[4])
            if source in by_port:
                sender, receiver = by_port[source], self.owners.get((destination, source))
            elif destination in by_port:
                sender, receiver = self.owners.get((source, destination)), by_port[destination]
            else:
                continue
            result.append((at, sender, receiver, length, destination in by_port))
        return result


def gaps_towards(segments, leader, follower, window_start, window_end):
    """Silences between the leader's payload-carrying segments to follower within the window, the
    window's edges included (a leader that went quiet at the end counts)."""
    times = [at for at, sender, receiver, length, _ in segments
             if sender == leader.index and receiver == follower.index and length > 0
             and window_start <= at <= window_end]
    edges = [window_start] + times + [window_end]
    return [b - a for a, b in zip(edges, edges[1:])], len(times)


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def describe_gaps(gaps):
    return "p50 %.1f ms, p99 %.1f ms, max %.1f ms" % (1000 * percentile(gaps, 0.5), 1000 * percentile(gaps, 0.99),
                                                      1000 * max(gaps))


def capture_idle(cluster, leader, followers):
    """A short capture with nothing else happening: the leader's gaps towards each follower must be
    about one heartbeat interval, which shows that the capture sees its heartbeats."""
    capture = PeerCapture(cluster, os.path.join(cluster.work_dir, "idle.pcap"))
    capture.start()
    window_start = time.time()
    time.sleep(IDLE_CAPTURE_SECONDS)
    window_end = time.time()
    counts = capture.stop()
    segments = capture.segments()
    log("idle capture (%.0f s): %s" % (IDLE_CAPTURE_SECONDS, "; ".join(counts)))
    interval = HEARTBEAT_INTERVAL_MILLIS / 1000
    problems = []
    for follower in followers:
        gaps, sent = gaps_towards(segments, leader, follower, window_start, window_end)
        inner = gaps[1:-1]
        log("idle %s -> %s: %d segments with payload; gaps %s" % (leader.name, follower.name, sent,
                                                                  describe_gaps(inner or gaps)))
        median = percentile(inner, 0.5)
        if not (0.5 * interval <= median <= 1.5 * interval):
            problems.append("%s -> %s: median gap %.1f ms, not about the %d ms heartbeat interval"
                            % (leader.name, follower.name, 1000 * median, HEARTBEAT_INTERVAL_MILLIS))
    unknown = sum(1 for _, sender, receiver, length, _ in segments
                  if length > 0 and (sender is None or receiver is None))
    if unknown:
        log("%d idle segments with payload on connections whose owner was not found" % unknown)
    if problems:
        raise AssertionError("; ".join(problems))


class Storm:
    def __init__(self, cluster, leader):
        self.cluster = cluster
        self.leader = leader
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.ranges = [[] for _ in range(READER_COUNT)]  # (started, seconds, started wall time) per reader
        self.range_problems = []
        self.puts = []  # seconds per successful put
        self.puts_by_member = {m.name: [] for m in cluster.members}
        self.put_failures = []
        self.rss = {m.name: [] for m in cluster.members}

    def reader(self, index):
        member = self.cluster.members[index % MEMBER_COUNT]
        channel = member.new_channel()
        call = range_call(channel)
        try:
            for _ in range(1_000_000):  # bounded by the stop event long before
                if self.stop.is_set():
                    return
                started, started_wall = time.monotonic(), time.time()
                try:
                    data = call(STORM_RANGE, timeout=RANGE_TIMEOUT_SECONDS)
                except grpc.RpcError as error:
                    with self.lock:
                        self.range_problems.append("reader %d on %s: %s %s" % (index, member.name, error.code(),
                                                                               error.details()))
                    self.stop.wait(0.5)
                    continue
                seconds = time.monotonic() - started
                problem = check_range(data)
                del data
                with self.lock:
                    if problem:
                        self.range_problems.append("reader %d on %s: %s" % (index, member.name, problem))
                    else:
                        self.ranges[index].append((started, seconds, started_wall))
        finally:
            channel.close()

    def writer(self):
        put = None
        for number in range(1_000_000):  # bounded by the stop event long before
            if self.stop.is_set():
                return
            member = self.cluster.members[number % MEMBER_COUNT]
            put = member.channel().unary_unary(PUT_METHOD, request_serializer=etcdrpc.PutRequest.SerializeToString,
                                               response_deserializer=etcdrpc.PutResponse.FromString)
            started = time.monotonic()
            try:
                put(etcdrpc.PutRequest(key=WRITE_KEY, value=b"%d" % number), timeout=CALL_TIMEOUT_SECONDS)
                self.puts.append(time.monotonic() - started)
                self.puts_by_member[member.name].append(self.puts[-1])
            except grpc.RpcError as error:
                self.put_failures.append("put %d via %s after %.2f s: %s %s"
                                         % (number, member.name, time.monotonic() - started, error.code(),
                                            error.details()))
            self.stop.wait(max(0.0, WRITE_INTERVAL_SECONDS - (time.monotonic() - started)))

    def sampler(self):
        for _ in range(100_000):
            for member in self.cluster.members:
                rss = member.rss_bytes()
                if rss is not None:
                    self.rss[member.name].append(rss)
            if self.stop.wait(RSS_SAMPLE_SECONDS):
                return

    def run(self, seconds):
        threads = [threading.Thread(target=self.reader, args=(i,), daemon=True) for i in range(READER_COUNT)]
        threads.append(threading.Thread(target=self.writer, daemon=True))
        threads.append(threading.Thread(target=self.sampler, daemon=True))
        started = time.monotonic()
        for thread in threads:
            thread.start()
        self.stop.wait(seconds)
        self.stop.set()
        ended = time.monotonic()
        deadline = ended + RANGE_TIMEOUT_SECONDS + 10
        for thread in threads:
            thread.join(timeout=max(0.1, deadline - time.monotonic()))
        if any(t.is_alive() for t in threads):
            raise AssertionError("storm threads still running %d s after the storm ended"
                                 % (RANGE_TIMEOUT_SECONDS + 10))
        return started, ended, time.monotonic()





def run(checks, cluster):
    state = {}

    def setup():
        state["leader"] = cluster.start_all()
        state["load_seconds"] = load(state["leader"])
        state["before"] = cluster.views()
        leader = state["leader"]
        if len(set(state["before"].values())) != 1 or not isinstance(state["before"][leader.name], tuple):
            raise AssertionError("the members disagree on the leader after loading: %s" % state["before"])
        # Before any range: the storm's RSS growth is measured from here.
        state["rss_before"] = {m.name: m.rss_bytes() for m in cluster.members}
        log("leader %s (id %x), term %d, on every member: %s"
            % (leader.name, leader.member_id, state["before"][leader.name][1],
               ", ".join("%s %s" % (name, "(%x, %d)" % view if isinstance(view, tuple) else view)
                         for name, view in state["before"].items())))
        # One full range from each member, walked field by field: the fast check used during the
        # storm (the count field at the end, keys counted by their tag) must agree with it.
        for member in cluster.members:
            started = time.monotonic()
            data = range_call(member.channel())(STORM_RANGE, timeout=RANGE_TIMEOUT_SECONDS)
            seconds = time.monotonic() - started
            count, more, kvs, first, last, bad = parse_range_fully(data)
            log("one range from %s, alone: %d bytes in %.2f s; count %d, more %s, %d keys %s..%s, %d wrong values"
                % (member.name, len(data), seconds, count, more, kvs, first.decode(), last.decode(), bad))
            expect_equal((KEY_COUNT, False, KEY_COUNT, key(0), key(KEY_COUNT - 1), 0),
                         (count, more, kvs, first, last, bad), "the full range from %s" % member.name)
            expect_equal((count, more), parse_range_tail(data), "count and more from the end of the response")
            expect_equal(None, check_range(data), "the fast check")
            state["response_bytes"] = len(data)
            del data

    checks.check("setup: 3 members, %d keys loaded, a full range from each member" % KEY_COUNT, setup)
    if "response_bytes" not in state:
        return
    leader = state["leader"]
    followers = [m for m in cluster.members if m is not leader]
    checks.check("idle: the capture sees the leader's heartbeats to each follower about every %d ms"
                 % HEARTBEAT_INTERVAL_MILLIS, lambda: capture_idle(cluster, leader, followers))

    baseline = state["rss_before"]
    storm = Storm(cluster, leader)
    capture = PeerCapture(cluster, os.path.join(cluster.work_dir, "storm.pcap"))
    try:
        capture.start()
    except AssertionError as error:
        fail_setup(checks, "tcpdump on lo", str(error))
        return
    probe = StallProbe(cluster, os.path.join(cluster.work_dir, "stall_probe.txt"), STORM_SECONDS + 5)
    disk_probe = StallProbe(cluster, os.path.join(cluster.work_dir, "disk_probe.txt"), STORM_SECONDS + 5,
                            DISK_PROBE_SOURCE, [os.path.join(cluster.work_dir, "disk_probe.data")])
    load_before = open("/proc/loadavg").read().split()[:3]
    wall_start = time.time()
    started, ended, joined = storm.run(STORM_SECONDS)
    wall_end = wall_start + (ended - started)
    counts = capture.stop()
    stalls = [(at, late) for at, late in probe.stop() if wall_start <= at <= wall_end]
    slow_syncs = [(at, took) for at, took in disk_probe.stop() if wall_start <= at <= wall_end]
    load_after = open("/proc/loadavg").read().split()[:3]
    after = cluster.views()
    response_bytes = state["response_bytes"]

    completed = [r for per_reader in storm.ranges for r in per_reader]
    in_window = [r for r in completed if r[0] + r[1] <= ended]
    print("    storm: %d readers (%s) for %.0f s; %d complete ranges of %d keys (%.2f per second, %.1f MB/s),"
          " %d problems; range time p50 %.2f s, max %.2f s; the last range ended %.1f s after the storm"
          % (READER_COUNT, ", ".join("%d on %s" % (sum(1 for i in range(READER_COUNT) if i % MEMBER_COUNT == m.index),
                                                   m.name) for m in cluster.members),
             ended - started, len(completed), KEY_COUNT, len(in_window) / (ended - started),
             len(in_window) * response_bytes / (ended - started) / 1e6, len(storm.range_problems),
             percentile([r[1] for r in completed], 0.5), max([r[1] for r in completed] or [float("nan")]),
             joined - ended), flush=True)
    log("ranges per member: %s" % ", ".join(
        "%s %d" % (m.name, sum(len(storm.ranges[i]) for i in range(READER_COUNT) if i % MEMBER_COUNT == m.index))
        for m in cluster.members))
    log("load time %.1f s" % state["load_seconds"])
    log("machine: load average %s before the storm, %s after (2 cores: 3 members, 10 readers, this script);"
        " stall probe: %d wake-ups over 50 ms late, the latest %.0f ms; disk probe: %d fdatasyncs over 50 ms,"
        " the slowest %.0f ms"
        % ("/".join(load_before), "/".join(load_after), len(stalls), 1000 * max([late for _, late in stalls] or [0]),
           len(slow_syncs), 1000 * max([took for _, took in slow_syncs] or [0])))

    def no_leader_change():
        log("before: %s" % state["before"])
        log("after:  %s" % after)
        expect_equal(state["before"], after, "every member's (leader id, raft term)")

    checks.check("no leader change: leader %s and term %d unchanged on every member"
                 % (leader.name, state["before"][leader.name][1]), no_leader_change)

    def heartbeats_bounded():
        log("storm capture: %s" % "; ".join(counts))
        segments = capture.segments()
        problems = []
        dropped = [line for line in counts if "dropped by kernel" in line and not line.startswith("0 ")]
        if dropped:
            problems.append("tcpdump lost packets: %s" % dropped)
        at_leader = [r for i in range(READER_COUNT) if i % MEMBER_COUNT == leader.index for r in storm.ranges[i]]
        for follower in followers:
            gaps, sent = gaps_towards(segments, leader, follower, wall_start, wall_end)
            over = [g for g in gaps if g > 1.5 * HEARTBEAT_INTERVAL_MILLIS / 1000]
            dialled = sum(1 for at, s, r, length, to_peer_port in segments
                          if s == leader.index and r == follower.index and length > 0 and to_peer_port
                          and wall_start <= at <= wall_end)
            log("storm %s -> %s: %d segments with payload (%d on connections the leader dialled); gaps %s;"
                " %d gaps over %.0f ms"
                % (leader.name, follower.name, sent, dialled, describe_gaps(gaps), len(over),
                   1.5 * HEARTBEAT_INTERVAL_MILLIS))
            edges = [wall_start] + sorted(at for at, s, r, length, _ in segments if s == leader.index
                                          and r == follower.index and length > 0
                                          and wall_start <= at <= wall_end) + [wall_end]
            silences = [(begin, end) for begin, end in zip(edges, edges[1:])
                        if end - begin > 1.5 * HEARTBEAT_INTERVAL_MILLIS / 1000]
            longest = sorted(sorted(silences, key=lambda silence: silence[0] - silence[1])[:SILENCES_SHOWN])
            if len(silences) > len(longest):
                log("  the %d longest of those gaps:" % len(longest))
            for begin, end in longest:
                shared = [late for at, late in stalls if at < end and at + late > begin]
                syncs = [took for at, took in slow_syncs if at < end and at + took > begin]
                # A range's answer reaches the reader a little after the member finished it.
                answered = sum(1 for _, seconds, at in at_leader if begin <= at + seconds <= end + 0.1)
                log("  silent %.0f ms from %.3f s into the storm; meanwhile the stall probe was late by %s,"
                    " the disk probe's slowest fdatasync took %s; %d ranges at the leader were answered"
                    % (1000 * (end - begin), begin - wall_start,
                       "%.0f ms" % (1000 * max(shared)) if shared else "50 ms or less",
                       "%.0f ms" % (1000 * max(syncs)) if syncs else "50 ms or less", answered))
            if max(gaps) >= HEARTBEAT_GAP_MAX_SECONDS:
                worst = max(range(len(gaps)), key=lambda i: gaps[i])
                problems.append("%s heard nothing from the leader for %.0f ms (from %.3f s into the storm),"
                                " the bound is %.0f ms" % (follower.name, 1000 * gaps[worst],
                                                           sum(gaps[:worst]), 1000 * HEARTBEAT_GAP_MAX_SECONDS))
        unknown = sum(1 for at, s, r, length, _ in segments if length > 0 and (s is None or r is None)
                      and wall_start <= at <= wall_end)
        if unknown:
            # Connections opened and closed between two samples of /proc, such as etcd's prober
            # (a GET /raft/probing to every peer every 4 s); Raft messages travel on long-lived ones.
            log("%d segments with payload on short-lived connections whose ends were not seen in /proc" % unknown)
        if problems:
            raise AssertionError("; ".join(problems))

    checks.check("heartbeats bounded: each follower hears from the leader at least every %.0f ms"
                 " (half the election timeout) during the storm" % (1000 * HEARTBEAT_GAP_MAX_SECONDS),
                 heartbeats_bounded)

    def writes_commit():
        puts = storm.puts
        log("puts every %.0f ms: %d succeeded, %d failed; latency p50 %.1f ms, p99 %.1f ms, max %.1f ms"
            % (1000 * WRITE_INTERVAL_SECONDS, len(puts), len(storm.put_failures), 1000 * percentile(puts, 0.5),
               1000 * percentile(puts, 0.99), 1000 * max(puts or [float("nan")])))
        log("by the member that took the put: %s" % "; ".join(
            "%s%s p50 %.1f ms, p99 %.1f ms, max %.1f ms"
            % (name, " (leader)" if name == leader.name else "", 1000 * percentile(latencies, 0.5),
               1000 * percentile(latencies, 0.99), 1000 * max(latencies or [float("nan")]))
            for name, latencies in storm.puts_by_member.items()))
        for failure in storm.put_failures[:5]:
            log("failed " + failure)
        if storm.put_failures or not puts:
            raise AssertionError("%d puts failed, %d succeeded" % (len(storm.put_failures), len(puts)))

    checks.check("writes keep committing: a put every %.0f ms, every one succeeded"
                 % (1000 * WRITE_INTERVAL_SECONDS), writes_commit)

    def ranges_complete():
        for problem in storm.range_problems[:5]:
            log(problem)
        if storm.range_problems:
            raise AssertionError("%d ranges failed or were incomplete" % len(storm.range_problems))
        idle = [i for i in range(READER_COUNT) if not storm.ranges[i]]
        if idle:
            raise AssertionError("readers %s completed no range" % idle)

    checks.check("every range returned all %d keys, count %d, more false" % (KEY_COUNT, KEY_COUNT), ranges_complete)

    def memory_bounded():
        bound = READER_COUNT * RSS_RESPONSES_PER_READER_MAX * response_bytes
        log("one response: %d bytes (%.1f MB); bound on RSS growth: %d readers x %d x response = %.0f MB"
            % (response_bytes, response_bytes / 1e6, READER_COUNT, RSS_RESPONSES_PER_READER_MAX, bound / 1e6))
        problems = []
        for member in cluster.members:
            samples = storm.rss[member.name]
            readers = sum(1 for i in range(READER_COUNT) if i % MEMBER_COUNT == member.index)
            if not samples or baseline[member.name] is None:
                problems.append("no RSS samples for %s" % member.name)
                continue
            peak = max(samples)
            growth = peak - baseline[member.name]
            log("%s: RSS before %.0f MB, peak %.0f MB; peak RSS / response size %.1f; growth / response size %.1f"
                " (%.1f per reader it served, %d readers)"
                % (member.name, baseline[member.name] / 1e6, peak / 1e6, peak / response_bytes,
                   growth / response_bytes, growth / response_bytes / readers, readers))
            if growth > bound:
                problems.append("%s grew by %.0f MB, over %.0f MB" % (member.name, growth / 1e6, bound / 1e6))
        if problems:
            raise AssertionError("; ".join(problems))

    checks.check("memory: each member's RSS grew by at most %d readers x %d x one response"
                 % (READER_COUNT, RSS_RESPONSES_PER_READER_MAX), memory_bounded)


def main(argv):
    checks = Checks("read storm")
    arguments = cluster_arguments(checks, argv, __file__, "READ_STORM_BASE_PORT", 17379, MEMBER_COUNT)
    if arguments is None:
        return checks.finish()
    server_command, base_port = arguments
    if shutil.which("tcpdump") is None:
        fail_setup(checks, "tcpdump installed", "tcpdump is not on PATH; Tests/compat/install-deps.sh installs it")
        return checks.finish()

    work_dir = tempfile.mkdtemp(prefix="synod-read-storm.")
    cluster = Cluster(server_command, base_port, work_dir)

    clean_up_on_exit(checks, cluster.stop_everything, work_dir, "READ_STORM_KEEP_DIR", "member logs, data and captures")

    print("read storm against %s, client URLs %s" % (" ".join(server_command),
                                                      ",".join(m.client_url for m in cluster.members)), flush=True)
    run(checks, cluster)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
