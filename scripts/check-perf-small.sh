#!/usr/bin/env bash
# etcd's own performance check, `etcdctl check perf --load=s`, against a local 3-member Synod
# cluster (`synod up`): it must report PASS for throughput, slowest request and stddev, as
# etcdctl judges them for etcd.
#
#   scripts/check-perf-small.sh [SYNOD_BINARY]     (default .build/release/synod)
#
# Env: CHECK_PERF_BASE_PORT (default 3479). The cluster is stopped on exit.
set -u
repo="$(cd "$(dirname "$0")/.." && pwd)"
synod=${1:-$repo/.build/release/synod}
base_port=${CHECK_PERF_BASE_PORT:-3479}
[ -x "$synod" ] || { echo "FAIL: $synod is missing"; exit 2; }
command -v etcdctl >/dev/null || { echo "FAIL: etcdctl is not installed"; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/synod-check-perf.XXXXXX")
"$synod" up --nodes 3 --data-dir "$work/data" --base-port "$base_port" --log-level warn >"$work/up.log" 2>&1 &
up_pid=$!
trap 'kill -TERM $up_pid 2>/dev/null; wait $up_pid 2>/dev/null; rm -rf "$work"' EXIT
endpoints="127.0.0.1:$base_port,127.0.0.1:$((base_port + 10)),127.0.0.1:$((base_port + 20))"
for _ in $(seq 1 100); do
  ETCDCTL_API=3 timeout 5 etcdctl --endpoints="$endpoints" endpoint health >/dev/null 2>&1 && break
  sleep 0.3
done
out=$(ETCDCTL_API=3 timeout 120 etcdctl --endpoints="$endpoints" check perf --load=s 2>&1 | tr '\r' '\n' | grep -E 'PASS|FAIL')
echo "$out"
if [ -n "$out" ] && ! grep -q FAIL <<<"$out"; then
  echo "check-perf-small: PASS"
else
  echo "check-perf-small: FAIL"
  exit 1
fi
