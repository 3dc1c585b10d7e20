# shellcheck shell=bash
# Shared helpers for the compatibility suites. Sourced, never run.
#
# Every check prints exactly one line that starts with PASS or FAIL and its name, so that run.sh
# (and a person reading CI output) can count them; a failure adds indented lines with the expected
# and actual text. Every external command runs under `timeout`, so that a server that hangs fails
# the check instead of hanging CI.

# Bounds. A single etcdctl call gets etcd's own default command timeout plus dial time and slack;
# the outer `timeout` is only there for the case where etcdctl itself stops making progress.
COMPAT_COMMAND_TIMEOUT_SECONDS=${COMPAT_COMMAND_TIMEOUT_SECONDS:-15}
COMPAT_POLL_INTERVAL_SECONDS=0.2

compat_passed_count=0
compat_failed_count=0

# server_command_for BINARY: sets server_command (what comes before etcd's flags) and server_kind
# (synod or etcd). Synod takes etcd's flags after its `serve` subcommand; etcd takes them
# directly. Returns 1 when the binary is neither.
server_command_for() {
  if "$1" serve --help 2>&1 | grep -q -- --listen-client-urls; then
    # The ZooKeeper port off: several members share this machine and ZooKeeper's default 2181.
    server_command=("$1" serve --zk-listen-address "")
    server_kind=synod
  elif "$1" --version 2>/dev/null | grep -q '^etcd Version'; then
    server_command=("$1")
    server_kind=etcd
  else
    return 1
  fi
}

: "${ETCDCTL_BIN:=etcdctl}"
export ETCDCTL_API=3

pass() {
  echo "PASS $1"
  compat_passed_count=$((compat_passed_count + 1))
}

# fail NAME [DETAIL_LINE...]
fail() {
  local name=$1
  shift
  echo "FAIL $name"
  local detail
  for detail in "$@"; do sed 's/^/    /' <<<"$detail"; done
  compat_failed_count=$((compat_failed_count + 1))
}

# Prints the suite's closing line in the form CI recognises, and returns non-zero on any failure.
finish_suite() {
  local suite_name=$1
  echo "$suite_name: $compat_passed_count passed, $compat_failed_count failed"
  [ "$compat_failed_count" -eq 0 ]
}

# ctl_at ENDPOINT ARGS...: one etcdctl call against one endpoint (or a comma-separated list).
ctl_at() {
  local endpoint=$1
  shift
  timeout "$COMPAT_COMMAND_TIMEOUT_SECONDS" "$ETCDCTL_BIN" --endpoints="$endpoint" \
    --dial-timeout=2s --command-timeout=5s "$@"
}

# Runs "$@" and stores its stdout, stderr and exit status in check_stdout, check_stderr and
# check_status. The caller's command may be a shell function. etcdctl's gRPC client logs retries
# as JSON lines on stderr ({"level":"warn",...}); they are timing noise, not output, so they are
# dropped and only etcdctl's own error text is kept.
capture() {
  local stdout_file stderr_file
  stdout_file=$(mktemp "$COMPAT_WORK_DIR/stdout.XXXXXX")
  stderr_file=$(mktemp "$COMPAT_WORK_DIR/stderr.XXXXXX")
  "$@" >"$stdout_file" 2>"$stderr_file"
  check_status=$?
  check_stdout=$(cat "$stdout_file")
  check_stderr=$(grep -v '^{"level":' "$stderr_file")
  rm -f "$stdout_file" "$stderr_file"
}

# expect_output NAME EXPECTED_STDOUT COMMAND...: the command must exit 0 and print exactly
# EXPECTED_STDOUT (trailing newlines aside, as $(...) strips them).
expect_output() {
  local name=$1 expected=$2
  shift 2
  capture "$@"
  if [ "$check_status" -eq 0 ] && [ "$check_stdout" == "$expected" ]; then
    pass "$name"
  else
    fail "$name" "command: $*" "exit status: $check_status" \
      "expected stdout:" "$(indent "$expected")" "actual stdout:" "$(indent "$check_stdout")" \
      "stderr:" "$(indent "$check_stderr")"
  fi
}

# expect_error NAME EXPECTED_STATUS EXPECTED_STDERR COMMAND...: the command must exit with
# EXPECTED_STATUS and print exactly EXPECTED_STDERR on stderr (client log lines removed).
expect_error() {
  local name=$1 expected_status=$2 expected_stderr=$3
  shift 3
  capture "$@"
  if [ "$check_status" -eq "$expected_status" ] && [ "$check_stderr" == "$expected_stderr" ]; then
    pass "$name"
  else
    fail "$name" "command: $*" "expected exit status $expected_status, got $check_status" \
      "expected stderr:" "$(indent "$expected_stderr")" "actual stderr:" "$(indent "$check_stderr")" \
      "stdout:" "$(indent "$check_stdout")"
  fi
}

# expect_equal NAME EXPECTED ACTUAL [CONTEXT]: for values computed by the caller.
expect_equal() {
  local name=$1 expected=$2 actual=$3 context=${4:-}
  if [ "$expected" == "$actual" ]; then
    pass "$name"
  else
    fail "$name" ${context:+"$context"} "expected:" "$(indent "$expected")" "actual:" "$(indent "$actual")"
  fi
}

indent() { printf '%s\n' "$1" | sed 's/^/      /'; }

# json_query EXPRESSION: evaluates a Python expression over the JSON document on stdin, bound to
# `d`, and prints the result. Python rather than jq because jq turns 64-bit member and lease ids
# into doubles and loses their low digits.
json_query() {
  python3 -c 'import json, sys; d = json.load(sys.stdin); r = eval(sys.argv[1]); print(json.dumps(r, sort_keys=True, separators=(",", ":")) if isinstance(r, (dict, list)) else r)' "$1"
}

# json_without_ids: re-prints the JSON document on stdin with the cluster id, member id and raft
# term removed from every header, keys sorted, so that a check can state the whole response
# exactly without depending on randomly generated ids or on how many elections happened.
json_without_ids() {
  python3 -c '
import json, sys
def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in ("cluster_id", "member_id", "raft_term")}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node
print(json.dumps(strip(json.load(sys.stdin)), sort_keys=True, separators=(",", ":")))'
}

b64() { printf '%s' "$1" | base64 -w0; }

# current_revision ENDPOINT: the store revision as seen by a linearizable read.
current_revision() {
  ctl_at "$1" get compat-revision-probe -w json | json_query 'd["header"]["revision"]'
}

# wait_until DESCRIPTION MAX_SECONDS COMMAND...: polls COMMAND until it succeeds, for at most
# MAX_SECONDS (a whole number) and at most 5 x MAX_SECONDS attempts. Returns 1 when the bound runs
# out.
wait_until() {
  local description=$1 max_seconds=$2
  shift 2
  local attempts_max=$((max_seconds * 5)) deadline=$((SECONDS + max_seconds)) attempt=0
  while [ "$attempt" -lt "$attempts_max" ] && [ "$SECONDS" -le "$deadline" ]; do
    if "$@" >/dev/null 2>&1; then return 0; fi
    attempt=$((attempt + 1))
    sleep "$COMPAT_POLL_INTERVAL_SECONDS"
  done
  echo "    gave up waiting ($max_seconds s, $attempt attempts): $description" >&2
  return 1
}

# still_serving NAME ENDPOINT: after a bad request, the same node must take a write and read it
# back. The key is unique per call so that a stale read cannot pass.
still_serving_sequence=0
still_serving() {
  local name=$1 endpoint=$2
  still_serving_sequence=$((still_serving_sequence + 1))
  local key="compat/alive/$still_serving_sequence" value="alive-$still_serving_sequence-$RANDOM"
  capture ctl_at "$endpoint" put "$key" "$value"
  if [ "$check_status" -ne 0 ] || [ "$check_stdout" != "OK" ]; then
    fail "$name" "put after the bad request failed on $endpoint (exit $check_status)" \
      "$(indent "$check_stdout")" "$(indent "$check_stderr")"
    return
  fi
  expect_output "$name" "$key"$'\n'"$value" ctl_at "$endpoint" get "$key"
}
