#!/usr/bin/env python3
"""Transactions and leases through python-etcd3 0.12 against a Synod member.

Usage: python3 Tests/compat/python/test_txn_and_leases.py ENDPOINT_HOST ENDPOINT_PORT

Expected values are etcd 3.4's: --max-txn-ops 128, the minimum lease TTL of 2 s that follows from
the default 100 ms heartbeat and 1000 ms election timeout, TTL -1 for a revoked lease.
"""

import sys
import time
import uuid

import etcd3
import grpc

from compat_checks import Checks, expect_equal, wait_until

CALL_TIMEOUT_SECONDS = 10
TXN_OPERATIONS_MAX = 128  # etcd's default --max-txn-ops
LEASE_TTL_MIN_SECONDS = 2
LEASE_EXPIRY_WAIT_SECONDS = 15


def expect_rpc_error(code, details, function):
    try:
        function()
    except grpc.RpcError as error:
        expect_equal((code, details), (error.code(), error.details()))
        return
    raise AssertionError("expected %s %r, the call succeeded" % (code.name, details))


def main(argv):
    if len(argv) != 3:
        raise SystemExit(__doc__)
    client = etcd3.client(host=argv[1], port=int(argv[2]), timeout=CALL_TIMEOUT_SECONDS)
    checks = Checks("python-txn-and-leases")
    prefix = "compat/python/%s/" % uuid.uuid4().hex

    def too_many_operations():
        operations = [client.transactions.put(prefix + "txn/%d" % i, "v") for i in range(TXN_OPERATIONS_MAX + 1)]
        expect_rpc_error(grpc.StatusCode.INVALID_ARGUMENT, "etcdserver: too many operations in txn request",
                         lambda: client.transaction(compare=[], success=operations, failure=[]))
        expect_equal([], list(client.get_prefix(prefix + "txn/")), "keys written by the refused txn")

    checks.check("txn with 129 operations: INVALID_ARGUMENT too many operations, nothing applied",
                 too_many_operations)

    def most_operations():
        operations = [client.transactions.put(prefix + "txn/%d" % i, "v") for i in range(TXN_OPERATIONS_MAX)]
        succeeded, responses = client.transaction(compare=[], success=operations, failure=[])
        expect_equal((True, TXN_OPERATIONS_MAX), (succeeded, len(responses)))
        expect_equal(TXN_OPERATIONS_MAX, len(list(client.get_prefix(prefix + "txn/"))))

    checks.check("txn with 128 operations succeeds and applies all", most_operations)

    def compare_branches():
        key = prefix + "branch"
        client.put(key, "v1")
        succeeded, responses = client.transaction(
            compare=[client.transactions.value(key) == "v1", client.transactions.version(key) == 1],
            success=[client.transactions.put(key, "v2")],
            failure=[client.transactions.get(key)])
        expect_equal(True, succeeded, "first txn succeeded")
        succeeded, responses = client.transaction(
            compare=[client.transactions.value(key) == "v1"],
            success=[client.transactions.put(key, "never")],
            failure=[client.transactions.get(key)])
        expect_equal(False, succeeded, "second txn succeeded")
        expect_equal([b"v2"], [value for value, _ in responses[0]])

    checks.check("txn compares on value and version take the right branch", compare_branches)

    def grant_refresh_ttl_revoke():
        lease = client.lease(10)
        expect_equal((10, 10), (lease.ttl, lease.granted_ttl), "ttl, granted_ttl")
        if lease.id <= 0:
            raise AssertionError("lease id %r" % lease.id)
        client.put(prefix + "leased", "v", lease=lease)
        expect_equal([(prefix + "leased").encode()], lease.keys)
        remaining = lease.remaining_ttl
        if not 1 <= remaining <= 10:
            raise AssertionError("remaining_ttl %r not within 1..10" % remaining)
        expect_equal([10], [response.TTL for response in lease.refresh()], "refresh TTL")
        lease.revoke()
        expect_equal(-1, lease.remaining_ttl, "remaining_ttl after revoke")
        expect_equal((None, None), client.get(prefix + "leased"), "leased key after revoke")
        # etcd answers a keep-alive for an unknown lease with TTL 0, not an error.
        expect_equal([0], [response.TTL for response in lease.refresh()], "refresh TTL after revoke")

    checks.check("lease grant, put with lease, keys, remaining, refresh, revoke", grant_refresh_ttl_revoke)
    checks.check("lease TTL below the minimum is raised to 2 s",
                 lambda: expect_equal(LEASE_TTL_MIN_SECONDS, client.lease(1).ttl))

    def put_with_unknown_lease():
        expect_rpc_error(grpc.StatusCode.NOT_FOUND, "etcdserver: requested lease not found",
                         lambda: client.put(prefix + "orphan", "v", lease=0x1234ABCD))

    checks.check("put with an unknown lease: NOT_FOUND requested lease not found", put_with_unknown_lease)

    def lease_expiry():
        lease = client.lease(LEASE_TTL_MIN_SECONDS)
        client.put(prefix + "expiring", "v", lease=lease)
        granted_at = time.monotonic()
        expect_equal(b"v", client.get(prefix + "expiring")[0], "value right after the put")
        wait_until("the leased key to expire", LEASE_EXPIRY_WAIT_SECONDS,
                   lambda: client.get(prefix + "expiring") == (None, None))
        elapsed = time.monotonic() - granted_at
        if elapsed < 1.0:
            raise AssertionError("key expired after %.1f s, before its 2 s TTL" % elapsed)
        expect_equal(-1, lease.remaining_ttl, "remaining_ttl after expiry")

    checks.check("a key on a 2 s lease expires", lease_expiry)

    client.delete_prefix(prefix)
    client.close()
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
