#!/usr/bin/env python3
"""The live dashboard (/ui) in headless Chromium, on a 3-member cluster this script starts itself.

Usage: python3 Tests/compat/dashboard.py SYNOD_BINARY

Member i listens for clients on BASE+10*i, for peers on BASE+10*i+1 and serves its UI
(--listen-metrics-urls) on BASE+10*i+2, BASE from DASHBOARD_BASE_PORT (default 23379). Screenshots
go to DASHBOARD_SCREENSHOT_DIR (default: a new temporary directory, kept); their paths are
printed. Member data and logs, and Chromium's log and profile, go to a temporary directory that is
kept when a check failed (DASHBOARD_KEEP_DIR=1 keeps it always). DASHBOARD_CHROMIUM names the
browser (default: `chromium` on PATH); a missing browser fails the suite, it is not skipped.

Chromium is driven through the DevTools protocol over --remote-debugging-pipe: NUL-terminated
JSON on the browser's file descriptors 3 (commands) and 4 (answers and events). A pipe needs no
port, no HTTP endpoint discovery and no websocket library, and it closes when the browser dies.

While a writer puts keys (python-etcd3, failing over between members), the checks are:
 1. the page, opened at the first member's UI URL (at the second's when the first leads, so that
    the page's own server survives the kill), receives more than 3 status updates;
 2. it lists the 3 members, all reachable, one leader, and a lag for each follower, and its
    leader is the one etcd's Status names;
 3. its charts have data: puts per second above zero, a p99 request latency, WAL fsync p99, the
    leader change count (screenshot "before");
 4. after SIGKILL of the leader, the page shows that member unreachable within
    UNREACHABLE_TIMEOUT_SECONDS (screenshot "during", taken as soon as it does);
 5. it names another member as leader within NEW_LEADER_TIMEOUT_SECONDS, the one the survivors
    agree on, and marks the change on the leader changes chart (screenshot "after");
 6. the killed member, started again on its data directory, shows reachable again within
    RESTART_TIMEOUT_SECONDS (screenshot "restarted");
 7. the page threw no uncaught JavaScript exception.
Every wait is bounded. Prints PASS/FAIL per check, then "dashboard: N passed, N failed"; exits
non-zero on any failure. Every member, the writer and the browser stop on any exit of this
script (atexit, SIGTERM, SIGINT, SIGHUP).
"""

import base64
import fcntl
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "python"))
from compat_checks import Checks, wait_until  # noqa: E402
from compat_suite import LocalCluster, LocalMember, clean_up_on_exit, cluster_arguments, fail_setup, log, port_free  # noqa: E402

MEMBER_COUNT = 3
HEARTBEAT_INTERVAL_MILLIS = 50
ELECTION_TIMEOUT_MILLIS = 500
STARTUP_TIMEOUT_SECONDS = 30
STOP_TIMEOUT_SECONDS = 10

WINDOW_WIDTH = 1400
WINDOW_HEIGHT = 1000
BROWSER_START_TIMEOUT_SECONDS = 30
DEVTOOLS_CALL_TIMEOUT_SECONDS = 15
# Events the browser sends that no call waits for; only uncaught exceptions are kept from them.
DEVTOOLS_EXCEPTIONS_MAX = 100
PAGE_POLL_INTERVAL_SECONDS = 0.1
PAGE_FETCH_TIMEOUT_SECONDS = 5

# The page must have taken more than this many statuses before the first checks.
PAGE_UPDATES_MIN = 3
PAGE_READY_TIMEOUT_SECONDS = 20
# The charts need two samples a member and a few seconds of writes; the "before" screenshot waits
# for this many one-second points, so that it shows lines rather than dots.
CHARTS_TIMEOUT_SECONDS = 15
CHART_POINTS_BEFORE_KILL = 15
CHART_POINTS_TIMEOUT_SECONDS = CHART_POINTS_BEFORE_KILL + 10
# SIGKILL closes the member's sockets, so the page's event stream fails at once and one quick
# retry later (250 ms) the page calls the member unreachable; the rest is slack for a loaded
# 2-core machine. The page's own silence bound (3.5 s) would catch a member that hangs instead.
UNREACHABLE_TIMEOUT_SECONDS = 3
NEW_LEADER_TIMEOUT_SECONDS = 20
# Start-up on the data directory, then the page's retry backoff (at most 5 s between attempts).
RESTART_TIMEOUT_SECONDS = 30

WRITER_PAUSE_SECONDS = 0.005
WRITER_CALL_TIMEOUT_SECONDS = 2
WRITER_PUTS_MAX = 1_000_000


class Member(LocalMember):
    def __init__(self, index, base_port, work_dir):
        LocalMember.__init__(self, index, "dash", base_port, work_dir)
        self.metrics_port = self.client_port + 2
        self.metrics_url = "http://127.0.0.1:%d" % self.metrics_port
        self._client = None

    def client(self):
        import etcd3  # only the real cluster needs it; the fake one of a dry run does not
        if self._client is None:
            self._client = etcd3.client(host="127.0.0.1", port=self.client_port, timeout=WRITER_CALL_TIMEOUT_SECONDS)
        return self._client


class Cluster(LocalCluster):
    def __init__(self, server_command, base_port, work_dir):
        flags = [
            "--heartbeat-interval", str(HEARTBEAT_INTERVAL_MILLIS),
            "--election-timeout", str(ELECTION_TIMEOUT_MILLIS),
        ]
        members = [Member(i, base_port, work_dir) for i in range(MEMBER_COUNT)]
        LocalCluster.__init__(self, server_command, members, "dashboard", flags)

    def member_flags(self, member):
        return ["--listen-metrics-urls", member.metrics_url]

    def kill(self, member):
        member.process.send_signal(signal.SIGKILL)
        member.process.wait(timeout=STOP_TIMEOUT_SECONDS)

    def restart(self, member):
        self.start(member)

    def leader(self, members):
        """The member every one of `members` names as leader (etcd's Status), if they agree."""
        names = set()
        for member in members:
            try:
                status = member.client().status()
            except Exception:
                return None
            names.add(status.leader.name if status.leader is not None else None)
        if len(names) != 1:
            return None
        name = names.pop()
        return next((m for m in members if m.name == name), None)


class Writer:
    """Puts keys in a loop through one member, moving to the next when a put fails."""

    def __init__(self, members):
        self.members = members
        self.stop_event = threading.Event()
        self.succeeded = 0
        self.failed = 0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self):
        self.thread.start()

    def _run(self):
        index = 0
        for number in range(WRITER_PUTS_MAX):
            if self.stop_event.is_set():
                return
            member = self.members[index % len(self.members)]
            try:
                member.client().put("dashboard/key-%d" % (number % 1000), "value-%d" % number)
                self.succeeded += 1
            except Exception:
                self.failed += 1
                index += 1
            self.stop_event.wait(WRITER_PAUSE_SECONDS)

    def stop(self):
        self.stop_event.set()
        if self.thread.ident is not None:
            self.thread.join(timeout=WRITER_CALL_TIMEOUT_SECONDS + 1)


# ---- Chromium over the DevTools protocol ----

class DevToolsError(Exception):
    pass


class Browser:
    """Headless Chromium with the DevTools protocol on a pipe (--remote-debugging-pipe)."""

    def __init__(self, binary, work_dir, children):
        # The browser reads commands on its fd 3 and writes answers on its fd 4. The ends it gets
        # are first moved above 9, so that bash's redirections cannot overwrite one another (dash
        # takes single-digit descriptors only, hence bash).
        commands_read, commands_write = os.pipe()
        answers_read, answers_write = os.pipe()
        child_commands = fcntl.fcntl(commands_read, fcntl.F_DUPFD, 10)
        child_answers = fcntl.fcntl(answers_write, fcntl.F_DUPFD, 10)
        os.close(commands_read)
        os.close(answers_write)
        arguments = [
            binary, "--headless", "--remote-debugging-pipe",
            # CI runs as root, where Chromium's sandbox cannot start; the browser only loads the
            # cluster's own page on loopback.
            "--no-sandbox",
            "--user-data-dir=" + os.path.join(work_dir, "chromium-profile"),
            "--window-size=%d,%d" % (WINDOW_WIDTH, WINDOW_HEIGHT), "--hide-scrollbars",
            "--no-first-run", "--no-default-browser-check", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-extensions", "--disable-background-networking", "--disable-sync", "--mute-audio",
            # A page in a headless window must keep its timers running at full rate.
            "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
            "--disable-backgrounding-occluded-windows",
            "about:blank",
        ]
        shell = 'exec "$0" "$@" 3<&%d 4>&%d %d<&- %d>&-' % (child_commands, child_answers, child_commands, child_answers)
        self.log_path = os.path.join(work_dir, "chromium.log")
        with open(self.log_path, "ab") as log_file:
            # Its own session, so that the renderer and helper processes it forks can be stopped
            # together with it (kill_group).
            self.process = children.track(subprocess.Popen(
                ["bash", "-c", shell] + arguments, pass_fds=(child_commands, child_answers),
                stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True))
        os.close(child_commands)
        os.close(child_answers)
        self.commands = commands_write
        self.answers = answers_read
        self.buffer = b""
        self.next_id = 0
        self.exceptions = []

    def kill_group(self):
        """SIGKILL to whatever is left of the browser's process group."""
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _read_message(self, deadline):
        while b"\0" not in self.buffer:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("no answer from the browser in time")
            ready, _, _ = select.select([self.answers], [], [], remaining)
            if ready:
                chunk = os.read(self.answers, 1 << 20)
                if not chunk:
                    raise DevToolsError("the browser closed its DevTools pipe (exit status %s); see %s"
                                        % (self.process.poll(), self.log_path))
                self.buffer += chunk
        message, _, self.buffer = self.buffer.partition(b"\0")
        return json.loads(message)

    def call(self, method, params=None, session_id=None, timeout_seconds=DEVTOOLS_CALL_TIMEOUT_SECONDS):
        self.next_id += 1
        request_id = self.next_id
        message = {"id": request_id, "method": method, "params": params or {}}
        if session_id is not None:
            message["sessionId"] = session_id
        data = json.dumps(message).encode() + b"\0"
        while data:
            data = data[os.write(self.commands, data):]
        deadline = time.monotonic() + timeout_seconds
        while True:
            answer = self._read_message(deadline)
            if answer.get("id") == request_id:
                if "error" in answer:
                    raise DevToolsError("%s: %s" % (method, answer["error"]))
                return answer.get("result", {})
            if answer.get("method") == "Runtime.exceptionThrown" and len(self.exceptions) < DEVTOOLS_EXCEPTIONS_MAX:
                details = answer["params"]["exceptionDetails"]
                description = details.get("exception", {}).get("description") or details.get("text")
                self.exceptions.append("%s (line %s)" % (description, details.get("lineNumber")))

    def close(self):
        try:
            self.call("Browser.close", timeout_seconds=5)
        except Exception:
            pass


class Page:
    """One tab, sized to the window, with its own DevTools session."""

    def __init__(self, browser):
        self.browser = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"})
        self.session_id = browser.call("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True})["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride",
                  {"width": WINDOW_WIDTH, "height": WINDOW_HEIGHT, "deviceScaleFactor": 1, "mobile": False})
        self.call("Page.bringToFront")
        self.url = None

    def call(self, method, params=None):
        return self.browser.call(method, params, self.session_id)

    def navigate(self, url):
        result = self.call("Page.navigate", {"url": url})
        if result.get("errorText"):
            raise AssertionError("loading %s: %s" % (url, result["errorText"]))
        self.url = url

    def evaluate(self, expression):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True})
        if "exceptionDetails" in result:
            raise AssertionError("evaluating in the page: %s" % result["exceptionDetails"].get("text"))
        return result["result"].get("value")

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png"})["data"]
        with open(path, "wb") as file:
            file.write(base64.b64decode(data))
        log("screenshot: " + path)


# What the checks read from the page: its test attributes, and the chart points it draws.
PAGE_STATE = """(() => {
  const body = document.body;
  if (!body || body.dataset.updates === undefined) return null;
  const rows = [...document.querySelectorAll("#members [data-member-id]")].map((row) => ({
    id: row.dataset.memberId, name: row.dataset.name || "", role: row.dataset.role,
    reachable: row.dataset.reachable !== "false" && row.dataset.role !== "unreachable",
    lag: row.dataset.lag === undefined || row.dataset.lag === "" ? null : Number(row.dataset.lag) }));
  const d = window.synodDashboard;
  const points = d ? d.points.slice(-10) : [];
  return {
    leader: body.dataset.leader || "", leaderName: body.dataset.leaderName || "",
    updates: Number(body.dataset.updates || 0), rows,
    ops: points.map((p) => p.ops), latency: points.map((p) => p.latency), changes: points.map((p) => p.changes),
    wal: points.map((p) => Object.keys(p.wal).length), markers: d ? d.leaderMarkers.length : 0,
    pointCount: d ? d.points.length : 0,
  };
})()"""


def page_state(page):
    return page.evaluate(PAGE_STATE) or {"leader": "", "leaderName": "", "updates": 0, "rows": [],
                                          "ops": [], "latency": [], "changes": [], "wal": [], "markers": 0,
                                          "pointCount": 0}


def wait_for_page(page, description, timeout_seconds, predicate):
    """Polls the page's state until predicate(state) holds; returns that state and the wait."""
    found = []
    started = time.monotonic()

    def holds():
        found.append(page_state(page))
        del found[:-1]
        return bool(predicate(found[-1]))

    try:
        wait_until(description, timeout_seconds, holds, interval_seconds=PAGE_POLL_INTERVAL_SECONDS)
    except AssertionError as error:
        raise AssertionError("%s; the page showed: %s" % (error, summary(found[-1] if found else None))) from None
    return found[-1], time.monotonic() - started


def summary(state):
    if state is None:
        return "nothing"
    rows = ", ".join("%s=%s" % (row["name"] or row["id"], row["role"]) for row in state["rows"])
    return "leader %r, %d updates, rows [%s]" % (state["leaderName"] or state["leader"], state["updates"], rows)


def row_of(state, member):
    return next((row for row in state["rows"] if row["name"] == member.name), None)


# ---- The scenario ----

class Scenario:
    """The checks, over any `cluster` with members (name, metrics_url), leader(members),
    kill(member) and restart(member): the real Synod cluster here, a fake one when the page is
    tried without a server."""

    def __init__(self, checks, browser, cluster, screenshot_dir):
        self.checks = checks
        self.browser = browser
        self.cluster = cluster
        self.screenshot_dir = screenshot_dir
        self.page = None
        self.page_member = None
        self.leader = None
        self.killed = None

    def step(self, name, function):
        before = self.checks.failed_count
        self.checks.check(name, function)
        return self.checks.failed_count == before

    def run(self):
        names = [
            ("the page receives more than %d status updates" % PAGE_UPDATES_MIN, self.open_page),
            ("the page lists every member, reachable, and the leader etcd's Status names", self.members_and_leader),
            ("the charts have data: puts/s, p99 request latency, WAL fsync p99, leader changes", self.charts_have_data),
            ("the killed leader shows unreachable within %d s" % UNREACHABLE_TIMEOUT_SECONDS, self.kill_leader),
            ("another member shows as leader within %d s, the one the survivors agree on" % NEW_LEADER_TIMEOUT_SECONDS,
             self.new_leader),
            ("the restarted member shows reachable again within %d s" % RESTART_TIMEOUT_SECONDS, self.restarted),
        ]
        for position, (name, function) in enumerate(names):
            if not self.step(name, function):
                # The later checks need this one; they are reported, not silently dropped.
                for later, _ in names[position + 1:]:
                    self.checks.check(later, not_run)
                break
        self.step("the page threw no uncaught JavaScript exception", self.no_exceptions)

    def screenshot(self, label):
        self.page.screenshot(os.path.join(self.screenshot_dir, "dashboard-%s.png" % label))

    def page_url(self, member):
        return member.metrics_url + "/ui"

    def load(self, member):
        url = self.page_url(member)
        # First without the browser, so that a missing or wrong page fails with what was served.
        try:
            with urllib.request.urlopen(url, timeout=PAGE_FETCH_TIMEOUT_SECONDS) as response:
                content_type = response.headers.get("Content-Type", "")
                text = response.read().decode("utf-8", "replace")
        except Exception as error:
            raise AssertionError("GET %s: %s" % (url, error)) from None
        if not content_type.startswith("text/html") or 'id="members"' not in text:
            raise AssertionError("GET %s answered %r, %d bytes, not the dashboard: %r"
                                 % (url, content_type, len(text), text[:200]))
        self.page.navigate(url)
        self.page_member = member
        log("opened " + url)
        state, waited = wait_for_page(
            self.page, "more than %d status updates and a leader" % PAGE_UPDATES_MIN, PAGE_READY_TIMEOUT_SECONDS,
            lambda s: s["updates"] > PAGE_UPDATES_MIN and s["leader"] and len(s["rows"]) >= len(self.cluster.members))
        log("%d updates after %.1f s: %s" % (state["updates"], waited, summary(state)))
        return state

    def open_page(self):
        self.page = Page(self.browser)
        first, second = self.cluster.members[0], self.cluster.members[1]
        state = self.load(first)
        # The page's own server must survive the kill, so it is never read from the leader.
        if state["leaderName"] == first.name:
            log("%s leads; reading the page from %s instead" % (first.name, second.name))
            self.load(second)

    def agreed_leader(self, members, timeout_seconds):
        agreed = []
        wait_until("a leader %s agree on" % [m.name for m in members], timeout_seconds,
                   lambda: agreed.append(self.cluster.leader(members)) or agreed[-1] is not None)
        return agreed[-1]

    def members_and_leader(self):
        expected = sorted(m.name for m in self.cluster.members)
        cluster_leader = self.agreed_leader(self.cluster.members, STARTUP_TIMEOUT_SECONDS)
        # The page follows the cluster within a second or two; a leader change in between is
        # possible, so the page is given a few seconds to show the same leader.
        state, _ = wait_for_page(
            self.page, "the page to list %s, all reachable, leader %s" % (expected, cluster_leader.name), 10,
            lambda s: sorted(row["name"] for row in s["rows"]) == expected and all(row["reachable"] for row in s["rows"])
            and s["leaderName"] == cluster_leader.name)
        roles = sorted(row["role"] for row in state["rows"])
        if roles != ["follower"] * (len(expected) - 1) + ["leader"]:
            raise AssertionError("roles %s, expected one leader and followers" % roles)
        leader_row = row_of(state, cluster_leader)
        if leader_row["role"] != "leader" or leader_row["id"] != state["leader"]:
            raise AssertionError("the leader's row %r, body data-leader %r" % (leader_row, state["leader"]))
        lags = {row["name"]: row["lag"] for row in state["rows"] if row["role"] == "follower"}
        if not all(isinstance(lag, (int, float)) and lag >= 0 for lag in lags.values()):
            raise AssertionError("followers' lag %s, expected a number of entries each" % lags)
        log("followers' lag behind the leader's commit index: %s" % lags)
        self.leader = cluster_leader
        log("leader %s (%s)" % (cluster_leader.name, state["leader"]))

    def charts_have_data(self):
        def filled(s):
            return (any(v is not None and v > 0 for v in s["ops"]) and any(v is not None for v in s["latency"])
                    and any(count > 0 for count in s["wal"]) and any(v is not None for v in s["changes"]))
        state, waited = wait_for_page(self.page, "every chart to have a value", CHARTS_TIMEOUT_SECONDS, filled)
        ops = [v for v in state["ops"] if v is not None]
        log("after %.1f s: puts/s %s, p99 latency %s s" % (waited, ["%.0f" % v for v in ops[-3:]],
                                                           ["%.4f" % v for v in state["latency"][-3:] if v is not None]))
        wait_for_page(self.page, "%d chart points" % CHART_POINTS_BEFORE_KILL, CHART_POINTS_TIMEOUT_SECONDS,
                      lambda s: s["pointCount"] >= CHART_POINTS_BEFORE_KILL)
        self.screenshot("before")

    def kill_leader(self):
        # An election since the check above (the machine is loaded) may have moved the leadership,
        # even to the member serving the page; the page is then read from another member.
        leader = self.agreed_leader(self.cluster.members, STARTUP_TIMEOUT_SECONDS)
        if leader is not self.leader:
            log("the leader is now %s" % leader.name)
        if leader is self.page_member:
            self.load(next(m for m in self.cluster.members if m is not leader))
        self.killed = leader
        self.cluster.kill(self.killed)
        log("SIGKILL to the leader %s" % self.killed.name)
        try:
            state, waited = wait_for_page(
                self.page, "%s shown unreachable" % self.killed.name, UNREACHABLE_TIMEOUT_SECONDS,
                lambda s: row_of(s, self.killed) is not None and not row_of(s, self.killed)["reachable"])
        finally:
            self.screenshot("during")
        log("%s shown unreachable %.2f s after the kill (%s)" % (self.killed.name, waited, summary(state)))

    def new_leader(self):
        state, waited = wait_for_page(
            self.page, "a leader other than %s" % self.killed.name, NEW_LEADER_TIMEOUT_SECONDS,
            lambda s: s["leaderName"] not in ("", self.killed.name))
        log("the page shows %s as leader %.2f s after the kill was seen" % (state["leaderName"], waited))
        survivors = [m for m in self.cluster.members if m is not self.killed]
        new_leader = self.agreed_leader(survivors, NEW_LEADER_TIMEOUT_SECONDS)
        # The page may show the new leader a moment after etcd's Status does.
        wait_for_page(self.page, "the leader change marked on the chart, leader %s" % new_leader.name, 5,
                      lambda s: s["markers"] > 0 and s["leaderName"] == new_leader.name)
        self.screenshot("after")

    def restarted(self):
        self.cluster.restart(self.killed)
        log("started %s again" % self.killed.name)
        try:
            state, waited = wait_for_page(
                self.page, "%s reachable again" % self.killed.name, RESTART_TIMEOUT_SECONDS,
                lambda s: row_of(s, self.killed) is not None and row_of(s, self.killed)["reachable"])
        finally:
            self.screenshot("restarted")
        log("%s reachable again %.1f s after its start: %s" % (self.killed.name, waited, summary(state)))
        if row_of(state, self.killed)["role"] not in ("follower", "leader", "candidate", "learner"):
            raise AssertionError("its role is %r" % row_of(state, self.killed)["role"])

    def no_exceptions(self):
        if self.page is not None:
            page_state(self.page)  # collects any exception events still on the pipe
        if self.browser.exceptions:
            raise AssertionError("; ".join(self.browser.exceptions[:5]))


def not_run():
    raise AssertionError("not run: an earlier check failed")


def find_chromium():
    named = os.environ.get("DASHBOARD_CHROMIUM")
    if named:
        return shutil.which(named)
    return next((path for path in map(shutil.which, ("chromium", "chromium-browser")) if path), None)


def main(argv):
    checks = Checks("dashboard")
    chromium = find_chromium()
    if chromium is None:
        fail_setup(checks, "chromium is installed",
                   "no chromium on PATH (apt-get install chromium), and DASHBOARD_CHROMIUM names none")
        return checks.finish()
    arguments = cluster_arguments(checks, argv, __file__, "DASHBOARD_BASE_PORT", 23379, MEMBER_COUNT)
    if arguments is None:
        return checks.finish()
    server_command, base_port = arguments
    busy = [base_port + 10 * i + 2 for i in range(MEMBER_COUNT) if not port_free(base_port + 10 * i + 2)]
    if busy:
        fail_setup(checks, "UI ports free", "in use: %s; set DASHBOARD_BASE_PORT to another base" % busy)
        return checks.finish()
    try:
        __import__("etcd3")
    except ImportError as error:
        fail_setup(checks, "python-etcd3 is importable", "%s; install the line in Tests/compat/requirements.txt" % error)
        return checks.finish()

    work_dir = tempfile.mkdtemp(prefix="synod-dashboard.")
    screenshot_dir = os.environ.get("DASHBOARD_SCREENSHOT_DIR") or tempfile.mkdtemp(prefix="synod-dashboard-screenshots.")
    os.makedirs(screenshot_dir, exist_ok=True)
    cluster = Cluster(server_command, base_port, work_dir)
    writer = Writer(cluster.members)
    browser = None

    def stop():
        writer.stop()
        if browser is not None:
            browser.close()
        cluster.stop_everything()
        if browser is not None:
            browser.kill_group()

    clean_up_on_exit(checks, stop, work_dir, "DASHBOARD_KEEP_DIR", "member data and logs, and Chromium's log")

    print("dashboard against %s, UI URLs %s; %s; screenshots in %s"
          % (" ".join(server_command), ",".join(m.metrics_url for m in cluster.members), chromium, screenshot_dir), flush=True)
    for member in cluster.members:
        cluster.start(member)
    agreed = []

    def leader_agreed():
        for member in cluster.members:
            member.require_running()
        agreed.append(cluster.leader(cluster.members))
        return agreed[-1] is not None

    try:
        wait_until("a leader agreed on by every member", STARTUP_TIMEOUT_SECONDS, leader_agreed)
    except AssertionError as error:
        fail_setup(checks, "the cluster elects a leader", str(error))
        return checks.finish()
    writer.start()

    try:
        browser = Browser(chromium, work_dir, cluster)
        version = browser.call("Browser.getVersion", timeout_seconds=BROWSER_START_TIMEOUT_SECONDS)
        log("%s, DevTools protocol %s" % (version.get("product"), version.get("protocolVersion")))
    except Exception as error:
        fail_setup(checks, "headless Chromium starts and answers on its DevTools pipe", "%s: %s" % (type(error).__name__, error))
        return checks.finish()

    Scenario(checks, browser, cluster, screenshot_dir).run()
    writer.stop()
    log("writer: %d puts acknowledged, %d failed" % (writer.succeeded, writer.failed))
    print("screenshots in %s" % screenshot_dir, flush=True)
    return checks.finish()


if __name__ == "__main__":
    sys.exit(main(sys.argv))
