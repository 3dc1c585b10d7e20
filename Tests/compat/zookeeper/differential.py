#!/usr/bin/env python3
"""A seeded random-operation differential test of the ZooKeeper API, in the manner of zetcd's
cross-checker: the same operations sent in lockstep to a 3-member Synod cluster and a real 3-server
ZooKeeper 3.8 ensemble, every reply compared field by field.

Usage: differential.py --synod H:P,H:P,H:P --zookeeper H:P,H:P,H:P [--seed N] [--ops N]
                       [--verbose]
(differential.sh starts both clusters and calls this; see there.) Defaults: seed 1, 2,000 steps.
--verbose prints each step and the raw header zxids of every exchange.

The operations, over a small namespace under /d (so that NONODE, NODEEXISTS, NOTEMPTY, BADVERSION,
NOCHILDRENFOREPHEMERALS, NOAUTH and INVALIDACL come often): create, create2, createContainer and
createTTL with every create mode (persistent, ephemeral, sequential, ephemeral-sequential, container,
the TTL modes, invalid flags, and create/createContainer with the other's mode), delete and setData
with and without
versions, getData, exists and getChildren/getChildren2 (with and without watches), sync, multi
(create, create2, createContainer, delete, setData and check, failing ones included: the per-op
results are compared in full), multiRead, getACL/setACL (world, digest, auth, ip and malformed
ACLs, "auth" entries, duplicates), getEphemerals, getAllChildrenNumber, whoAmI, and closing sessions
(whose ephemerals must go) and opening them again, with null and empty data, missing and malformed
paths. Four sessions, three of them digest-authenticated, start on different members and move to
the next member each time they are reopened.

The client is a small jute codec over raw sockets, not kazoo: kazoo hides the reply header's zxid,
flattens multi results (it drops the result type and some results), has no createContainer,
multiRead, getEphemerals, getAllChildrenNumber or whoAmI, and runs its own ping and reconnect
threads, which would make the lockstep harder to keep deterministic.

Lockstep and determinism. One generator, seeded, chooses each step; the step goes to the same
session slot on both systems (both requests sent, then both replies read), and nothing else is in
flight. A read (getData, exists, getChildren, getACL, multiRead, getEphemerals,
getAllChildrenNumber, whoAmI) is preceded by sync on the same session, because a member serves
reads from its own state and may not yet have applied what another member's session wrote; the
sync's reply is compared too. Idle sessions are pinged so that none expires. Watch events are
gathered per session and compared at the end of each of that session's steps: by then the member
has applied every earlier transaction (the sync or the session's own write came after them), and a
server sends a watch event before any later reply on the connection, so the set of events each
side has delivered is fixed. The generator reads only the seed and ZooKeeper's replies (sequential
names it learns, versions), so a run replays with the same --seed.

One allowance is made for ZooKeeper itself: it holds a sync until the member has applied everything
committed before it only on followers; the leader answers a sync at once, possibly before it has
applied the newest commit (CommitProcessor.needCommit: `case sync: return matchSyncs`). When
ZooKeeper's sync reply is behind the newest zxid seen, the session pings until that member has
caught up (catch_up; the run prints how often). Synod's sync gets no such allowance.

What is compared, and how:
  - each reply's error code and body, field by field; children and getEphemerals lists as sorted
    lists (ZooKeeper returns a HashSet's order, Synod sorts); a null buffer is told from an empty one;
  - every Stat field but ctime and mtime (clocks): version, cversion, aversion, dataLength,
    numChildren exactly; ephemeralOwner through the session map below; czxid, mzxid and pzxid
    through the zxid map below;
  - session ids: each system's session id is replaced by the slot and generation that opened it
    ("s2#3"), so that an ephemeralOwner must name the same session on both; 0 as it is (both report
    0 for containers: ZooKeeper stores 0x8000000000000000 but DataNode.copyStat hides it);
  - the connect response (protocol version, negotiated timeout, password length, readOnly byte) and
    the auth replies when a slot opens a session; watch events (type, state, path), each path's in
    order (events_by_path says why not across paths).

zxids. ZooKeeper's zxid is epoch << 32 | counter and Synod's starts at 1 << 32, so absolute values
never match, but both consume exactly one zxid per transaction: every write (failed ones too, as
error transactions), every multi (one for the whole multi), every session create and close, and the
container reaper's deletes; reads, sync, ping and auth consume none. Every reply header carries a
zxid: a write's is its own transaction's, a read's (after the sync) is the newest the member has
applied, which in lockstep is the newest in the cluster. So each exchange gives a pair of zxids, one
per system, that denote the same point of the two histories; the pairs are kept as anchors. Two
checks follow:
  1. zxid advance: for each exchange, each system's header zxid minus its previous anchor (how many
     transactions ran since the previous exchange) must be equal. This is what catches a failed
     write, a multi or a session event that consumes no zxid, or two. A mismatch is reported once
     and the new pair becomes the anchor, so one discrepancy does not make every later step differ.
  2. Stat zxids: a ZooKeeper zxid z is shown as z - base (base: ZooKeeper's zxid when the run
     starts); a Synod zxid s is carried into ZooKeeper's numbering through the nearest anchor at or
     below it, (s - s_anchor) + z_anchor - base. The two must be equal, which says that czxid,
     mzxid and pzxid name the same transaction (every transaction a Stat can name is an exchange of
     this test, so it is an anchor itself or at a known distance from one).
Mapping by order of first appearance was considered and not taken: it cannot see a transaction
that consumes no zxid, which the advance check does.

Containers. Both servers delete an emptied container (one that had children and has none) on a
timer of their own (once a minute), which would make the two histories differ by when it ran. So
after any step that can remove a child (delete, multi, session close), a janitor session (on
member 2, with a digest identity that every ACL this test sets grants ALL) syncs, looks at every
container each system has (as that system's own replies told: a Stat cannot), and deletes each
emptied one itself, on each system where it is emptied, before the next step. A server's own reaper
can still win the race by a few milliseconds (then the janitor's delete fails there, or the
reaper's delete fails after it, each a transaction): the janitor's replies are therefore not
compared, and the zxid advance of the step after a janitor deletion is not checked. The janitor's
deletes become anchors when both succeed. After the last step the janitor reads every node under
/d on both (data, children, Stat, ACL) and compares them.

Not sent, with the reason:
  - createTTL with a mode that is not a TTL mode: ZooKeeper 3.8 takes it through to its data tree,
    where (with a ttl <= 0) EphemeralType.toEphemeralOwner throws and every server of the ensemble
    stops ("Severe unrecoverable error, from thread : CommitProcessor");
  - a TTL mode on a create/create2 inside a multi: ZooKeeper answers the whole multi
    MARSHALLINGERROR (it rebuilds the op as createTTL around a CreateRequest: a ClassCastException);
  - a standalone check (opcode 13): no 3.8 client sends it, and ZooKeeper 3.8 answers it with a
    SetDataResponse around a null Stat;
  - watch=true inside multiRead: the Java client's Op.getData/getChildren always send false;
  - the /zookeeper subtree: Synod leaves out /zookeeper/config on purpose (Curator rewrites its
    connection string from it); /d itself is never deleted nor has its ACL changed;
  - reconfig, SASL, addWatch/removeWatches/checkWatches, setWatches (no reconnects happen).
Every divergence fails the run; the ones this test found when it was written were fixed in Synod
(see the comment above ProtocolError).

Output: the seed first; each divergence with the seed, the step number, the operation and both
replies (the first DIVERGENCES_PRINTED_MAX in full); then a count per operation kind and
`differential: compared N operations, D divergences`. Exit status 1 on any divergence, on a
protocol error (a reply out of order, a timeout after CALL_TIMEOUT_SECONDS, a dropped connection)
or past RUN_SECONDS_MAX.
"""

import argparse
import base64
import bisect
import hashlib
import random
import socket
import struct
import sys
import time

ZOOKEEPER, SYNOD = "zookeeper", "synod"
SIDES = (ZOOKEEPER, SYNOD)

# Bounds. Each exchange waits at most CALL_TIMEOUT_SECONDS for a reply; the operation loop stops
# (and fails) past RUN_SECONDS_MAX, so a stuck server cannot hold CI up. A default run takes 7 to
# 25 s of it. A reply takes milliseconds, but on a starved machine (two cores, load 13) ZooKeeper
# was seen to answer nothing for over 10 s a few times in the first runs of this test: 20 s keeps
# such a machine from failing the run while a server that never answers still does.
CALL_TIMEOUT_SECONDS = 20
RUN_SECONDS_MAX = 150
CONNECT_SECONDS_MAX = 60
SESSION_TIMEOUT_MILLIS = 30_000
# A session not heard from for this long is pinged before the next step: well inside the timeout.
PING_IDLE_SECONDS = 3.0
FRAME_BYTES_MAX = 4 * 1024 * 1024
DIVERGENCES_PRINTED_MAX = 40
DIVERGENCE_CLASSES_PRINTED_MAX = 30
# Sequential names remembered as targets (the oldest are forgotten first).
LEARNED_PATHS_MAX = 40
# Containers nest at most this deep in the namespace below, so the janitor's rounds end.
JANITOR_ROUNDS_MAX = 5
MULTI_OPERATIONS_MAX = 5
# How long ZooKeeper's leader may take to apply a transaction it has committed (catch_up).
CATCH_UP_PINGS_MAX = 200
CATCH_UP_PAUSE_SECONDS = 0.005

# Operation codes (ZooDefs.OpCode).
CREATE, DELETE, EXISTS, GET_DATA, SET_DATA, GET_ACL, SET_ACL, GET_CHILDREN, SYNC = 1, 2, 3, 4, 5, 6, 7, 8, 9
PING, GET_CHILDREN2, CHECK, MULTI, CREATE2, CREATE_CONTAINER, CREATE_TTL, MULTI_READ = 11, 12, 13, 14, 15, 19, 21, 22
AUTH, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER, WHO_AM_I, CLOSE_SESSION, ERROR = 100, 103, 104, 107, -11, -1
OPERATION_NAMES = {
    CREATE: "create", DELETE: "delete", EXISTS: "exists", GET_DATA: "getData", SET_DATA: "setData",
    GET_ACL: "getACL", SET_ACL: "setACL", GET_CHILDREN: "getChildren", SYNC: "sync", PING: "ping",
    GET_CHILDREN2: "getChildren2", CHECK: "check", MULTI: "multi", CREATE2: "create2",
    CREATE_CONTAINER: "createContainer", CREATE_TTL: "createTTL", MULTI_READ: "multiRead", AUTH: "auth",
    GET_EPHEMERALS: "getEphemerals", GET_ALL_CHILDREN_NUMBER: "getAllChildrenNumber", WHO_AM_I: "whoAmI",
    CLOSE_SESSION: "closeSession", ERROR: "error",
}
ERROR_NAMES = {
    0: "OK", -1: "SYSTEMERROR", -2: "RUNTIMEINCONSISTENCY", -3: "DATAINCONSISTENCY", -4: "CONNECTIONLOSS",
    -5: "MARSHALLINGERROR", -6: "UNIMPLEMENTED", -7: "OPERATIONTIMEOUT", -8: "BADARGUMENTS", -12: "UNKNOWNSESSION",
    -100: "APIERROR", -101: "NONODE", -102: "NOAUTH", -103: "BADVERSION", -108: "NOCHILDRENFOREPHEMERALS",
    -110: "NODEEXISTS", -111: "NOTEMPTY", -112: "SESSIONEXPIRED", -114: "INVALIDACL", -115: "AUTHFAILED",
    -118: "SESSIONMOVED", -120: "EPHEMERALONLOCALSESSION", -121: "NOWATCHER", -125: "QUOTAEXCEEDED",
}
EVENT_NAMES = {1: "NodeCreated", 2: "NodeDeleted", 3: "NodeDataChanged", 4: "NodeChildrenChanged"}
WATCHED_READS = (EXISTS, GET_DATA, GET_CHILDREN, GET_CHILDREN2)
READS = WATCHED_READS + (GET_ACL, MULTI_READ, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER, WHO_AM_I)
XID_NOTIFICATION, XID_PING, XID_AUTH = -1, -2, -4

PERMS_READ, PERMS_WRITE, PERMS_CREATE, PERMS_DELETE, PERMS_ADMIN, PERMS_ALL = 1, 2, 4, 8, 16, 31

# The namespace. ROOT is created before the run (and never deleted); the rest come and go.
ROOT = "/d"
PATHS = ["/d/a", "/d/b", "/d/c", "/d/a/x", "/d/a/y", "/d/b/x", "/d/a/x/q", "/d/c/z", "/d/a/y/r"]
# Prefixes for sequential creates ("/d/c/" makes names that are all digits).
SEQUENTIAL_PREFIXES = ["/d/s-", "/d/a/s-", "/d/b/x/e-", "/d/c/"]
# Never created: reads of them are NONODE, writes NONODE or BADARGUMENTS.
MISSING_PATHS = ["/d/nope", "/d/a/x/q/deep/er"]
INVALID_PATHS = ["/d/a/", "/d//a", "d/a", "/d/./a", "/d/a/..", "", "/d/a\x00b"]
EPHEMERAL_PREFIXES = ["", "/", " ", "/d", "/d/a", "/d/a/", "/d/s", "/nothing"]


USERS = {"alice": "alice-secret", "bob": "bob-secret", "janitor": "janitor-secret"}


def digest_id(user):
    """The id a digest ACL names for user:password (DigestAuthenticationProvider)."""
    hashed = base64.b64encode(hashlib.sha1(f"{user}:{USERS[user]}".encode()).digest()).decode()
    return f"{user}:{hashed}"


# Session slots: (name, first member, digest identities). They start on different members; each
# reopening moves a slot to the next member.
SLOTS = [("s0", 0, []), ("s1", 1, ["alice"]), ("s2", 2, ["bob"]), ("s3", 1, ["alice", "bob"])]
JANITOR_MEMBER = 2
JANITOR_ACL = (PERMS_ALL, "digest", digest_id("janitor"))

# Known Synod bugs: where Synod's reply differs from ZooKeeper 3.8's and Synod is the one to change.
# Known Synod divergences: none open. The twelve this test found when it was written (container
# and TTL creates by operation and inside multis, multi result types, null data, malformed paths
# and the order of ZooKeeper's checks, digest id forms, "auth" expansion after de-duplication,
# blank getEphemerals prefixes, READ checks on watch events and getAllChildrenNumber, digest
# masking in getACL) were fixed in Synod; `git log -- Tests/compat/zookeeper/differential.py`.


class ProtocolError(Exception):
    """A reply that breaks the protocol (out of order, undecodable) or never came."""


# MARK: jute

def jute_int(value):
    return struct.pack(">i", value)


def jute_long(value):
    return struct.pack(">q", value)


def jute_bool(value):
    return b"\x01" if value else b"\x00"


def jute_buffer(data):
    return jute_int(-1) if data is None else jute_int(len(data)) + data


def jute_string(text):
    return jute_buffer(None if text is None else text.encode("utf-8"))


def jute_acl(acl):
    return jute_int(len(acl)) + b"".join(jute_int(perms) + jute_string(scheme) + jute_string(ident) for perms, scheme, ident in acl)


class Reader:
    """Reads jute fields from one reply body; every read is length-checked."""

    def __init__(self, data):
        self.data = data
        self.offset = 0

    def take(self, count):
        if count < 0 or self.offset + count > len(self.data):
            raise ProtocolError(f"reply too short: {count} bytes wanted at {self.offset} of {len(self.data)}")
        chunk = self.data[self.offset:self.offset + count]
        self.offset += count
        return chunk

    def int(self):
        return struct.unpack(">i", self.take(4))[0]

    def long(self):
        return struct.unpack(">q", self.take(8))[0]

    def bool(self):
        return self.take(1) != b"\x00"

    def buffer(self):
        length = self.int()
        return None if length == -1 else self.take(length)

    def string(self):
        data = self.buffer()
        return None if data is None else data.decode("utf-8", "backslashreplace")

    def vector(self, item):
        count = self.int()
        return None if count == -1 else [item() for _ in range(count)]

    def strings(self):
        return self.vector(self.string)

    def stat(self):
        names = ("czxid", "mzxid", "ctime", "mtime", "version", "cversion", "aversion", "ephemeralOwner", "dataLength", "numChildren", "pzxid")
        values = struct.unpack(">qqqqiiiqiiq", self.take(68))
        return dict(zip(names, values))

    def acl(self):
        return self.vector(lambda: (self.int(), self.string(), self.string()))

    def remaining(self):
        return len(self.data) - self.offset


def sorted_or_none(names):
    return None if names is None else sorted(names)


def decode_body(operation, reader):
    """A successful reply's body, as plain values (zxids and session ids still raw)."""
    if operation == CREATE:
        return {"path": reader.string()}
    if operation in (CREATE2, CREATE_CONTAINER, CREATE_TTL):
        return {"path": reader.string(), "stat": reader.stat()}
    if operation in (DELETE, CHECK, CLOSE_SESSION, PING, AUTH):
        return {}
    if operation in (EXISTS, SET_DATA, SET_ACL):
        return {"stat": reader.stat()}
    if operation == GET_DATA:
        return {"data": reader.buffer(), "stat": reader.stat()}
    if operation == GET_ACL:
        return {"acl": reader.acl(), "stat": reader.stat()}
    if operation == GET_CHILDREN:
        return {"children": sorted_or_none(reader.strings())}
    if operation == GET_CHILDREN2:
        return {"children": sorted_or_none(reader.strings()), "stat": reader.stat()}
    if operation == SYNC:
        return {"path": reader.string()}
    if operation == GET_EPHEMERALS:
        return {"paths": sorted_or_none(reader.strings())}
    if operation == GET_ALL_CHILDREN_NUMBER:
        return {"number": reader.int()}
    if operation == WHO_AM_I:
        return {"clientInfo": sorted_or_none(reader.vector(lambda: (reader.string(), reader.string())))}
    if operation in (MULTI, MULTI_READ):
        results = []
        for _ in range(MULTI_OPERATIONS_MAX * 4 + 1):
            kind, done, error = reader.int(), reader.bool(), reader.int()
            if done:
                return {"results": results}
            if kind == ERROR:
                results.append({"type": "error", "err": ERROR_NAMES.get(error, error), "errorResponse": reader.int()})
            else:
                results.append({"type": OPERATION_NAMES.get(kind, kind), "err": ERROR_NAMES.get(error, error), **decode_body(kind, reader)})
        raise ProtocolError("a multi reply with more results than operations sent")
    raise ProtocolError(f"no decoder for operation {operation}")


# MARK: connections

class Connection:
    """One session's TCP connection to one server: a blocking jute client, one request at a time,
    gathering the watch events that arrive between replies."""

    def __init__(self, side, address):
        self.side = side
        self.address = address
        self.sock = None
        self.buffer = bytearray()
        self.xid = 0
        self.session_id = 0
        self.password = b""
        self.events = []
        self.last_heard = 0.0

    def open(self, session_id=0, password=b"\x00" * 16):
        """Connects and sends a ConnectRequest (with the readOnly byte); returns the decoded
        ConnectResponse."""
        self.sock = socket.create_connection(self.address, timeout=CALL_TIMEOUT_SECONDS)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        request = jute_int(0) + jute_long(0) + jute_int(SESSION_TIMEOUT_MILLIS) + jute_long(session_id) + jute_buffer(password) + jute_bool(False)
        self.sock.sendall(jute_int(len(request)) + request)
        reader = Reader(self.read_frame())
        response = {"protocolVersion": reader.int(), "timeOut": reader.int()}
        self.session_id = reader.long()
        self.password = reader.buffer() or b""
        response["passwordLength"] = len(self.password)
        response["readOnly"] = reader.bool() if reader.remaining() else "absent"
        self.last_heard = time.monotonic()
        return response

    def read_frame(self, waiting_for="a reply"):
        while True:
            if len(self.buffer) >= 4:
                (length,) = struct.unpack(">i", self.buffer[:4])
                if length < 0 or length > FRAME_BYTES_MAX:
                    raise ProtocolError(f"{self.side}: frame length {length}")
                if len(self.buffer) >= 4 + length:
                    frame = bytes(self.buffer[4:4 + length])
                    del self.buffer[:4 + length]
                    return frame
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                raise ProtocolError(f"{self.side}: no {waiting_for} within {CALL_TIMEOUT_SECONDS} s") from None
            if not chunk:
                raise ProtocolError(f"{self.side}: the server closed the connection")
            self.buffer += chunk

    def send(self, operation, body, xid=None):
        if xid is None:
            self.xid += 1
            xid = self.xid
        packet = jute_int(xid) + jute_int(operation) + body
        self.sock.sendall(jute_int(len(packet)) + packet)
        return xid

    def receive(self, xid, operation):
        """The reply to `xid`: (header zxid, error code, decoded body or None)."""
        while True:
            reader = Reader(self.read_frame(f"reply to {OPERATION_NAMES.get(operation, operation)} (xid {xid})"))
            reply_xid, zxid, error = reader.int(), reader.long(), reader.int()
            self.last_heard = time.monotonic()
            if reply_xid == XID_NOTIFICATION:
                kind, state, path = reader.int(), reader.int(), reader.string()
                self.events.append((EVENT_NAMES.get(kind, kind), state, path))
                continue
            if reply_xid != xid:
                raise ProtocolError(f"{self.side}: reply xid {reply_xid}, expected {xid}")
            body = decode_body(operation, reader) if error == 0 else None
            if reader.remaining():
                body = dict(body or {}, trailingBytes=reader.remaining())
            return zxid, error, body

    def call(self, operation, body, xid=None):
        return self.receive(self.send(operation, body, xid), operation)

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None


class SessionPair:
    """A session slot: one connection to each system, on the same member index."""

    def __init__(self, name, member, users):
        self.name = name
        self.member = member
        self.users = users
        self.generation = 0
        self.connections = None

    @property
    def open(self):
        return self.connections is not None


# MARK: zxid anchors

class ZxidMap:
    """Pairs of header zxids (ZooKeeper's, Synod's) that name the same point of both histories,
    each list non-decreasing; see the module docstring."""

    def __init__(self, zookeeper_base, synod_base):
        self.base = zookeeper_base
        self.anchors = {ZOOKEEPER: [zookeeper_base], SYNOD: [synod_base]}

    def advance(self, side, zxid):
        return zxid - self.anchors[side][-1]

    def add(self, zookeeper_zxid, synod_zxid):
        if zookeeper_zxid < self.anchors[ZOOKEEPER][-1] or synod_zxid < self.anchors[SYNOD][-1]:
            return  # A header that went back is reported by the advance check; it anchors nothing.
        self.anchors[ZOOKEEPER].append(zookeeper_zxid)
        self.anchors[SYNOD].append(synod_zxid)

    def relative(self, side, zxid):
        """A zxid in ZooKeeper's numbering, relative to the run's start, as "+N"."""
        if side == ZOOKEEPER:
            return f"{zxid - self.base:+d}"
        anchors = self.anchors[SYNOD]
        index = max(0, bisect.bisect_right(anchors, zxid) - 1)
        return f"{zxid - anchors[index] + self.anchors[ZOOKEEPER][index] - self.base:+d}"


# MARK: the run

class Differential:
    def __init__(self, arguments):
        self.arguments = arguments
        self.random = random.Random(arguments.seed)
        self.members = {ZOOKEEPER: parse_hosts(arguments.zookeeper), SYNOD: parse_hosts(arguments.synod)}
        self.slots = [SessionPair(name, member, users) for name, member, users in SLOTS]
        self.janitor = None
        self.owner_labels = {ZOOKEEPER: {0: 0}, SYNOD: {0: 0}}
        self.zxids = None
        self.skip_advance_check = False
        # What the generator knows, from ZooKeeper's replies only.
        self.learned_paths = []
        self.versions = {}
        self.acl_versions = {}
        # The containers each system has, as its own replies tell (a Stat does not: both report
        # ephemeralOwner 0 for a container), for the janitor. Dicts used as ordered sets.
        self.containers = {ZOOKEEPER: {}, SYNOD: {}}
        # Results.
        self.compared = 0
        self.steps = 0
        self.divergences = []
        self.counts = {}
        self.divergent_kinds = {}
        self.classes = {}  # divergence class -> (first step, count)
        self.zookeeper_sync_catch_ups = 0

    # MARK: exchanges

    def exchange(self, connections, operation, body, check_advance=True):
        """Sends one request on both connections, then reads both replies. Returns the replies
        made comparable: error name, zxid advance, body with zxids and session ids mapped."""
        xids = {side: connections[side].send(operation, body) for side in SIDES}
        raw = {side: connections[side].receive(xids[side], operation) for side in SIDES}
        if operation == SYNC:
            raw[ZOOKEEPER] = self.catch_up(connections[ZOOKEEPER], raw[ZOOKEEPER])
        if self.arguments.verbose:
            members = ", ".join(f"{side} {connections[side].address[1]} zxid 0x{raw[side][0]:x} err {raw[side][1]}" for side in SIDES)
            print(f"    {OPERATION_NAMES.get(operation, operation)}: {members}", flush=True)
        advances = {side: self.zxids.advance(side, raw[side][0]) for side in SIDES}
        if not check_advance or self.skip_advance_check:
            advances = {side: "not compared" for side in SIDES}
        self.skip_advance_check = False
        self.zxids.add(raw[ZOOKEEPER][0], raw[SYNOD][0])
        replies = {}
        for side in SIDES:
            zxid, error, body_value = raw[side]
            reply = {"err": ERROR_NAMES.get(error, error), "zxidAdvance": advances[side]}
            if body_value is not None:
                reply.update(self.comparable(side, body_value))
            replies[side] = reply
        return replies, raw

    def barrier(self, side, connection):
        """A sync on one system's connection, after which that member has applied every transaction
        so far (on ZooKeeper, with catch_up)."""
        reply = connection.call(SYNC, jute_string(ROOT))
        if side == ZOOKEEPER:
            self.catch_up(connection, reply)

    def catch_up(self, connection, reply):
        """ZooKeeper 3.8 holds a sync until the member has applied what was committed before it only
        on followers (CommitProcessor.needCommit: `case sync: return matchSyncs`, false on the
        leader), so a sync answered by the leader can come before the leader applied the newest
        transaction, and a read after it can be stale. When ZooKeeper's sync reply is behind the
        newest zxid the test has seen, the session pings (no transaction, and its reply carries the
        member's last applied zxid) until that member has caught up, and that zxid stands for the
        sync's. Synod's sync gets no such allowance."""
        zxid, error, body = reply
        newest = self.zxids.anchors[ZOOKEEPER][-1]
        for _ in range(CATCH_UP_PINGS_MAX):
            if zxid >= newest:
                break
            self.zookeeper_sync_catch_ups += 1
            time.sleep(CATCH_UP_PAUSE_SECONDS)
            zxid = connection.call(PING, b"", xid=XID_PING)[0]
        return zxid, error, body

    def comparable(self, side, value):
        """Maps zxids, session ids and times out of a decoded body, recursively."""
        if isinstance(value, list):
            return [self.comparable(side, item) for item in value]
        if not isinstance(value, dict):
            return value
        if "czxid" in value:
            return {
                "czxid": self.zxids.relative(side, value["czxid"]),
                "mzxid": self.zxids.relative(side, value["mzxid"]),
                "pzxid": self.zxids.relative(side, value["pzxid"]),
                "version": value["version"],
                "cversion": value["cversion"],
                "aversion": value["aversion"],
                "ephemeralOwner": self.owner_label(side, value["ephemeralOwner"]),
                "dataLength": value["dataLength"],
                "numChildren": value["numChildren"],
            }
        return {key: self.comparable(side, item) for key, item in value.items()}

    def owner_label(self, side, owner):
        return self.owner_labels[side].get(owner, f"unknown session 0x{owner & 0xFFFFFFFFFFFFFFFF:x}")

    def connect(self, side, member, users, session_label):
        """A new session on one system's member, authenticated as `users`: the connect response
        and the auth replies, comparable."""
        connection = Connection(side, self.members[side][member])
        response = connection.open()
        if connection.session_id == 0:
            raise ProtocolError(f"{side}: member {member} refused a new session: {response}")
        self.owner_labels[side][connection.session_id] = session_label
        for user in users:
            _, error, _ = connection.call(AUTH, jute_int(0) + jute_string("digest") + jute_buffer(f"{user}:{USERS[user]}".encode()), xid=XID_AUTH)
            response[f"auth {user}"] = ERROR_NAMES.get(error, error)
        return connection, response

    def keep_alive(self):
        """Pings every session idle for PING_IDLE_SECONDS (a ping is no transaction; its reply's
        zxid is not used). Watch events that come meanwhile are kept for the session's next step."""
        now = time.monotonic()
        pairs = [slot.connections for slot in self.slots if slot.open] + ([self.janitor] if self.janitor else [])
        for connections in pairs:
            for side in SIDES:
                if now - connections[side].last_heard > PING_IDLE_SECONDS:
                    connections[side].call(PING, b"", xid=XID_PING)

    # MARK: setup

    def set_up(self):
        """Opens the janitor and every slot, makes ROOT on both, and takes the zxid base."""
        deadline = time.monotonic() + CONNECT_SECONDS_MAX

        def connect_when_ready(side, member, users, label):
            # A member answers ruok before it has joined a quorum, and until then it refuses
            # sessions (ZooKeeper closes the connection): retry, bounded.
            while True:
                try:
                    return self.connect(side, member, users, label)[0]
                except (OSError, ProtocolError) as error:
                    if time.monotonic() > deadline:
                        raise ProtocolError(f"{side}: member {member} gave no session within {CONNECT_SECONDS_MAX} s: {error}") from None
                    time.sleep(0.5)

        self.janitor = {side: connect_when_ready(side, JANITOR_MEMBER, ["janitor"], "janitor") for side in SIDES}
        for side in SIDES:
            zxid, error, _ = self.janitor[side].call(SYNC, jute_string("/"))
            if error:
                raise ProtocolError(f"{side}: sync at setup failed with {error}")
            # A rerun against the same clusters: remove what an earlier run left under ROOT.
            self.delete_recursively(self.janitor[side], ROOT)
        for slot in self.slots:
            slot.generation += 1
            slot.connections = {}
            for side in SIDES:
                slot.connections[side] = connect_when_ready(side, slot.member, slot.users, f"{slot.name}#{slot.generation}")
        bases = {}
        for side in SIDES:
            acl = jute_acl([(PERMS_ALL, "world", "anyone"), JANITOR_ACL])
            zxid, error, _ = self.janitor[side].call(CREATE, jute_string(ROOT) + jute_buffer(b"") + acl + jute_int(0))
            if error:
                raise ProtocolError(f"{side}: create {ROOT} failed with {error}")
            bases[side] = zxid
        self.zxids = ZxidMap(bases[ZOOKEEPER], bases[SYNOD])

    def delete_recursively(self, connection, path):
        _, error, body = connection.call(GET_CHILDREN, jute_string(path) + jute_bool(False))
        if error:
            return
        for child in body["children"] or []:
            self.delete_recursively(connection, f"{path}/{child}")
        connection.call(DELETE, jute_string(path) + jute_int(-1))

    # MARK: the generator

    def pick_path(self, writing=True):
        roll = self.random.random()
        if roll < 0.62:
            return self.random.choice(PATHS)
        if roll < 0.85 and self.learned_paths:
            return self.random.choice(self.learned_paths)
        if roll < 0.92:
            return ROOT if not writing else self.random.choice(PATHS)
        if roll < 0.97:
            return self.random.choice(MISSING_PATHS)
        return self.random.choice(INVALID_PATHS)

    def pick_version(self, path, versions):
        roll = self.random.random()
        if roll < 0.45:
            return -1
        if roll < 0.8 and path in versions:
            return versions[path]
        return self.random.choice([0, 1, 2, 5, -2])

    def pick_data(self):
        roll = self.random.random()
        if roll < 0.08:
            return None
        if roll < 0.2:
            return b""
        if roll < 0.9:
            return self.random.choice([b"v", b"value", b"\x00\xff", b"/d/a", b"0123456789"])
        return bytes(self.random.randrange(256) for _ in range(self.random.choice([1, 17, 300, 2000])))

    def pick_acl(self):
        """An ACL list: mostly open; sometimes restrictive (NOAUTH follows), malformed (INVALIDACL)
        or with an "auth" entry (INVALIDACL for a session without a digest identity). Every list
        but the empty one grants the janitor ALL, so that it can always delete containers."""
        roll = self.random.random()
        if roll < 0.55:
            acl = [(PERMS_ALL, "world", "anyone")]
        elif roll < 0.93:
            entries = [
                (PERMS_READ, "world", "anyone"),
                (self.random.choice([PERMS_ALL & ~PERMS_DELETE, PERMS_ALL & ~PERMS_CREATE, PERMS_ALL & ~PERMS_WRITE, PERMS_ALL & ~PERMS_READ, PERMS_ALL & ~PERMS_ADMIN, 0]), "world", "anyone"),
                (PERMS_ALL, "digest", digest_id("alice")),
                (PERMS_READ | PERMS_ADMIN, "digest", digest_id("bob")),
                (PERMS_ALL, "auth", ""),
                (PERMS_READ | PERMS_WRITE, "auth", "ignored"),
                (PERMS_ALL, "ip", "127.0.0.1"),
                (PERMS_ALL, "ip", "10.0.0.0/8"),
                (PERMS_ALL, "world", "anyone"),
            ]
            acl = self.random.sample(entries, self.random.randint(1, 3))
        else:
            acl = [self.random.choice([
                (PERMS_ALL, "world", "nobody"),
                (PERMS_ALL, "digest", "alice"),
                (PERMS_ALL, "digest", "alice:"),
                (PERMS_ALL, "digest", "a:b:c"),
                (PERMS_ALL, "ip", "300.1.1.1"),
                (PERMS_ALL, "ip", "10.0.0.0/33"),
                (PERMS_ALL, "unknownscheme", "x"),
                (PERMS_ALL, "world", "anyone"),
            ])]
            if self.random.random() < 0.3:
                acl.append(acl[0])  # a duplicate entry
            if self.random.random() < 0.15:
                return []
        return acl + [JANITOR_ACL]

    def make_create(self, in_multi=False):
        roll = self.random.random()
        if roll < 0.4:
            operation = CREATE
        elif roll < 0.8:
            operation = CREATE2
        elif roll < 0.95:
            operation = CREATE_CONTAINER
        else:
            operation = CREATE_TTL
        if operation == CREATE_CONTAINER:
            flags = 4 if self.random.random() < 0.9 else self.random.choice([0, 1])
        elif operation == CREATE_TTL:
            # Only the TTL modes: ZooKeeper 3.8 takes createTTL with another mode through to its
            # data tree, which (with a ttl <= 0) throws there and stops every server of the ensemble.
            flags = self.random.choice([5, 6])
        else:
            # The TTL modes inside a multi are not sent: ZooKeeper 3.8 turns such an op into a
            # createTTL op around a CreateRequest and answers the whole multi MARSHALLINGERROR
            # (a ClassCastException inside the server).
            flags = self.random.choice([0, 0, 1, 2, 3] * 6 + ([4, 7, -1] if in_multi else [4, 5, 6, 7, -1]))
        sequential = flags in (2, 3, 6)
        if sequential and self.random.random() < 0.7:
            path = self.random.choice(SEQUENTIAL_PREFIXES)
        else:
            path = self.pick_path()
        ttl = self.random.choice([1000, 0, -1]) if operation == CREATE_TTL else None
        return {"op": operation, "path": path, "data": self.pick_data(), "acl": self.pick_acl(), "flags": flags, "ttl": ttl}

    def make_step(self):
        """One random step: which slot, and what it sends."""
        slot = self.random.randrange(len(self.slots))
        kinds = [
            ("create", 22), ("delete", 11), ("setData", 10), ("getData", 7), ("exists", 6), ("getChildren", 6),
            ("getACL", 3), ("setACL", 4), ("sync", 2), ("multi", 10), ("multiRead", 2), ("getEphemerals", 2),
            ("getAllChildrenNumber", 2), ("whoAmI", 1), ("closeSession", 1.5),
        ]
        kind = self.random.choices([name for name, _ in kinds], [weight for _, weight in kinds])[0]
        if kind == "create":
            request = self.make_create()
        elif kind == "delete":
            path = self.pick_path()
            request = {"op": DELETE, "path": path, "version": self.pick_version(path, self.versions)}
        elif kind == "setData":
            path = self.pick_path(writing=False)
            request = {"op": SET_DATA, "path": path, "data": self.pick_data(), "version": self.pick_version(path, self.versions)}
        elif kind in ("getData", "exists", "getChildren"):
            operation = {"getData": GET_DATA, "exists": EXISTS, "getChildren": self.random.choice([GET_CHILDREN, GET_CHILDREN2])}[kind]
            request = {"op": operation, "path": self.pick_path(writing=False), "watch": self.random.random() < 0.35}
        elif kind == "getACL":
            request = {"op": GET_ACL, "path": self.pick_path(writing=False)}
        elif kind == "setACL":
            path = self.pick_path()
            request = {"op": SET_ACL, "path": path, "acl": self.pick_acl(), "version": self.pick_version(path, self.acl_versions)}
        elif kind == "sync":
            request = {"op": SYNC, "path": self.pick_path(writing=False)}
        elif kind == "multi":
            request = {"op": MULTI, "ops": [self.make_multi_operation() for _ in range(self.random.randint(0, MULTI_OPERATIONS_MAX))]}
        elif kind == "multiRead":
            request = {"op": MULTI_READ, "ops": [
                {"op": self.random.choice([GET_DATA, GET_CHILDREN]), "path": self.pick_path(writing=False), "watch": False}
                for _ in range(self.random.randint(0, 3))
            ]}
        elif kind == "getEphemerals":
            prefix = self.random.choice(EPHEMERAL_PREFIXES)
            request = {"op": GET_EPHEMERALS, "path": prefix}
        elif kind == "getAllChildrenNumber":
            # Never "" or "/": those count the whole tree, and ZooKeeper's has /zookeeper/config,
            # which Synod leaves out on purpose (Curator would rewrite its connection string
            # from it: it is served correctly, with dynamic reconfiguration, or not at all).
            path = self.pick_path(writing=False)
            request = {"op": GET_ALL_CHILDREN_NUMBER, "path": path if path not in ("", "/") else ROOT}
        elif kind == "whoAmI":
            request = {"op": WHO_AM_I}
        else:
            request = {"op": CLOSE_SESSION}
        return slot, request

    def make_multi_operation(self):
        roll = self.random.random()
        if roll < 0.4:
            return self.make_create(in_multi=True)
        path = self.pick_path(writing=roll < 0.85)
        if roll < 0.6:
            return {"op": DELETE, "path": path, "version": self.pick_version(path, self.versions)}
        if roll < 0.8:
            return {"op": SET_DATA, "path": path, "data": self.pick_data(), "version": self.pick_version(path, self.versions)}
        return {"op": CHECK, "path": path, "version": self.pick_version(path, self.versions)}

    def learn(self, request, zookeeper_reply):
        """Sequential names, versions and containers, from ZooKeeper's reply."""
        _, error, body = zookeeper_reply
        if error:
            return
        if request["op"] in (CREATE, CREATE2, CREATE_CONTAINER, CREATE_TTL, MULTI):
            for operation, result in self.request_results(request, body):
                if operation["op"] in (CREATE, CREATE2, CREATE_CONTAINER, CREATE_TTL) and result.get("path") and result["path"] != operation["path"]:
                    self.remember(result["path"])
                if "stat" in result:
                    self.versions[result.get("path", operation["path"])] = result["stat"]["version"]
        if "stat" in body and "path" in request:
            self.versions[request["path"]] = body["stat"]["version"]
            self.acl_versions[request["path"]] = body["stat"]["aversion"]
        if request["op"] in (GET_CHILDREN, GET_CHILDREN2):
            for child in body.get("children") or []:
                if child[-10:].lstrip("-").isdigit():
                    self.remember(f"{request['path']}/{child}")

    def request_results(self, request, body):
        if request["op"] == MULTI:
            return [pair for pair in zip(request["ops"], body.get("results", [])) if pair[1].get("err") == "OK"]
        return [(request, body)]

    def remember(self, path):
        if path not in self.learned_paths:
            self.learned_paths.append(path)
            del self.learned_paths[:-LEARNED_PATHS_MAX]

    # MARK: encoding requests

    @staticmethod
    def encode(request):
        operation = request["op"]
        path = jute_string(request.get("path"))
        if operation in (CREATE, CREATE2, CREATE_CONTAINER, CREATE_TTL):
            body = path + jute_buffer(request["data"]) + jute_acl(request["acl"]) + jute_int(request["flags"])
            return body + (jute_long(request["ttl"]) if operation == CREATE_TTL else b"")
        if operation in (DELETE, CHECK):
            return path + jute_int(request["version"])
        if operation in WATCHED_READS:
            return path + jute_bool(request["watch"])
        if operation == SET_DATA:
            return path + jute_buffer(request["data"]) + jute_int(request["version"])
        if operation == SET_ACL:
            return path + jute_acl(request["acl"]) + jute_int(request["version"])
        if operation in (GET_ACL, SYNC, GET_EPHEMERALS, GET_ALL_CHILDREN_NUMBER):
            return path
        if operation in (WHO_AM_I, CLOSE_SESSION, PING):
            return b""
        if operation in (MULTI, MULTI_READ):
            body = b"".join(jute_int(item["op"]) + jute_bool(False) + jute_int(-1) + Differential.encode(item) for item in request["ops"])
            return body + jute_int(-1) + jute_bool(True) + jute_int(-1)
        raise ValueError(f"cannot encode {request}")

    @staticmethod
    def describe(request):
        name = OPERATION_NAMES[request["op"]]
        if request["op"] in (MULTI, MULTI_READ):
            return f"{name}[" + "; ".join(Differential.describe(item) for item in request["ops"]) + "]"
        fields = [repr(request["path"])] if "path" in request else []
        for key in ("data", "flags", "ttl", "version", "watch", "acl"):
            if key in request and (request[key] is not None or key == "data"):
                value = request[key]
                if key == "data" and value is not None and len(value) > 24:
                    value = f"<{len(value)} bytes>"
                if key == "acl":
                    value = [f"{scheme}:{ident[:12]}:{perms}" for perms, scheme, ident in value]
                fields.append(f"{key}={value}")
        return f"{name}({', '.join(fields)})"

    # MARK: steps

    def run_step(self, number, slot_index, request):
        slot = self.slots[slot_index]
        kind = OPERATION_NAMES[request["op"]]
        compared = []  # (what, zookeeper's, synod's)
        if not slot.open:
            slot.member = (slot.member + 1) % 3
            slot.generation += 1
            slot.connections, responses = {}, {}
            for side in SIDES:
                slot.connections[side], responses[side] = self.connect(side, slot.member, slot.users, f"{slot.name}#{slot.generation}")
            compared.append((f"connect {slot.name}#{slot.generation} on member {slot.member}", responses[ZOOKEEPER], responses[SYNOD]))
        self.keep_alive()
        connections = slot.connections
        if request["op"] in READS:
            replies, _ = self.exchange(connections, SYNC, jute_string(request.get("path") or ROOT))
            compared.append(("sync first", replies[ZOOKEEPER], replies[SYNOD]))
        replies, raw = self.exchange(connections, request["op"], self.encode(request))
        compared.append((self.describe(request), replies[ZOOKEEPER], replies[SYNOD], request))
        events = {side: events_by_path(connections[side].events) for side in SIDES}
        if events[ZOOKEEPER] or events[SYNOD]:
            compared.append(("watch events", events[ZOOKEEPER], events[SYNOD]))
        for side in SIDES:
            connections[side].events = []
        if request["op"] == CLOSE_SESSION:
            for side in SIDES:
                connections[side].close()
            slot.connections = None
        self.learn(request, raw[ZOOKEEPER])
        for side in SIDES:
            self.track_containers(side, request, raw[side])
        self.record(number, slot, kind, compared)
        if request["op"] in (DELETE, MULTI, CLOSE_SESSION) and (self.containers[ZOOKEEPER] or self.containers[SYNOD]):
            self.clean_containers()

    def record(self, number, slot, kind, compared):
        """Compares one step's replies; `compared` holds (what, ZooKeeper's, Synod's[, request])."""
        self.steps += 1
        self.compared += 1
        self.counts[kind] = self.counts.get(kind, 0) + 1
        compared = [(item + (None,))[:4] for item in compared]
        differing = []
        for what, zookeeper, synod, request in compared:
            if zookeeper == synod:
                continue
            differing.append((what, zookeeper, synod))
        if not differing:
            return
        self.divergent_kinds[kind] = self.divergent_kinds.get(kind, 0) + 1
        self.divergences.append((number, slot.name, compared))
        for what, zookeeper, synod in differing:
            name = divergence_class(what, zookeeper, synod)
            first, count = self.classes.get(name, (number, 0))
            self.classes[name] = (first, count + 1)
        if len(self.divergences) <= DIVERGENCES_PRINTED_MAX:
            print(f"DIVERGENCE seed {self.arguments.seed} step {number} session {slot.name}#{slot.generation} (member {slot.member}):", flush=True)
            for what, zookeeper, synod, _ in compared:
                marker = "!=" if zookeeper != synod else "=="
                print(f"    {marker} {what}\n         zookeeper: {zookeeper}\n         synod:     {synod}", flush=True)

    def track_containers(self, side, request, reply):
        """Updates one system's set of containers from its reply to `request`. ZooKeeper 3.8 makes a
        container from a standalone createContainer whatever the mode, and inside a multi from any
        create op whose mode is CONTAINER (it rebuilds multi ops from the mode)."""
        _, error, body = reply
        if error:
            return
        containers = self.containers[side]
        if request["op"] == MULTI:
            pairs = [(operation, result) for operation, result in zip(request["ops"], body.get("results") or []) if result.get("err") == "OK" and result.get("type") != "error"]
        else:
            pairs = [(request, body)]
        for operation, result in pairs:
            if operation["op"] == DELETE:
                containers.pop(operation["path"], None)
            elif operation["op"] in (CREATE, CREATE2, CREATE_CONTAINER, CREATE_TTL):
                made = operation["flags"] == 4 if request["op"] == MULTI else operation["op"] == CREATE_CONTAINER
                if made and result.get("path"):
                    containers[result["path"]] = True

    def clean_containers(self):
        """The janitor: on each system, deletes every emptied container (no children, cversion > 0),
        as that system's reaper would at some later time; see the docstring. Containers nest, so
        this goes round until nothing is emptied."""
        deleted = False
        for _ in range(JANITOR_ROUNDS_MAX):
            emptied = {side: [] for side in SIDES}
            for side in SIDES:
                janitor = self.janitor[side]
                self.barrier(side, janitor)
                for path in sorted(self.containers[side]):
                    _, error, body = janitor.call(EXISTS, jute_string(path) + jute_bool(False))
                    if error:
                        del self.containers[side][path]  # deleted, perhaps by the reaper
                    elif body["stat"]["numChildren"] == 0 and body["stat"]["cversion"] > 0:
                        emptied[side].append(path)
            if not (emptied[ZOOKEEPER] or emptied[SYNOD]):
                break
            deleted = True
            results = {side: {} for side in SIDES}
            for side in SIDES:
                for path in emptied[side]:
                    results[side][path] = self.janitor[side].call(DELETE, jute_string(path) + jute_int(-1))
                    del self.containers[side][path]
            # The same container deleted by the janitor on both is the same point of both histories.
            for path in emptied[ZOOKEEPER]:
                if path in results[SYNOD] and results[ZOOKEEPER][path][1] == 0 and results[SYNOD][path][1] == 0:
                    self.zxids.add(results[ZOOKEEPER][path][0], results[SYNOD][path][0])
        if deleted:
            self.skip_advance_check = True

    def compare_trees(self):
        """After the run: every node under ROOT, read by the janitor after a sync, on both."""
        for side in SIDES:
            self.barrier(side, self.janitor[side])
        pending, nodes, differing = [ROOT], 0, 0
        while pending:
            path = pending.pop()
            readings = {}
            for side in SIDES:
                reading = {}
                for operation in (GET_DATA, GET_CHILDREN2, GET_ACL):
                    body = jute_string(path) + (jute_bool(False) if operation != GET_ACL else b"")
                    _, error, value = self.janitor[side].call(operation, body)
                    reading[OPERATION_NAMES[operation]] = self.comparable(side, value) if error == 0 else ERROR_NAMES.get(error, error)
                readings[side] = reading
            nodes += 1
            if readings[ZOOKEEPER] != readings[SYNOD]:
                differing += 1
                print(f"DIVERGENCE seed {self.arguments.seed} final tree at {path!r}:\n    zookeeper: {readings[ZOOKEEPER]}\n    synod:     {readings[SYNOD]}")
            names = set()
            for side in SIDES:
                children = readings[side]["getChildren2"]
                if isinstance(children, dict):
                    names.update(children["children"] or [])
            pending.extend(f"{path}/{name}" for name in sorted(names))
        return nodes, differing

    def close_all(self):
        for connections in [slot.connections for slot in self.slots if slot.open] + [self.janitor]:
            for side in SIDES:
                try:
                    connections[side].call(CLOSE_SESSION, b"")
                except (OSError, ProtocolError):
                    pass
                connections[side].close()

    def run(self):
        print(f"differential: seed {self.arguments.seed}, {self.arguments.ops} steps; ZooKeeper {self.arguments.zookeeper}, Synod {self.arguments.synod}", flush=True)
        started = time.monotonic()
        failure = None
        current = "setup"
        try:
            self.set_up()
            for number in range(1, self.arguments.ops + 1):
                if time.monotonic() - started > RUN_SECONDS_MAX:
                    failure = f"the run took longer than {RUN_SECONDS_MAX} s; stopped before step {number}"
                    break
                slot, request = self.make_step()
                if self.arguments.verbose:
                    print(f"step {number} {self.slots[slot].name}: {self.describe(request)}", flush=True)
                current = f"step {number} ({self.slots[slot].name}: {self.describe(request)})"
                self.run_step(number, slot, request)
            if failure is None:
                nodes, differing = self.compare_trees()
                print(f"final tree: {nodes} nodes compared, {differing} differ")
                if differing:
                    self.divergences.append(("final tree", "janitor", []))
        except (OSError, ProtocolError) as error:
            failure = f"{current}: {error}"
        finally:
            try:
                self.close_all()
            except Exception:  # noqa: BLE001 - cleanup after a failure must not hide it
                pass
        elapsed = time.monotonic() - started
        if self.zookeeper_sync_catch_ups:
            print(f"    ZooKeeper's leader answered a sync before applying the newest transaction; pinged {self.zookeeper_sync_catch_ups} times until it had")
        for kind in sorted(self.counts):
            print(f"    {kind}: {self.counts[kind]} compared, {self.divergent_kinds.get(kind, 0)} diverged")
        # By first appearance: the first classes are the causes, later ones often their consequences
        # (a node that exists on one side only makes every later step on it differ).
        classes = sorted(self.classes.items(), key=lambda item: item[1])
        for name, (first, count) in classes[:DIVERGENCE_CLASSES_PRINTED_MAX]:
            print(f"FAIL seed {self.arguments.seed}: {name}: {count} times, first at step {first}")
        if len(classes) > DIVERGENCE_CLASSES_PRINTED_MAX:
            print(f"FAIL seed {self.arguments.seed}: and {len(classes) - DIVERGENCE_CLASSES_PRINTED_MAX} more kinds of divergence after step {classes[DIVERGENCE_CLASSES_PRINTED_MAX - 1][1][0]}")
        if failure:
            print(f"FAIL seed {self.arguments.seed}: {failure}")
        print(f"differential: compared {self.compared} operations, {len(self.divergences)} divergences (seed {self.arguments.seed}, {elapsed:.1f} s)")
        return 1 if failure or self.divergences else 0


def events_by_path(events):
    """Watch events as each path's events in order. The order across paths is not compared: one
    transaction can fire events on several paths, and ZooKeeper sends those in an order of its own
    (a closeSession deletes the session's ephemerals in a HashSet's order), which no client can
    rely on; a path's own events keep the order of the transactions that fired them."""
    by_path = {}
    for kind, state, path in events:
        by_path.setdefault(path, []).append((kind, state))
    return dict(sorted(by_path.items()))


def divergence_class(what, zookeeper, synod):
    """A short name for how two replies differ, to count divergences by kind."""
    operation = what.split("(")[0].split("[")[0]
    if not (isinstance(zookeeper, dict) and isinstance(synod, dict)):
        return f"{operation}: differ"
    if zookeeper.get("err") != synod.get("err"):
        return f"{operation}: {zookeeper.get('err')} vs {synod.get('err')}"
    fields = []
    for key in sorted(set(zookeeper) | set(synod)):
        mine, theirs = zookeeper.get(key), synod.get(key)
        if mine == theirs:
            continue
        if isinstance(mine, dict) and isinstance(theirs, dict):
            fields += [f"{key}.{inner}" for inner in sorted(set(mine) | set(theirs)) if mine.get(inner) != theirs.get(inner)]
        elif key == "results" and isinstance(mine, list) and isinstance(theirs, list) and len(mine) == len(theirs):
            for index, (left, right) in enumerate(zip(mine, theirs)):
                if left != right:
                    fields.append(f"results[{index}]:" + divergence_class(str(left.get("type")), left, right).split(": ", 1)[1])
        else:
            fields.append(key)
    return f"{operation}: {', '.join(fields)}"


def parse_hosts(text):
    members = []
    for host_port in text.split(","):
        host, port = host_port.rsplit(":", 1)
        members.append((host, int(port)))
    if len(members) != 3:
        raise SystemExit(f"expected three members, got {text!r}")
    return members


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--synod", required=True, help="the Synod members' ZooKeeper addresses, H:P,H:P,H:P")
    parser.add_argument("--zookeeper", required=True, help="the ZooKeeper servers' client addresses, H:P,H:P,H:P")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--ops", type=int, default=2000, help="steps to run (default 2,000)")
    parser.add_argument("--verbose", action="store_true", help="print every step before it runs")
    arguments = parser.parse_args()
    sys.exit(Differential(arguments).run())


if __name__ == "__main__":
    main()
