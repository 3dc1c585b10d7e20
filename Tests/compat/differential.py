#!/usr/bin/env python3
"""A seeded random-operation differential test: the same operations against a 3-member Synod
cluster and a 3-member etcd 3.4 cluster, every response compared field by field.

Usage: python3 Tests/compat/differential.py SYNOD_BINARY ETCD_BINARY [--seed N] [--operations N]

Defaults: seed 1, 3,000 operations. Ports: DIFFERENTIAL_BASE_PORT (default 21379); Synod's member i
listens for clients on BASE+10*i and for peers on the next port, etcd's member i on BASE+100+10*i
and the next. Data and logs go to a temporary directory that is kept when something diverged
(DIFFERENTIAL_KEEP_DIR=1 keeps it always). Every member runs under `setpriv --pdeathsig KILL` and is
stopped on any exit of this script (atexit, SIGTERM, SIGINT, SIGHUP).

One seeded generator makes one sequence of operations; each goes to the same member index of both
clusters at once, over gRPC, and the two outcomes are compared: a response field by field (every
field, nested ones included, and any unknown fields), an error by gRPC status code and message.
The operations: puts (prev_kv, ignore_value, ignore_lease, leases), ranges with every option
(single keys, ranges, prefixes, "\\0" ends, limits, past, compacted, future and negative revisions,
every sort order and target, serializable, keys_only, count_only, the four revision filters),
delete-ranges, txns (nested up to two levels, compares of every target and result, with range
ends, both branches holding puts, ranges, deletes and txns), compactions (valid, compacted, future;
physical or not), lease grants with explicit ids, revokes, time-to-live with keys, lease lists,
and invalid requests whose errors must match (empty keys, empty txn ops, duplicate keys, too many
txn operations, value or lease given with ignore_*, unknown leases, too large TTLs and requests).
The generator reads only the seed and etcd's answers (the current and compacted revisions), so a
run replays with the same --seed.

What is not compared, and why (each is excluded as narrowly as the code below can say it):
  - header.cluster_id, header.member_id and header.raft_term: ids are generated per cluster, and the
    term counts elections;
  - LeaseTimeToLiveResponse.TTL (the remaining time) is compared within +-2 s, as the two clusters
    granted the lease a few milliseconds apart; -1 (no such lease) must match exactly;
  - LeaseTimeToLiveResponse.keys is compared as a set: etcd lists a lease's keys in Go map order,
    which is random;
  - LeaseLeasesResponse.leases is compared as a set: etcd sorts them by expiry time (on a follower
    every lease expires "never", so the order is whatever Go's unstable sort leaves);
  - in a range sorted by VERSION, CREATE, MOD or VALUE over more than 12 keys, the order among keys
    with the same sort value: etcd uses Go's sort.Sort, which is unstable (Go 1.19's pdqsort) past
    12 elements, its insertion sort below that. There the sort values must still come in the same
    order and each group of equal values must hold the same key-values; such cases are counted and
    printed, not failed.
Requests etcd 3.4.23 cannot take, and which the generator therefore never sends (Synod's answers
to them were checked by hand; see the functions named):
  - a writing txn whose taken branch ranges at a compacted, future or negative revision: the member
    that received it refuses it, the others apply its writes, and the cluster is inconsistent
    (make_ranges_readable);
  - a txn that deletes to "\\0" and then, in a nested txn, puts a deleted key with ignore_value or
    ignore_lease: every member panics (drop_ignore_flags);
  - a range with a sort target that is no enum value: the member that serves it panics.
Reads that etcd serves from a member's own state (serializable ranges, lease lists, lease
time-to-live headers) are preceded on that member by a linearizable range, so that the member has
applied everything the earlier operations wrote; the barrier's answer is not compared.

After a divergence that may have left the clusters in different states (one refused what the other
did, a compaction, or their keys, revisions or leases differ when read), both are brought back to
one state (leases revoked, keys deleted, revisions padded to the same number, everything
compacted), so that one bug does not make every later operation differ.

Prints the seed first; at the end `differential: compared N operations, D divergences`, then one
PASS/FAIL line per operation kind and one FAIL line per class of divergence (with the seed, the
first operation's number, the request and both answers). Exits non-zero on any divergence, and if
the operations take longer than 0.05 s each on average (DIFFERENTIAL_SECONDS_MAX overrides).
--verbose prints every operation and both answers as it goes.
"""

import argparse
import concurrent.futures
import os
import random
import re
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "python"))
from compat_suite import LocalCluster, LocalMember, clean_up_on_exit, port_free, server_command_for  # noqa: E402

import grpc  # noqa: E402
from etcd3.etcdrpc import rpc_pb2, rpc_pb2_grpc  # noqa: E402

MEMBER_COUNT = 3
ETCD_PORT_OFFSET = 100
STARTUP_TIMEOUT_SECONDS = 30
CALL_TIMEOUT_SECONDS = 10
HEALTH_CALL_TIMEOUT_SECONDS = 2
# The operation loop stops (and fails) past this many seconds per operation on average, so that
# a slow or stuck server cannot hold CI up. A default run takes about 25 s of its 150 s.
RUN_SECONDS_PER_OPERATION_MAX = 0.05
RUN_SECONDS_MIN = 30
# More divergences than this and the run stops comparing: by then the report says enough.
DIVERGENCES_MAX = 1000
RESYNC_PADDING_MAX = 2000
MESSAGE_BYTES_MAX = 64 * 1024 * 1024
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MESSAGE_BYTES_MAX),
    ("grpc.max_send_message_length", MESSAGE_BYTES_MAX),
]
TTL_REMAINING_TOLERANCE_SECONDS = 2
# Go's sort.Sort (Go 1.19, etcd 3.4.23's toolchain) uses insertion sort, which is stable, for up
# to 12 elements; past that the order of equal elements is the algorithm's.
GO_STABLE_SORT_LENGTH_MAX = 12
# etcd 3.4's defaults, which Synod shares: --max-txn-ops and --max-request-bytes.
TXN_OPERATIONS_MAX = 128
REQUEST_BYTES_MAX = 1536 * 1024
# Values just under and over the request limit, never so close to it that the few bytes of a raft
# request's id (a varint of a generated number) decide.
VALUE_UNDER_LIMIT_BYTES = REQUEST_BYTES_MAX - 136 * 1024
VALUE_OVER_LIMIT_BYTES = REQUEST_BYTES_MAX + 64 * 1024

# Keys that are written: a small keyspace, so that operations interact, with prefixes of each
# other and the byte values at the ends (prefix ends of "\xff" keys wrap to "\0" = no end).
KEYS = [b"a", b"a/", b"a/1", b"a/2", b"a/2/x", b"ab", b"b", b"b/1", b"b/2", b"c", b"c\xff",
        b"c\xff\xff", b"d", b"k", b"\x00", b"\x01", b"\xfe", b"\xff", b"\xff\xff", b"zz"]
# Keys that are never written, used as range bounds and compare keys.
BOUND_KEYS = [b"a/0", b"b/", b"c\x00", b"e", b"\xff\x00", b"\x00\x00"]
SHORT_VALUES = [b"", b"0", b"1", b"v", b"v1", b"v2", b"value-3", b"\x00", b"\xff", b"a/1"]
# Leases that puts may name: granted, revoked and granted again at random; long TTLs, so that none
# expires during a run (an expiry would revoke at a different revision on each cluster).
LEASE_IDS = [1, 2, 3, 42, 0x123456789ABC, 0x7FFFFFFFFFFFFFFF, -7]
NEVER_GRANTED_LEASE_ID = 987654321
# Leases granted with a TTL below the minimum and revoked right away; never given to a key.
SHORT_LEASE_IDS = [5001, 5002]
LEASE_TTL_MAX_SECONDS = 9_000_000_000  # etcd's MaxLeaseTTL
BARRIER_KEY = b"differential/barrier"
PAD_KEY = b"differential/pad"

COMPARE_TARGET_FIELDS = {
    rpc_pb2.Compare.VERSION: "version",
    rpc_pb2.Compare.CREATE: "create_revision",
    rpc_pb2.Compare.MOD: "mod_revision",
    rpc_pb2.Compare.VALUE: "value",
    rpc_pb2.Compare.LEASE: "lease",
}
HEADER_FIELDS_NOT_COMPARED = ("cluster_id", "member_id", "raft_term")


def log(text):
    print("    " + text, flush=True)


def txn_writes(request):
    """Whether a txn holds a put or a delete anywhere, nested txns included (etcd's
    isTxnReadonly, negated)."""
    for branch in (request.success, request.failure):
        for operation in branch:
            kind = operation.WhichOneof("request")
            if kind in ("request_put", "request_delete_range"):
                return True
            if kind == "request_txn" and txn_writes(operation.request_txn):
                return True
    return False


def txn_deletes_to_the_end(request):
    """Whether a txn holds, anywhere, a delete whose range end is "\\0" (every key from its key)."""
    for branch in (request.success, request.failure):
        for operation in branch:
            kind = operation.WhichOneof("request")
            if kind == "request_delete_range" and operation.request_delete_range.range_end == b"\x00":
                return True
            if kind == "request_txn" and txn_deletes_to_the_end(operation.request_txn):
                return True
    return False


def drop_ignore_flags(request):
    """Clears ignore_value and ignore_lease in every put of a txn. etcd 3.4 checks a txn's puts
    against deletes with an interval tree in which a delete to "\\0" is an empty interval, so it
    lets a txn delete every key and then, in a nested txn, put one of them with ignore_value or
    ignore_lease. It checks that put against the store as it was before the txn, and finds the key
    missing only while applying: every member then panics ("unexpected error during txn: etcdserver:
    key not found") and the cluster is gone."""
    for branch in (request.success, request.failure):
        for operation in branch:
            kind = operation.WhichOneof("request")
            if kind == "request_put":
                operation.request_put.ignore_value = False
                operation.request_put.ignore_lease = False
            elif kind == "request_txn":
                drop_ignore_flags(operation.request_txn)


def prefix_end(key):
    """etcd's clientv3.GetPrefixRangeEnd: the last byte below 0xff incremented, the rest dropped;
    "\\0" (no end) when every byte is 0xff."""
    end = bytearray(key)
    for index in range(len(end) - 1, -1, -1):
        if end[index] < 0xFF:
            end[index] += 1
            return bytes(end[:index + 1])
    return b"\x00"


# ----------------------------------------------------------------------------------------------
# Clusters


class Cluster(LocalCluster):
    def __init__(self, label, server_command, base_port, work_dir):
        members = [LocalMember(index, label, base_port, work_dir) for index in range(MEMBER_COUNT)]
        # setpriv: the kernel kills a member even if this script dies by SIGKILL.
        LocalCluster.__init__(self, ["setpriv", "--pdeathsig", "KILL"] + server_command, members,
                              "differential-" + label, [])
        self.label = label
        self.channels = [grpc.insecure_channel("127.0.0.1:%d" % member.client_port, options=CHANNEL_OPTIONS)
                         for member in members]
        self.kv = [rpc_pb2_grpc.KVStub(channel) for channel in self.channels]
        self.lease = [rpc_pb2_grpc.LeaseStub(channel) for channel in self.channels]
        self.maintenance = [rpc_pb2_grpc.MaintenanceStub(channel) for channel in self.channels]

    def start_all(self):
        for member in self.members:
            self.start(member)

    def healthy(self):
        """Every member serves a linearizable read and all name the same leader. Raises, with the
        end of its log, if a member has exited."""
        leaders = set()
        for index, member in enumerate(self.members):
            member.require_running()
            try:
                status = self.maintenance[index].Status(rpc_pb2.StatusRequest(), timeout=HEALTH_CALL_TIMEOUT_SECONDS)
                self.kv[index].Range(rpc_pb2.RangeRequest(key=BARRIER_KEY), timeout=HEALTH_CALL_TIMEOUT_SECONDS)
            except grpc.RpcError:
                return False
            leaders.add(status.leader)
        return len(leaders) == 1 and 0 not in leaders

    def dead_members(self):
        return [member.name for member in self.members if not member.alive()]

    def close(self):
        for channel in self.channels:
            channel.close()


def wait_until_healthy(clusters):
    deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
    attempts_max = STARTUP_TIMEOUT_SECONDS * 4
    waiting = list(clusters)
    for _ in range(attempts_max):
        waiting = [cluster for cluster in waiting if not cluster.healthy()]
        if not waiting or time.monotonic() >= deadline:
            break
        time.sleep(0.25)
    if waiting:
        raise RuntimeError("not healthy within %d s: %s"
                           % (STARTUP_TIMEOUT_SECONDS, ", ".join(cluster.label for cluster in waiting)))


# ----------------------------------------------------------------------------------------------
# Operations


class Operation:
    """One request to send to member `member` of each cluster: `service` is "kv" or "lease",
    `method` the stub's method name. `barrier`: a linearizable range on that member first."""

    def __init__(self, kind, service, method, request, barrier=False):
        self.kind = kind
        self.service = service
        self.method = method
        self.request = request
        self.barrier = barrier
        self.member = 0
        self.number = 0


class Outcome:
    def __init__(self, response=None, error=None):
        self.response = response
        self.error = error  # (status code name, details)

    def describe(self):
        if self.error is not None:
            return "error %s %r" % self.error
        return "ok " + short_text(self.response)


def perform(cluster, operation):
    member = operation.member
    try:
        if operation.barrier:
            try:
                cluster.kv[member].Range(rpc_pb2.RangeRequest(key=BARRIER_KEY), timeout=CALL_TIMEOUT_SECONDS)
            except grpc.RpcError as error:
                return Outcome(error=("barrier " + error.code().name, error.details()))
        stub = getattr(cluster, operation.service)[member]
        return Outcome(response=getattr(stub, operation.method)(operation.request, timeout=CALL_TIMEOUT_SECONDS))
    except grpc.RpcError as error:
        return Outcome(error=(error.code().name, error.details()))


class Generator:
    """Makes operations from one seeded random generator. It reads the current and compacted
    revisions from etcd's answers (`observe`), which are the same for every run of a seed as long as
    etcd answers the same; nothing else it does depends on the servers."""

    def __init__(self, seed):
        self.random = random.Random(seed)
        self.current_revision = 1
        self.compacted_revision = 0

    # -- building blocks --

    def chance(self, probability):
        return self.random.random() < probability

    def choose(self, items):
        return self.random.choice(items)

    def written_key(self):
        return self.choose(KEYS)

    def any_key(self):
        return self.choose(KEYS) if self.chance(0.85) else self.choose(BOUND_KEYS)

    def value(self):
        roll = self.random.random()
        if roll < 0.6:
            return self.choose(SHORT_VALUES)
        if roll < 0.93:
            return b"v%d" % self.random.randrange(50)
        if roll < 0.985:
            return bytes([self.random.randrange(32, 127)]) * self.random.randrange(100, 4000)
        if roll < 0.9985:
            return bytes([self.random.randrange(256)]) * self.random.randrange(64 * 1024, 300 * 1024)
        return b"B" * (VALUE_UNDER_LIMIT_BYTES if self.chance(0.5) else VALUE_OVER_LIMIT_BYTES)

    def key_range(self):
        """(key, range_end)."""
        roll = self.random.random()
        if roll < 0.4:
            return self.any_key(), b""
        if roll < 0.55:
            key = self.written_key()
            return key, prefix_end(key)
        if roll < 0.65:
            return self.any_key(), b"\x00"
        if roll < 0.73:
            return b"\x00", b"\x00"
        if roll < 0.95:
            return self.any_key(), self.any_key()
        key = self.any_key()
        return key, key

    def revision(self):
        """A read revision: mostly 0 (current), else valid, compacted, at the compaction boundary,
        future or negative."""
        roll = self.random.random()
        low = max(1, self.compacted_revision)
        if roll < 0.6:
            return 0
        if roll < 0.8:
            return self.random.randint(low, max(low, self.current_revision))
        if roll < 0.86:
            return max(1, self.compacted_revision - self.random.randint(0, 3))
        if roll < 0.9:
            return self.compacted_revision
        if roll < 0.95:
            return self.current_revision + self.random.randint(1, 3)
        return self.choose([-1, -2, -100])

    def some_revision(self):
        return self.random.randint(0, self.current_revision + 1)

    def lease_id(self):
        return self.choose(LEASE_IDS) if self.chance(0.95) else NEVER_GRANTED_LEASE_ID

    # -- requests --

    def put_request(self, key=None):
        request = rpc_pb2.PutRequest(key=self.written_key() if key is None else key, value=self.value())
        if self.chance(0.25):
            request.lease = self.lease_id()
        request.prev_kv = self.chance(0.4)
        if self.chance(0.1):
            request.ignore_value = True
            if self.chance(0.8):
                request.value = b""
        if self.chance(0.1):
            request.ignore_lease = True
            if self.chance(0.8):
                request.lease = 0
        return request

    def range_request(self):
        key, range_end = self.key_range()
        request = rpc_pb2.RangeRequest(key=key, range_end=range_end)
        if self.chance(0.4):
            request.limit = self.choose([1, 1, 2, 3, 5, 13, 100, -1])
        request.revision = self.revision()
        if self.chance(0.5):
            request.sort_order = self.choose([rpc_pb2.RangeRequest.NONE, rpc_pb2.RangeRequest.ASCEND,
                                              rpc_pb2.RangeRequest.DESCEND])
        if self.chance(0.5):
            request.sort_target = self.choose([rpc_pb2.RangeRequest.KEY, rpc_pb2.RangeRequest.VERSION,
                                               rpc_pb2.RangeRequest.CREATE, rpc_pb2.RangeRequest.MOD,
                                               rpc_pb2.RangeRequest.VALUE])
        if self.chance(0.01):
            # An order that is no enum value: etcd fetches everything (as for any order but NONE)
            # and sorts nothing. (An unknown sort *target* is not sent: etcd 3.4 would sort with
            # a nil sorter and panic.)
            request.sort_order = self.choose([3, 7])
        request.serializable = self.chance(0.2)
        request.keys_only = self.chance(0.15)
        request.count_only = self.chance(0.1)
        for field in ("min_mod_revision", "max_mod_revision", "min_create_revision", "max_create_revision"):
            if self.chance(0.12):
                setattr(request, field, self.some_revision() if self.chance(0.9) else -1)
        return request

    def delete_request(self):
        key, range_end = self.key_range()
        return rpc_pb2.DeleteRangeRequest(key=key, range_end=range_end, prev_kv=self.chance(0.5))

    def compare(self):
        compare = rpc_pb2.Compare(key=self.any_key())
        roll = self.random.random()
        if roll < 0.12:
            compare.range_end = prefix_end(compare.key)
        elif roll < 0.18:
            compare.range_end = b"\x00"
        elif roll < 0.25:
            compare.range_end = self.any_key()
        compare.target = self.choose(list(COMPARE_TARGET_FIELDS))
        compare.result = self.choose([rpc_pb2.Compare.EQUAL, rpc_pb2.Compare.GREATER, rpc_pb2.Compare.LESS,
                                      rpc_pb2.Compare.NOT_EQUAL])
        roll = self.random.random()
        if roll < 0.9:
            field = COMPARE_TARGET_FIELDS[compare.target]
        elif roll < 0.96:
            # The union holds another target's value: etcd then compares with the zero value.
            field = self.choose(list(COMPARE_TARGET_FIELDS.values()))
        else:
            field = None
        if field == "version":
            compare.version = self.choose([0, 1, 2, 3, 5])
        elif field in ("create_revision", "mod_revision"):
            setattr(compare, field, self.some_revision())
        elif field == "value":
            compare.value = self.choose(SHORT_VALUES) if self.chance(0.7) else b"v%d" % self.random.randrange(50)
        elif field == "lease":
            compare.lease = self.choose([0] + LEASE_IDS)
        if self.chance(0.01):
            compare.target = self.choose([5, 9])  # no enum value: etcd compares nothing (result 0)
        if self.chance(0.01):
            compare.result = self.choose([4, 8])  # no enum value: etcd's compare is then true
        return compare

    def txn_request(self, depth=0, taken=None, careful=None):
        """A txn of up to four compares and up to four operations per branch, nested up to two
        levels. Careful txns (most) keep puts and deletes on distinct keys, so that they are not
        refused as duplicates; the others may be."""
        if careful is None:
            careful = self.chance(0.85)
        if taken is None:
            taken = set()
        request = rpc_pb2.TxnRequest()
        for _ in range(self.choose([0, 1, 1, 2, 2, 3, 4])):
            request.compare.append(self.compare())
        for branch in (request.success, request.failure):
            for _ in range(self.choose([0, 1, 2, 2, 3, 4])):
                branch.append(self.request_op(depth, taken, careful))
        if depth == 0 and txn_writes(request):
            self.make_ranges_readable(request)
        if depth == 0 and txn_deletes_to_the_end(request):
            drop_ignore_flags(request)
        return request

    def make_ranges_readable(self, request):
        """Gives every range in a writing txn a revision etcd can read (0 when it had one below the
        compacted revision, past the current one or negative). etcd 3.4 refuses a writing txn whose
        taken branch reads an unreadable revision only on the member that received it: the other
        members strip the txn's ranges before applying it (removeNeedlessRangeReqs) and apply its
        writes. The cluster is then inconsistent, and no later answer can be compared. A read-only
        txn is served without the log, so those keep any revision."""
        for branch in (request.success, request.failure):
            for operation in branch:
                kind = operation.WhichOneof("request")
                if kind == "request_txn":
                    self.make_ranges_readable(operation.request_txn)
                elif kind == "request_range":
                    revision = operation.request_range.revision
                    if revision != 0 and not max(1, self.compacted_revision) <= revision <= self.current_revision:
                        operation.request_range.revision = 0

    def request_op(self, depth, taken, careful):
        roll = self.random.random()
        if roll < 0.35:
            key = self.free_key(taken) if careful else self.written_key()
            if key is not None:
                return rpc_pb2.RequestOp(request_put=self.put_request(key))
        elif roll < 0.55:
            if careful:
                key = self.free_key(taken)
                if key is not None:
                    request = rpc_pb2.DeleteRangeRequest(key=key, prev_kv=self.chance(0.5))
                    return rpc_pb2.RequestOp(request_delete_range=request)
            else:
                return rpc_pb2.RequestOp(request_delete_range=self.delete_request())
        elif roll < 0.7 and depth < 2:
            return rpc_pb2.RequestOp(request_txn=self.txn_request(depth + 1, taken, careful))
        return rpc_pb2.RequestOp(request_range=self.range_request())

    def free_key(self, taken):
        free = [key for key in KEYS if key not in taken]
        if not free:
            return None
        key = self.choose(free)
        taken.add(key)
        return key

    def compaction_request(self):
        roll = self.random.random()
        if roll < 0.5 and self.current_revision > self.compacted_revision:
            # Usually a recent revision, so that most history stays readable.
            low = max(self.compacted_revision + 1, self.current_revision - 30)
            revision = self.random.randint(low, self.current_revision)
        elif roll < 0.65:
            revision = self.compacted_revision
        elif roll < 0.75:
            revision = max(0, self.compacted_revision - self.random.randint(1, 5))
        elif roll < 0.9:
            revision = self.current_revision + self.random.randint(1, 5)
        else:
            revision = self.choose([0, -1, -5])
        return rpc_pb2.CompactionRequest(revision=revision, physical=self.chance(0.5))

    def grant_request(self):
        roll = self.random.random()
        if roll < 0.75:
            ttl = self.random.randint(900, 7200)
        elif roll < 0.85:
            ttl = LEASE_TTL_MAX_SECONDS
        elif roll < 0.92:
            ttl = LEASE_TTL_MAX_SECONDS + self.choose([1, 10**10])
        else:
            ttl = 3600
        return rpc_pb2.LeaseGrantRequest(ID=self.lease_id(), TTL=ttl)

    # -- the operation mix --

    def operations(self):
        """The next operations: usually one, a few for a compound (short lease: grant, look,
        revoke)."""
        roll = self.random.random()
        if roll < 0.27:
            return [Operation("put", "kv", "Put", self.put_request())]
        if roll < 0.50:
            request = self.range_request()
            return [Operation("range", "kv", "Range", request, barrier=request.serializable)]
        if roll < 0.58:
            return [Operation("delete", "kv", "DeleteRange", self.delete_request())]
        if roll < 0.78:
            return [Operation("txn", "kv", "Txn", self.txn_request())]
        if roll < 0.80:
            return [Operation("compact", "kv", "Compact", self.compaction_request())]
        if roll < 0.84:
            return [Operation("lease-grant", "lease", "LeaseGrant", self.grant_request())]
        if roll < 0.865:
            return [Operation("lease-revoke", "lease", "LeaseRevoke", rpc_pb2.LeaseRevokeRequest(ID=self.lease_id()))]
        if roll < 0.895:
            request = rpc_pb2.LeaseTimeToLiveRequest(ID=self.lease_id(), keys=self.chance(0.6))
            return [Operation("lease-ttl", "lease", "LeaseTimeToLive", request, barrier=True)]
        if roll < 0.91:
            return [Operation("lease-leases", "lease", "LeaseLeases", rpc_pb2.LeaseLeasesRequest(), barrier=True)]
        if roll < 0.92:
            return self.short_lease()
        return [self.invalid_operation()]

    def short_lease(self):
        """A lease granted with a TTL below etcd's minimum (which raises it to the minimum, 2 s with
        the default timings), looked at and revoked at once, long before it could expire."""
        lease_id = self.choose(SHORT_LEASE_IDS)
        ttl = self.choose([-3, 0, 1, 2])
        return [Operation("lease-grant", "lease", "LeaseGrant", rpc_pb2.LeaseGrantRequest(ID=lease_id, TTL=ttl)),
                Operation("lease-ttl", "lease", "LeaseTimeToLive",
                          rpc_pb2.LeaseTimeToLiveRequest(ID=lease_id, keys=True), barrier=True),
                Operation("lease-revoke", "lease", "LeaseRevoke", rpc_pb2.LeaseRevokeRequest(ID=lease_id))]

    def invalid_operation(self):
        """A request etcd refuses (or one at the edge of a rule), chosen from a list of cases."""
        case = self.random.randrange(20)
        txn = rpc_pb2.TxnRequest
        op = rpc_pb2.RequestOp
        put_request = rpc_pb2.PutRequest
        range_request = rpc_pb2.RangeRequest
        delete_request = rpc_pb2.DeleteRangeRequest
        compare = rpc_pb2.Compare
        if case == 0:
            return Operation("put", "kv", "Put", put_request(key=b"", value=self.value()))
        if case == 1:
            request = range_request(key=b"", range_end=self.choose([b"", b"\x00", b"z"]))
            return Operation("range", "kv", "Range", request)
        if case == 2:
            request = delete_request(key=b"", range_end=self.choose([b"", b"\x00"]))
            return Operation("delete", "kv", "DeleteRange", request)
        if case == 3:
            request = self.txn_request()
            request.compare.append(compare(key=b"", target=compare.VERSION, version=0))
            return Operation("txn", "kv", "Txn", request)
        if case == 4:
            # An empty key somewhere in a branch, maybe a nested one.
            request = self.txn_request()
            bad = self.choose([op(request_put=put_request(key=b"", value=b"x")),
                               op(request_range=range_request(key=b"")),
                               op(request_delete_range=delete_request(key=b""))])
            branch = self.choose([request.success, request.failure])
            branch.append(op(request_txn=txn(success=[bad])) if self.chance(0.5) else bad)
            return Operation("txn", "kv", "Txn", request)
        if case == 5:
            # A RequestOp with no request in it.
            request = self.txn_request()
            self.choose([request.success, request.failure]).append(op())
            return Operation("txn", "kv", "Txn", request)
        if case == 6:
            # Duplicate keys, at one level or across levels; some of these are allowed (a key put
            # in both branches of a nested txn, a put after a delete to "\0", which etcd's interval
            # check does not see).
            key = self.written_key()

            def put():
                return op(request_put=put_request(key=key, value=b"d"))

            def delete():
                range_end = self.choose([b"", prefix_end(key), b"\x00"])
                return op(request_delete_range=delete_request(key=key, range_end=range_end))

            delete_everything = op(request_delete_range=delete_request(key=b"\x00", range_end=b"\x00"))
            shapes = [
                [put(), put()],
                [put(), delete()],
                [delete(), put()],
                [delete(), delete()],
                [put(), op(request_txn=txn(success=[put()]))],
                [delete(), op(request_txn=txn(failure=[put()]))],
                [op(request_txn=txn(success=[put()], failure=[put()]))],
                [op(request_txn=txn(success=[put()])), op(request_txn=txn(success=[put()]))],
                [op(request_txn=txn(success=[delete()])), put()],
                [op(request_txn=txn(success=[delete_everything])), put()],
                [op(request_delete_range=delete_request(key=b"a", range_end=b"\x00")),
                 op(request_put=put_request(key=b"b", value=b"d"))],
            ]
            request = txn(compare=[self.compare() for _ in range(self.random.randrange(2))])
            self.choose([request.success, request.failure]).extend(self.choose(shapes))
            return Operation("txn", "kv", "Txn", request)
        if case == 7:
            # Operation counts at and past --max-txn-ops, in compares, in either branch, and a
            # nested txn whose own count, with its parent's, is at and past it.
            shape = self.random.randrange(6)

            def read():
                return op(request_range=range_request(key=self.written_key(), keys_only=True))

            request = txn()
            if shape == 0:
                request.compare.extend(
                    compare(key=self.written_key(), target=compare.VERSION, result=compare.GREATER, version=-1)
                    for _ in range(TXN_OPERATIONS_MAX + self.choose([0, 1])))
            elif shape in (1, 2):
                branch = request.success if shape == 1 else request.failure
                branch.extend(read() for _ in range(TXN_OPERATIONS_MAX + self.choose([0, 1])))
            else:
                outer = self.choose([1, 64, 100, 127])
                inner = TXN_OPERATIONS_MAX - outer + self.choose([-1, 0, 1])
                request.success.extend(read() for _ in range(outer - 1))
                request.success.append(op(request_txn=txn(failure=[read() for _ in range(inner)])))
                if shape == 5:
                    request.compare.extend(
                        compare(key=b"zz", target=compare.MOD, result=compare.LESS, mod_revision=1)
                        for _ in range(self.choose([1, 40])))
            return Operation("txn", "kv", "Txn", request)
        if case == 8:
            return Operation("put", "kv", "Put", put_request(key=self.written_key(), value=b"x", ignore_value=True))
        if case == 9:
            request = put_request(key=self.written_key(), lease=self.lease_id(), ignore_lease=True)
            return Operation("put", "kv", "Put", request)
        if case == 10:
            request = put_request(key=self.written_key(), value=b"x", lease=NEVER_GRANTED_LEASE_ID)
            return Operation("put", "kv", "Put", request)
        if case == 11:
            request = rpc_pb2.LeaseGrantRequest(ID=self.choose(LEASE_IDS), TTL=LEASE_TTL_MAX_SECONDS + 1)
            return Operation("lease-grant", "lease", "LeaseGrant", request)
        if case == 12:
            request = put_request(key=self.written_key(), value=b"L" * VALUE_OVER_LIMIT_BYTES)
            return Operation("put", "kv", "Put", request)
        if case == 13:
            big = put_request(key=self.written_key(), value=b"L" * VALUE_OVER_LIMIT_BYTES)
            return Operation("txn", "kv", "Txn", txn(success=[op(request_put=big)]))
        if case == 14:
            request = range_request(key=self.written_key(), revision=self.current_revision + self.choose([1, 1000]))
            return Operation("range", "kv", "Range", request)
        if case == 15:
            revision = self.choose([self.current_revision + 1, self.compacted_revision, self.compacted_revision - 1])
            return Operation("compact", "kv", "Compact", rpc_pb2.CompactionRequest(revision=revision))
        # Compares that hold (NOT_EQUAL) or fail (EQUAL): no key has version -1.
        either_branch = compare(key=b"a", target=compare.VERSION, version=-1,
                                result=self.choose([compare.EQUAL, compare.NOT_EQUAL]))
        if case == 16:
            # A range at a future, compacted or negative revision inside a read-only txn, in the
            # branch taken or the other one. (Not in a writing txn: see make_ranges_readable.)
            revision = self.choose([self.current_revision + 1, self.current_revision,
                                    max(1, self.compacted_revision - 1), -1, -2])
            request = txn(compare=[either_branch],
                          success=[op(request_range=range_request(key=self.written_key(), revision=revision))])
            if self.chance(0.5):
                request.failure.append(op(request_range=range_request(key=b"d")))
            return Operation("txn", "kv", "Txn", request)
        if case == 17:
            # An unknown lease, or ignore_* on a missing key, in the branch taken or not.
            bad = op(request_put=self.choose([put_request(key=b"k", value=b"x", lease=NEVER_GRANTED_LEASE_ID),
                                              put_request(key=self.choose(BOUND_KEYS), ignore_value=True),
                                              put_request(key=self.choose(BOUND_KEYS), ignore_lease=True)]))
            request = txn(compare=[either_branch])
            self.choose([request.success, request.failure]).append(bad)
            return Operation("txn", "kv", "Txn", request)
        lease_id = self.choose([NEVER_GRANTED_LEASE_ID, 0])
        if case == 18:
            return Operation("lease-revoke", "lease", "LeaseRevoke", rpc_pb2.LeaseRevokeRequest(ID=lease_id))
        request = rpc_pb2.LeaseTimeToLiveRequest(ID=lease_id, keys=True)
        return Operation("lease-ttl", "lease", "LeaseTimeToLive", request, barrier=True)

    def observe(self, operation, etcd_outcome):
        """Follows etcd's current and compacted revisions, for the revisions of later requests."""
        response = etcd_outcome.response
        if response is None:
            return
        if response.HasField("header") and response.header.revision > 0:
            self.current_revision = response.header.revision
        if operation.kind == "compact":
            self.compacted_revision = max(self.compacted_revision, operation.request.revision)


# ----------------------------------------------------------------------------------------------
# Comparison


class Differences:
    """The differing fields of one pair of answers: (path, etcd's value, Synod's value)."""

    def __init__(self):
        self.items = []
        self.notes = []  # sort targets of ranges whose ties came in another order (tolerated)

    def add(self, path, etcd_value, synod_value):
        self.items.append((path, etcd_value, synod_value))


def compare_outcomes(operation, etcd, synod):
    differences = Differences()
    if etcd.error is not None or synod.error is not None:
        if etcd.error != synod.error:
            differences.add("(outcome)", etcd.describe(), synod.describe())
        return differences
    compare_response(operation.request, etcd.response, synod.response, "", differences)
    return differences


def compare_response(request, etcd, synod, path, differences):
    name = etcd.DESCRIPTOR.name
    if name == "RangeResponse":
        compare_range(request, etcd, synod, path, differences)
    elif name == "TxnResponse":
        compare_txn(request, etcd, synod, path, differences)
    elif name == "LeaseTimeToLiveResponse":
        compare_time_to_live(etcd, synod, path, differences)
    elif name == "LeaseLeasesResponse":
        compare_fields(etcd, synod, path, differences, skip=("leases",))
        etcd_ids = sorted(status.ID for status in etcd.leases)
        synod_ids = sorted(status.ID for status in synod.leases)
        if etcd_ids != synod_ids:
            differences.add(join(path, "leases[].ID (as a set)"), etcd_ids, synod_ids)
    else:
        compare_fields(etcd, synod, path, differences)


def join(path, name):
    return path + "." + name if path else name


def compare_fields(etcd, synod, path, differences, skip=()):
    """Every field of two messages of one type, nested messages by presence and then field by
    field, and their unknown fields; a ResponseHeader without the ids and the term."""
    excluded = HEADER_FIELDS_NOT_COMPARED if etcd.DESCRIPTOR.name == "ResponseHeader" else ()
    for field in etcd.DESCRIPTOR.fields:
        name = field.name
        if name in skip or name in excluded:
            continue
        field_path = join(path, name)
        etcd_value = getattr(etcd, name)
        synod_value = getattr(synod, name)
        if field.label == field.LABEL_REPEATED:
            if len(etcd_value) != len(synod_value):
                differences.add(field_path + " (count)", len(etcd_value), len(synod_value))
                if field.message_type is None:
                    differences.add(field_path, list(etcd_value), list(synod_value))
                continue
            for index, (left, right) in enumerate(zip(etcd_value, synod_value)):
                element_path = "%s[%d]" % (field_path, index)
                if field.message_type is not None:
                    compare_fields(left, right, element_path, differences)
                elif left != right:
                    differences.add(element_path, left, right)
        elif field.message_type is not None:
            etcd_present, synod_present = etcd.HasField(name), synod.HasField(name)
            if etcd_present != synod_present:
                differences.add(field_path + " (present)", etcd_present, synod_present)
            elif etcd_present:
                compare_fields(etcd_value, synod_value, field_path, differences)
        elif etcd_value != synod_value:
            differences.add(field_path, etcd_value, synod_value)
    etcd_unknown = [(f.field_number, f.wire_type, f.data) for f in etcd.UnknownFields()]
    synod_unknown = [(f.field_number, f.wire_type, f.data) for f in synod.UnknownFields()]
    if etcd_unknown != synod_unknown:
        differences.add(join(path, "(unknown fields)"), etcd_unknown, synod_unknown)


def compare_range(request, etcd, synod, path, differences):
    compare_fields(etcd, synod, path, differences, skip=("kvs",))
    order = request.sort_order
    if order == rpc_pb2.RangeRequest.NONE and request.sort_target != rpc_pb2.RangeRequest.KEY:
        order = rpc_pb2.RangeRequest.ASCEND  # etcd's rule, as in its applier
    ties_unordered = (request.sort_target != rpc_pb2.RangeRequest.KEY
                      and order in (rpc_pb2.RangeRequest.ASCEND, rpc_pb2.RangeRequest.DESCEND)
                      and keys_sorted_at_most(request, etcd.count) > GO_STABLE_SORT_LENGTH_MAX)
    kvs_path = join(path, "kvs")
    if not ties_unordered or len(etcd.kvs) != len(synod.kvs):
        compare_repeated_messages(etcd.kvs, synod.kvs, kvs_path, differences)
        return
    target_field = {rpc_pb2.RangeRequest.VERSION: "version", rpc_pb2.RangeRequest.CREATE: "create_revision",
                    rpc_pb2.RangeRequest.MOD: "mod_revision", rpc_pb2.RangeRequest.VALUE: "value"}[request.sort_target]
    etcd_sort_values = [getattr(kv, target_field) for kv in etcd.kvs]
    synod_sort_values = [getattr(kv, target_field) for kv in synod.kvs]
    if etcd_sort_values != synod_sort_values:
        differences.add(kvs_path + "[]." + target_field + " (sort order)", etcd_sort_values, synod_sort_values)
        return
    start = 0
    reordered = False
    while start < len(etcd.kvs):
        end = start
        while end < len(etcd.kvs) and etcd_sort_values[end] == etcd_sort_values[start]:
            end += 1
        etcd_group = sorted(kv.SerializeToString(deterministic=True) for kv in etcd.kvs[start:end])
        synod_group = sorted(kv.SerializeToString(deterministic=True) for kv in synod.kvs[start:end])
        truncated = etcd.more and end == len(etcd.kvs)  # the limit may cut a tie group anywhere
        if etcd_group != synod_group and not truncated:
            compare_repeated_messages(etcd.kvs[start:end], synod.kvs[start:end],
                                      "%s[%d:%d]" % (kvs_path, start, end), differences)
            return
        if [kv.key for kv in etcd.kvs[start:end]] != [kv.key for kv in synod.kvs[start:end]]:
            reordered = True
        start = end
    if reordered:
        differences.notes.append(target_field)


def keys_sorted_at_most(request, count):
    """How many keys etcd sorted at most for a range that matched `count` keys: all of them, or,
    with sort order NONE, no revision filter and a limit, the limit + 1 it fetched (its applier
    fetches everything only to sort or filter)."""
    filtered = (request.min_mod_revision or request.max_mod_revision or request.min_create_revision
                or request.max_create_revision)
    if request.sort_order == rpc_pb2.RangeRequest.NONE and not filtered and request.limit > 0:
        return min(count, request.limit + 1)
    return count


def compare_repeated_messages(etcd_items, synod_items, path, differences):
    if len(etcd_items) != len(synod_items):
        differences.add(path + " (count)", len(etcd_items), len(synod_items))
        differences.add(path + "[].key", [kv.key for kv in etcd_items], [kv.key for kv in synod_items])
        return
    for index, (left, right) in enumerate(zip(etcd_items, synod_items)):
        compare_fields(left, right, "%s[%d]" % (path, index), differences)


def compare_txn(request, etcd, synod, path, differences):
    compare_fields(etcd, synod, path, differences, skip=("responses",))
    if etcd.succeeded != synod.succeeded:
        return  # the responses belong to different branches
    branch = request.success if etcd.succeeded else request.failure
    responses_path = join(path, "responses")
    if len(etcd.responses) != len(synod.responses) or len(etcd.responses) != len(branch):
        differences.add(responses_path + " (count)", len(etcd.responses), len(synod.responses))
        return
    for index, (operation, left, right) in enumerate(zip(branch, etcd.responses, synod.responses)):
        element_path = "%s[%d]" % (responses_path, index)
        etcd_kind, synod_kind = left.WhichOneof("response"), right.WhichOneof("response")
        if etcd_kind != synod_kind:
            differences.add(element_path + " (kind)", etcd_kind, synod_kind)
            continue
        if etcd_kind is None:
            compare_fields(left, right, element_path, differences)
            continue
        inner_request = getattr(operation, operation.WhichOneof("request") or "request_range")
        compare_response(inner_request, getattr(left, etcd_kind), getattr(right, synod_kind),
                         join(element_path, etcd_kind), differences)
        etcd_unknown = [(f.field_number, f.wire_type, f.data) for f in left.UnknownFields()]
        synod_unknown = [(f.field_number, f.wire_type, f.data) for f in right.UnknownFields()]
        if etcd_unknown != synod_unknown:
            differences.add(join(element_path, "(unknown fields)"), etcd_unknown, synod_unknown)


def compare_time_to_live(etcd, synod, path, differences):
    compare_fields(etcd, synod, path, differences, skip=("TTL", "keys"))
    if (etcd.TTL < 0 or synod.TTL < 0) and etcd.TTL != synod.TTL:
        differences.add(join(path, "TTL"), etcd.TTL, synod.TTL)
    elif abs(etcd.TTL - synod.TTL) > TTL_REMAINING_TOLERANCE_SECONDS:
        differences.add(join(path, "TTL (+-%d s)" % TTL_REMAINING_TOLERANCE_SECONDS), etcd.TTL, synod.TTL)
    if sorted(etcd.keys) != sorted(synod.keys):
        differences.add(join(path, "keys (as a set)"), sorted(etcd.keys), sorted(synod.keys))


# ----------------------------------------------------------------------------------------------
# Reporting


def short_bytes(data):
    if len(data) <= 40:
        return repr(bytes(data))
    return "<%d bytes, %r...>" % (len(data), bytes(data[:12]))


def short_value(value):
    if isinstance(value, (bytes, bytearray)):
        return short_bytes(value)
    if isinstance(value, list):
        text = "[" + ", ".join(short_value(item) for item in value[:20]) + (", ...]" if len(value) > 20 else "]")
        return text
    return repr(value)


def short_text(message, limit=1500):
    """A message in protobuf text format on one line, long bytes fields shortened."""
    text = render(message)
    return text if len(text) <= limit else text[:limit] + " ...(%d characters)" % len(text)


def render(message):
    parts = []
    for field, value in message.ListFields():
        if field.label == field.LABEL_REPEATED:
            shown = list(value)
            if len(shown) > 12:
                first = ", ".join(render_value(field, item) for item in shown[:3])
                parts.append("%s: [%d items: %s ...]" % (field.name, len(shown), first))
            else:
                parts.append("%s: [%s]" % (field.name, ", ".join(render_value(field, v) for v in shown)))
        else:
            parts.append("%s: %s" % (field.name, render_value(field, value)))
    return "{" + " ".join(parts) + "}"


def render_value(field, value):
    if field.message_type is not None:
        return render(value)
    if field.enum_type is not None:
        known = field.enum_type.values_by_number.get(value)
        return known.name if known is not None else str(value)
    if isinstance(value, bytes):
        return short_bytes(value)
    return str(value)


def outcome_class(description):
    """An outcome as a class name: an error whole, a response as "ok"."""
    return "ok" if description.startswith("ok ") else description


def class_names(operation, differences):
    """The classes of one divergence: one per differing field (indices dropped), or the outcome."""
    names = []
    for path, etcd_value, synod_value in differences.items:
        if path == "(outcome)":
            name = "%s: etcd %s, synod %s" % (operation.kind, outcome_class(etcd_value), outcome_class(synod_value))
        else:
            # The fields of one key-value are one difference (the key-value), and so are the
            # elements of a repeated field; a txn's responses are followed down to them.
            generic = re.sub(r"kvs\[\d+(?::\d+)?\]\.\w+", "kvs[]", path)
            generic = re.sub(r"\[\d+(?::\d+)?\]", "[]", generic)
            name = "%s: %s differs" % (operation.kind, generic)
        if name not in names:
            names.append(name)
    return names


def list_numbers(numbers, shown_max=10):
    return ", ".join(map(str, numbers[:shown_max])) + (", ..." if len(numbers) > shown_max else "")


class Report:
    def __init__(self, seed):
        self.seed = seed
        self.compared_by_kind = {}
        self.divergent_by_kind = {}
        self.classes = {}  # class name -> [count, first (operation, etcd, synod, differences), op numbers]
        self.notes = {}  # sort target -> op numbers of tolerated tie orders
        self.divergence_count = 0

    def record(self, operation, etcd, synod, differences):
        self.compared_by_kind[operation.kind] = self.compared_by_kind.get(operation.kind, 0) + 1
        for sort_target in differences.notes:
            self.notes.setdefault(sort_target, []).append(operation.number)
        if not differences.items:
            return False
        self.divergence_count += 1
        self.divergent_by_kind[operation.kind] = self.divergent_by_kind.get(operation.kind, 0) + 1
        for name in class_names(operation, differences):
            if name not in self.classes:
                self.classes[name] = [0, (operation, etcd, synod, differences), []]
                log("op %d (%s, member %d) diverged: %s" % (operation.number, operation.kind, operation.member, name))
            entry = self.classes[name]
            entry[0] += 1
            entry[2].append(operation.number)
        return True

    def print_summary(self, operations_compared, extra_failures):
        print("differential: compared %d operations, %d divergences" % (operations_compared, self.divergence_count))
        for kind in sorted(self.compared_by_kind):
            divergent = self.divergent_by_kind.get(kind, 0)
            if divergent:
                print("FAIL [seed %d] %s: %d of %d diverged"
                      % (self.seed, kind, divergent, self.compared_by_kind[kind]))
            else:
                print("PASS %s: %d compared, none diverged" % (kind, self.compared_by_kind[kind]))
        shown = set()
        for name, (count, (operation, etcd, synod, differences), numbers) in self.classes.items():
            print("FAIL [seed %d, op %d] %s (%d times; ops %s)"
                  % (self.seed, operation.number, name, count, list_numbers(numbers)))
            if operation.number in shown:
                print("    op %d is shown above" % operation.number)
                continue
            shown.add(operation.number)
            print("    %s to member %d: %s" % (operation.method, operation.member, short_text(operation.request)))
            print("    etcd:  %s" % etcd.describe())
            print("    synod: %s" % synod.describe())
            for path, etcd_value, synod_value in differences.items[:8]:
                print("    %s: etcd %s, synod %s" % (path, short_value(etcd_value), short_value(synod_value)))
            if len(differences.items) > 8:
                print("    ... and %d more differing fields" % (len(differences.items) - 8))
        for sort_target, numbers in self.notes.items():
            print("    tolerated: equal %s values in another order in a range sorted by it over more than %d keys,"
                  " %d times (ops %s); etcd's Go sort.Sort does not keep such ties in order"
                  % (sort_target, GO_STABLE_SORT_LENGTH_MAX, len(numbers), list_numbers(numbers)))
        for failure in extra_failures:
            print("FAIL [seed %d] %s" % (self.seed, failure))


# ----------------------------------------------------------------------------------------------
# Bringing the clusters back to one state after a divergence


def same_state(clusters, pool):
    """Whether both clusters hold the same revision, key-values and leases (read at member 0):
    after most divergences (a read answered differently, a txn's inner headers) they still do,
    and the run goes on without touching them."""
    def state(cluster):
        everything = cluster.kv[0].Range(rpc_pb2.RangeRequest(key=b"\x00", range_end=b"\x00"),
                                         timeout=CALL_TIMEOUT_SECONDS)
        leases = cluster.lease[0].LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=CALL_TIMEOUT_SECONDS)
        return (everything.header.revision, [kv.SerializeToString(deterministic=True) for kv in everything.kvs],
                sorted(status.ID for status in leases.leases))

    states = list(pool.map(state, clusters))
    return states[0] == states[1]


def resynchronise(clusters, pool):
    """Revokes every lease, deletes every key, pads the lower revision to the higher one and
    compacts both at it; returns the common revision. Raises if the states still differ."""
    def clear(cluster):
        leases = cluster.lease[0].LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=CALL_TIMEOUT_SECONDS)
        for status in leases.leases:
            try:
                cluster.lease[0].LeaseRevoke(rpc_pb2.LeaseRevokeRequest(ID=status.ID), timeout=CALL_TIMEOUT_SECONDS)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.NOT_FOUND:
                    raise
        cluster.kv[0].DeleteRange(rpc_pb2.DeleteRangeRequest(key=b"\x00", range_end=b"\x00"),
                                  timeout=CALL_TIMEOUT_SECONDS)
        return cluster.kv[0].Put(rpc_pb2.PutRequest(key=PAD_KEY, value=b"pad"),
                                 timeout=CALL_TIMEOUT_SECONDS).header.revision

    revisions = list(pool.map(clear, clusters))
    target = max(revisions)
    if target - min(revisions) > RESYNC_PADDING_MAX:
        raise RuntimeError("revisions %s too far apart to pad" % revisions)
    for cluster, revision in zip(clusters, revisions):
        for _ in range(target - revision):
            cluster.kv[0].Put(rpc_pb2.PutRequest(key=PAD_KEY, value=b"pad"), timeout=CALL_TIMEOUT_SECONDS)

    def finish(cluster):
        revision = cluster.kv[0].DeleteRange(rpc_pb2.DeleteRangeRequest(key=PAD_KEY),
                                             timeout=CALL_TIMEOUT_SECONDS).header.revision
        try:
            cluster.kv[0].Compact(rpc_pb2.CompactionRequest(revision=revision, physical=True),
                                  timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            if error.code() != grpc.StatusCode.OUT_OF_RANGE:
                raise
        everything = cluster.kv[0].Range(rpc_pb2.RangeRequest(key=b"\x00", range_end=b"\x00", count_only=True),
                                         timeout=CALL_TIMEOUT_SECONDS)
        leases = cluster.lease[0].LeaseLeases(rpc_pb2.LeaseLeasesRequest(), timeout=CALL_TIMEOUT_SECONDS)
        return revision, everything.header.revision, everything.count, len(leases.leases)

    states = list(pool.map(finish, clusters))
    if len(set(states)) != 1 or states[0][2] != 0 or states[0][3] != 0:
        raise RuntimeError("after resynchronising, (revision, read revision, keys, leases) are %s" % states)
    return states[0][0]


# ----------------------------------------------------------------------------------------------


class FailureCount:
    """What clean_up_on_exit reads to decide whether to keep the data directories."""
    failed_count = 0


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("synod_binary")
    parser.add_argument("etcd_binary")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--operations", type=int, default=3000)
    parser.add_argument("--verbose", action="store_true", help="print every operation and both answers")
    arguments = parser.parse_args(argv[1:])
    seed = arguments.seed
    print("differential: seed %d, %d operations, %s against %s" % (seed, arguments.operations, arguments.synod_binary,
                                                                    arguments.etcd_binary), flush=True)

    synod_command = server_command_for(arguments.synod_binary)
    etcd_command = server_command_for(arguments.etcd_binary)
    if synod_command is None or etcd_command is None:
        print("FAIL [seed %d] setup: %s must be synod and %s etcd"
              % (seed, arguments.synod_binary, arguments.etcd_binary))
        return 2
    base_port = int(os.environ.get("DIFFERENTIAL_BASE_PORT", "21379"))
    busy = [port for offset in (0, ETCD_PORT_OFFSET) for index in range(MEMBER_COUNT)
            for port in (base_port + offset + 10 * index, base_port + offset + 10 * index + 1) if not port_free(port)]
    if busy:
        print("FAIL [seed %d] setup: ports %s are in use; set DIFFERENTIAL_BASE_PORT to another base" % (seed, busy))
        return 2

    work_dir = tempfile.mkdtemp(prefix="synod-differential.")
    synod = Cluster("synod", synod_command, base_port, work_dir)
    etcd = Cluster("etcd", etcd_command, base_port + ETCD_PORT_OFFSET, work_dir)
    clusters = [etcd, synod]
    failures = FailureCount()

    def stop():
        for cluster in clusters:
            cluster.close()
            cluster.stop_everything()

    clean_up_on_exit(failures, stop, work_dir, "DIFFERENTIAL_KEEP_DIR", "member logs and data")

    started_at = time.monotonic()
    for cluster in clusters:
        cluster.start_all()
    try:
        wait_until_healthy(clusters)
    except (RuntimeError, AssertionError) as error:
        failures.failed_count = 1
        print("FAIL [seed %d] setup: both clusters healthy within %d s" % (seed, STARTUP_TIMEOUT_SECONDS))
        for line in str(error).splitlines():
            log(line)
        return 1
    log("both clusters healthy after %.1f s; Synod clients on %s, etcd clients on %s" % (
        time.monotonic() - started_at, ",".join(m.client_url for m in synod.members),
        ",".join(m.client_url for m in etcd.members)))

    generator = Generator(seed)
    member_random = random.Random(seed * 7919 + 1)
    report = Report(seed)
    extra_failures = []
    compared = 0
    resynchronisations = 0
    run_seconds_max = float(os.environ.get("DIFFERENTIAL_SECONDS_MAX", max(
        RUN_SECONDS_MIN, RUN_SECONDS_PER_OPERATION_MAX * arguments.operations)))
    loop_started_at = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
        while compared < arguments.operations and not extra_failures:
            if time.monotonic() - loop_started_at > run_seconds_max:
                extra_failures.append("time bound: only %d of %d operations within %d s"
                                      % (compared, arguments.operations, run_seconds_max))
                break
            diverged = resynchronise_anyway = False
            for operation in generator.operations():
                if compared >= arguments.operations:
                    break
                compared += 1
                operation.number = compared
                operation.member = member_random.randrange(MEMBER_COUNT)
                etcd_future = pool.submit(perform, etcd, operation)
                synod_future = pool.submit(perform, synod, operation)
                etcd_outcome, synod_outcome = etcd_future.result(), synod_future.result()
                generator.observe(operation, etcd_outcome)
                if arguments.verbose:
                    log("op %d %s member %d: %s" % (operation.number, operation.method, operation.member,
                                                     short_text(operation.request, 400)))
                    log("    etcd:  " + etcd_outcome.describe()[:400])
                    log("    synod: " + synod_outcome.describe()[:400])
                differences = compare_outcomes(operation, etcd_outcome, synod_outcome)
                if report.record(operation, etcd_outcome, synod_outcome, differences):
                    # The rest of a compound still runs: a short lease must be revoked.
                    diverged = True
                    # A compaction is not seen by same_state, and an operation that one cluster
                    # refused and the other took may have been a write.
                    resynchronise_anyway |= (operation.kind == "compact"
                                             or (etcd_outcome.error is None) != (synod_outcome.error is None))
            dead = [name for cluster in clusters for name in cluster.dead_members()]
            if dead:
                extra_failures.append("members exited during the run: %s (op %d)" % (", ".join(dead), compared))
                break
            if report.divergence_count >= DIVERGENCES_MAX:
                extra_failures.append("stopped after %d divergences" % DIVERGENCES_MAX)
                break
            if diverged:
                try:
                    if resynchronise_anyway or not same_state(clusters, pool):
                        revision = resynchronise(clusters, pool)
                        generator.current_revision = generator.compacted_revision = revision
                        resynchronisations += 1
                except (grpc.RpcError, RuntimeError) as error:
                    extra_failures.append("resynchronising after op %d: %s" % (compared, str(error)[:300]))
                    break
    log("%d operations in %.1f s; the clusters were brought back to one state %d times"
        % (compared, time.monotonic() - loop_started_at, resynchronisations))

    report.print_summary(compared, extra_failures)
    failed = report.divergence_count > 0 or bool(extra_failures)
    failures.failed_count = 1 if failed else 0
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
