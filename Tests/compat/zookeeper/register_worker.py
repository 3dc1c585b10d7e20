#!/usr/bin/env python3
"""Clients, and the checks, of the register test (register.sh) over kazoo, against Synod's or
ZooKeeper's ZooKeeper wire protocol while members are killed and paused.

    register_worker.py setup  HOSTS HISTORY_FILE
    register_worker.py worker HOSTS WORK_DIR CLIENT_ID SEED SECONDS [CAS]
    register_worker.py final  HOSTS HISTORY_FILE
    register_worker.py check  WORK_DIR HEALED_AT_NS HOSTS

HOSTS is host:port per comma, one per member.

`setup` creates the registers /reg/k0../reg/k3, each with a known first value recorded as a put of
client 0, and the parent /seq of the sequential nodes.

`worker` is one client for SECONDS or until SIGTERM. It reads (sync, then get: ZooKeeper's
linearizable read), writes (set without a version) and compare-and-sets (get, then set with the
version read: BadVersion when another write came between) the registers, and creates sequential
nodes under /seq. Every written value is unique in the run ("CLIENT-N"), so a version names exactly
one value and a set-by-version is a compare-and-set by value, which `synod check-history` checks as
"cas". Odd clients hand kazoo every member, in an order of their own, and let it move the session to
another member when a connection drops (the way applications run); even clients hold one member
and, when the connection drops, start a new session on another member. An operation gets at most
OPERATION_TIMEOUT_SECONDS. When one fails in any way but a definite ZooKeeper answer, a client that
holds one member abandons its session and connects to another member; a roaming client leaves the
reconnection to kazoo, unless its session is lost or ROAMING_FAILURES_MAX operations fail in a row. One JSON line per operation in WORK_DIR/history-CLIENT.jsonl
({"client", "op": "put"|"get"|"cas", "key", "value", "invoke", "complete", and for a cas
"expected" and "ok"}): a write whose outcome was not learnt has "complete": null (indeterminate); a
failed read is left out (it had no effect). Each sequential create is one line in
WORK_DIR/sequence-CLIENT.jsonl ({"client", "invoke", "complete", "name", "ephemeral"}), with null
complete and name when its outcome was not learnt. Times come from time.monotonic_ns(), one clock
for every process on the machine. Every line also names the member that answered ("server"; the
checker ignores it), for whoever reads a failure.

`final` reads every register on every member (sync, then get) once the faults are over and appends
those reads to HISTORY_FILE, as client 100 + member index, so the members' final states are part of
the history checked; it exits 1 when a member cannot answer.

`check` checks the sequential names (every acknowledged name unique; a create acknowledged before
another was invoked has the smaller number; every acknowledged persistent node still there, and no
more unacknowledged nodes than creates of unknown outcome) and progress once healed (every register
written, and a sequential node created, by an operation invoked after HEALED_AT_NS). It prints PASS
and FAIL lines and the counts, and exits 1 on any failure.
"""
import collections
import glob
import json
import logging
import os
import random
import signal
import sys
import threading
import time

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError
from kazoo.protocol.states import KazooState

KEYS = ["k0", "k1", "k2", "k3"]
REGISTER_PARENT = "/reg"
SEQUENCE_PARENT = "/seq"
SEQUENCE_PREFIX = "n-"
# Bounds. A session outlives a paused member (the longest pause is 5 s) only if kazoo's ping
# timeout, two thirds of the session timeout, is about that long; an operation gets a little less,
# so that a client stuck behind a paused member gives up and moves on.
SESSION_TIMEOUT_SECONDS = 6.0
OPERATION_TIMEOUT_SECONDS = 4.0
CONNECT_TIMEOUT_SECONDS = 4.0
CONNECT_ATTEMPTS_MAX = 50
# A roaming client whose operations fail this many times in a row starts a new session.
ROAMING_FAILURES_MAX = 3
SETUP_ATTEMPTS_MAX = 20
# The mix of operations; the rest are sequential creates.
READ_SHARE = 0.35
WRITE_SHARE = 0.25
CAS_SHARE = 0.25
# The pause between two operations of a client, on average: it keeps the history small enough
# for the checker (a few thousand operations a run) and leaves the two CPUs of CI some room.
PAUSE_BETWEEN_OPERATIONS_SECONDS = 0.02
# Progress expected once the faults are over.
OPERATIONS_AFTER_HEAL_MIN = 20


def register_path(key):
    return f"{REGISTER_PARENT}/{key}"


def sequence_number(name):
    return int(name[len(SEQUENCE_PREFIX):])


def server_of(client):
    """host:port of the member the client is connected to (kazoo keeps it private), or None."""
    try:
        return "%s:%d" % client._connection._socket.getpeername()[:2]
    except Exception:
        return None


def abandon(client):
    """Stops a kazoo client in the background: a close sent to a paused member would otherwise
    hold the worker for a session timeout."""
    def stop():
        try:
            client.stop()
            client.close()
        except Exception:
            pass
    threading.Thread(target=stop, daemon=True).start()


def connect(members, rng, roaming, avoid=None):
    """A started client and the hosts it was given, or (None, avoid) after CONNECT_ATTEMPTS_MAX
    attempts or a stop request."""
    for _ in range(CONNECT_ATTEMPTS_MAX):
        if stopping:
            return None
        if roaming:
            hosts = ",".join(rng.sample(members, len(members)))
        else:
            hosts = rng.choice([m for m in members if m != avoid] or members)
        client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_SECONDS, randomize_hosts=False,
                             connection_retry={"max_tries": -1, "delay": 0.1, "max_delay": 1.0})
        try:
            client.start(timeout=CONNECT_TIMEOUT_SECONDS)
            return client, hosts
        except Exception:
            abandon(client)
            avoid = hosts
            time.sleep(0.2)
    return None, avoid


stopping = []


def run_worker(members, work_dir, client_id, seed, seconds, cas_enabled):
    rng = random.Random(f"{seed}/{client_id}")
    roaming = client_id % 2 == 1
    stop_at = time.monotonic() + seconds
    # SIGTERM ends the loop after the operation in hand, so no line is left half written.
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    sequence = 0
    client = None
    member = None
    history = open(os.path.join(work_dir, f"history-{client_id}.jsonl"), "a")
    creates = open(os.path.join(work_dir, f"sequence-{client_id}.jsonl"), "a")

    def record(out, line):
        # The member that answered, for whoever reads a failure (check-history ignores the field).
        line["server"] = server_of(client)
        out.write(json.dumps(line) + "\n")
        out.flush()

    while time.monotonic() < stop_at and not stopping:
        if client is None:
            client, member = connect(members, rng, roaming, avoid=member)
            failures_in_a_row = 0
            if client is None:
                continue
        time.sleep(rng.uniform(0, 2 * PAUSE_BETWEEN_OPERATIONS_SECONDS))
        sequence += 1
        key = rng.choice(KEYS)
        path = register_path(key)
        draw = rng.random()
        if not cas_enabled and READ_SHARE + WRITE_SHARE <= draw < READ_SHARE + WRITE_SHARE + CAS_SHARE:
            draw -= CAS_SHARE
        healthy = True
        if draw < READ_SHARE:
            invoke = time.monotonic_ns()
            try:
                client.sync_async(path).get(timeout=OPERATION_TIMEOUT_SECONDS)
                data, _ = client.get_async(path).get(timeout=OPERATION_TIMEOUT_SECONDS)
                record(history, {"client": client_id, "op": "get", "key": key, "value": data.decode(),
                                 "invoke": invoke, "complete": time.monotonic_ns()})
            except Exception:
                healthy = False
        elif draw < READ_SHARE + WRITE_SHARE:
            value = f"{client_id}-{sequence}"
            invoke = time.monotonic_ns()
            try:
                client.set_async(path, value.encode()).get(timeout=OPERATION_TIMEOUT_SECONDS)
                complete = time.monotonic_ns()
            except Exception:
                complete = None
                healthy = False
            record(history, {"client": client_id, "op": "put", "key": key, "value": value,
                             "invoke": invoke, "complete": complete})
        elif draw < READ_SHARE + WRITE_SHARE + CAS_SHARE:
            try:
                data, stat = client.get_async(path).get(timeout=OPERATION_TIMEOUT_SECONDS)
            except Exception:
                healthy = False
            else:
                value = f"{client_id}-{sequence}"
                invoke = time.monotonic_ns()
                line = {"client": client_id, "op": "cas", "key": key, "value": value, "expected": data.decode(),
                        "invoke": invoke}
                try:
                    client.set_async(path, value.encode(), version=stat.version).get(timeout=OPERATION_TIMEOUT_SECONDS)
                    line.update(complete=time.monotonic_ns(), ok=True)
                except BadVersionError:
                    line.update(complete=time.monotonic_ns(), ok=False)
                except Exception:
                    line.update(complete=None)
                    healthy = False
                record(history, line)
        else:
            ephemeral = rng.random() < 0.5
            invoke = time.monotonic_ns()
            try:
                created = client.create_async(f"{SEQUENCE_PARENT}/{SEQUENCE_PREFIX}", b"", ephemeral=ephemeral,
                                              sequence=True).get(timeout=OPERATION_TIMEOUT_SECONDS)
                line = {"complete": time.monotonic_ns(), "name": created.rsplit("/", 1)[1]}
            except Exception:
                line = {"complete": None, "name": None}
                healthy = False
            record(creates, {"client": client_id, "invoke": invoke, "ephemeral": ephemeral, **line})
        # A client that holds one member moves to another at once; one that roams lets kazoo move its
        # session, unless the session is gone or keeps failing.
        failures_in_a_row = 0 if healthy else failures_in_a_row + 1
        if not healthy and (not roaming or failures_in_a_row >= ROAMING_FAILURES_MAX or client.state == KazooState.LOST):
            abandon(client)
            client = None
    if client is not None:
        abandon(client)
        time.sleep(0.5)


def run_setup(hosts, history_file):
    client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_SECONDS)
    client.start(timeout=30)
    for parent in (REGISTER_PARENT, SEQUENCE_PARENT):
        try:
            client.create(parent)
        except NodeExistsError:
            pass
    with open(history_file, "a") as out:
        for key in KEYS:
            value = f"initial-{key}"
            invoke = time.monotonic_ns()
            # A create that went through before its connection dropped is found on the retry.
            for _ in range(SETUP_ATTEMPTS_MAX):
                try:
                    client.create(register_path(key), value.encode())
                    break
                except NodeExistsError:
                    break
                except Exception:
                    time.sleep(0.5)
            data, _ = client.get(register_path(key))
            if data.decode() != value:
                raise SystemExit(f"setup: {key} holds {data!r}, not {value!r}")
            out.write(json.dumps({"client": 0, "op": "put", "key": key, "value": value, "invoke": invoke,
                                  "complete": time.monotonic_ns()}) + "\n")
    client.stop()
    client.close()


def run_final(hosts, history_file):
    status = 0
    with open(history_file, "a") as out:
        for index, member in enumerate(hosts.split(",")):
            client = KazooClient(hosts=member, timeout=SESSION_TIMEOUT_SECONDS)
            try:
                client.start(timeout=15)
                for key in KEYS:
                    invoke = time.monotonic_ns()
                    client.sync(register_path(key))
                    data, _ = client.get(register_path(key))
                    out.write(json.dumps({"client": 100 + index, "op": "get", "key": key, "value": data.decode(),
                                          "invoke": invoke, "complete": time.monotonic_ns()}) + "\n")
                print(f"PASS member {index} ({member}) answers a read of every register after the faults")
            except Exception as error:
                print(f"FAIL member {index} ({member}) answers a read of every register after the faults: {error!r}")
                status = 1
            finally:
                abandon(client)
    time.sleep(0.5)
    return status


def read_lines(pattern):
    lines = []
    for path in sorted(glob.glob(pattern)):
        with open(path) as handle:
            lines.extend(json.loads(raw) for raw in handle if raw.strip())
    return lines


def run_check(work_dir, healed_at, hosts):
    failures = 0

    def check(name, condition, detail=""):
        nonlocal failures
        print(("PASS " if condition else "FAIL ") + name + ("" if condition or not detail else f": {detail}"))
        failures += 0 if condition else 1

    creates = read_lines(os.path.join(work_dir, "sequence-*.jsonl"))
    acknowledged = [c for c in creates if c["complete"] is not None]
    unknown = len(creates) - len(acknowledged)
    names = [c["name"] for c in acknowledged]
    duplicates = sorted(name for name, count in collections.Counter(names).items() if count > 1)
    check(f"sequential names are unique ({len(acknowledged)} acknowledged, {unknown} of unknown outcome)",
          not duplicates, f"duplicates: {duplicates[:10]} " + str([c for c in acknowledged if c["name"] in duplicates[:3]]))

    # A create acknowledged before another was invoked must have the smaller number: sweep the
    # creates by invocation, keeping the largest number among those already acknowledged.
    by_complete = sorted(acknowledged, key=lambda c: c["complete"])
    by_invoke = sorted(acknowledged, key=lambda c: c["invoke"])
    largest, largest_create, position, disorder = -1, None, 0, []
    for create in by_invoke:
        while position < len(by_complete) and by_complete[position]["complete"] < create["invoke"]:
            if sequence_number(by_complete[position]["name"]) > largest:
                largest, largest_create = sequence_number(by_complete[position]["name"]), by_complete[position]
            position += 1
        if largest >= sequence_number(create["name"]):
            disorder.append((largest_create, create))
    check("sequential numbers follow real time (a create acknowledged before another began has the smaller number)",
          not disorder, f"{len(disorder)} out of order, first: {disorder[:1]}")

    # Persistent nodes acknowledged must survive kills; ephemerals went with their sessions.
    client = KazooClient(hosts=hosts, timeout=SESSION_TIMEOUT_SECONDS)
    try:
        client.start(timeout=15)
        client.sync(SEQUENCE_PARENT)
        present = set(client.get_children(SEQUENCE_PARENT))
        persistent = {c["name"] for c in acknowledged if not c["ephemeral"]}
        missing = sorted(persistent - present)
        check(f"every acknowledged persistent sequential node is there ({len(persistent)})", not missing,
              f"{len(missing)} missing: {missing[:10]}")
        unexplained = present - set(names)
        check("no more unacknowledged sequential nodes than creates of unknown outcome",
              len(unexplained) <= unknown, f"{len(unexplained)} unacknowledged nodes, {unknown} creates of unknown outcome")
    except Exception as error:
        check("the sequential nodes can be listed after the faults", False, repr(error))
    finally:
        abandon(client)

    # The workers' operations: client 0 wrote the first values, clients 100 and up are the final reads.
    history = [h for h in read_lines(os.path.join(work_dir, "history-*.jsonl")) if 0 < h["client"] < 100]
    after = [h for h in history if h["invoke"] >= healed_at and h["complete"] is not None]
    written = {h["key"] for h in after if h["op"] == "put" or (h["op"] == "cas" and h.get("ok"))}
    created_after = [c for c in acknowledged if c["invoke"] >= healed_at]
    check(f"progress once healed: every register written, a sequential node created, at least "
          f"{OPERATIONS_AFTER_HEAL_MIN} operations ({len(after) + len(created_after)} done)",
          written == set(KEYS) and created_after and len(after) + len(created_after) >= OPERATIONS_AFTER_HEAL_MIN,
          f"registers written: {sorted(written)}, sequential creates: {len(created_after)}")

    operations = {op: sum(1 for h in history if h["op"] == op) for op in ("get", "put", "cas")}
    indeterminate = sum(1 for h in history if h["complete"] is None)
    cas_failed = sum(1 for h in history if h["op"] == "cas" and h.get("ok") is False)
    print(f"counts: {len(history)} register operations (get {operations['get']}, put {operations['put']}, "
          f"cas {operations['cas']} of which {cas_failed} refused), {indeterminate} indeterminate; "
          f"{len(creates)} sequential creates, {unknown} indeterminate")
    time.sleep(0.5)
    return 1 if failures else 0


def main():
    logging.basicConfig(level=logging.ERROR)
    command = sys.argv[1]
    if command == "setup":
        run_setup(sys.argv[2], sys.argv[3])
    elif command == "worker":
        cas_enabled = len(sys.argv) <= 7 or sys.argv[7] != "0"
        run_worker(sys.argv[2].split(","), sys.argv[3], int(sys.argv[4]), sys.argv[5], float(sys.argv[6]), cas_enabled)
    elif command == "final":
        sys.exit(run_final(sys.argv[2], sys.argv[3]))
    elif command == "check":
        sys.exit(run_check(sys.argv[2], int(sys.argv[3]), sys.argv[4]))
    else:
        raise SystemExit(f"unknown command {command}")


if __name__ == "__main__":
    main()
