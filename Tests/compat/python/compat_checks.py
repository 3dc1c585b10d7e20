"""A minimal check runner shared by the python compatibility tests.

Each check prints one line starting with PASS or FAIL, like the shell suites, so that run.sh can
count them; finish() prints the closing "N passed, N failed" line and gives the exit status.
"""

import time
import traceback


class Checks:
    def __init__(self, suite_name):
        self.suite_name = suite_name
        self.passed_count = 0
        self.failed_count = 0

    def check(self, name, function):
        """Runs function(); it passes when it returns without raising."""
        try:
            function()
        except Exception as error:  # a check may fail any way; report it and go on
            self.failed_count += 1
            print("FAIL %s" % name)
            for line in ("%s: %s" % (type(error).__name__, error)).splitlines():
                print("    " + line)
            for line in traceback.format_exc().splitlines()[-4:-1]:
                print("    " + line)
            return
        self.passed_count += 1
        print("PASS %s" % name)

    def finish(self):
        print("%s: %d passed, %d failed" % (self.suite_name, self.passed_count, self.failed_count))
        return 0 if self.failed_count == 0 else 1


def expect_equal(expected, actual, what=""):
    if expected != actual:
        raise AssertionError("%sexpected %r, got %r" % (what + ": " if what else "", expected, actual))


def wait_until(description, timeout_seconds, predicate, interval_seconds=0.2):
    """Polls predicate() until it is true; bounded by time and by attempt count."""
    attempts_max = int(timeout_seconds / interval_seconds) + 1
    deadline = time.monotonic() + timeout_seconds
    for _ in range(attempts_max):
        if predicate():
            return
        if time.monotonic() >= deadline:
            break
        time.sleep(interval_seconds)
    raise AssertionError("gave up after %s s waiting for %s" % (timeout_seconds, description))
