#!/usr/bin/env bash
# Plain HTTP/1.1 on the client port, beside gRPC, as etcd serves it: /health (etcd 3.4's body and
# codes), /version, /metrics (etcd's names and types), /livez and /readyz (etcd 3.5.12+; etcd 3.4
# answers them 404), 404 for any other path, 405 for any method but GET, bytes that are not HTTP,
# and /health when the member has lost its leader (two members paused with SIGSTOP, then resumed).
#
# Usage: http_endpoints.sh   (run.sh sets COMPAT_ENDPOINTS, COMPAT_WORK_DIR and COMPAT_SERVER_KIND)
set -u
cd "$(dirname "$0")" || exit 2
# shellcheck source=lib.sh
source ./lib.sh

IFS=, read -r -a endpoints <<<"$COMPAT_ENDPOINTS"
kind=${COMPAT_SERVER_KIND:-synod}
command -v curl >/dev/null || { fail "curl is installed (apt-get install -y curl)"; finish_suite http; exit 1; }

# http_get URL [CURL_ARGS...]: sets http_status and http_body.
http_get() {
  local url=$1 body_file
  shift
  body_file=$(mktemp "$COMPAT_WORK_DIR/http.XXXXXX")
  http_status=$(curl -s -m 5 -o "$body_file" -w '%{http_code}' "$@" "$url")
  http_body=$(cat "$body_file")
  rm -f "$body_file"
}

for endpoint in "${endpoints[@]}"; do
  http_get "$endpoint/health"
  expect_equal "GET /health on $endpoint: 200 {\"health\":\"true\"}" '200 {"health":"true"}' "$http_status $http_body"
done
http_get "${endpoints[0]}/health?serializable=true"
expect_equal 'GET /health?serializable=true: 200 {"health":"true"}' '200 {"health":"true"}' "$http_status $http_body"

status_version=$(ctl_at "${endpoints[0]}" endpoint status -w json | json_query 'd[0]["Status"]["version"]')
http_get "${endpoints[0]}/version"
expect_equal "GET /version: the server version Status reports, cluster 3.4.0" \
  "200 {\"etcdserver\":\"$status_version\",\"etcdcluster\":\"3.4.0\"}" "$http_status $http_body"

http_get "${endpoints[0]}/no-such-path"
expect_equal "GET of an unknown path: Go's 404" "404 404 page not found" "$http_status $http_body"

http_get "${endpoints[0]}/health" -X POST
expect_equal "POST /health: 405, GET only" "405 Method Not Allowed" "$http_status $http_body"

for path in livez readyz; do
  http_get "${endpoints[0]}/$path"
  if [ "$kind" = etcd ]; then
    expect_equal "GET /$path: etcd 3.4 does not serve it" "404 404 page not found" "$http_status $http_body"
  else
    expect_equal "GET /$path: 200 ok (etcd 3.5.12's answer)" "200 ok" "$http_status $http_body"
  fi
done

# Bytes that are neither HTTP/2 nor HTTP/1: the connection is closed, with a 400 at most (etcd's
# cmux closes it without a word), and the member serves on.
reply=$(printf 'NOT-HTTP at all\r\n\r\n' | timeout 5 curl -s -m 3 telnet://"${endpoints[0]#http://}" 2>/dev/null | head -1 | tr -d '\r')
if [ -z "$reply" ] || [ "$reply" == "HTTP/1.1 400 Bad Request" ]; then
  pass "bytes that are not HTTP get a closed connection (or a 400)"
else
  fail "bytes that are not HTTP get a closed connection (or a 400)" "first line: $reply"
fi
expect_output "gRPC still served on the same port afterwards" "OK" ctl_at "${endpoints[0]}" put compat/http/after-garbage v

# /metrics: etcd's names and types, values that agree with the cluster, and text that parses.
metric() { awk -v name="$1" '$1 == name { print $2 + 0 }' <<<"$2"; }
leaders=0
for endpoint in "${endpoints[@]}"; do
  metrics=$(curl -s -m 5 "$endpoint/metrics")
  expect_equal "GET /metrics on $endpoint: etcd_server_has_leader 1" 1 "$(metric etcd_server_has_leader "$metrics")"
  [ "$(metric etcd_server_is_leader "$metrics")" = 1 ] && leaders=$((leaders + 1))
done
expect_equal "exactly one member reports etcd_server_is_leader 1" 1 "$leaders"
metrics=$(curl -s -m 5 "${endpoints[0]}/metrics")
for declared in "etcd_server_has_leader gauge" "etcd_server_is_leader gauge" "etcd_server_leader_changes_seen_total counter" \
  "etcd_server_proposals_committed_total gauge" "etcd_server_proposals_applied_total gauge" "etcd_server_proposals_pending gauge" \
  "etcd_mvcc_db_total_size_in_bytes gauge" "etcd_mvcc_db_total_size_in_use_in_bytes gauge" "etcd_server_quota_backend_bytes gauge" \
  "etcd_server_proposals_failed_total counter" "etcd_disk_wal_fsync_duration_seconds histogram" \
  "etcd_disk_backend_commit_duration_seconds histogram" "etcd_server_slow_apply_total counter" \
  "etcd_server_heartbeat_send_failures_total counter" "etcd_debugging_mvcc_watcher_total gauge" \
  "etcd_debugging_mvcc_slow_watcher_total gauge" "grpc_server_handled_total counter" \
  "etcd_network_peer_round_trip_time_seconds histogram"; do
  expect_equal "/metrics declares $declared, as etcd does" "# TYPE $declared" "$(grep "^# TYPE ${declared% *} " <<<"$metrics")"
done
status_applied=$(ctl_at "${endpoints[0]}" endpoint status -w json | json_query 'd[0]["Status"]["raftAppliedIndex"]')
metrics=$(curl -s -m 5 "${endpoints[0]}/metrics")
applied=$(metric etcd_server_proposals_applied_total "$metrics")
if [ "$applied" -ge "$status_applied" ] 2>/dev/null && [ "$applied" -gt 0 ]; then
  pass "etcd_server_proposals_applied_total ($applied) is at least Status's applied index ($status_applied)"
else
  fail "etcd_server_proposals_applied_total is at least Status's applied index" "metric $applied, status $status_applied"
fi
bad_lines=$(python3 -c '
import re, sys
sample = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? ([-+0-9.eE]+|NaN|[+-]Inf)$")
print("\n".join(l for l in sys.stdin.read().splitlines() if l and not l.startswith("#") and not sample.match(l)))' <<<"$metrics")
expect_equal "every sample line of /metrics is Prometheus text format" "" "$bad_lines"
fsyncs=$(metric etcd_disk_wal_fsync_duration_seconds_count "$metrics")
if [ "${fsyncs:-0}" -gt 0 ] 2>/dev/null; then pass "etcd_disk_wal_fsync_duration_seconds has counted the log's syncs ($fsyncs)"; else fail "etcd_disk_wal_fsync_duration_seconds has counted the log's syncs" "count: $fsyncs"; fi

# expect_health_within SECONDS EXPECTED NAME: polls /health on the first member until it answers
# EXPECTED ("status body").
expect_health_within() {
  local seconds=$1 expected=$2 name=$3
  health_is() { http_get "${endpoints[0]}/health"; [ "$http_status $http_body" == "$expected" ]; }
  if wait_until "$name" "$seconds" health_is; then
    pass "$name"
  else
    fail "$name" "last answer: $http_status $http_body"
  fi
}

# Synod's own: the dashboard's status on the client port, and `synod status` built on it.
if [ "$kind" == synod ]; then
  http_get "${endpoints[0]}/ui/status"
  expect_equal "GET /ui/status: this member's dashboard status, with every member listed" "200 ${#endpoints[@]}" \
    "$http_status $(json_query 'len(d["members"])' <<<"$http_body" 2>/dev/null)"
  synod_binary=${COMPAT_SYNOD_BINARY:-$(cd "$(dirname "$0")/../.." && pwd)/.build/release/synod}
  status_screen=$(timeout 20 "$synod_binary" status --once --endpoints "$(IFS=,; echo "${endpoints[*]}")" 2>&1)
  if [ "$(grep -c ' leader ' <<<"$status_screen")" == 1 ] && [ "$(grep -c ' follower ' <<<"$status_screen")" == $((${#endpoints[@]} - 1)) ]; then
    pass "synod status --once shows one leader and $((${#endpoints[@]} - 1)) followers"
  else
    fail "synod status --once shows one leader and the followers" "$status_screen"
  fi
fi

# Two of three members paused: the third loses its leader within an election, and says so.
member_pid() { pgrep -f -- "--data-dir $COMPAT_WORK_DIR/$1( |$)" | head -1; }
read -r -a names <<<"$COMPAT_MEMBER_NAMES"
paused=("$(member_pid "${names[1]}")" "$(member_pid "${names[2]}")")
if [ -z "${paused[0]}" ] || [ -z "${paused[1]}" ]; then
  fail "find the members to pause" "pids: ${paused[*]}"
else
  kill -STOP "${paused[@]}"
  expect_health_within 20 '503 {"health":"false"}' 'GET /health with two of three members paused: 503 {"health":"false"}'
  if [ "$kind" != etcd ]; then
    http_get "${endpoints[0]}/livez"
    expect_equal "GET /livez without a leader: 200 ok (the member itself is alive)" "200 ok" "$http_status $http_body"
    http_get "${endpoints[0]}/readyz"
    expect_equal "GET /readyz without a leader: 503" "503 readyz check failed" "$http_status $http_body"
  fi
  kill -CONT "${paused[@]}"
  expect_health_within 30 '200 {"health":"true"}' "GET /health is true again once the paused members resume"
fi

finish_suite http
