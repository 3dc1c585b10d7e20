#!/usr/bin/env python3
"""Sends one malformed request to a member and reports what came back, for bad_requests.sh.

Usage:
  raw_requests.py bytes HOST PORT KIND          raw TCP bytes (KIND below), then read until close
  raw_requests.py grpc-body HOST PORT METHOD HEX a gRPC call whose body is the given bytes
  raw_requests.py oversized-put HOST PORT BYTES a Put through python-etcd3 with a value of BYTES

Prints one line that describes the outcome and exits 0 when the request was refused (the
outcome the caller expects) or 1 when the server accepted it. Nothing here judges whether the
server survived: the caller checks that with a put and a get afterwards.

Every socket operation has a timeout, and reading stops after a bounded number of bytes, so a
server that hangs or floods cannot hang the suite.
"""

import os
import socket
import sys

SOCKET_TIMEOUT_SECONDS = 3
READ_BYTES_MAX = 65536
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def raw_payload(kind):
    """The bytes for one kind of garbage, and whether to half-close the socket after them."""
    if kind == "random":
        return os.urandom(4096), True
    if kind == "http1-get":
        return b"GET /version HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", True
    if kind == "http1-post":
        # What a client of etcd's JSON gateway would send.
        body = b'{"key":"Zm9v"}'
        return (b"POST /v3/kv/range HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Content-Length: %d\r\n\r\n%s" % (len(body), body)), True
    if kind == "preface-truncated":
        return HTTP2_PREFACE[:-3], True
    if kind == "preface-truncated-left-open":
        # The server must not wait on this connection in a way that stops it serving others.
        return HTTP2_PREFACE[:10], False
    if kind == "preface-then-random":
        return HTTP2_PREFACE + os.urandom(2048), True
    if kind == "preface-then-huge-frame":
        # A DATA frame header claiming 16 MiB - 1 bytes on stream 1, then far fewer bytes.
        return HTTP2_PREFACE + b"\xff\xff\xff\x00\x00\x00\x00\x00\x01" + b"a" * 1000, True
    if kind == "preface-then-headers-garbage":
        # A HEADERS frame (type 1, END_HEADERS) whose HPACK block is garbage.
        block = os.urandom(64)
        return HTTP2_PREFACE + len(block).to_bytes(3, "big") + b"\x01\x04\x00\x00\x00\x01" + block, True
    raise SystemExit("unknown kind: %s" % kind)


def send_raw(host, port, kind):
    payload, half_close = raw_payload(kind)
    received = b""
    ending = "closed by server"
    with socket.create_connection((host, port), timeout=SOCKET_TIMEOUT_SECONDS) as connection:
        try:
            connection.sendall(payload)
            if half_close:
                connection.shutdown(socket.SHUT_WR)
            while len(received) < READ_BYTES_MAX:
                chunk = connection.recv(4096)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            ending = "no close within %d s" % SOCKET_TIMEOUT_SECONDS
        except OSError:
            # Reset, broken pipe, or "not connected" when the server closed before our shutdown.
            ending = "reset by server"
    print("%s: sent %d bytes, received %d bytes (%s), %s"
          % (kind, len(payload), len(received), describe(received), ending))
    return 0


def describe(data):
    if data.startswith(b"HTTP/1."):
        return data.split(b"\r\n", 1)[0].decode("latin-1")
    if len(data) >= 9:
        return "HTTP/2 frames, first of type %d" % data[3]
    return "nothing" if not data else "%r" % data[:16]


def send_grpc_body(host, port, method, body_hex):
    import grpc
    with grpc.insecure_channel("%s:%d" % (host, port)) as channel:
        call = channel.unary_unary(method, request_serializer=None, response_deserializer=None)
        try:
            call(bytes.fromhex(body_hex), timeout=5)
        except grpc.RpcError as error:
            print("%s refused: %s %s" % (method, error.code().name, error.details()))
            return 0
    print("%s ACCEPTED a malformed body" % method)
    return 1


def oversized_put(host, port, size_bytes):
    import etcd3
    import grpc
    client = etcd3.client(host=host, port=port, timeout=10)
    try:
        client.put("compat/oversized", b"x" * size_bytes)
    except grpc.RpcError as error:
        print("put of %d bytes refused: %s %s" % (size_bytes, error.code().name, error.details()))
        return 0
    finally:
        client.close()
    print("put of %d bytes ACCEPTED" % size_bytes)
    return 1


def main(argv):
    if len(argv) < 4:
        raise SystemExit(__doc__)
    action, host, port = argv[1], argv[2], int(argv[3])
    if action == "bytes" and len(argv) == 5:
        return send_raw(host, port, argv[4])
    if action == "grpc-body" and len(argv) == 6:
        return send_grpc_body(host, port, argv[4], argv[5])
    if action == "oversized-put" and len(argv) == 5:
        return oversized_put(host, port, int(argv[4]))
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
