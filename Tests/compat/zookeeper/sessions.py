#!/usr/bin/env python3
"""Sessions on the wire, with a raw-socket client (kazoo hides the handshake): a session created on
one member resumes on another with its id and password and keeps its ephemeral node; a wrong
password gets ZooKeeper's zero reply; a session nobody keeps alive expires, and its ephemeral is
deleted everywhere. Usage: sessions.py HOST:PORT,HOST:PORT,..."""
import socket
import struct
import sys
import time

from kazoo.client import KazooClient

members = [(h.split(":")[0], int(h.split(":")[1])) for h in sys.argv[1].split(",")]
passed = failed = 0


def check(name, condition, detail=""):
    global passed, failed
    passed, failed = (passed + 1, failed) if condition else (passed, failed + 1)
    print(("PASS " if condition else "FAIL ") + name + ("" if condition else f" {detail}"))


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def read_frame(sock):
    def exactly(count):
        data = b""
        while len(data) < count:
            chunk = sock.recv(count - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data
    (length,) = struct.unpack(">i", exactly(4))
    return exactly(length)


def connect(member, session=0, password=b"\0" * 16, timeout_ms=4000):
    sock = socket.create_connection(member, timeout=10)
    request = struct.pack(">iqiq", 0, 0, timeout_ms, session) + struct.pack(">i", len(password)) + password + b"\0"
    sock.sendall(frame(request))
    reply = read_frame(sock)
    _, negotiated, session_id = struct.unpack(">iiq", reply[:16])
    (plen,) = struct.unpack(">i", reply[16:20])
    return sock, negotiated, session_id, reply[20:20 + plen]


def create_raw(sock, path, flags, xid=1, ttl=None):
    """A create (op 1), or a createTTL (op 21) when a TTL is given; the reply's error code."""
    body = struct.pack(">i", len(path)) + path.encode() + struct.pack(">i", 0)
    body += struct.pack(">i", 1) + struct.pack(">i", 31) + struct.pack(">i", 5) + b"world" + struct.pack(">i", 6) + b"anyone"
    body += struct.pack(">i", flags)
    if ttl is not None:
        body += struct.pack(">q", ttl)
    sock.sendall(frame(struct.pack(">ii", xid, 1 if ttl is None else 21) + body))
    reply = read_frame(sock)
    return struct.unpack(">iqi", reply[:16])[2]


def create_ephemeral(sock, path, xid=1):
    return create_raw(sock, path, 1, xid)  # EPHEMERAL


def four_letter(member, word):
    with socket.create_connection(member, timeout=10) as probe:
        probe.sendall(word.encode())
        answer = b""
        while chunk := probe.recv(65536):
            answer += chunk
    return answer.decode()


def who_am_i(sock, xid):
    """whoAmI (op 107): the (scheme, user) pairs the server holds for this connection."""
    sock.sendall(frame(struct.pack(">ii", xid, 107)))
    reply = read_frame(sock)
    (count,) = struct.unpack(">i", reply[16:20])
    offset, infos = 20, []
    for _ in range(count):
        pair = []
        for _ in range(2):
            (length,) = struct.unpack(">i", reply[offset:offset + 4])
            pair.append(reply[offset + 4:offset + 4 + length].decode())
            offset += 4 + length
        infos.append(tuple(pair))
    return infos


observer = KazooClient(hosts=sys.argv[1])
observer.start(timeout=20)
observer.ensure_path("/sessions")
observer.set("/sessions", b"")  # observers' zxid moves on

sock, negotiated, session, password = connect(members[0])
check("a new session gets an id, a 16-byte password and a timeout within [2, 20] ticks", session != 0 and len(password) == 16 and 4000 <= negotiated <= 40000, f"{session} {negotiated}")
check("an ephemeral created by the raw client", create_ephemeral(sock, "/sessions/e") == 0)
# TTL nodes need extended types, off by default on both servers: createTTL is UNIMPLEMENTED (-6).
check("createTTL without extended types is UNIMPLEMENTED", create_raw(sock, "/sessions/ttl", 5, xid=2, ttl=1000) == -6)
check("whoAmI names the client's address", who_am_i(sock, 3) == [("ip", "127.0.0.1")], f"{who_am_i(sock, 4)}")
# cons lists this connection with its session (published a few times a second on Synod).
deadline = time.time() + 5
while time.time() < deadline and f"sid=0x{session:x}," not in four_letter(members[0], "cons"):
    time.sleep(0.2)
listing = four_letter(members[0], "cons")
check("cons lists the connection with its address, session and last operation",
      any(line.startswith(" /127.0.0.1:") and f"sid=0x{session:x}," in line and ",lop=" in line and ",lzxid=0x" in line for line in listing.splitlines()), listing)
figures = four_letter(members[0], "srvr")
received = [int(line.split()[1]) for line in figures.splitlines() if line.startswith("Received: ")]
check("srvr counts the packets received", received and received[0] > 0, figures)
sock.close()  # no closeSession: the session lives on

resumed, negotiated2, session2, _ = connect(members[-1], session, password)
check("the session resumes on another member with its id and password", session2 == session and negotiated2 == negotiated, f"{session2:x} vs {session:x}")
time.sleep(0.5)
check("its ephemeral is still there", observer.exists("/sessions/e") is not None)
resumed.close()

wrong, zero_timeout, zero_session, zero_password = connect(members[0], session, b"x" * 16)
check("a wrong password gets the zero reply", zero_timeout == 0 and zero_session == 0 and zero_password == b"\0" * 16, f"{zero_timeout} {zero_session} {zero_password}")
wrong.close()

deadline = time.time() + negotiated / 1000 * 3 + 10
while time.time() < deadline and observer.exists("/sessions/e") is not None:
    time.sleep(0.25)
check("a session nobody keeps alive expires and its ephemeral is deleted", observer.exists("/sessions/e") is None)
observer.delete("/sessions", recursive=True)
observer.stop()
print(f"sessions: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
