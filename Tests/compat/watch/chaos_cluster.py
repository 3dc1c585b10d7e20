"""A 3-member cluster of server child processes on loopback, for the watch chaos run.

Member i listens for clients on BASE+10*i and for peers on BASE+10*i+1, as in ../run.sh. Synod
takes etcd's flags after its `serve` subcommand; etcd takes them directly, so the same run can
show that an expectation is etcd's own.

Children are started through `setpriv --pdeathsig KILL`, so the kernel kills them even if this
process dies by SIGKILL and no cleanup code runs; stop_all() (registered with atexit by the
caller) handles every other exit. Members are started from the main thread only: the death
signal follows the thread that forked, not the process.
"""

import os
import signal
import socket
import subprocess
import time

import grpc
from etcd3.etcdrpc import rpc_pb2, rpc_pb2_grpc

MEMBER_COUNT = 3
STOP_TIMEOUT_SECONDS = 10
STOP_ALL_GRACE_SECONDS = 5
CALL_TIMEOUT_SECONDS = 3
MESSAGE_BYTES_MAX = 64 * 1024 * 1024  # a replay of a revision that deleted thousands of keys is large
# A restarted member must be reachable again within a second, not after gRPC's default backoff.
CHANNEL_OPTIONS = [
    ("grpc.max_receive_message_length", MESSAGE_BYTES_MAX),
    ("grpc.max_send_message_length", MESSAGE_BYTES_MAX),
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 500),
]


def server_command(server_binary):
    """(command prefix, kind): ["synod", "serve"] for Synod, [etcd] for etcd; raises otherwise."""
    if not (os.path.isfile(server_binary) and os.access(server_binary, os.X_OK)):
        raise RuntimeError("server binary %s is missing or not executable" % server_binary)
    probe = subprocess.run([server_binary, "serve", "--help"], capture_output=True, timeout=20)
    if probe.returncode == 0:
        # ZooKeeper's port off: the members share this machine and its default 2181.
        return [server_binary, "serve", "--zk-listen-address", ""], "synod"
    probe = subprocess.run([server_binary, "--version"], capture_output=True, timeout=20)
    if probe.stdout.startswith(b"etcd Version"):
        return [server_binary], "etcd"
    raise RuntimeError("%s is neither synod (no 'serve' subcommand) nor etcd" % server_binary)


def port_in_use(port):
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0


class Member:
    def __init__(self, index, base_port, work_dir):
        self.index = index
        self.name = "watch%d" % index
        self.client_port = base_port + 10 * index
        self.peer_port = self.client_port + 1
        self.endpoint = "127.0.0.1:%d" % self.client_port
        self.data_dir = os.path.join(work_dir, self.name)
        self.log_path = os.path.join(work_dir, self.name + ".log")
        self.process = None
        self.channel = None

    def alive(self):
        return self.process is not None and self.process.poll() is None


class Cluster:
    def __init__(self, server_binary, base_port, work_dir, fault=None):
        self.command, self.kind = server_command(server_binary)
        self.members = [Member(index, base_port, work_dir) for index in range(MEMBER_COUNT)]
        busy = [port for member in self.members for port in (member.client_port, member.peer_port) if port_in_use(port)]
        if busy:
            raise RuntimeError("ports %s are in use; set WATCH_CHAOS_BASE_PORT to another base" % busy)
        self.initial_cluster = ",".join("%s=http://127.0.0.1:%d" % (member.name, member.peer_port)
                                        for member in self.members)
        self.token = "watch-chaos-%d" % os.getpid()
        self.environment = dict(os.environ)
        if fault:
            self.environment["SYNOD_WATCH_FAULT"] = fault
        self.events = []  # (seconds since start, text) of every start, kill and stop, for the report
        self.started_at = time.monotonic()

    def note(self, text):
        self.events.append((time.monotonic() - self.started_at, text))

    def start(self, index):
        """Starts member index on its data directory; a restart uses the same flags (with data in
        --data-dir the initial-cluster flags are ignored, by etcd and by Synod)."""
        member = self.members[index]
        assert not member.alive(), "member %s is already running" % member.name
        url_client = "http://%s" % member.endpoint
        url_peer = "http://127.0.0.1:%d" % member.peer_port
        arguments = ["setpriv", "--pdeathsig", "KILL"] + self.command + [
            "--name", member.name, "--data-dir", member.data_dir,
            "--listen-client-urls", url_client, "--advertise-client-urls", url_client,
            "--listen-peer-urls", url_peer, "--initial-advertise-peer-urls", url_peer,
            "--initial-cluster", self.initial_cluster, "--initial-cluster-token", self.token,
            "--initial-cluster-state", "new"]
        with open(member.log_path, "ab") as log:
            member.process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                              env=self.environment)
        self.note("started %s (pid %d)" % (member.name, member.process.pid))

    def start_all(self):
        for index in range(MEMBER_COUNT):
            self.start(index)

    def kill(self, index):
        member = self.members[index]
        if member.alive():
            member.process.send_signal(signal.SIGKILL)
            member.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            self.note("SIGKILL %s" % member.name)

    def stop(self, index):
        """SIGTERM, then SIGKILL if the member has not exited within the bound. False if it had to be killed."""
        member = self.members[index]
        if not member.alive():
            return True
        member.process.send_signal(signal.SIGTERM)
        try:
            member.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            self.note("SIGTERM %s (exited)" % member.name)
            return True
        except subprocess.TimeoutExpired:
            self.kill(index)
            self.note("%s ignored SIGTERM for %d s; killed" % (member.name, STOP_TIMEOUT_SECONDS))
            return False

    def stop_all(self):
        """At exit: SIGTERM to every member, SIGKILL to those still up after a short grace (a member
        with client streams still open can take its full graceful-stop time)."""
        for member in self.members:
            if member.alive():
                member.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_ALL_GRACE_SECONDS
        for member in self.members:
            if member.process is None:
                continue
            try:
                member.process.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                member.process.kill()
                member.process.wait()

    def channel(self, index):
        """A long-lived channel to member index for unary calls; it reconnects after a restart."""
        member = self.members[index]
        if member.channel is None:
            member.channel = grpc.insecure_channel(member.endpoint, options=CHANNEL_OPTIONS)
        return member.channel

    def kv(self, index):
        return rpc_pb2_grpc.KVStub(self.channel(index))

    def status(self, index):
        """(member id, leader id) as member index sees them, or None if it does not answer."""
        if not self.members[index].alive():
            return None
        try:
            maintenance = rpc_pb2_grpc.MaintenanceStub(self.channel(index))
            reply = maintenance.Status(rpc_pb2.StatusRequest(), timeout=CALL_TIMEOUT_SECONDS)
        except grpc.RpcError:
            return None
        return reply.header.member_id, reply.leader

    def leader_index(self):
        """The member every answering member names as leader, or None while they disagree."""
        statuses = {index: self.status(index) for index in range(MEMBER_COUNT)}
        answered = {index: status for index, status in statuses.items() if status is not None}
        leaders = {leader for _, leader in answered.values()}
        if len(leaders) != 1 or 0 in leaders:
            return None
        leader = leaders.pop()
        for index, (member_id, _) in answered.items():
            if member_id == leader:
                return index
        return None

    def current_revision(self, index):
        """The member's revision from a linearizable read; raises grpc.RpcError when it cannot serve."""
        reply = self.kv(index).Range(rpc_pb2.RangeRequest(key=b"health", limit=1), timeout=CALL_TIMEOUT_SECONDS)
        return reply.header.revision

    def healthy(self):
        """Every member runs, serves a linearizable read, and all name the same leader."""
        if self.leader_index() is None:
            return False
        for index in range(MEMBER_COUNT):
            try:
                self.current_revision(index)
            except grpc.RpcError:
                return False
        return True

    def wait_healthy(self, timeout_seconds):
        deadline = time.monotonic() + timeout_seconds
        for _ in range(int(timeout_seconds / 0.25) + 1):
            if self.healthy():
                return True
            for member in self.members:
                if member.process is not None and not member.alive():
                    raise RuntimeError("member %s exited (status %s); see %s"
                                       % (member.name, member.process.returncode, member.log_path))
            if time.monotonic() >= deadline:
                break
            time.sleep(0.25)
        return False
