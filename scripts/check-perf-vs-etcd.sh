#!/usr/bin/env bash
# etcd's own benchmark against Synod and real etcd in one run: `etcdctl check perf --load=<load>`
# (etcd's Go client), plus one client's put latency against the floor.
#
# Starts a 3-node Synod cluster and a 3-member etcd cluster (Debian's etcd-server 3.4, fsync on, as
# shipped) on loopback, both up the whole time, and alternates the check-perf runs
# (synod, etcd, synod, etcd, ...) so that drift in the machine hits both alike. Then one client's put
# p50 on each, and the floor: one raw 1 KiB write plus fdatasync (`synod bench wal`, p50) plus 0.1 ms
# for two loopback round trips.
#
# Usage: scripts/check-perf-vs-etcd.sh [rounds] [load]     (defaults: 2 rounds, load l)
set -euo pipefail
rounds="${1:-2}"
load="${2:-l}"
# shellcheck source=scripts/lib-both-clusters.sh
. "$(dirname "$0")/lib-both-clusters.sh"

# check perf leaves its keys behind only on failure; it refuses to start on a non-empty prefix, so clear it.
check_perf() {
    local endpoints="$1" out
    etcdctl --endpoints="$endpoints" del --prefix /etcdctl-check-perf/ >/dev/null 2>&1 || true
    out="$(etcdctl --endpoints="$endpoints" check perf --load="$load" 2>&1 | tr -d '\r' | tr '\n' ' ')"
    # "PASS: Throughput is 3753 writes/s", or "FAIL: Throughput too low: 2209 writes/s" below
    # the load's target (which the throughput itself still answers).
    sed -n 's/.*Throughput[^0-9]*\([0-9][0-9]*\) writes\/s.*/\1/p' <<<"$out" | head -1 | grep . || { echo "check perf failed: ${out: -400}" >&2; return 1; }
}

echo "synod: $synod_endpoints   etcd: $etcd_endpoints   etcdctl check perf --load=$load, $rounds alternated rounds"
synod_total=0; etcd_total=0
# Between runs, the cluster that just ran may still be writing a snapshot or compacting (both do so
# after check perf's 100,000-odd writes); a pause lets that finish before the other one runs.
settle_seconds="${SETTLE_SECONDS:-15}"
for round in $(seq 1 "$rounds"); do
    s="$(check_perf "$synod_endpoints")"; sleep "$settle_seconds"
    e="$(check_perf "$etcd_endpoints")"; sleep "$settle_seconds"
    echo "round $round: synod $s writes/s   etcd $e writes/s"
    synod_total=$((synod_total + s)); etcd_total=$((etcd_total + e))
done
awk -v s="$synod_total" -v e="$etcd_total" -v r="$rounds" \
    'BEGIN { printf "check perf mean: synod %.0f writes/s   etcd %.0f writes/s   ratio synod/etcd = %.2f\n", s / r, e / r, s / e }'

# One client, one put in flight: latency against the floor.
ss="$("$synod" bench etcd --endpoints "$synod_endpoints" --workload put --clients 1 --connections 1 --value-size 1024 --duration 10 --label synod 2>/dev/null)"
es="$("$synod" bench etcd --endpoints "$etcd_endpoints" --workload put --clients 1 --connections 1 --value-size 1024 --duration 10 --label etcd 2>/dev/null)"
echo "$ss"; echo "$es"
wal="$("$synod" bench wal --directory "$work" --appenders 1 --seconds 3 2>/dev/null)"
echo "$wal"
raw_p50="$(grep -i 'raw' <<<"$wal" | sed -n 's/.*p50=\([0-9.]*\)ms.*/\1/p' | head -1)"
sp="$(sed -n 's/.*p50=\([0-9.]*\)ms.*/\1/p' <<<"$ss")"; ep="$(sed -n 's/.*p50=\([0-9.]*\)ms.*/\1/p' <<<"$es")"
awk -v raw="$raw_p50" -v sp="$sp" -v ep="$ep" 'BEGIN {
    floor = raw + 0.1
    printf "single-client put p50: synod %.3f ms   etcd %.3f ms   floor %.3f ms (raw write+fdatasync %.3f + 0.1)\n", sp, ep, floor, raw
    printf "ratio synod/floor = %.2f (goal <= 2)   synod/etcd = %.2f\n", sp / floor, sp / ep
}'
