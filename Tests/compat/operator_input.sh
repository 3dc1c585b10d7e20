#!/usr/bin/env bash
# Operator input: every flag and config-file value a member is started with is validated. A bad
# value must stop the member at once with a clean error that names the flag: an exit status of 1 to
# 125 (not a trap such as SIGILL 132, SIGTRAP 133, SIGABRT 134 or SIGSEGV 139, which is how a Swift
# overflow or a failed precondition ends), the flag's name in stderr, and no hang. A few good
# command lines must still start and serve, so that refusing everything cannot pass.
#
# Usage: Tests/compat/operator_input.sh SERVER_BINARY
#   SERVER_BINARY is synod (flags after `serve`) or a real etcd 3.4 (/usr/bin/etcd), for comparison.
# Environment:
#   OPERATOR_INPUT_BASE_PORT  first loopback port handed out (default 31379: below the Linux
#                             ephemeral range and below run.sh's 32379); each case takes fresh ones.
#   OPERATOR_INPUT_VERBOSE=1  print the server's error text under every line, not only failures.
#
# etcd 3.4.23 (Debian etcd-server) against the same table, for information only: Synod must refuse
# every bad case regardless (run `operator_input.sh /usr/bin/etcd` for its exact messages).
#   Refused, naming the flag (these pass against etcd): --listen-client-urls notaurl and http://,
#     --listen-peer-urls notaurl, --initial-advertise-peer-urls '', every --heartbeat-interval and
#     --election-timeout case (it caps the election timeout at 50000 ms), --snapshot-count -1,
#     --max-request-bytes -1, the overflowing integers, --client-threads (not an etcd flag),
#     --auto-compaction-mode bogus, --initial-cluster with the same entry twice,
#     --initial-cluster-state bogus, a --data-dir that is a file ("data dir"), config-file
#     heartbeat-interval Int64.max and election-timeout 0, a malformed config line, an unknown flag,
#     a flag without its value.
#   Refused, without naming the flag: --listen-client-urls http://127.0.0.1:99999 ("listen tcp:
#     address 99999: invalid port"), https without certificates ("TLS key/cert (--cert-file,
#     --key-file) must be provided for client url https://..."), a port in use ("bind: address
#     already in use"), every --auto-compaction-retention value but -1h, on the command line and in
#     the config file ("error parsing CompactionRetention: ..."), --initial-cluster without '=', with
#     a bad URL, with one URL under two names ("has duplicate url") or without --name ("couldn't find
#     local name"), --log-level bogus (a Go panic, exit 2), a missing --config-file ("open PATH: no
#     such file or directory").
#   Accepted (it starts and serves until `timeout` stops it): --listen-client-urls '',
#     --listen-peer-urls '', --advertise-client-urls '',
#     --snapshot-count 0 (its default) and Int64.max, --quota-backend-bytes -1 and config -5
#     (negative turns the quota off), --max-request-bytes 0 and 200000000, also in the config file
#     (no upper bound; it only warns above 10 MiB), --auto-compaction-retention -1h,
#     --initial-cluster with an empty entry, --name '' with a matching --initial-cluster, a config
#     file with an unknown key (its YAML decoding is not strict).
#
# Each bad case runs `SERVER serve <a complete valid single-member command line> <the bad flag>`;
# the bad flag replaces the valid one of the same name rather than being given twice, so that the
# case does not depend on which of two repeated flags a parser keeps.
set -u
compat_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=lib.sh
source "$compat_dir/lib.sh"

# Bounds. A refusal is a parse and a check: 10 s is generous on a loaded 2-core machine. A good
# member must answer `endpoint health` within 30 s (run.sh's startup bound) and exit within 10 s
# of SIGTERM.
refusal_timeout_seconds=10
startup_timeout_seconds=30
stop_timeout_seconds=10

server_binary=${1:-}
if [ -z "$server_binary" ] || [ ! -x "$server_binary" ]; then
  fail "setup: server binary '${server_binary}' is missing or not executable" \
    "usage: $0 SERVER_BINARY"
  finish_suite operator-input
  exit 1
fi
if ! server_command_for "$server_binary"; then
  fail "setup: $server_binary is neither synod (no 'serve' subcommand) nor etcd"
  finish_suite operator-input
  exit 1
fi
if ! etcdctl version 2>/dev/null | grep -q '^etcdctl version: 3\.4\.'; then
  fail "setup: etcdctl 3.4 is required (Debian package etcd-client)"
  finish_suite operator-input
  exit 1
fi

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/synod-operator-input.XXXXXX")
export COMPAT_WORK_DIR=$work_dir
running_pid=""
on_exit() {
  local status=$?
  # Only the member this script started, by its pid.
  if [ -n "$running_pid" ] && kill -0 "$running_pid" 2>/dev/null; then
    kill -KILL "$running_pid" 2>/dev/null
  fi
  rm -rf "$work_dir"
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Ports: handed out in order from the base, skipping any that something else is listening on.
next_port=${OPERATOR_INPUT_BASE_PORT:-31379}
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
allocate_port() {
  while port_in_use "$next_port"; do next_port=$((next_port + 1)); done
  allocated_port=$next_port
  next_port=$((next_port + 1))
}

# The current case's member: fresh ports and a fresh data directory. The case's own flags may use
# $client_url, $peer_url, $data_dir and $spare_port; every case ends by calling next_member.
case_number=0
next_member() {
  case_number=$((case_number + 1))
  allocate_port
  client_url=http://127.0.0.1:$allocated_port
  allocate_port
  peer_url=http://127.0.0.1:$allocated_port
  allocate_port
  spare_port=$allocated_port
  data_dir=$work_dir/case-$case_number/data
  mkdir -p "$work_dir/case-$case_number"
}
next_member

# member_flags_with FLAG...: sets member_flags to a complete, valid single-member command line for
# the current member, plus the given flags, each of which replaces the default of the same name.
member_flags_with() {
  local -A given=()
  local argument i
  for argument in "$@"; do [[ $argument == --* ]] && given[${argument%%=*}]=1; done
  local defaults=(--name ops --data-dir "$data_dir"
    --listen-client-urls "$client_url" --advertise-client-urls "$client_url"
    --listen-peer-urls "$peer_url" --initial-advertise-peer-urls "$peer_url"
    --initial-cluster "ops=$peer_url" --initial-cluster-state new
    --heartbeat-interval 100 --election-timeout 1000)
  member_flags=()
  for ((i = 0; i < ${#defaults[@]}; i += 2)); do
    [ -n "${given[${defaults[i]}]:-}" ] || member_flags+=("${defaults[i]}" "${defaults[i + 1]}")
  done
  member_flags+=("$@")
}

# config_file EXTRA_LINE...: writes a complete, valid config file for the current member with the
# given lines added, and prints its path. A file, not flags, because etcd ignores every other flag
# when --config-file is given.
config_file() {
  local path=$work_dir/case-$case_number/config.yaml
  {
    echo "name: ops"
    echo "data-dir: $data_dir"
    echo "listen-client-urls: $client_url"
    echo "advertise-client-urls: $client_url"
    echo "listen-peer-urls: $peer_url"
    echo "initial-advertise-peer-urls: $peer_url"
    echo "initial-cluster: ops=$peer_url"
    echo "initial-cluster-state: new"
    printf '%s\n' "$@"
  } >"$path"
  echo "$path"
}

# The server's error text: stderr without a usage listing (Swift ArgumentParser and Go's flag
# package both print every flag's name in their usage text, which would let any error "name" any
# flag) and without info-level log lines (swift-log's "<time> info <label> :", etcd's capnslog
# "<date> <time> I |", its raft library's "raft<date> <time> INFO:" and zap's {"level":"info"}),
# which may echo a setting without refusing it.
error_text() {
  awk '/^Usage:/ { skip = 1 } /^ *See .*--help/ { skip = 0; next } !skip' "$1" |
    grep -Ev '^\[WARNING\] Deprecated|^[0-9-]+ [0-9:.]+ [DIN] \| |^raft[0-9/]+ [0-9:.]+ INFO:|"level":"(debug|info)"|^[^ ]+ (trace|debug|info|notice) '
}

# refuse NAME PATTERN FLAG...: the member started with FLAG... (replacing the defaults of the same
# names) must exit by itself within the bound, with a status of 1 to 125, and print an error that
# matches the extended regular expression PATTERN (the flag's name, without its dashes).
refuse() {
  local name=$1 pattern=$2
  shift 2
  member_flags_with "$@"
  refuse_exactly "$name" "$pattern" "${member_flags[@]}"
}

# refuse_exactly NAME PATTERN ARGUMENT...: as refuse, with exactly these arguments.
refuse_exactly() {
  local name=$1 pattern=$2
  shift 2
  local stdout_file=$work_dir/case-$case_number/stdout stderr_file=$work_dir/case-$case_number/stderr
  local status
  # With Swift's backtracer on, a trapped process can spend longer than the bound symbolicating
  # its stack on a loaded machine, and would look like a member that accepted the value; with it
  # off, a trap ends the process at once with its signal. (The braces send bash's own "Illegal
  # instruction" job report to /dev/null; the status says it.)
  {
    SWIFT_BACKTRACE=enable=no timeout --kill-after=2 "$refusal_timeout_seconds" "${server_command[@]}" "$@" \
      >"$stdout_file" 2>"$stderr_file" </dev/null
  } 2>/dev/null
  status=$?
  local said
  said=$(error_text "$stderr_file")
  local command_line="command: ${server_command[*]} $*"
  if [ "$status" -eq 0 ]; then
    fail "$name" "$command_line" "exited 0: the value was accepted" "stderr:" "$(indent "${said:0:600}")"
  elif { [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; } && grep -qE 'Fatal error|\*\*\* Signal|Crash' "$stderr_file"; then
    fail "$name" "$command_line" "trapped, and was still reporting it when stopped after $refusal_timeout_seconds s" \
      "stderr:" "$(indent "$(grep -E -m3 'Fatal error|\*\*\* Signal|Crash' "$stderr_file")")"
  elif [ "$status" -eq 124 ] || [ "$status" -eq 137 ]; then
    fail "$name" "$command_line" "still running after $refusal_timeout_seconds s: the value was accepted" \
      "stderr:" "$(indent "${said:0:600}")"
  elif [ "$status" -gt 128 ]; then
    fail "$name" "$command_line" "died by signal $((status - 128)) (SIG$(kill -l $((status - 128)))): a trap, not a refusal" \
      "stderr:" "$(indent "$(grep -m3 'Fatal error' "$stderr_file" || tail -c 300 "$stderr_file")")"
  elif [ "$status" -gt 125 ]; then
    fail "$name" "$command_line" "exit status $status: the binary could not be run"
  elif ! grep -qE -- "$pattern" <<<"$said"; then
    fail "$name" "$command_line" "exit status $status, but the error does not match /$pattern/" \
      "stderr:" "$(indent "${said:0:600}")"
  else
    pass "$name"
    [ "${OPERATOR_INPUT_VERBOSE:-0}" = 1 ] && indent "exit $status: ${said:0:300}"
  fi
  next_member
}

# The member started by start_member answers `etcdctl endpoint health` on ENDPOINT.
healthy() { timeout 10 etcdctl --endpoints="$1" --dial-timeout=1s --command-timeout=3s endpoint health >/dev/null 2>&1; }

# start_member FLAG...: starts the current member in the background (running_pid), waits at most
# startup_timeout_seconds for `endpoint health` on its client URL. Returns 1, with the reason in
# start_problem, if it exited or did not become healthy.
start_member() {
  member_flags_with "$@"
  member_log=$work_dir/case-$case_number/member.log
  "${server_command[@]}" "${member_flags[@]}" >"$member_log" 2>&1 </dev/null &
  running_pid=$!
  start_problem=""
  local deadline=$((SECONDS + startup_timeout_seconds)) attempt
  for ((attempt = 0; attempt < startup_timeout_seconds * 4; attempt++)); do
    [ "$SECONDS" -ge "$deadline" ] && break
    if ! kill -0 "$running_pid" 2>/dev/null; then
      wait "$running_pid"
      start_problem="exited with status $? during startup; log: $(tail -c 600 "$member_log")"
      running_pid=""
      return 1
    fi
    healthy "$client_url" && return 0
    sleep 0.25
  done
  start_problem="not healthy on $client_url within $startup_timeout_seconds s; log: $(tail -c 600 "$member_log")"
  return 1
}

# stop_member: SIGTERM, then SIGKILL after the bound. Returns 1 if SIGKILL was needed.
stop_member() {
  [ -n "$running_pid" ] || return 0
  kill -TERM "$running_pid" 2>/dev/null
  local waited
  for ((waited = 0; waited < stop_timeout_seconds * 10; waited++)); do
    kill -0 "$running_pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$running_pid" 2>/dev/null; then
    { kill -KILL "$running_pid" && wait "$running_pid"; } 2>/dev/null
    running_pid=""
    return 1
  fi
  wait "$running_pid" 2>/dev/null
  running_pid=""
}

# accept NAME FLAG...: a good command line must start, serve a put and a get, and stop on SIGTERM.
accept() {
  local name=$1
  shift
  if ! start_member "$@"; then
    fail "$name" "command: ${server_command[*]} ${member_flags[*]}" "$start_problem"
    stop_member
    next_member
    return
  fi
  local value="ok-$RANDOM"
  capture ctl_at "$client_url" put operator/probe "$value"
  local put_status=$check_status
  capture ctl_at "$client_url" get operator/probe --print-value-only
  if [ "$put_status" -ne 0 ] || [ "$check_stdout" != "$value" ]; then
    fail "$name" "command: ${server_command[*]} ${member_flags[*]}" \
      "put then get on $client_url: expected $value, got '$check_stdout' ($check_stderr)"
  elif ! stop_member; then
    fail "$name" "serves, but ignored SIGTERM for $stop_timeout_seconds s (killed with SIGKILL)"
  else
    pass "$name"
  fi
  stop_member
  next_member
}

echo "operator input against $server_kind ($server_binary)"
int64_max=9223372036854775807
overflow=99999999999999999999 # above both Int64.max and UInt64.max

echo "== good command lines (so that refusing everything cannot pass)"
accept "starts and serves with a complete single-member command line"
accept "starts with etcd's documented values at their edges" \
  --heartbeat-interval 50 --election-timeout 250 --snapshot-count 1 --quota-backend-bytes 0 \
  --max-request-bytes 1024 --auto-compaction-mode revision --auto-compaction-retention 1000
accept "starts with periodic auto-compaction given as a duration and as hours" \
  --auto-compaction-mode periodic --auto-compaction-retention 90m
accept "starts with --max-request-bytes 10485760 (etcd's documented practical maximum, 10 MiB)" \
  --max-request-bytes 10485760
if [ "$server_kind" = synod ]; then
  accept "starts with --client-threads 1 (Synod's own flag)" --client-threads 1
  # The ZooKeeper front end's flags (Synod's own).
  refuse "--zk-listen-address nonsense" 'zk-listen-address' --zk-listen-address nonsense
  refuse "--zk-jute-maxbuffer 10" 'zk-jute-maxbuffer' --zk-jute-maxbuffer 10
  refuse "--zk-container-check-interval 0" 'zk-container-check-interval' --zk-container-check-interval 0
  refuse "--zk-extended-types maybe" 'zk-extended-types' --zk-extended-types maybe
fi
good_config=$(config_file "heartbeat-interval: 100" "election-timeout: 1000" "snapshot-count: 10000" \
  "auto-compaction-mode: periodic" "auto-compaction-retention: \"1\"")
if start_member --config-file "$good_config"; then
  pass "starts from a valid --config-file"
else
  fail "starts from a valid --config-file" "$start_problem" "file:" "$(indent "$(cat "$good_config")")"
fi
stop_member
next_member

# Two listen URLs: etcd serves clients on every URL of --listen-client-urls, not only the first.
two_listen_urls() {
  local first_url=$client_url second_url=http://127.0.0.1:$spare_port
  local name="a client URL list of two serves on both (put on one, get on the other)"
  if ! start_member --listen-client-urls "$first_url,$second_url" --advertise-client-urls "$first_url"; then
    fail "$name" "$start_problem"
  elif ! wait_until "second listen URL healthy" 10 healthy "$second_url"; then
    fail "$name" "the first URL serves; the second ($second_url) does not answer endpoint health"
  else
    local value="both-$RANDOM"
    capture ctl_at "$first_url" put operator/two "$value"
    local from_second
    from_second=$(ctl_at "$second_url" get operator/two --print-value-only 2>&1)
    capture ctl_at "$second_url" put operator/two-back "$value"
    local from_first
    from_first=$(ctl_at "$first_url" get operator/two-back --print-value-only 2>&1)
    if [ "$from_second" == "$value" ] && [ "$from_first" == "$value" ]; then
      pass "$name"
    else
      fail "$name" "put on $first_url, get on $second_url: expected $value, got '$from_second'" \
        "put on $second_url, get on $first_url: expected $value, got '$from_first'"
    fi
  fi
  stop_member
  next_member
}
two_listen_urls

echo "== URLs"
refuse "--listen-client-urls ''" 'listen-client-urls' --listen-client-urls ''
refuse "--listen-client-urls notaurl" 'listen-client-urls' --listen-client-urls notaurl
refuse "--listen-client-urls http://127.0.0.1:99999 (port out of range)" 'listen-client-urls' \
  --listen-client-urls http://127.0.0.1:99999
refuse "--listen-client-urls with a path-only URL" 'listen-client-urls' --listen-client-urls http://
refuse "--listen-client-urls https:// (no TLS configured)" 'listen-client-urls' \
  --listen-client-urls "https://127.0.0.1:$spare_port" --advertise-client-urls "https://127.0.0.1:$spare_port"
refuse "--listen-peer-urls ''" 'listen-peer-urls' --listen-peer-urls ''
refuse "--listen-peer-urls notaurl" 'listen-peer-urls' --listen-peer-urls notaurl
refuse "--advertise-client-urls ''" 'advertise-client-urls' --advertise-client-urls ''
refuse "--initial-advertise-peer-urls ''" 'initial-advertise-peer-urls' --initial-advertise-peer-urls ''
# A port that something else holds: the member must say so and exit, not serve without a listener.
blocker_port=$spare_port
python3 -c 'import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(1); time.sleep(30)' "$blocker_port" &
blocker_pid=$!
wait_until "the port blocker to listen" 10 port_in_use "$blocker_port" ||
  fail "setup: a helper could not take port $blocker_port; the next case proves nothing"
refuse "--listen-client-urls on a port already in use" 'listen-client-urls' \
  --listen-client-urls "http://127.0.0.1:$blocker_port" --advertise-client-urls "http://127.0.0.1:$blocker_port"
kill "$blocker_pid" 2>/dev/null
wait "$blocker_pid" 2>/dev/null

echo "== timing: --heartbeat-interval, --election-timeout"
refuse "--heartbeat-interval $int64_max" 'heartbeat-interval' --heartbeat-interval "$int64_max"
refuse "--heartbeat-interval 0" 'heartbeat-interval' --heartbeat-interval 0
refuse "--heartbeat-interval -5" 'heartbeat-interval' --heartbeat-interval=-5
refuse "--heartbeat-interval $overflow (overflow)" 'heartbeat-interval' --heartbeat-interval "$overflow"
refuse "--election-timeout $int64_max" 'election-timeout' --election-timeout "$int64_max"
refuse "--election-timeout 0" 'election-timeout' --election-timeout 0
refuse "--election-timeout 60000 (etcd's maximum is 50000)" 'election-timeout' --election-timeout 60000
refuse "--heartbeat-interval 1000 --election-timeout 500 (heartbeat above the election timeout)" \
  'heartbeat-interval|election-timeout' --heartbeat-interval 1000 --election-timeout 500
refuse "--heartbeat-interval 500 --election-timeout 500 (equal)" \
  'heartbeat-interval|election-timeout' --heartbeat-interval 500 --election-timeout 500

echo "== sizes and counts"
refuse "--snapshot-count 0" 'snapshot-count' --snapshot-count 0
refuse "--snapshot-count -1" 'snapshot-count' --snapshot-count=-1
# Int64.max fits the type, but a count that large means the log is never compacted: refused as
# above a named bound (it also overflows index + count arithmetic).
refuse "--snapshot-count $int64_max" 'snapshot-count' --snapshot-count "$int64_max"
refuse "--snapshot-count $overflow (overflow)" 'snapshot-count' --snapshot-count "$overflow"
refuse "--quota-backend-bytes -1" 'quota-backend-bytes' --quota-backend-bytes=-1
refuse "--quota-backend-bytes $overflow (overflow)" 'quota-backend-bytes' --quota-backend-bytes "$overflow"
refuse "--max-request-bytes 200000000 (more than a log entry or peer frame carries)" \
  'max-request-bytes' --max-request-bytes 200000000
refuse "--max-request-bytes 0" 'max-request-bytes' --max-request-bytes 0
refuse "--max-request-bytes -1" 'max-request-bytes' --max-request-bytes=-1
refuse "--max-request-bytes $overflow (overflow)" 'max-request-bytes' --max-request-bytes "$overflow"
refuse "--client-threads 0" 'client-threads' --client-threads 0
refuse "--client-threads 100000" 'client-threads' --client-threads 100000
refuse "--client-threads -1" 'client-threads' --client-threads=-1

echo "== auto-compaction"
refuse "--auto-compaction-retention inf" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention inf
refuse "--auto-compaction-retention nan" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention nan
refuse "--auto-compaction-retention -1" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention=-1
refuse "--auto-compaction-retention -1h" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention=-1h
refuse "--auto-compaction-retention 1e300h" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention 1e300h
refuse "--auto-compaction-retention 1e300 (hours)" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention 1e300
refuse "--auto-compaction-retention 9999999999h (overflows nanoseconds)" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention 9999999999h
refuse "--auto-compaction-retention 5fortnights" 'auto-compaction-retention' \
  --auto-compaction-mode periodic --auto-compaction-retention 5fortnights
refuse "--auto-compaction-retention inf in revision mode" 'auto-compaction-retention' \
  --auto-compaction-mode revision --auto-compaction-retention inf
refuse "--auto-compaction-retention -5 in revision mode" 'auto-compaction-retention' \
  --auto-compaction-mode revision --auto-compaction-retention=-5
refuse "--auto-compaction-retention $overflow in revision mode" 'auto-compaction-retention' \
  --auto-compaction-mode revision --auto-compaction-retention "$overflow"
refuse "--auto-compaction-mode bogus" 'auto-compaction-mode' \
  --auto-compaction-mode bogus --auto-compaction-retention 1

echo "== cluster membership and names"
refuse "--initial-cluster without '='" 'initial-cluster' --initial-cluster "ops$peer_url"
refuse "--initial-cluster with an empty entry" 'initial-cluster' --initial-cluster "ops=$peer_url,,"
# etcd lists a member with several peer URLs as repeated name=url entries, so a repeated name alone
# is legal; the same entry twice, or one URL under two names, is not.
refuse "--initial-cluster with the same entry twice" 'initial-cluster' \
  --initial-cluster "ops=$peer_url,ops=$peer_url"
refuse "--initial-cluster with one peer URL under two names" 'initial-cluster' \
  --initial-cluster "ops=$peer_url,other=$peer_url"
refuse "--initial-cluster without this member's --name" 'initial-cluster' \
  --initial-cluster "other=$peer_url"
refuse "--initial-cluster with a bad URL" 'initial-cluster' --initial-cluster "ops=notaurl"
refuse "--initial-cluster-state bogus" 'initial-cluster-state' --initial-cluster-state bogus
# The initial cluster names the same empty name, so that the name is the only thing wrong; an error
# about the --initial-cluster syntax alone ("expected name=url") does not count as naming --name.
refuse "--name ''" '--name|(^|[^-a-z])name (must|is|cannot|may)|empty name' --name '' --initial-cluster "=$peer_url"
refuse "--log-level bogus" 'log-level' --log-level bogus
refuse "--logger bogus" 'logger' --logger bogus
refuse "--experimental-corrupt-check-time bogus" 'corrupt-check-time|invalid' --experimental-corrupt-check-time bogus
refuse "--log-outputs naming a file in a missing directory" 'log-outputs|log output|no such file' --log-outputs "$work_dir/missing/dir/log"
refuse "--listen-metrics-urls with a bad URL" 'listen-metrics-urls' --listen-metrics-urls notaurl
refuse "--data-dir naming a regular file" 'data-dir|data dir' \
  --data-dir "$(touch "$work_dir/not-a-directory" && echo "$work_dir/not-a-directory")"

echo "== config file"
refuse_exactly "--config-file that does not exist" 'config-file|config file' \
  --config-file "$work_dir/no-such-config.yaml"
refuse_exactly "config file: heartbeat-interval: $int64_max" 'heartbeat-interval' \
  --config-file "$(config_file "heartbeat-interval: $int64_max" "election-timeout: 1000")"
refuse_exactly "config file: quota-backend-bytes: -5" 'quota-backend-bytes' \
  --config-file "$(config_file "quota-backend-bytes: -5")"
refuse_exactly "config file: election-timeout: 0" 'election-timeout' \
  --config-file "$(config_file "heartbeat-interval: 100" "election-timeout: 0")"
refuse_exactly "config file: max-request-bytes: 200000000" 'max-request-bytes' \
  --config-file "$(config_file "max-request-bytes: 200000000")"
refuse_exactly "config file: auto-compaction-retention: nan" 'auto-compaction-retention' \
  --config-file "$(config_file "auto-compaction-mode: periodic" "auto-compaction-retention: nan")"
refuse_exactly "config file: an unknown key" 'no-such-setting' \
  --config-file "$(config_file "no-such-setting: 1")"
# No flag to name here: the file and its line number are what tells the operator where to look.
refuse_exactly "config file: a line that is not key: value" 'config\.yaml:[0-9]|line [0-9]' \
  --config-file "$(config_file "heartbeat-interval 100")"

echo "== command line"
refuse "an unknown flag" 'no-such-flag' --no-such-flag 1
refuse "a flag without its value" 'heartbeat-interval' --heartbeat-interval

finish_suite operator-input
