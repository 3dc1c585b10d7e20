#!/usr/bin/env python3
"""The client-connection bounds of Synod's gRPC server, over real sockets, against one node this
script starts and stops itself.

Usage: python3 Tests/compat/faults/grpc_bounds.py SERVER_BINARY

SERVER_BINARY is synod. The node listens for clients on BASE and for peers on BASE+1; the counting
proxies of check 4 listen on BASE+2 and BASE+3. BASE comes from GRPC_BOUNDS_BASE_PORT (default
30379: below the Linux ephemeral range, which check 2's 10,000 connections draw on, and below the
other suites' bases). Data and the node's log go to a temporary directory that is kept when a
check failed (GRPC_BOUNDS_KEEP_DIR=1 keeps it always); GRPC_BOUNDS_ONLY=1,5 runs only those
checks. The node and every etcdctl child are stopped on any exit of this script (atexit,
SIGTERM, SIGINT, SIGHUP); only a SIGKILL of the script itself can leave them running. About 2.5
minutes, most of it etcdctl's own 60 s `check perf`.

HTTP/2 is spoken with frames built here with `struct` (no HTTP/2 library), so that each bound can
be driven past its limit, which a well-behaved client library never does. The bounds and where
they live (docs/BOUNDS.md, Sources/EtcdServer/GRPC/LeanGRPCServer.swift, GRPCStreamHandler.swift):

 1. prefaceTimeout (10 s): a connection that sends nothing, and one that sends half of the 24-byte
    preface, are closed between 9 and 15 s after they opened; one that sent the preface and
    SETTINGS is still open after 12 s and got the server's SETTINGS, which advertise
    SETTINGS_MAX_CONCURRENT_STREAMS = 4096. The three run at once.
 2. connectionsMax (10,000): 10,000 connections that each sent the preface and SETTINGS are all
    admitted (each gets the server's SETTINGS, none is closed); the 10,001st is closed by the
    server within a few seconds without a byte of HTTP/2, and the log has the refusal line
    ("... connections are open ..."); once 100 are closed, a new connection, python-etcd3 and
    etcdctl are served again. Bounded to 60 s.
 3. controlFramesPerWindowMax (200,000 per 10 s), on two connections while python-etcd3 keeps
    doing puts and gets on a third without error. Paced: PINGs in batches of 2,000, each sent once
    all but the last batch are acknowledged (so ACKs never pile up at the server), exactly 200,000
    control frames within about a second: the connection stays open and every PING is
    acknowledged; one PING more and the server must send GOAWAY ENHANCE_YOUR_CALM (0xb) and close.
    Nothing follows that PING, so the server closes with a FIN and anything it wrote arrives.
    Unpaced: 250,000 PINGs as fast as the socket takes them, a thread reading the ACKs; the
    server must close within 10 s having acknowledged no more than 200,000 (its GOAWAY may be lost
    in the reset that closing with unread bytes causes, so it is not required there).
 4. The same limit against what real clients send: a proxy on loopback between the client and the
    node parses the client-to-server HTTP/2 frame headers and counts, per connection, SETTINGS,
    PING, WINDOW_UPDATE, RST_STREAM and PRIORITY frames. Through it run `etcdctl check perf
    --load=s` (60 s) and, at the same time, python-etcd3 doing puts, gets and a watch. The largest
    count in any sliding 10 s window on any connection must be above zero (the proxy saw the
    traffic) and below controlFramesPerWindowMax / 10 (at least 10x headroom), both for the five
    types and for the three NIO counts (PING, SETTINGS, PRIORITY). RST_STREAM has NIO's separate
    default limit (200 per 30 s), which the server does not change: real clients must stay under it
    too. No proxied connection may get a GOAWAY from the server. The figures are printed.
 5. concurrentStreamsMax (4096): one connection opens 4,096 streams (HEADERS for
    /etcdserverpb.KV/Range without END_STREAM, never finished); a PING round trip shows none was
    refused; the 4,097th HEADERS gets what swift-nio-http2 1.46 does with a stream over the
    advertised limit: a connection error, GOAWAY PROTOCOL_ERROR (0x1), then the connection is
    closed (ConnectionStreamsState.reserveClientStreamID throws maxStreamsViolation, which
    ReceivingHeadersState turns into a connection error; RFC 9113 would also allow a
    REFUSED_STREAM reset of that one stream). The server stays up and another connection works.
 6. queuedRequestBytesMax (1 MiB) with read backpressure: on a Watch stream whose reader is held
    (nine watches replay a 1 MB value into the stream's 8 MiB reply queue, which the client never
    reads: it sends no WINDOW_UPDATE for the server's DATA), the client sends WatchRequests as
    fast as flow control lets it, 32 MiB offered, honouring every window. The server must stop
    granting credit (3 s without a WINDOW_UPDATE for the stream while the client has bytes to
    send), having granted no more than the bound plus two stream windows, and the server's RSS
    (/proc/PID/status VmRSS) must grow by less than 64 MiB. Done twice: with 64 KiB messages
    (progress requests padded with an unknown field), and with the smallest WatchRequest (a 2-byte
    progress request, 7 bytes on the wire), since the queue bound counts message bytes and the
    smallest message carries the most per-message overhead.
 7. A client that ignores flow control: on such a stream, once the server has stopped granting
    credit, 1 MiB more. The server must refuse it with FLOW_CONTROL_ERROR (RST_STREAM, what
    swift-nio-http2 does for a stream's window, or GOAWAY) rather than buffer it, RSS bounded as in
    6. Whether the connection's other streams survive is reported, not asserted.

Every wait is bounded by time and by attempts. Prints PASS/FAIL per check, then
"grpc bounds: N passed, N failed"; exits non-zero on any failure.
"""

import collections
import os
import resource
import select
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "python"))
from compat_checks import Checks, wait_until  # noqa: E402
from compat_suite import Children, clean_up_on_exit, fail_setup, log, port_free, varint  # noqa: E402

import etcd3  # noqa: E402

# The server's bounds, as in LeanGRPCServer.swift and GRPCStreamHandler.swift.
CONNECTIONS_MAX = 10_000
PREFACE_TIMEOUT_SECONDS = 10
CONCURRENT_STREAMS_MAX = 4096
CONTROL_FRAMES_PER_WINDOW_MAX = 200_000
UNPACED_ACK_SLACK = 8
CONTROL_FRAME_WINDOW_SECONDS = 10
STREAM_WINDOW_BYTES = 1 << 20
QUEUED_REQUEST_BYTES_MAX = 1 << 20
WATCH_PENDING_BYTES_MAX = 8 << 20  # WatchStream.pendingBytesMax
# swift-nio-http2's default StreamResetFrameRateLimitConfiguration, which the server leaves as is.
NIO_RESET_FRAMES_PER_WINDOW_MAX = 200
NIO_RESET_FRAME_WINDOW_SECONDS = 30

STARTUP_TIMEOUT_SECONDS = 30
CALL_TIMEOUT_SECONDS = 3
CONNECT_TIMEOUT_SECONDS = 5
SOCKET_TIMEOUT_SECONDS = 15

# HTTP/2 (RFC 9113).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE = 0, 1, 2, 3, 4, 5, 6, 7, 8
FRAME_NAMES = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS", 5: "PUSH_PROMISE",
               6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
SETTINGS_NAMES = {1: "HEADER_TABLE_SIZE", 2: "ENABLE_PUSH", 3: "MAX_CONCURRENT_STREAMS", 4: "INITIAL_WINDOW_SIZE",
                  5: "MAX_FRAME_SIZE", 6: "MAX_HEADER_LIST_SIZE"}
SETTINGS_MAX_CONCURRENT_STREAMS = 3
SETTINGS_INITIAL_WINDOW_SIZE = 4
ERROR_NAMES = {0: "NO_ERROR", 1: "PROTOCOL_ERROR", 2: "INTERNAL_ERROR", 3: "FLOW_CONTROL_ERROR",
               4: "SETTINGS_TIMEOUT", 5: "STREAM_CLOSED", 6: "FRAME_SIZE_ERROR", 7: "REFUSED_STREAM", 8: "CANCEL",
               9: "COMPRESSION_ERROR", 10: "CONNECT_ERROR", 11: "ENHANCE_YOUR_CALM", 12: "INADEQUATE_SECURITY",
               13: "HTTP_1_1_REQUIRED"}
PROTOCOL_ERROR, FLOW_CONTROL_ERROR, ENHANCE_YOUR_CALM = 0x1, 0x3, 0xb
DEFAULT_WINDOW_BYTES = 65_535
FRAME_PAYLOAD_MAX = 16_384  # SETTINGS_MAX_FRAME_SIZE's default; the server does not raise it
# Frames a client sends that NIO's controlFrameRateLimit counts, and the wider set check 4 reports.
NIO_COUNTED_TYPES = (PING, SETTINGS, PRIORITY)
CONTROL_TYPES = (SETTINGS, PING, WINDOW_UPDATE, RST_STREAM, PRIORITY)



def error_name(code):
    return "%s (0x%x)" % (ERROR_NAMES.get(code, "?"), code)


def frame(frame_type, flags, stream_id, payload=b""):
    header = struct.pack(">I", len(payload))[1:] + struct.pack(">BBI", frame_type, flags, stream_id & 0x7FFFFFFF)
    return header + payload


def settings_frame(pairs=(), ack=False):
    return frame(SETTINGS, FLAG_ACK if ack else 0, 0, b"".join(struct.pack(">HI", key, value) for key, value in pairs))


def hpack_integer(value, prefix_bits, first_byte_flags=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = bytearray([first_byte_flags | limit])
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """A literal header field without indexing, new name, no Huffman: no HPACK state to keep."""
    return b"\x00" + hpack_integer(len(name), 7) + name + hpack_integer(len(value), 7) + value


def grpc_request_headers(port, path):
    return b"".join(hpack_literal(name, value) for name, value in (
        (b":method", b"POST"), (b":scheme", b"http"), (b":path", path),
        (b":authority", b"127.0.0.1:%d" % port), (b"content-type", b"application/grpc"), (b"te", b"trailers")))


def grpc_message(body):
    return b"\x00" + struct.pack(">I", len(body)) + body



def proto_bytes_field(number, value):
    return varint(number << 3 | 2) + varint(len(value)) + value


def proto_varint_field(number, value):
    return varint(number << 3) + varint(value)


# etcdserverpb.WatchRequest by hand: python-etcd3's generated protobufs predate progress_request.
def watch_create_request(key, start_revision):
    create = proto_bytes_field(1, key) + proto_varint_field(3, start_revision)
    return proto_bytes_field(1, create)


def watch_progress_request(padding_bytes=0):
    """WatchRequest{progress_request: {}}, padded with an unknown field (number 15) if asked: a
    valid message whose size we choose, harmless if the server ever handles it."""
    body = proto_bytes_field(3, b"")
    if padding_bytes:
        body += proto_bytes_field(15, b"p" * padding_bytes)
    return body


def sliding_window_max(times, window_seconds):
    """The most events within any interval of window_seconds (NIO's limiter is such a window)."""
    best = start = 0
    for end in range(len(times)):
        while times[end] - times[start] > window_seconds:
            start += 1
        best = max(best, end - start + 1)
    return best


def read_rss_kib(pid):
    with open("/proc/%d/status" % pid) as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS in /proc/%d/status" % pid)


def mib(count_bytes):
    return count_bytes / (1 << 20)


class H2Connection:
    """A raw HTTP/2 client connection. A reader thread parses every frame the server sends and
    records what the checks look at; writes go through one lock, whole frames at a time."""

    def __init__(self, port, name):
        self.name = name
        self.port = port
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=CONNECT_TIMEOUT_SECONDS)
        # Bounds every send (a sendall that cannot finish in this time raises); the reader retries.
        self.sock.settimeout(SOCKET_TIMEOUT_SECONDS)
        self.opened_at = time.monotonic()
        self.send_lock = threading.Lock()
        self.state = threading.Condition()
        self.server_settings = None
        self.settings_acks = 0
        self.ping_acks = 0
        self.sync_acks = set()
        self.goaway = None  # (last stream id, error code, seconds after open)
        self.resets = {}  # stream id -> error code
        self.window_updates = collections.Counter()  # stream id -> frames
        self.credit = collections.Counter()  # stream id -> bytes granted by WINDOW_UPDATE
        self.last_window_update_at = {}  # stream id -> time
        self.data_bytes = collections.Counter()  # stream id -> bytes of DATA received
        self.frame_counts = collections.Counter()
        self.connection_sent = 0  # DATA payload bytes we sent, for our send windows
        self.stream_sent = collections.Counter()
        self.closed_at = None
        self.close_reason = None
        self.reader = threading.Thread(target=self._read_loop, name="h2-reader-" + name, daemon=True)
        self.reader.start()

    def _read_loop(self):
        buffer = bytearray()
        try:
            while True:
                try:
                    chunk = self.sock.recv(1 << 20)
                except socket.timeout:
                    continue
                if not chunk:
                    self._closed("EOF")
                    return
                buffer += chunk
                position = self._parse(buffer)
                del buffer[:position]
        except OSError as error:
            self._closed(type(error).__name__)

    def _closed(self, reason):
        with self.state:
            if self.closed_at is None:
                self.closed_at = time.monotonic()
                self.close_reason = reason
            self.state.notify_all()

    def _parse(self, buffer):
        position, end = 0, len(buffer)
        ping_acks = 0
        with self.state:
            while end - position >= 9:
                length = int.from_bytes(buffer[position:position + 3], "big")
                if end - position < 9 + length:
                    break
                frame_type, flags = buffer[position + 3], buffer[position + 4]
                stream_id = int.from_bytes(buffer[position + 5:position + 9], "big") & 0x7FFFFFFF
                start = position + 9
                position = start + length
                if frame_type == PING:
                    if flags & FLAG_ACK:
                        ping_acks += 1
                        if buffer[start:start + 4] == b"sync":
                            self.sync_acks.add(bytes(buffer[start:start + 8]))
                    continue
                self.frame_counts[frame_type] += 1
                if frame_type == SETTINGS:
                    if flags & FLAG_ACK:
                        self.settings_acks += 1
                    elif self.server_settings is None:
                        payload = bytes(buffer[start:position])
                        self.server_settings = dict(struct.unpack_from(">HI", payload, offset)
                                                    for offset in range(0, len(payload), 6))
                elif frame_type == WINDOW_UPDATE:
                    increment = int.from_bytes(buffer[start:start + 4], "big") & 0x7FFFFFFF
                    self.window_updates[stream_id] += 1
                    self.credit[stream_id] += increment
                    self.last_window_update_at[stream_id] = time.monotonic()
                elif frame_type == DATA:
                    self.data_bytes[stream_id] += length
                elif frame_type == RST_STREAM:
                    self.resets[stream_id] = int.from_bytes(buffer[start:start + 4], "big")
                elif frame_type == GOAWAY and self.goaway is None:
                    last_stream_id = int.from_bytes(buffer[start:start + 4], "big") & 0x7FFFFFFF
                    code = int.from_bytes(buffer[start + 4:start + 8], "big")
                    self.goaway = (last_stream_id, code, time.monotonic() - self.opened_at)
            self.ping_acks += ping_acks
            self.frame_counts[PING] += ping_acks
            self.state.notify_all()
        return position

    def send(self, data):
        with self.send_lock:
            self.sock.sendall(data)

    def send_window(self, stream_id):
        """What we may still send on stream_id (call with self.state held): the smaller of the
        connection's and the stream's window, each its initial size plus the server's WINDOW_UPDATEs
        minus what we sent. A stream's initial size is the server's SETTINGS_INITIAL_WINDOW_SIZE."""
        initial = self.server_settings.get(SETTINGS_INITIAL_WINDOW_SIZE, DEFAULT_WINDOW_BYTES)
        return min(DEFAULT_WINDOW_BYTES + self.credit[0] - self.connection_sent,
                   initial + self.credit[stream_id] - self.stream_sent[stream_id])

    def send_data(self, stream_id, payload, flags=0):
        with self.state:
            self.connection_sent += len(payload)
            self.stream_sent[stream_id] += len(payload)
        for offset in range(0, max(1, len(payload)), FRAME_PAYLOAD_MAX):
            self.send(frame(DATA, flags, stream_id, payload[offset:offset + FRAME_PAYLOAD_MAX]))

    def wait_for(self, description, timeout_seconds, predicate):
        """Waits on the reader's notifications until predicate() (called with the state locked)."""
        deadline = time.monotonic() + timeout_seconds
        with self.state:
            for _ in range(int(timeout_seconds / 0.05) + 2):
                if predicate():
                    return
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.state.wait(min(remaining, 0.05))
        raise AssertionError("%s: gave up after %s s waiting for %s (closed: %s, GOAWAY: %s)"
                             % (self.name, timeout_seconds, description, self.close_reason, self.describe_goaway()))

    def handshake(self, settings=()):
        """Preface and SETTINGS; ACKs the server's SETTINGS and waits until the server has read the ACK
        (a PING round trip), so that its own settings (stream limit, window) are in force."""
        self.send(PREFACE + settings_frame(settings))
        self.wait_for("the server's SETTINGS", CALL_TIMEOUT_SECONDS, lambda: self.server_settings is not None)
        self.send(settings_frame(ack=True))
        self.ping_round_trip()

    def ping_round_trip(self, timeout_seconds=CALL_TIMEOUT_SECONDS):
        payload = b"sync" + os.urandom(4)
        self.send(frame(PING, 0, 0, payload))
        self.wait_for("the ACK of PING %s" % payload.hex(), timeout_seconds, lambda: payload in self.sync_acks)

    def describe_goaway(self):
        if self.goaway is None:
            return "none"
        return "last stream %d, %s, %.2f s after open" % (self.goaway[0], error_name(self.goaway[1]), self.goaway[2])

    def close(self):
        """Resets the connection (no TIME_WAIT) and stops the reader: shutdown wakes its recv."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.reader.join(timeout=SOCKET_TIMEOUT_SECONDS + 1)
        self.sock.close()


class FrameScanner:
    """Follows the frame headers of one direction of an HTTP/2 connection without buffering
    payloads (except GOAWAY's), calling on_frame(type, flags, stream, payload_or_None, now)."""

    def __init__(self, on_frame, expect_preface):
        self.on_frame = on_frame
        self.preface_left = len(PREFACE) if expect_preface else 0
        self.header = bytearray()
        self.skip = 0
        self.kept = None
        self.pending = None

    def feed(self, data, now):
        position, end = 0, len(data)
        while position < end:
            if self.preface_left:
                take = min(self.preface_left, end - position)
                self.preface_left -= take
                position += take
            elif self.skip:
                take = min(self.skip, end - position)
                if self.kept is not None:
                    self.kept += data[position:position + take]
                self.skip -= take
                position += take
                if self.skip == 0 and self.kept is not None:
                    self.on_frame(*self.pending, bytes(self.kept), now)
                    self.kept = None
            else:
                take = min(9 - len(self.header), end - position)
                self.header += data[position:position + take]
                position += take
                if len(self.header) == 9:
                    length = int.from_bytes(self.header[0:3], "big")
                    frame_type, flags = self.header[3], self.header[4]
                    stream_id = int.from_bytes(self.header[5:9], "big") & 0x7FFFFFFF
                    self.header = bytearray()
                    self.skip = length
                    if frame_type == GOAWAY and length > 0:
                        self.pending, self.kept = (frame_type, flags, stream_id), bytearray()
                    else:
                        self.on_frame(frame_type, flags, stream_id, None, now)


class CountingProxy:
    """A loopback TCP proxy in front of the node that counts, per client connection, the control
    frames the client sends and notes any GOAWAY the server sends back."""

    def __init__(self, label, listen_port, upstream_port):
        self.label = label
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", listen_port))
        self.listener.listen(256)
        self.lock = threading.Lock()
        self.connections = []  # dicts: times by frame type, counts, GOAWAYs
        self.sockets = []
        self.stopped = False
        threading.Thread(target=self._accept_loop, name="proxy-" + label, daemon=True).start()

    def _accept_loop(self):
        while not self.stopped:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=CONNECT_TIMEOUT_SECONDS)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            record = {"index": len(self.connections), "opened_at": time.monotonic(),
                      "times": collections.defaultdict(list), "counts": collections.Counter(), "goaways": []}
            with self.lock:
                self.connections.append(record)
                self.sockets += [client, upstream]

            def client_frame(frame_type, _flags, _stream_id, _payload, now, record=record):
                record["counts"][frame_type] += 1
                if frame_type in CONTROL_TYPES:
                    record["times"][frame_type].append(now)

            def server_frame(frame_type, _flags, _stream_id, payload, _now, record=record):
                if frame_type == GOAWAY and payload is not None and len(payload) >= 8:
                    record["goaways"].append(int.from_bytes(payload[4:8], "big"))

            for source, sink, scanner in ((client, upstream, FrameScanner(client_frame, expect_preface=True)),
                                          (upstream, client, FrameScanner(server_frame, expect_preface=False))):
                threading.Thread(target=self._pump, args=(source, sink, scanner), daemon=True).start()

    @staticmethod
    def _pump(source, sink, scanner):
        try:
            while True:
                data = source.recv(1 << 16)
                if not data:
                    break
                scanner.feed(data, time.monotonic())
                sink.sendall(data)
        except OSError:
            pass
        for end in (sink, source):
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self):
        """Shuts every socket down first, which wakes the threads blocked in accept and recv."""
        self.stopped = True
        with self.lock:
            ends = [self.listener] + self.sockets
        for end in ends:
            try:
                end.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for end in ends:
            end.close()

    def figures(self):
        """Per connection: the sliding-window maxima and the totals by frame type."""
        result = []
        with self.lock:
            connections = list(self.connections)
        for record in connections:
            times = record["times"]
            nio = sorted(t for frame_type in NIO_COUNTED_TYPES for t in times[frame_type])
            control = sorted(t for frame_type in CONTROL_TYPES for t in times[frame_type])
            result.append({
                "label": "%s#%d" % (self.label, record["index"]),
                "nio_max": sliding_window_max(nio, CONTROL_FRAME_WINDOW_SECONDS),
                "control_max": sliding_window_max(control, CONTROL_FRAME_WINDOW_SECONDS),
                "reset_max": sliding_window_max(sorted(times[RST_STREAM]), NIO_RESET_FRAME_WINDOW_SECONDS),
                "counts": record["counts"], "goaways": record["goaways"],
                "seconds": (max(control) - min(control)) if control else 0.0,
            })
        return result


class Node(Children):
    """The one synod node under test, its log, and python-etcd3 clients to it."""

    def __init__(self, binary, base_port, work_dir):
        self.binary = binary
        self.port = base_port
        self.peer_port = base_port + 1
        self.data_dir = os.path.join(work_dir, "n1")
        self.log_path = os.path.join(work_dir, "n1.log")
        self.process = None
        Children.__init__(self)
        self.clients = []

    def start(self):
        client_url = "http://127.0.0.1:%d" % self.port
        peer_url = "http://127.0.0.1:%d" % self.peer_port
        arguments = [self.binary, "serve", "--zk-listen-address", "", "--name", "n1", "--data-dir", self.data_dir,
                     "--listen-client-urls", client_url, "--advertise-client-urls", client_url,
                     "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
                     "--initial-cluster", "n1=" + peer_url, "--log-level", "info"]
        with open(self.log_path, "ab") as log_file:
            self.process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=log_file,
                                            stderr=subprocess.STDOUT)
        self.track(self.process)
        wait_until("the node to serve a read", STARTUP_TIMEOUT_SECONDS, self.serves_read, interval_seconds=0.2)

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def require_alive(self):
        if not self.alive():
            raise AssertionError("the node exited with status %s; the end of its log:\n%s"
                                 % (self.process.returncode, self.log_tail()))

    def log_text(self):
        with open(self.log_path, errors="replace") as log_file:
            return log_file.read()

    def log_tail(self, characters=1500):
        return self.log_text()[-characters:]

    def rss_kib(self):
        self.require_alive()
        return read_rss_kib(self.process.pid)

    def client(self, port=None):
        client = etcd3.client(host="127.0.0.1", port=port or self.port, timeout=CALL_TIMEOUT_SECONDS)
        self.clients.append(client)
        return client

    def close_clients(self):
        for client in self.clients:
            try:
                client.close()
            except Exception:
                pass
        self.clients = []

    def serves_read(self):
        self.require_alive()
        try:
            client = etcd3.client(host="127.0.0.1", port=self.port, timeout=1)
            try:
                client.get("grpc-bounds/probe")
            finally:
                client.close()
            return True
        except Exception:
            return False

    def put_and_get(self, what):
        """A put and a get through a fresh python-etcd3 connection, retried for a few seconds."""
        key, value = "grpc-bounds/after/" + uuid.uuid4().hex, uuid.uuid4().hex
        errors = []

        def attempt():
            self.require_alive()
            client = etcd3.client(host="127.0.0.1", port=self.port, timeout=CALL_TIMEOUT_SECONDS)
            try:
                client.put(key, value)
                return client.get(key)[0] == value.encode()
            except Exception as error:
                errors.append("%s %s" % (type(error).__name__, str(error)[:160]))
                return False
            finally:
                client.close()

        try:
            wait_until("a put and get %s" % what, 10, attempt, interval_seconds=0.5)
        except AssertionError:
            raise AssertionError("no put and get %s; last error: %s" % (what, errors[-1] if errors else "none"))



# 1. prefaceTimeout

PREFACE_CLOSED_AFTER_MIN_SECONDS = PREFACE_TIMEOUT_SECONDS - 1
PREFACE_CLOSED_AFTER_MAX_SECONDS = PREFACE_TIMEOUT_SECONDS + 5
PREFACE_KEPT_OPEN_SECONDS = 12


def seconds_until_closed(sock, opened_at, give_up_seconds):
    """Reads (and drops) whatever the server sends until it closes; None if it did not in time."""
    deadline = opened_at + give_up_seconds
    sock.settimeout(0.5)
    for _ in range(int(give_up_seconds / 0.5) + 2):
        try:
            if not sock.recv(65536):
                return time.monotonic() - opened_at
        except socket.timeout:
            pass
        except OSError:
            return time.monotonic() - opened_at
        if time.monotonic() >= deadline:
            return None
    return None


def preface_timeout(node):
    results = {}

    def watch_close(name, sock, opened_at):
        results[name] = seconds_until_closed(sock, opened_at, PREFACE_CLOSED_AFTER_MAX_SECONDS + 3)

    silent = socket.create_connection(("127.0.0.1", node.port), timeout=CONNECT_TIMEOUT_SECONDS)
    silent_opened = time.monotonic()
    half = socket.create_connection(("127.0.0.1", node.port), timeout=CONNECT_TIMEOUT_SECONDS)
    half_opened = time.monotonic()
    half.sendall(PREFACE[:len(PREFACE) // 2])
    full = H2Connection(node.port, "full-preface")
    threads = [threading.Thread(target=watch_close, args=("silent", silent, silent_opened), daemon=True),
               threading.Thread(target=watch_close, args=("half", half, half_opened), daemon=True)]
    try:
        full.send(PREFACE + settings_frame())
        for thread in threads:
            thread.start()
        full.wait_for("the server's SETTINGS", CALL_TIMEOUT_SECONDS, lambda: full.server_settings is not None)
        time.sleep(max(0.0, full.opened_at + PREFACE_KEPT_OPEN_SECONDS - time.monotonic()))
        full_open_after = time.monotonic() - full.opened_at
        full_closed = full.closed_at is not None
        for thread in threads:
            thread.join(timeout=PREFACE_CLOSED_AFTER_MAX_SECONDS + 5)
        # A round trip on the open one, so "not closed" means "still served".
        if not full_closed:
            full.send(settings_frame(ack=True))
            full.ping_round_trip()
    finally:
        for sock in (silent, half):
            sock.close()
        full.close()
    settings = full.server_settings
    log("server SETTINGS: %s" % ", ".join("%s=%d" % (SETTINGS_NAMES.get(k, k), v) for k, v in sorted(settings.items())))
    for name, sent in (("silent", "nothing"), ("half", "12 of the 24 preface bytes")):
        closed = results.get(name)
        log("connection that sent %s: %s" % (sent, "closed after %.2f s" % closed if closed is not None
                                               else "not closed within %d s" % (PREFACE_CLOSED_AFTER_MAX_SECONDS + 3)))
    log("connection that sent the preface and SETTINGS: %s after %.1f s"
        % ("closed (%s)" % full.close_reason if full_closed else "open and answering PING", full_open_after))
    problems = []
    for name in ("silent", "half"):
        closed = results.get(name)
        if closed is None or not PREFACE_CLOSED_AFTER_MIN_SECONDS <= closed <= PREFACE_CLOSED_AFTER_MAX_SECONDS:
            problems.append("the %s connection was %s, expected closed %d..%d s after it opened"
                            % (name, "closed after %.2f s" % closed if closed is not None else "not closed",
                               PREFACE_CLOSED_AFTER_MIN_SECONDS, PREFACE_CLOSED_AFTER_MAX_SECONDS))
    if full_closed:
        problems.append("the connection that sent the preface was closed (%s) %.2f s after it opened"
                        % (full.close_reason, full.closed_at - full.opened_at))
    if settings.get(SETTINGS_MAX_CONCURRENT_STREAMS) != CONCURRENT_STREAMS_MAX:
        problems.append("SETTINGS_MAX_CONCURRENT_STREAMS is %r, expected %d"
                        % (settings.get(SETTINGS_MAX_CONCURRENT_STREAMS), CONCURRENT_STREAMS_MAX))
    if problems:
        raise AssertionError("; ".join(problems))
    node.require_alive()


# 2. connectionsMax

CONNECTION_CHECK_SECONDS_MAX = 60
# Connections opened before waiting for all of them to be admitted: well under the listen backlog.
CONNECTION_BATCH = 500
REFUSAL_SECONDS_MAX = 5
CONNECTIONS_CLOSED_TO_MAKE_ROOM = 100


def open_hello_socket(port, hello):
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # An abortive close (RST) leaves no TIME_WAIT, so that runs in a row do not exhaust the ports.
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.settimeout(CONNECT_TIMEOUT_SECONDS)
    sock.connect(("127.0.0.1", port))
    sock.sendall(hello)
    sock.setblocking(False)  # a timeout would make even MSG_DONTWAIT reads wait for data first
    return sock


def connection_limit(node):
    started = time.monotonic()
    deadline = started + CONNECTION_CHECK_SECONDS_MAX
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = CONNECTIONS_MAX + 1000
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise AssertionError("RLIMIT_NOFILE hard limit %d is below the %d descriptors this check needs"
                             % (hard, needed))
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    # No connection of ours other than the 10,000 may be open: the clients of earlier checks go.
    node.close_clients()
    time.sleep(1)
    hello = PREFACE + settings_frame()
    sockets = []
    by_fd = {}
    try:
        # Opened in batches, each admitted (the server's SETTINGS received) before the next, so the
        # listen backlog never overflows: an overflow makes the kernel drop handshakes, and those
        # connections would then wait on SYN-ACK retransmits, not on the server.
        waiting, closed = set(), 0
        poller = select.poll()
        for index in range(CONNECTIONS_MAX):
            if time.monotonic() > deadline:
                raise AssertionError("opened only %d connections in %d s" % (index, CONNECTION_CHECK_SECONDS_MAX))
            sock = open_hello_socket(node.port, hello)
            sockets.append(sock)
            by_fd[sock.fileno()] = sock
            poller.register(sock.fileno(), select.POLLIN)
            waiting.add(sock.fileno())
            if len(waiting) < CONNECTION_BATCH and index < CONNECTIONS_MAX - 1:
                continue
            while waiting and time.monotonic() <= deadline:
                for fd, _events in poller.poll(500):
                    try:
                        data = by_fd[fd].recv(65536, socket.MSG_DONTWAIT)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    poller.unregister(fd)
                    waiting.discard(fd)
                    if not data:
                        closed += 1
            if waiting or closed:
                break
        opened_seconds = time.monotonic() - started
        if waiting or closed or len(sockets) < CONNECTIONS_MAX:
            raise AssertionError("of %d connections opened, %d got no SETTINGS and %d were closed by the server"
                                 % (len(sockets), len(waiting), closed))
        admitted_seconds = time.monotonic() - started
        rss_full = node.rss_kib()
        log("%d connections opened in %.1f s, all admitted (SETTINGS received) after %.1f s; node RSS %.0f MiB"
            % (CONNECTIONS_MAX, opened_seconds, admitted_seconds, rss_full / 1024))

        # One more: the server must close it at once, without speaking HTTP/2.
        extra_started = time.monotonic()
        extra = open_hello_socket(node.port, b"")
        received, ending = b"", None
        try:
            extra.settimeout(0.25)
            extra.sendall(hello)
            for _ in range(int(REFUSAL_SECONDS_MAX / 0.25) + 2):
                try:
                    chunk = extra.recv(65536)
                except socket.timeout:
                    if time.monotonic() - extra_started > REFUSAL_SECONDS_MAX:
                        break
                    continue
                if not chunk:
                    ending = "EOF"
                    break
                received += chunk
        except OSError as error:
            ending = type(error).__name__
        finally:
            extra.close()
        refusal_seconds = time.monotonic() - extra_started
        log("connection %d: %s after %.3f s, %d bytes received"
            % (CONNECTIONS_MAX + 1, "closed by the server (%s)" % ending if ending else "still open", refusal_seconds,
               len(received)))
        if ending is None:
            raise AssertionError("connection %d was not closed within %d s"
                                 % (CONNECTIONS_MAX + 1, REFUSAL_SECONDS_MAX))
        if received:
            raise AssertionError("connection %d was served (%d bytes of HTTP/2) before being closed"
                                 % (CONNECTIONS_MAX + 1, len(received)))
        refusal_lines = []
        wait_until("the refusal in the node's log", 5,
                   lambda: refusal_lines.extend(l for l in node.log_text().splitlines() if "connections are open" in l)
                   or bool(refusal_lines), interval_seconds=0.2)
        log("log: " + refusal_lines[0].strip()[:300])

        # The 10,000 are untouched by the refusal.
        still_closed = 0
        for sock in sockets:
            try:
                if sock.recv(65536, socket.MSG_DONTWAIT) == b"":
                    still_closed += 1
            except BlockingIOError:
                pass
            except OSError:
                still_closed += 1
        if still_closed:
            raise AssertionError("%d of the %d admitted connections were closed after the refusal"
                                 % (still_closed, CONNECTIONS_MAX))

        # Room again once some go.
        for sock in sockets[:CONNECTIONS_CLOSED_TO_MAKE_ROOM]:
            sock.close()
        del sockets[:CONNECTIONS_CLOSED_TO_MAKE_ROOM]

        def admitted():
            probe = open_hello_socket(node.port, hello)
            try:
                probe.settimeout(2)
                return bool(probe.recv(65536))
            except OSError:
                return False
            finally:
                probe.close()

        wait_until("a new raw HTTP/2 connection to be admitted", 10, admitted, interval_seconds=0.5)
        node.put_and_get("with %d connections open" % (CONNECTIONS_MAX - CONNECTIONS_CLOSED_TO_MAKE_ROOM))
        etcdctl = subprocess.run(["etcdctl", "--endpoints=127.0.0.1:%d" % node.port, "--command-timeout=5s",
                                  "get", "grpc-bounds/probe"], capture_output=True, text=True, timeout=20)
        if etcdctl.returncode != 0:
            raise AssertionError("etcdctl get failed (%d): %s" % (etcdctl.returncode, etcdctl.stderr.strip()[:300]))
        log("after closing %d: a new connection, python-etcd3 put/get and etcdctl get are served"
            % CONNECTIONS_CLOSED_TO_MAKE_ROOM)
    finally:
        for sock in sockets:
            sock.close()
    elapsed = time.monotonic() - started
    log("check took %.1f s" % elapsed)
    if elapsed > CONNECTION_CHECK_SECONDS_MAX:
        raise AssertionError("the check took %.1f s, more than %d s" % (elapsed, CONNECTION_CHECK_SECONDS_MAX))
    node.require_alive()


# 3. controlFramesPerWindowMax against a flood

# Control frames the handshake sends: our SETTINGS, our ACK of the server's, one PING. NIO counts
# every SETTINGS and PING frame, ACK or not.
HANDSHAKE_CONTROL_FRAMES = 3
FLOOD_WINDOW_MARGIN_SECONDS = 2
FLOOD_CLOSE_SECONDS_MAX = 10
FLOOD_BATCH_PINGS = 2000
FLOOD_UNPACED_PINGS = 250_000
PING_FRAME = frame(PING, 0, 0, b"\x00" * 8)


class BackgroundTraffic:
    """python-etcd3 puts and gets on a connection of its own until stopped, every result kept."""

    def __init__(self, node):
        self.client = etcd3.client(host="127.0.0.1", port=node.port, timeout=CALL_TIMEOUT_SECONDS)
        self.stop_event = threading.Event()
        self.ok = []
        self.failed = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        for index in range(100_000):  # bounded; stopped long before
            if self.stop_event.is_set():
                return
            key = "grpc-bounds/background/%d" % (index % 16)
            try:
                self.client.put(key, str(index))
                if self.client.get(key)[0] != str(index).encode():
                    raise AssertionError("read back a different value")
                self.ok.append(time.monotonic())
            except Exception as error:
                self.failed.append("%s %s" % (type(error).__name__, str(error)[:160]))
            self.stop_event.wait(0.02)

    def stop(self):
        self.stop_event.set()
        self.thread.join(timeout=2 * CALL_TIMEOUT_SECONDS + 1)
        self.client.close()


def control_frame_flood(node):
    """Two floods, each on a connection of its own, while python-etcd3 works on a third.

    Paced: PINGs in batches of FLOOD_BATCH_PINGS, each sent once the ACKs of all but the last
    batch have arrived, so the server never holds more than two batches of ACKs to write; exactly
    the limit of control frames within the window, then one more. The server must keep the
    connection at the limit and close it past it with GOAWAY ENHANCE_YOUR_CALM. Nothing is sent
    after the frame that trips the limit, so the server has read every byte when it closes: it
    closes with a FIN, not a RST (which would discard what it wrote last), and a GOAWAY it wrote
    arrives.

    Unpaced: 250,000 PINGs as fast as the socket takes them while a thread reads the ACKs. The
    server must close the connection within FLOOD_CLOSE_SECONDS_MAX having acknowledged no more
    than the limit. Its GOAWAY is not required here: it closes with unread PINGs in its socket,
    so the kernel resets the connection and may drop what it wrote last. (swift-nio-http2 may
    also close such a connection before the limit, when more than 10,000 PING ACKs wait to be
    written: ExcessiveOutboundFrameBuffering, also ENHANCE_YOUR_CALM.)"""
    background = BackgroundTraffic(node)
    paced = H2Connection(node.port, "ping-flood-paced")
    blast = None
    pings = CONTROL_FRAMES_PER_WINDOW_MAX - HANDSHAKE_CONTROL_FRAMES
    extra_error = blast_error = None
    try:
        wait_until("background puts to start", 10, lambda: bool(background.ok) or bool(background.failed))
        window_started = time.monotonic()
        paced.handshake()
        started = time.monotonic()
        batch = PING_FRAME * FLOOD_BATCH_PINGS
        sent_pings = 0
        for _ in range(pings // FLOOD_BATCH_PINGS + 2):
            if sent_pings >= pings:
                break
            acknowledged_needed = max(0, sent_pings - FLOOD_BATCH_PINGS) + 1
            paced.wait_for("ACKs of the PINGs but the last batch", FLOOD_CLOSE_SECONDS_MAX,
                           lambda: paced.ping_acks >= acknowledged_needed or paced.closed_at is not None)
            if paced.closed_at is not None:
                break
            count = min(FLOOD_BATCH_PINGS, pings - sent_pings)
            paced.send(batch if count == FLOOD_BATCH_PINGS else PING_FRAME * count)
            sent_pings += count
        send_seconds = time.monotonic() - started
        # At the limit, not over it: every PING is acknowledged and the connection stays open.
        paced.wait_for("ACKs of the %d PINGs" % pings, FLOOD_CLOSE_SECONDS_MAX,
                       lambda: paced.ping_acks >= pings + 1 or paced.closed_at is not None)
        acks_at_limit, open_at_limit = paced.ping_acks, paced.closed_at is None
        window_used = time.monotonic() - window_started
        extra_sent_at = time.monotonic()
        try:
            paced.send(PING_FRAME)
        except OSError as error:
            extra_error = type(error).__name__
        paced.wait_for("the server to close the connection after one PING more", FLOOD_CLOSE_SECONDS_MAX,
                       lambda: paced.closed_at is not None)
        closed_after = paced.closed_at - extra_sent_at

        blast = H2Connection(node.port, "ping-flood-unpaced")
        blast.handshake()
        payload = PING_FRAME * FLOOD_UNPACED_PINGS
        chunk_bytes = len(PING_FRAME) * 4096
        blast_started = time.monotonic()
        blast_sent = 0
        try:
            for offset in range(0, len(payload), chunk_bytes):
                blast.send(payload[offset:offset + chunk_bytes])
                blast_sent += min(chunk_bytes, len(payload) - offset)
        except OSError as error:
            blast_error = type(error).__name__
        blast_send_seconds = time.monotonic() - blast_started
        blast.wait_for("the server to close the unpaced flood", FLOOD_CLOSE_SECONDS_MAX,
                       lambda: blast.closed_at is not None)
        blast_closed_after = blast.closed_at - blast_started
        during = [t for t in background.ok if started <= t <= blast.closed_at]
        time.sleep(1)
    finally:
        paced.close()
        if blast is not None:
            blast.close()
        background.stop()
    log("paced: %d control frames (handshake %d + %d PINGs in batches of %d, sent in %.2f s) within %.2f s of the"
        " first: %s, %d PINGs acknowledged"
        % (HANDSHAKE_CONTROL_FRAMES + pings, HANDSHAKE_CONTROL_FRAMES, sent_pings, FLOOD_BATCH_PINGS, send_seconds,
           window_used, "connection open" if open_at_limit else "connection closed (%s)" % paced.close_reason,
           acks_at_limit))
    log("paced: one PING more (control frame %d): connection closed (%s%s) %.3f s later; GOAWAY %s; frames received"
        " besides PING ACKs: %s"
        % (HANDSHAKE_CONTROL_FRAMES + pings + 1, paced.close_reason, ", send: %s" % extra_error if extra_error else "",
           closed_after, paced.describe_goaway(),
           " ".join("%s=%d" % (FRAME_NAMES.get(t, t), c) for t, c in sorted(paced.frame_counts.items()) if t != PING)))
    log("unpaced: %d PINGs (%.1f MiB) sent in %.2f s%s; %d acknowledged; closed (%s) %.2f s after the flood began;"
        " GOAWAY %s"
        % (blast_sent // len(PING_FRAME), mib(blast_sent), blast_send_seconds,
           " (then %s)" % blast_error if blast_error else "", blast.ping_acks - 1, blast.close_reason,
           blast_closed_after, blast.describe_goaway()))
    log("python-etcd3 on another connection: %d put+get pairs while the floods lasted, %d in all, %d failed"
        % (len(during), len(background.ok), len(background.failed)))
    problems = []
    if window_used > CONTROL_FRAME_WINDOW_SECONDS - FLOOD_WINDOW_MARGIN_SECONDS:
        problems.append("inconclusive: reaching the limit took %.1f s, too close to the %d s window"
                        % (window_used, CONTROL_FRAME_WINDOW_SECONDS))
    if not open_at_limit or acks_at_limit != pings + 1:
        problems.append("at exactly %d control frames the server %s and acknowledged %d of %d PINGs"
                        % (CONTROL_FRAMES_PER_WINDOW_MAX,
                           "closed the connection" if not open_at_limit else "kept it open", acks_at_limit, pings + 1))
    if paced.goaway is None or paced.goaway[1] != ENHANCE_YOUR_CALM:
        received = "no GOAWAY" if paced.goaway is None else "GOAWAY " + paced.describe_goaway()
        problems.append("past the limit the server closed the connection (%s) %.3f s later, but sent %s instead of"
                        " GOAWAY ENHANCE_YOUR_CALM" % (paced.close_reason, closed_after, received))
    # The paced run above pins the exact bound. An unpaced flood lands in large reads, and seen
    # runs got the limit + 1 acknowledged (the handshake's frames fall differently in the window),
    # so it is held to the limit with a slack of a few frames: what matters is that it is cut off.
    if blast.ping_acks - 1 > CONTROL_FRAMES_PER_WINDOW_MAX + UNPACED_ACK_SLACK:
        problems.append("the unpaced flood got %d PINGs acknowledged, more than the limit" % (blast.ping_acks - 1))
    if blast.goaway is not None and blast.goaway[1] != ENHANCE_YOUR_CALM:
        problems.append("the unpaced flood got GOAWAY %s" % blast.describe_goaway())
    if background.failed:
        problems.append("%d background calls failed, first: %s" % (len(background.failed), background.failed[0]))
    if not during:
        problems.append("no background put+get completed while the floods lasted")
    if problems:
        raise AssertionError("; ".join(problems))
    node.put_and_get("after the floods")


# 4. Control frames from real clients

PYTHON_OPERATIONS = 2000
CHECK_PERF_SECONDS_MAX = 150


def python_client_workload(port, prefix, report):
    """Puts and gets through python-etcd3 with a prefix watch on the same connection."""
    client = etcd3.client(host="127.0.0.1", port=port, timeout=CALL_TIMEOUT_SECONDS)
    seen = []
    try:
        events, cancel = client.watch_prefix(prefix)

        def consume():
            try:
                for event in events:
                    seen.append(event.key)
                    if len(seen) >= PYTHON_OPERATIONS:
                        return
            except Exception as error:
                report["watch_error"] = "%s %s" % (type(error).__name__, str(error)[:160])

        watcher = threading.Thread(target=consume, daemon=True)
        watcher.start()
        started = time.monotonic()
        for index in range(PYTHON_OPERATIONS):
            key = "%s%d" % (prefix, index)
            client.put(key, "v%d" % index)
            if client.get(key)[0] != b"v%d" % index:
                raise AssertionError("python-etcd3 read back a different value for %s" % key)
        report["seconds"] = time.monotonic() - started
        wait_until("the watch to see %d events" % PYTHON_OPERATIONS, 20, lambda: len(seen) >= PYTHON_OPERATIONS)
        cancel()
        watcher.join(timeout=5)
        report["events"] = len(seen)
    except Exception as error:
        report["error"] = "%s %s" % (type(error).__name__, str(error)[:300])
    finally:
        client.close()


def real_client_control_frames(node, work_dir, base_port):
    etcdctl_proxy = CountingProxy("etcdctl", base_port + 2, node.port)
    python_proxy = CountingProxy("python-etcd3", base_port + 3, node.port)
    output_path = os.path.join(work_dir, "check-perf.out")
    report = {}
    try:
        with open(output_path, "wb") as output:
            check_perf = node.spawn(["etcdctl", "--endpoints=127.0.0.1:%d" % (base_port + 2), "check", "perf",
                                     "--load=s"], stdout=output, stderr=subprocess.STDOUT)
        python_thread = threading.Thread(
            target=python_client_workload, args=(base_port + 3, "grpc-bounds/python/%s/" % uuid.uuid4().hex, report),
            daemon=True)
        python_thread.start()
        try:
            status = check_perf.wait(timeout=CHECK_PERF_SECONDS_MAX)
        except subprocess.TimeoutExpired:
            check_perf.kill()
            check_perf.wait()
            raise AssertionError("etcdctl check perf did not finish within %d s" % CHECK_PERF_SECONDS_MAX)
        python_thread.join(timeout=60)
    finally:
        etcdctl_proxy.stop()
        python_proxy.stop()
    with open(output_path, errors="replace") as output:
        perf_lines = [line.strip() for line in output.read().replace("\r", "\n").splitlines()
                      if line.strip().startswith(("PASS", "FAIL", "Slowest", "Error", "error"))]
    log("etcdctl check perf --load=s exited %d: %s" % (status, " | ".join(perf_lines) or "(no verdict lines)"))
    log("python-etcd3: %d puts and %d gets in %.1f s, the watch saw %s events%s"
        % (PYTHON_OPERATIONS, PYTHON_OPERATIONS, report.get("seconds", float("nan")), report.get("events", "no"),
           "; error: " + report["error"] if "error" in report else ""))
    figures = etcdctl_proxy.figures() + python_proxy.figures()
    log("per client (max in any %d s window on one connection: PING+SETTINGS+PRIORITY, which NIO counts, and all"
        " five control types; RST_STREAM in any %d s window; frames sent, all connections together):"
        % (CONTROL_FRAME_WINDOW_SECONDS, NIO_RESET_FRAME_WINDOW_SECONDS))
    for proxy in (etcdctl_proxy, python_proxy):
        group = [f for f in figures if f["label"].startswith(proxy.label + "#") and sum(f["counts"].values())]
        if not group:
            log("  %-13s no connection carried frames" % proxy.label)
            continue
        totals = collections.Counter()
        for figure in group:
            totals.update(figure["counts"])
        log("  %-13s %3d connection(s) over %4.1f s: NIO-counted %5d, control %5d, RST_STREAM/30 s %3d;"
            " frames: %s%s"
            % (proxy.label, len(group), max(f["seconds"] for f in group), max(f["nio_max"] for f in group),
               max(f["control_max"] for f in group), max(f["reset_max"] for f in group),
               " ".join("%s=%d" % (FRAME_NAMES.get(t, t), c) for t, c in sorted(totals.items())),
               "; GOAWAY from server: %s" % [error_name(c) for f in group for c in f["goaways"]]
               if any(f["goaways"] for f in group) else ""))
    nio_max = max((f["nio_max"] for f in figures), default=0)
    control_max = max((f["control_max"] for f in figures), default=0)
    reset_max = max((f["reset_max"] for f in figures), default=0)
    headroom_limit = CONTROL_FRAMES_PER_WINDOW_MAX // 10
    log("largest per connection per %d s: %d NIO-counted control frames, %d of the five control types"
        " (limit %d, 10x headroom means below %d); largest RST_STREAM per %d s: %d (NIO default limit %d)"
        % (CONTROL_FRAME_WINDOW_SECONDS, nio_max, control_max, CONTROL_FRAMES_PER_WINDOW_MAX, headroom_limit,
           NIO_RESET_FRAME_WINDOW_SECONDS, reset_max, NIO_RESET_FRAMES_PER_WINDOW_MAX))
    problems = []
    if not any(sum(f["counts"].values()) for f in etcdctl_proxy.figures()):
        problems.append("the proxy saw no frames from etcdctl")
    if not any(sum(f["counts"].values()) for f in python_proxy.figures()):
        problems.append("the proxy saw no frames from python-etcd3")
    if nio_max <= 0:
        problems.append("the proxy counted no control frames")
    if control_max >= headroom_limit:
        problems.append("a connection sent %d control frames in %d s: less than 10x below the limit of %d"
                        % (control_max, CONTROL_FRAME_WINDOW_SECONDS, CONTROL_FRAMES_PER_WINDOW_MAX))
    if reset_max >= NIO_RESET_FRAMES_PER_WINDOW_MAX:
        problems.append("a connection sent %d RST_STREAM in %d s: NIO's default reset limit of %d would close it"
                        % (reset_max, NIO_RESET_FRAME_WINDOW_SECONDS, NIO_RESET_FRAMES_PER_WINDOW_MAX))
    goaways = [(f["label"], error_name(c)) for f in figures for c in f["goaways"]]
    if goaways:
        problems.append("the server sent GOAWAY to real clients: %s" % goaways)
    if "error" in report or "watch_error" in report or report.get("events", 0) < PYTHON_OPERATIONS:
        problems.append("the python-etcd3 workload did not complete: %s" % report)
    if status != 0 and not perf_lines:
        problems.append("etcdctl check perf exited %d without a verdict; its output is in %s" % (status, output_path))
    if problems:
        raise AssertionError("; ".join(problems))
    node.require_alive()


# 5. concurrentStreamsMax

STREAMS_CLOSE_SECONDS_MAX = 10


def streams_per_connection(node):
    connection = H2Connection(node.port, "streams")
    rss_before = node.rss_kib()
    try:
        connection.handshake()
        block = grpc_request_headers(node.port, b"/etcdserverpb.KV/Range")
        stream_ids = [1 + 2 * index for index in range(CONCURRENT_STREAMS_MAX + 1)]
        started = time.monotonic()
        connection.send(b"".join(frame(HEADERS, FLAG_END_HEADERS, stream_id, block)
                                 for stream_id in stream_ids[:CONCURRENT_STREAMS_MAX]))
        # The server reads frames in order, so once this PING is answered it has taken every HEADERS.
        connection.ping_round_trip(timeout_seconds=10)
        open_seconds = time.monotonic() - started
        refused_early = dict(connection.resets)
        goaway_early = connection.goaway
        rss_open = node.rss_kib()
        log("%d streams opened (HEADERS without END_STREAM) in %.2f s: %d reset, GOAWAY %s; node RSS %+.1f MiB"
            % (CONCURRENT_STREAMS_MAX, open_seconds, len(refused_early), connection.describe_goaway(),
               (rss_open - rss_before) / 1024))
        if refused_early or goaway_early:
            raise AssertionError("the server refused streams within its advertised limit: resets %s, GOAWAY %s"
                                 % (sorted(refused_early.items())[:5], connection.describe_goaway()))
        extra = stream_ids[CONCURRENT_STREAMS_MAX]
        connection.send(frame(HEADERS, FLAG_END_HEADERS, extra, block))
        connection.wait_for("the server to answer stream %d" % extra, STREAMS_CLOSE_SECONDS_MAX,
                            lambda: connection.goaway is not None or extra in connection.resets
                            or connection.closed_at is not None)
        connection.wait_for("the server to close the connection", STREAMS_CLOSE_SECONDS_MAX,
                            lambda: connection.closed_at is not None)
    finally:
        connection.close()
    log("stream %d (the %d%s): %s; GOAWAY %s; connection closed (%s)"
        % (extra, CONCURRENT_STREAMS_MAX + 1, "st" if (CONCURRENT_STREAMS_MAX + 1) % 10 == 1 else "th",
           "RST_STREAM %s" % error_name(connection.resets[extra]) if extra in connection.resets else "no RST_STREAM",
           connection.describe_goaway(), connection.close_reason))
    # swift-nio-http2 1.46 makes a stream over the limit a connection error: GOAWAY PROTOCOL_ERROR.
    if connection.goaway is None or connection.goaway[1] != PROTOCOL_ERROR or extra in connection.resets:
        raise AssertionError("expected GOAWAY PROTOCOL_ERROR and no RST_STREAM for stream %d (swift-nio-http2's"
                             " maxStreamsViolation), got RST_STREAM %s, GOAWAY %s"
                             % (extra, connection.resets.get(extra), connection.describe_goaway()))
    node.put_and_get("after a connection exceeded its streams")


# 6. queuedRequestBytesMax and read backpressure

OFFERED_BYTES = 32 << 20
LARGE_MESSAGE_PADDING = 64 << 10
BIG_VALUE_BYTES = 1_000_000
REPLAYING_WATCHES = WATCH_PENDING_BYTES_MAX // BIG_VALUE_BYTES + 1
STALL_SECONDS = 3
FLOOD_SECONDS_MAX = 30
RSS_GROWTH_MAX_KIB = 64 << 10
VIOLATION_BYTES = 1 << 20


def held_watch_stream(node, name, big_key, revision):
    """A Watch stream whose reader the server has stopped: its replies fill the 8 MiB queue (nine
    replays of a 1 MB value) and are never read, since the client grants no window for them."""
    connection = H2Connection(node.port, name)
    connection.handshake()
    stream_id = 1
    headers = grpc_request_headers(node.port, b"/etcdserverpb.Watch/Watch")
    connection.send(frame(HEADERS, FLAG_END_HEADERS, stream_id, headers))
    connection.send_data(stream_id, b"".join(grpc_message(watch_create_request(big_key, revision))
                                             for _ in range(REPLAYING_WATCHES)))
    # The server writes until our 65,535-byte window for its DATA is used up, and no further.
    connection.wait_for("the first replayed reply to fill the window we granted", 10,
                        lambda: connection.data_bytes[stream_id] >= DEFAULT_WINDOW_BYTES - 1024)
    return connection, stream_id


def send_with_flow_control(connection, stream_id, message, offered_bytes):
    """Sends copies of message on the stream while the windows allow, until offered_bytes are sent
    or the server has granted nothing for STALL_SECONDS while we wait. Returns (sent, stalled)."""
    unit = message * max(1, FRAME_PAYLOAD_MAX // len(message))
    payload = (unit * (offered_bytes // len(unit) + 1))[:offered_bytes]
    sent, stalled = 0, False
    deadline = time.monotonic() + FLOOD_SECONDS_MAX
    for _ in range(offered_bytes // 1024 + 10):
        if sent >= offered_bytes or time.monotonic() > deadline:
            break
        with connection.state:
            waited_from = time.monotonic()
            while connection.send_window(stream_id) <= 0 and connection.closed_at is None:
                if time.monotonic() - waited_from >= STALL_SECONDS:
                    stalled = True
                    break
                connection.state.wait(0.05)
            if stalled or connection.closed_at is not None:
                break
            take = min(connection.send_window(stream_id), FRAME_PAYLOAD_MAX, offered_bytes - sent)
        connection.send_data(stream_id, payload[sent:sent + take])
        sent += take
    return sent, stalled


def describe_windows(connection, stream_id):
    with connection.state:
        return ("our send windows then: connection %d bytes, stream %d bytes"
                % (DEFAULT_WINDOW_BYTES + connection.credit[0] - connection.connection_sent,
                   connection.server_settings.get(SETTINGS_INITIAL_WINDOW_SIZE, DEFAULT_WINDOW_BYTES)
                   + connection.credit[stream_id] - connection.stream_sent[stream_id]))


def request_backpressure(node):
    client = node.client()
    big_key = b"grpc-bounds/big-value"
    revision = client.put(big_key, b"v" * BIG_VALUE_BYTES).header.revision
    client.close()
    problems = []
    for label, message in (("64 KiB messages", grpc_message(watch_progress_request(LARGE_MESSAGE_PADDING))),
                           ("7-byte progress requests", grpc_message(watch_progress_request()))):
        rss_before = node.rss_kib()
        connection, stream_id = held_watch_stream(node, "backpressure-" + label.split()[0], big_key, revision)
        try:
            creates_bytes = connection.stream_sent[stream_id]
            started = time.monotonic()
            sent, stalled = send_with_flow_control(connection, stream_id, message, OFFERED_BYTES)
            seconds = time.monotonic() - started
            windows = describe_windows(connection, stream_id)
            time.sleep(1)
            rss_after = node.rss_kib()
            credit = connection.credit[stream_id]
            server_data = connection.data_bytes[stream_id]
            update_count = connection.window_updates[stream_id]
        finally:
            connection.close()
        messages = (sent + len(message) - 1) // len(message)
        # Credit the server may grant once its reader is held: what the handler read before it saw
        # the queue over its bound (up to the bound, plus everything one read() delivers, which is
        # at most one stream window) plus the window it then leaves open. Counted in wire bytes: a
        # message of n bytes costs n + 5, and the queue counts n.
        wire_per_queued = len(message) / (len(message) - 5)
        credit_max = (int(QUEUED_REQUEST_BYTES_MAX * wire_per_queued) + 2 * STREAM_WINDOW_BYTES + 2 * len(message)
                      + (64 << 10))
        growth = rss_after - rss_before
        log("%s: sent %.2f MiB (%d messages) of %d MiB offered in %.1f s, then %s; the stream got %d WINDOW_UPDATEs"
            " (%.2f MiB of credit beyond the initial %.0f MiB; allowed at most %.2f MiB in all); server DATA %d bytes;"
            " node RSS %.0f -> %.0f MiB (%+.1f MiB, %.0f bytes per message); %s"
            % (label, mib(sent), messages, OFFERED_BYTES >> 20, seconds,
               "no credit for %d s" % STALL_SECONDS if stalled else "not stalled",
               update_count, mib(credit), mib(STREAM_WINDOW_BYTES), mib(credit_max), server_data,
               rss_before / 1024, rss_after / 1024, growth / 1024, growth * 1024 / max(1, messages), windows))
        if not stalled:
            problems.append("%s: the server kept granting credit (%.1f MiB sent)" % (label, mib(sent)))
        if sent + creates_bytes > credit_max:
            problems.append("%s: the server granted %.2f MiB, more than the %.2f MiB its bounds allow"
                            % (label, mib(sent + creates_bytes), mib(credit_max)))
        if growth > RSS_GROWTH_MAX_KIB:
            problems.append("%s: node RSS grew by %.1f MiB (bound %d MiB)"
                            % (label, growth / 1024, RSS_GROWTH_MAX_KIB >> 10))
    if problems:
        raise AssertionError("; ".join(problems))
    node.put_and_get("after the backpressure streams")


# 7. A client that ignores flow control

def flow_control_violator(node):
    """Once the server has stopped granting credit on a held Watch stream, 1 MiB more: the server
    must refuse it, not buffer it. swift-nio-http2 makes data past a stream's window a stream error,
    RST_STREAM FLOW_CONTROL_ERROR (StreamStateMachine.receiveData); past the connection's window it
    would be GOAWAY FLOW_CONTROL_ERROR. Either is accepted; whether the connection survives is
    reported, not asserted."""
    client = node.client()
    big_key = b"grpc-bounds/big-value"
    revision = client.put(big_key, b"v" * BIG_VALUE_BYTES).header.revision
    client.close()
    problems = []
    rss_before = node.rss_kib()
    connection, stream_id = held_watch_stream(node, "backpressure-violator", big_key, revision)
    message = grpc_message(watch_progress_request(LARGE_MESSAGE_PADDING))
    send_error = None
    try:
        sent, stalled = send_with_flow_control(connection, stream_id, message, OFFERED_BYTES)
        with connection.state:
            window = connection.send_window(stream_id)
        excess = (message * (VIOLATION_BYTES // len(message) + 1))[:VIOLATION_BYTES]
        try:
            connection.send_data(stream_id, excess)
        except OSError as error:
            send_error = type(error).__name__
        connection.wait_for("RST_STREAM, GOAWAY or a close", 10, lambda: stream_id in connection.resets
                            or connection.goaway is not None or connection.closed_at is not None)
        time.sleep(1)
        rss_after = node.rss_kib()
    finally:
        connection.close()
    growth = rss_after - rss_before
    reset = connection.resets.get(stream_id)
    log("violator: %s after %.2f MiB within the windows, then %.0f MiB past a stream window of %d bytes%s:"
        " RST_STREAM %s, GOAWAY %s, connection %s; node RSS %+.1f MiB"
        % ("stalled" if stalled else "not stalled", mib(sent), mib(VIOLATION_BYTES), window,
           " (send: %s)" % send_error if send_error else "", error_name(reset) if reset is not None else "none",
           connection.describe_goaway(), "closed (%s)" % connection.close_reason if connection.closed_at else "open",
           growth / 1024))
    codes = {reset, connection.goaway[1] if connection.goaway else None} - {None}
    if not stalled:
        problems.append("inconclusive: the server never stopped granting credit, so nothing was past the window")
    if FLOW_CONTROL_ERROR not in codes:
        state = "closed (%s)" % connection.close_reason if connection.closed_at else "open"
        problems.append("a client past its window got RST_STREAM %s, GOAWAY %s, connection %s; expected"
                        " FLOW_CONTROL_ERROR" % (reset, connection.describe_goaway(), state))
    if growth > RSS_GROWTH_MAX_KIB:
        problems.append("violator: node RSS grew by %.1f MiB" % (growth / 1024))
    if problems:
        raise AssertionError("; ".join(problems))
    node.put_and_get("after the flow-control violation")


def quiet_closed_watch_threads():
    """python-etcd3's watch thread re-opens its stream in a loop and dies with "Cannot invoke RPC:
    Channel closed!" once its client is closed; that ending is expected here and not printed."""
    default_hook = threading.excepthook

    def hook(arguments):
        if (arguments.thread is not None and arguments.thread.name.startswith("etcd3_watch_")
                and isinstance(arguments.exc_value, ValueError) and "Channel closed" in str(arguments.exc_value)):
            return
        default_hook(arguments)

    threading.excepthook = hook




def is_synod(binary):
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return False
    probe = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=30)
    return probe.returncode == 0 and "--listen-client-urls" in probe.stdout + probe.stderr


def main(argv):
    checks = Checks("grpc bounds")
    binary = argv[1] if len(argv) == 2 else ""
    if not binary or not is_synod(binary):
        fail_setup(checks, "server binary %r is synod" % binary, "usage: grpc_bounds.py SERVER_BINARY")
        return checks.finish()
    base_port = int(os.environ.get("GRPC_BOUNDS_BASE_PORT", "30379"))
    busy = [p for p in range(base_port, base_port + 4) if not port_free(p)]
    if busy:
        fail_setup(checks, "ports free", "in use: %s; set GRPC_BOUNDS_BASE_PORT to another base" % busy)
        return checks.finish()
    if shutil.which("etcdctl") is None:
        fail_setup(checks, "etcdctl installed", "etcdctl not found; run Tests/compat/install-deps.sh")
        return checks.finish()

    work_dir = tempfile.mkdtemp(prefix="synod-grpc-bounds.")
    node = Node(binary, base_port, work_dir)

    def stop():
        node.close_clients()
        node.stop_everything()

    clean_up_on_exit(checks, stop, work_dir, "GRPC_BOUNDS_KEEP_DIR", "node log and data")
    quiet_closed_watch_threads()

    print("grpc bounds against %s, client port %d" % (binary, base_port), flush=True)
    started = time.monotonic()
    try:
        node.start()
    except AssertionError as error:
        fail_setup(checks, "the node starts", str(error))
        return checks.finish()
    plan = [
        ("prefaceTimeout: silent and half-preface connections closed after ~%d s, a speaking one kept,"
         " SETTINGS advertise %d streams" % (PREFACE_TIMEOUT_SECONDS, CONCURRENT_STREAMS_MAX),
         lambda: preface_timeout(node)),
        ("connectionsMax: %d connections admitted, the next one closed and logged, room again after closing %d"
         % (CONNECTIONS_MAX, CONNECTIONS_CLOSED_TO_MAKE_ROOM), lambda: connection_limit(node)),
        ("controlFramesPerWindowMax: a PING flood gets GOAWAY ENHANCE_YOUR_CALM while another client is served",
         lambda: control_frame_flood(node)),
        ("real clients (etcdctl check perf, python-etcd3) send control frames with at least 10x headroom under"
         " the limit", lambda: real_client_control_frames(node, work_dir, base_port)),
        ("concurrentStreamsMax: %d streams open on one connection, the next gets GOAWAY PROTOCOL_ERROR"
         % CONCURRENT_STREAMS_MAX, lambda: streams_per_connection(node)),
        ("queuedRequestBytesMax: a held Watch stream stops granting flow-control credit, RSS bounded",
         lambda: request_backpressure(node)),
        ("flow control: data past a stream's window gets FLOW_CONTROL_ERROR, not buffered",
         lambda: flow_control_violator(node)),
    ]
    # GRPC_BOUNDS_ONLY=3,5 runs only those checks (numbered as above), for working on one of them.
    only = {int(n) for n in os.environ.get("GRPC_BOUNDS_ONLY", "").split(",") if n.strip()}
    for number, (name, body) in enumerate(plan, start=1):
        if not only or number in only:
            checks.check(name, body)
    print("    total %.1f s" % (time.monotonic() - started), flush=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
