#!/usr/bin/env bash
# Compatibility suite: starts a fresh 3-member cluster of `synod serve` child processes on loopback,
# runs the etcdctl 3.4 checks, the bad-request checks, the python-etcd3 checks and a follower restart
# against it, stops the cluster whatever happens, and exits non-zero if any check failed.
#
# Usage: Tests/compat/run.sh [SERVER_BINARY]
#   SERVER_BINARY defaults to .build/release/synod. A real etcd 3.4 binary (/usr/bin/etcd) is also
#   accepted: the same flags start it, so the suite can show that its expectations are etcd's own.
# Environment:
#   COMPAT_BASE_PORT   member i listens for clients on BASE+10*i and for peers on BASE+10*i+1
#                      (default 32379: below the Linux ephemeral range, and away from 2379).
#   COMPAT_KEEP_DIR=1  keep the scratch directory (data, logs) even when everything passed.
# Needs: etcdctl 3.4 (Debian etcd-client), python3 with the packages in requirements.txt.
set -u
compat_dir=$(cd "$(dirname "$0")" && pwd)
repository_root=$(cd "$compat_dir/../.." && pwd)

server_binary=${1:-$repository_root/.build/release/synod}
base_port=${COMPAT_BASE_PORT:-32379}
member_count=3
startup_timeout_seconds=30
stop_timeout_seconds=10

if [ ! -x "$server_binary" ]; then
  echo "FAIL setup: server binary $server_binary is missing or not executable" >&2
  exit 2
fi
# shellcheck source=lib.sh
source "$compat_dir/lib.sh"
if ! server_command_for "$server_binary"; then
  echo "FAIL setup: $server_binary is neither synod (no 'serve' subcommand) nor etcd" >&2
  exit 2
fi
if ! etcdctl version 2>/dev/null | grep -q '^etcdctl version: 3\.4\.'; then
  echo "FAIL setup: etcdctl 3.4 is required (Debian package etcd-client); found: $(etcdctl version 2>&1 | head -1)" >&2
  exit 2
fi

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for ((i = 0; i < member_count; i++)); do
  for port in $((base_port + 10 * i)) $((base_port + 10 * i + 1)); do
    if port_in_use "$port"; then
      echo "FAIL setup: port $port is already in use; set COMPAT_BASE_PORT to another base" >&2
      exit 2
    fi
  done
done

work_dir=$(mktemp -d "${TMPDIR:-/tmp}/synod-compat.XXXXXX")
export COMPAT_WORK_DIR=$work_dir
log_file=$work_dir/suite.log

member_names=() client_urls=() peer_urls=() member_pids=()
for ((i = 0; i < member_count; i++)); do
  member_names+=("compat$i")
  client_urls+=("http://127.0.0.1:$((base_port + 10 * i))")
  peer_urls+=("http://127.0.0.1:$((base_port + 10 * i + 1))")
done
join_by_comma() { local IFS=,; echo "$*"; }
export COMPAT_ENDPOINTS COMPAT_PEER_URLS COMPAT_MEMBER_NAMES
COMPAT_ENDPOINTS=$(join_by_comma "${client_urls[@]}")
COMPAT_PEER_URLS=$(join_by_comma "${peer_urls[@]}")
COMPAT_MEMBER_NAMES="${member_names[*]}"

# pid_is_member PID: the pid is alive and is still the process we started (guards against reuse).
pid_is_member() {
  [ -n "$1" ] && kill -0 "$1" 2>/dev/null && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -q -- "--data-dir $work_dir/"
}

stop_cluster() {
  local i
  for i in "${!member_pids[@]}"; do
    pid_is_member "${member_pids[$i]}" && kill -TERM "${member_pids[$i]}" 2>/dev/null
  done
  for i in "${!member_pids[@]}"; do stop_member "$i"; done
  member_pids=()
}

on_exit() {
  local status=$?
  if [ -n "${suite_process_group:-}" ]; then
    kill -TERM -- "-$suite_process_group" 2>/dev/null
  fi
  stop_cluster
  if [ "$status" -eq 0 ] && [ "${COMPAT_KEEP_DIR:-0}" != 1 ]; then
    rm -rf "$work_dir"
  else
    echo "member logs and data kept in $work_dir" >&2
  fi
  exit "$status"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

initial_cluster=$(for ((i = 0; i < member_count; i++)); do echo "${member_names[$i]}=${peer_urls[$i]}"; done | paste -sd,)
echo "starting $member_count $server_kind members ($server_binary), client URLs $COMPAT_ENDPOINTS"
# start_member INDEX: starts member INDEX in the background and records its pid. A restart uses
# the same flags: with data in --data-dir, etcd ignores the initial-cluster flags, and so must Synod.
start_member() {
  local i=$1
  "${server_command[@]}" --name "${member_names[$i]}" --data-dir "$work_dir/${member_names[$i]}" \
    --listen-client-urls "${client_urls[$i]}" --advertise-client-urls "${client_urls[$i]}" \
    --listen-peer-urls "${peer_urls[$i]}" --initial-advertise-peer-urls "${peer_urls[$i]}" \
    --initial-cluster "$initial_cluster" --initial-cluster-token "compat-$$" \
    --initial-cluster-state new \
    >>"$work_dir/${member_names[$i]}.log" 2>&1 </dev/null &
  member_pids[i]=$!
}
# stop_member INDEX: SIGTERM, then SIGKILL if it has not exited within the bound.
stop_member() {
  local pid=${member_pids[$1]} waited=0
  pid_is_member "$pid" && kill -TERM "$pid" 2>/dev/null
  while pid_is_member "$pid" && [ "$waited" -lt $((stop_timeout_seconds * 10)) ]; do
    sleep 0.1
    waited=$((waited + 1))
  done
  if pid_is_member "$pid"; then
    echo "member pid $pid ignored SIGTERM for $stop_timeout_seconds s; sending SIGKILL" >&2
    # Reaping it here keeps bash's "Killed" job report out of the suite's output.
    { kill -KILL "$pid" && wait "$pid"; } 2>/dev/null
    return 1
  fi
}
for ((i = 0; i < member_count; i++)); do start_member "$i"; done

# Healthy means every endpoint commits a proposal (etcdctl endpoint health) and they agree on a
# leader; bounded by both an attempt count and the wall clock.
cluster_is_ready() {
  timeout 10 etcdctl --endpoints="$COMPAT_ENDPOINTS" --dial-timeout=1s --command-timeout=3s endpoint health >/dev/null 2>&1 &&
    timeout 10 etcdctl --endpoints="$COMPAT_ENDPOINTS" --dial-timeout=1s --command-timeout=3s endpoint status -w json 2>/dev/null |
    python3 -c 'import json, sys; d = json.load(sys.stdin); leaders = {e["Status"]["leader"] for e in d}; sys.exit(0 if len(d) == 3 and len(leaders) == 1 and 0 not in leaders else 1)'
}
ready=0
deadline=$((SECONDS + startup_timeout_seconds))
for ((attempt = 1; attempt <= startup_timeout_seconds * 2; attempt++)); do
  [ "$SECONDS" -ge "$deadline" ] && break
  if cluster_is_ready; then ready=1; break; fi
  for ((i = 0; i < member_count; i++)); do
    if ! pid_is_member "${member_pids[$i]}"; then
      echo "FAIL setup: member ${member_names[$i]} exited during startup; its log:" >&2
      tail -30 "$work_dir/${member_names[$i]}.log" >&2
      exit 1
    fi
  done
  sleep 0.5
done
if [ "$ready" != 1 ]; then
  echo "FAIL setup: cluster not healthy within $startup_timeout_seconds s" >&2
  etcdctl --endpoints="$COMPAT_ENDPOINTS" --dial-timeout=1s endpoint status -w table >&2
  exit 1
fi
echo "cluster healthy after $((SECONDS - deadline + startup_timeout_seconds)) s"

suite_failures=0
# Each suite runs in its own process group, in the background, and the runner waits for it with
# the `wait` builtin: unlike a foreground command, `wait` returns as soon as a trapped signal
# arrives, so an interrupted run stops its suite and the members at once instead of after the
# suite. The suite's output goes to a file first and is shown when it ends. (setsid execs in place
# here, so $! is the suite's own pid and process group: a background job of a shell without job
# control is never a process group leader, the one case where setsid would fork.)
suite_process_group=""
run_suite() {
  local name=$1
  shift
  local output_file=$work_dir/suite-$name.out
  echo "=== suite: $name"
  setsid "$@" >"$output_file" 2>&1 </dev/null &
  suite_process_group=$!
  wait "$suite_process_group"
  local status=$?
  suite_process_group=""
  tee -a "$log_file" <"$output_file"
  if [ "$status" -ne 0 ]; then
    suite_failures=$((suite_failures + 1))
    echo "=== suite $name exited with status $status"
  fi
}

run_suite etcdctl bash "$compat_dir/etcdctl.sh"
run_suite bad-requests bash "$compat_dir/bad_requests.sh"
COMPAT_SERVER_KIND=$server_kind run_suite http bash "$compat_dir/http_endpoints.sh"
# The python suites talk to the second and third members, so that between them and the shell
# suites (which start from the first) every member serves a client.
host_port_1=${client_urls[1]#http://}
host_port_2=${client_urls[2]#http://}
if python3 -c 'import etcd3' 2>/dev/null; then
  run_suite python-distributed-config \
    timeout 120 python3 "$compat_dir/python/test_distributed_config.py" "${host_port_1%:*}" "${host_port_1##*:}"
  run_suite python-txn-and-leases \
    timeout 120 python3 "$compat_dir/python/test_txn_and_leases.py" "${host_port_2%:*}" "${host_port_2##*:}"
else
  echo "FAIL python suites: python-etcd3 is not importable; install it with the line in $compat_dir/requirements.txt" |
    tee -a "$log_file"
fi

# Restart: a follower is stopped (with a client's watch open on it), misses a write, and is started
# again on its data directory. It must serve the write it missed, and know every member's client URLs again as etcd does (etcd
# replicates them through the log; they are not something a member can only learn by being dialled).
restart_suite() {
  # shellcheck source=lib.sh
  source "$compat_dir/lib.sh"
  local status_json=$work_dir/restart-status.json follower_index="" i
  ctl_at "$COMPAT_ENDPOINTS" endpoint status -w json >"$status_json" 2>/dev/null
  local leader
  leader=$(json_query '[e["Endpoint"] for e in d if e["Status"]["leader"] == e["Status"]["header"]["member_id"]][0]' <"$status_json")
  for i in "${!client_urls[@]}"; do
    if [ -n "$leader" ] && [ "${client_urls[$i]}" != "$leader" ]; then follower_index=$i; break; fi
  done
  if [ -z "$follower_index" ]; then
    fail "find a follower to restart" "$(cat "$status_json")"
    return 1
  fi
  local follower=${client_urls[$follower_index]} value="written-while-down-$RANDOM"
  echo "restarting follower ${member_names[$follower_index]} ($follower); leader $leader"
  # A client's open watch stream must not hold the member up: etcd 3.4 closes its streams and
  # exits about 2 s after SIGTERM.
  timeout 60 etcdctl --endpoints="$follower" watch compat/restart/ --prefix >/dev/null 2>&1 &
  local watcher_pid=$!
  sleep 1
  local stop_started=$SECONDS
  if stop_member "$follower_index"; then
    pass "a follower with an open watch stream exits within $stop_timeout_seconds s of SIGTERM"
  else
    fail "a follower with an open watch stream exits within $stop_timeout_seconds s of SIGTERM" \
      "still running after $((SECONDS - stop_started)) s; it was killed with SIGKILL"
  fi
  kill "$watcher_pid" 2>/dev/null
  wait "$watcher_pid" 2>/dev/null
  expect_output "a write while one follower is down succeeds" "OK" ctl_at "$leader" put compat/restart/key "$value"
  start_member "$follower_index"
  member_serves_value() { [ "$(ctl_at "$follower" get compat/restart/key --print-value-only)" == "$value" ]; }
  if wait_until "restarted member serves the write" "$startup_timeout_seconds" member_serves_value; then
    pass "the restarted follower serves the write it missed (linearizable)"
  else
    fail "the restarted follower serves the write it missed (linearizable)" "$(ctl_at "$follower" get compat/restart/key 2>&1)"
  fi
  expect_output "the restarted follower has it in its own state (--consistency=s)" "$value" \
    ctl_at "$follower" get compat/restart/key --print-value-only --consistency=s
  expect_output "the restarted follower's member list has every member's client URL" \
    "$(for i in "${!client_urls[@]}"; do echo "${member_names[$i]} ${client_urls[$i]}"; done | sort)" \
    eval "ctl_at '$follower' member list | awk -F', ' '{ print \$3, \$5 }' | sort"
  finish_suite "restart"
}
# Not through run_suite, which runs a suite as a separate process: the restarted member's pid must
# reach member_pids in this shell so that the exit trap stops it.
echo "=== suite: restart"
restart_suite >"$work_dir/restart.out" 2>&1
restart_status=$?
tee -a "$log_file" <"$work_dir/restart.out"
if [ "$restart_status" -ne 0 ]; then
  suite_failures=$((suite_failures + 1))
  echo "=== suite restart exited with status $restart_status"
fi

# The last check: no member died or restarted unexpectedly while the suites ran.
survivors=0
for pid in "${member_pids[@]}"; do pid_is_member "$pid" && survivors=$((survivors + 1)); done
if [ "$survivors" -eq "$member_count" ]; then
  echo "PASS all $member_count members still running after the suites" | tee -a "$log_file"
else
  echo "FAIL all $member_count members still running after the suites: $survivors alive" | tee -a "$log_file"
fi

passed=$(grep -c '^PASS ' "$log_file")
failed=$(grep -c '^FAIL ' "$log_file")
echo
echo "=== summary ($server_kind, $server_binary)"
grep '^FAIL ' "$log_file" || true
echo "compat: $passed passed, $failed failed"
if [ "$failed" -ne 0 ] || [ "$suite_failures" -ne 0 ]; then
  exit 1
fi
exit 0
