#!/usr/bin/env bash
# The corruption check (etcd's --experimental-corrupt-check-time), shown to catch a diverging
# member and to stay quiet on a healthy cluster:
#
#   Tests/compat/faults/corrupt_check.sh [SYNOD_BINARY]     (default .build/release/synod)
#
# 1. A healthy 3-member cluster checking every second: after writes and several rounds, no alarm.
# 2. The same with one member started with SYNOD_STORE_FAULT=alter-puts (it applies every put with
#    its value changed, so its history differs while its revisions match): within a few rounds a
#    CORRUPT alarm is raised (for that member, or, if it leads, for the others), `alarm list` shows
#    it and /health turns false.
#
# Env: CORRUPT_BASE_PORT (default 13379). Bounded waits; every process killed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
server=${1:-$root/.build/release/synod}
base_port=${CORRUPT_BASE_PORT:-13379}
# shellcheck source=../lib.sh
source "$here/../lib.sh"
[ -x "$server" ] || { echo "FAIL setup: server binary $server is missing"; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/synod-corrupt.XXXXXX")
export COMPAT_WORK_DIR=$work
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

# start_cluster NAME OFFSET FAULTY_INDEX: three members; FAULTY_INDEX (1-3, or 0) diverges.
start_cluster() {
  local name=$1 offset=$2 faulty=$3 index initial="" endpoints=""
  for index in 1 2 3; do initial+="${initial:+,}$name$index=http://127.0.0.1:$((base_port + offset + 10 * index + 1))"; done
  for index in 1 2 3; do
    local port=$((base_port + offset + 10 * index)) fault=""
    [ "$index" == "$faulty" ] && fault=alter-puts
    SYNOD_STORE_FAULT=$fault "$server" serve --zk-listen-address "" --name "$name$index" --data-dir "$work/$name$index" \
      --listen-client-urls "http://127.0.0.1:$port" --listen-peer-urls "http://127.0.0.1:$((port + 1))" \
      --initial-cluster "$initial" --initial-cluster-token "$name-$$" --experimental-corrupt-check-time 1s \
      --heartbeat-interval 50 --election-timeout 500 >>"$work/$name$index.log" 2>&1 </dev/null &
    pids+=($!)
    endpoints+="${endpoints:+,}127.0.0.1:$port"
  done
  cluster_endpoints=$endpoints
  wait_until "$name healthy" 30 ctl_at "$endpoints" endpoint health
}

write_some() {
  local i
  for i in $(seq 1 20); do ctl_at "$1" put "k$i" "v$i" >/dev/null || return 1; done
}

start_cluster healthy 0 0 || fail "the healthy cluster starts"
write_some "$cluster_endpoints"
sleep 4
expect_output "a healthy cluster checking every second raises no alarm" "" ctl_at "$cluster_endpoints" alarm list

start_cluster diverging 100 3 || fail "the diverging cluster starts"
write_some "$cluster_endpoints"
corrupt_listed() { ctl_at "$cluster_endpoints" alarm list | grep -q 'alarm:CORRUPT'; }
if wait_until "a CORRUPT alarm" 20 corrupt_listed; then
  pass "a member whose history diverges is caught: alarm list shows CORRUPT ($(ctl_at "$cluster_endpoints" alarm list | tr '\n' ' '))"
else
  fail "a diverging member is caught within 20 s" "$(ctl_at "$cluster_endpoints" alarm list 2>&1)" "$(grep -h CORRUPT "$work"/diverging*.log | head -3)"
fi
expect_equal "/health is false while CORRUPT is raised" '503 {"health":"false"}' \
  "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://${cluster_endpoints%%,*}/health") $(curl -s -m 5 "http://${cluster_endpoints%%,*}/health")"

finish_suite corrupt-check
