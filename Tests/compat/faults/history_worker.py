#!/usr/bin/env python3
"""One client of a recorded key-value history against a live cluster whose members change.

    history_worker.py ENDPOINTS_FILE HISTORY_FILE CLIENT_ID SECONDS

Alternates puts (unique values) and linearizable gets on four shared keys for SECONDS, through
python-etcd3, moving to another endpoint (re-read from ENDPOINTS_FILE, host:port per comma) after
any failure. Each operation is one JSON line for `synod check-history`: a put whose outcome was not
learnt has "complete": null (indeterminate); a failed get is left out (it had no effect). Times are
from one monotonic clock shared by the workers of one machine.
"""
import json
import random
import signal
import sys
import time

import etcd3

KEYS = ["k0", "k1", "k2", "k3"]


def endpoints(path):
    with open(path) as handle:
        return [e for e in handle.read().strip().split(",") if e]


def main():
    endpoints_file, history_file, client_id, seconds = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    rng = random.Random(client_id)
    stop_at = time.monotonic() + seconds
    stopping = []
    # SIGTERM ends the loop after the operation in hand, so no line is left half written.
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    sequence = 0
    client = None
    with open(history_file, "a") as out:
        while time.monotonic() < stop_at and not stopping:
            if client is None:
                choices = endpoints(endpoints_file)
                host, port = rng.choice(choices).split(":")
                client = etcd3.client(host=host, port=int(port), timeout=3)
            sequence += 1
            key = rng.choice(KEYS)
            invoke = time.monotonic_ns()
            if rng.random() < 0.5:
                value = f"c{client_id}-{sequence}"
                try:
                    client.put(key, value)
                    record = {"complete": time.monotonic_ns()}
                except Exception:
                    record = {"complete": None}
                    client = None
                out.write(json.dumps({"client": client_id, "op": "put", "key": key, "value": value, "invoke": invoke, **record}) + "\n")
            else:
                try:
                    got, _ = client.get(key)
                    complete = time.monotonic_ns()
                    out.write(json.dumps({"client": client_id, "op": "get", "key": key,
                                          "value": None if got is None else got.decode(), "invoke": invoke, "complete": complete}) + "\n")
                except Exception:
                    client = None
            out.flush()


if __name__ == "__main__":
    main()
