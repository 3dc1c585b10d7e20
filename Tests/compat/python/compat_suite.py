"""What the fault suites under Tests/compat/faults share: telling Synod from etcd, reporting a
setup that could not be made as a failed check, free ports, indented progress lines, a protobuf
varint, and the child processes a suite starts (stopped together, bounded, on any exit)."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import time

STOP_TIMEOUT_SECONDS = 10


def log(text):
    print("    " + text, flush=True)


def server_command_for(binary):
    """Synod takes etcd's flags after `serve`; etcd takes them directly. None for anything else."""
    if not (os.path.isfile(binary) and os.access(binary, os.X_OK)):
        return None
    probe = subprocess.run([binary, "serve", "--help"], capture_output=True, text=True, timeout=30)
    if probe.returncode == 0 and "--listen-client-urls" in probe.stdout + probe.stderr:
        # ZooKeeper's port off: the members share this machine and its default 2181.
        return [binary, "serve", "--zk-listen-address", ""]
    probe = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
    if probe.stdout.startswith("etcd Version"):
        return [binary]
    return None


def fail_setup(checks, name, detail):
    def failing():
        raise AssertionError(detail)
    checks.check("setup: " + name, failing)


def port_free(port):
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def varint(number):
    """A protobuf base-128 varint."""
    out = bytearray()
    while True:
        low = number & 0x7F
        number >>= 7
        if number:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


class Children:
    """Every process a suite starts, so that all of them stop however the suite ends."""

    def __init__(self):
        self.children = []

    def track(self, process):
        self.children.append(process)
        return process

    def spawn(self, arguments, **options):
        return self.track(subprocess.Popen(arguments, stdin=subprocess.DEVNULL, **options))

    def stop_everything(self):
        """SIGTERM to every child still running, then SIGKILL to any left after the bound."""
        running = [p for p in self.children if p.poll() is None]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def clean_up_on_exit(checks, stop, work_dir, keep_variable, kept_what):
    """On any exit (atexit, SIGTERM, SIGINT, SIGHUP): `stop()`, then remove `work_dir`, unless a
    check failed or `keep_variable` is 1 in the environment, in which case it is kept and named."""
    def on_exit():
        stop()
        if checks.failed_count == 0 and os.environ.get(keep_variable) != "1":
            shutil.rmtree(work_dir, ignore_errors=True)
        else:
            print("%s kept in %s" % (kept_what, work_dir), file=sys.stderr)

    atexit.register(on_exit)
    for signal_number in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signal_number, lambda number, _frame: sys.exit(128 + number))


def cluster_arguments(checks, argv, suite_file, port_variable, default_port, member_count):
    """(server command, base port) from a suite's command line and environment, or None after a
    failed setup check: the binary must be synod or etcd, and member i's client port BASE+10*i and
    peer port BASE+10*i+1 must be free."""
    binary = argv[1] if len(argv) == 2 else ""
    server_command = server_command_for(binary) if binary else None
    if server_command is None:
        fail_setup(checks, "server binary %r exists and is synod or etcd" % binary,
                   "usage: %s SERVER_BINARY" % os.path.basename(suite_file))
        return None
    base_port = int(os.environ.get(port_variable, str(default_port)))
    busy = [p for i in range(member_count) for p in (base_port + 10 * i, base_port + 10 * i + 1) if not port_free(p)]
    if busy:
        fail_setup(checks, "ports free", "in use: %s; set %s to another base" % (busy, port_variable))
        return None
    return server_command, base_port


class LocalMember:
    """Member `index` of a suite's cluster: named `prefix` + index, clients on BASE+10*index and
    peers on the next port, data and log under `work_dir`."""

    def __init__(self, index, prefix, base_port, work_dir):
        self.index = index
        self.name = "%s%d" % (prefix, index)
        self.client_port = base_port + 10 * index
        self.peer_port = self.client_port + 1
        self.client_url = "http://127.0.0.1:%d" % self.client_port
        self.peer_url = "http://127.0.0.1:%d" % self.peer_port
        self.data_dir = os.path.join(work_dir, self.name)
        self.log_path = os.path.join(work_dir, self.name + ".log")
        self.process = None

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def require_running(self):
        """Raises, with the end of the member's log, if it has exited."""
        if not self.alive():
            with open(self.log_path, errors="replace") as log_file:
                tail = log_file.read()[-600:]
            raise AssertionError("%s exited with status %s; the end of its log:\n%s"
                                 % (self.name, self.process.returncode, tail))



class LocalCluster(Children):
    """A suite's cluster of `members` (LocalMember), started with etcd's flags, and every other
    process the suite starts beside it."""

    def __init__(self, server_command, members, token_prefix, extra_flags):
        Children.__init__(self)
        self.server_command = server_command
        self.members = members
        self.initial_cluster = ",".join("%s=%s" % (m.name, m.peer_url) for m in members)
        self.token = "%s-%d" % (token_prefix, os.getpid())
        self.extra_flags = extra_flags

    def member_flags(self, member):
        """Flags of one member's own beyond `extra_flags` (its metrics listener, say); none here."""
        return []

    def start(self, member):
        """Starts `member`, logging to its log file. The same flags serve a restart: with data in
        --data-dir, etcd and Synod ignore the initial-cluster flags."""
        arguments = self.server_command + [
            "--name", member.name, "--data-dir", member.data_dir,
            "--listen-client-urls", member.client_url, "--advertise-client-urls", member.client_url,
            "--listen-peer-urls", member.peer_url, "--initial-advertise-peer-urls", member.peer_url,
            "--initial-cluster", self.initial_cluster, "--initial-cluster-token", self.token,
            "--initial-cluster-state", "new",
        ] + self.extra_flags + self.member_flags(member)
        with open(member.log_path, "ab") as log_file:
            member.process = subprocess.Popen(arguments, stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
        self.track(member.process)
