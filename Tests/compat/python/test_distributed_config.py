#!/usr/bin/env python3
"""The seed's etcd3 DistributedConfig example, unchanged, against a Synod member.

Usage: python3 Tests/compat/python/test_distributed_config.py ENDPOINT_HOST ENDPOINT_PORT

The seed's class connects to localhost:2379 whatever endpoints it is given. Port 2379 may belong
to another cluster on a shared machine, so while the class is constructed this test replaces
etcd3.client with one that records the address the class asked for and connects to
ENDPOINT_HOST:ENDPOINT_PORT instead, with a deadline on every call so that a hung server fails the
check instead of hanging the suite. The class itself is imported from seed_distributed_config.py,
a byte-for-byte copy of the seed.
"""

import os
import sys
import threading
import uuid

import etcd3
import etcd3.events

from compat_checks import Checks, expect_equal, wait_until
import seed_distributed_config

CALL_TIMEOUT_SECONDS = 10
WATCH_EVENT_TIMEOUT_SECONDS = 10
SEED_FILE_NAME = "000_3a6b90aa9e443795.txt"
VERBATIM_MARKER = "# --- verbatim from the seed below this line ---\n"


def seed_file_path():
    """The seed document, if this checkout has it beside it (CI lays shared/ next to the clone)."""
    here = os.path.dirname(os.path.abspath(__file__))
    candidates = [
        os.environ.get("COMPAT_SEED_FILE", ""),
        os.path.join(here, "..", "..", "..", "..", "shared", "seed", SEED_FILE_NAME),
        os.path.join("/work/shared/seed", SEED_FILE_NAME),
    ]
    return next((path for path in candidates if path and os.path.isfile(path)), None)


def check_copy_matches_seed():
    path = seed_file_path()
    if path is None:
        print("    (seed document not found; set COMPAT_SEED_FILE to compare the copy with it)")
        return
    seed = open(path, encoding="utf-8").read()
    start = seed.index("# Example: Using etcd for distributed configuration")
    seed_block = seed[start:seed.index("```", start)]
    copy = open(seed_distributed_config.__file__, encoding="utf-8").read()
    copy_block = copy[copy.index(VERBATIM_MARKER) + len(VERBATIM_MARKER):]
    expect_equal(seed_block, copy_block, "seed_distributed_config.py differs from " + path)


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    endpoint_host, endpoint_port = argv[1], int(argv[2])
    checks = Checks("python-distributed-config")
    checks.check("seed_distributed_config.py is the seed's code byte for byte", check_copy_matches_seed)

    requested_addresses = []
    real_client = etcd3.client

    def redirected_client(host="localhost", port=2379, **options):
        requested_addresses.append((host, port))
        return real_client(host=endpoint_host, port=endpoint_port, timeout=CALL_TIMEOUT_SECONDS, **options)

    etcd3.client = redirected_client
    try:
        config = seed_distributed_config.DistributedConfig(["http://%s:%d" % (endpoint_host, endpoint_port)])
    finally:
        etcd3.client = real_client
    checks.check("the seed's constructor asks for localhost:2379 (its endpoints argument is unused)",
                 lambda: expect_equal([("localhost", 2379)], requested_addresses))

    prefix = "compat/config/%s/" % uuid.uuid4().hex
    key = prefix + "feature-flag"

    def put_then_get():
        response = config.put_config(key, "on")
        if response.header.revision <= 0:
            raise AssertionError("put_config returned no revision: %r" % response)
        expect_equal("on", config.get_config(key))

    checks.check("put_config then get_config returns the value as str", put_then_get)
    checks.check("get_config of a missing key returns None",
                 lambda: expect_equal(None, config.get_config(prefix + "missing")))

    def utf8_round_trip():
        config.put_config(key + "-utf8", "grüße ✓")
        expect_equal("grüße ✓", config.get_config(key + "-utf8"))

    checks.check("put_config and get_config round-trip UTF-8", utf8_round_trip)

    # watch_config blocks forever in its loop, so it runs in a daemon thread and reports through its
    # callback. Until the watch is in place a put can be missed, so the test writes ready-N values
    # until one arrives, then writes the values under test.
    closing_channel = threading.Event()
    watched_key = prefix + "watched"
    received = []
    received_lock = threading.Lock()

    def callback(event):
        with received_lock:
            received.append(event)

    watcher = threading.Thread(target=config.watch_config, args=(watched_key, callback), daemon=True)
    watcher.start()
    writer = etcd3.client(host=endpoint_host, port=endpoint_port, timeout=CALL_TIMEOUT_SECONDS)

    def values_received():
        with received_lock:
            return [event.value.decode() for event in received if isinstance(event, etcd3.events.PutEvent)]

    def watch_fires():
        ready_attempts_max = 20
        for attempt in range(1, ready_attempts_max + 1):
            writer.put(watched_key, "ready-%d" % attempt)
            try:
                wait_until("ready-%d" % attempt, 0.6, lambda: ("ready-%d" % attempt) in values_received())
                return
            except AssertionError:
                continue
        raise AssertionError("watch_config's callback never fired in %d puts" % ready_attempts_max)

    checks.check("watch_config fires its callback for a put", watch_fires)

    def watch_sees_changes_in_order():
        with received_lock:
            received.clear()
        writer.put(watched_key, "v1")
        writer.put(prefix + "unwatched", "x")
        writer.delete(watched_key)
        writer.put(watched_key, "v2")
        wait_until("the v2 event", WATCH_EVENT_TIMEOUT_SECONDS, lambda: "v2" in values_received())
        with received_lock:
            summary = [(type(event).__name__, event.key.decode(), event.value.decode()) for event in received]
        expect_equal([("PutEvent", watched_key, "v1"), ("DeleteEvent", watched_key, ""),
                      ("PutEvent", watched_key, "v2")], summary)

    checks.check("watch_config delivers put, delete, put of its key in order, and nothing else",
                 watch_sees_changes_in_order)

    writer.delete_prefix(prefix)
    writer.close()
    # The seed keeps the watch's cancel function to itself, so closing the client is the only way
    # to end watch_config's loop. Its thread and python-etcd3's watcher thread then raise on the
    # closed channel, which is expected here and not worth a traceback in the suite's output.
    default_excepthook = threading.excepthook
    threading.excepthook = lambda arguments: None if closing_channel.is_set() else default_excepthook(arguments)
    closing_channel.set()
    config.etcd.close()
    watcher.join(timeout=5)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
