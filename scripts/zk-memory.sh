#!/usr/bin/env bash
# Memory per znode, Synod against real ZooKeeper 3.8 in one run: each cluster of three is given
# NODES znodes of VALUE bytes (`synod bench zk --workload create --count`), and each member's
# resident set (VmRSS) is read before and after. ZooKeeper runs with a 4 GB heap ceiling so a
# million znodes fit, and is asked for a full collection (jcmd GC.run) before it is measured, so
# its figure is live data, not garbage; its used heap is printed too.
#
# Usage: scripts/zk-memory.sh [nodes] [value-bytes]   (default: 1000000 256)
set -euo pipefail
nodes="${1:-1000000}"
value="${2:-256}"
root="$(cd "$(dirname "$0")/.." && pwd)"
synod="$root/.build/release/synod"
# shellcheck source=Tests/compat/zookeeper/lib-ensemble.sh
. "$root/Tests/compat/zookeeper/lib-ensemble.sh"
use_work_dir
command -v jcmd >/dev/null || { echo "jcmd not found (apt-get install default-jdk-headless)" >&2; exit 1; }
"$synod" up --nodes 3 --data-dir "$work/synod" --base-port 16379 --zk-base-port 16181 >"$work/up.log" 2>&1 &
pids+=($!)
mkdir -p "$work/zk"
ZOOKEEPER_JVM_FLAGS="-Xmx4g" start_zookeeper_ensemble "$work/zk" 17181
zookeeper_pids=("${pids[@]:1}")
wait_ruok 16181 16191 16201
synod_pids=()
for attempt in $(seq 1 50); do
  mapfile -t synod_pids < <(pgrep -f -- "serve .*--data-dir $work/synod/" || true)
  [ "${#synod_pids[@]}" -eq 3 ] && break
  sleep 0.2
done
[ "${#synod_pids[@]}" -eq 3 ] || { echo "FAIL: expected 3 Synod members, found ${#synod_pids[@]}" >&2; exit 1; }

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
settle_java() { for pid in "$@"; do jcmd "$pid" GC.run >/dev/null 2>&1 || true; done; sleep 2; }
total_rss() { local sum=0 pid; for pid in "$@"; do sum=$((sum + $(rss_kib "$pid"))); done; echo "$sum"; }

settle_java "${zookeeper_pids[@]}"
synod_before=$(total_rss "${synod_pids[@]}")
zookeeper_before=$(total_rss "${zookeeper_pids[@]}")
load() {
  "$synod" bench zk --endpoints "$1" --workload create --count "$nodes" --value-size "$value" --sessions 16 --outstanding 16 --duration 7200 --label "$2"
}
load 127.0.0.1:16181,127.0.0.1:16191,127.0.0.1:16201 synod
load 127.0.0.1:17181,127.0.0.1:17191,127.0.0.1:17201 zookeeper
sleep 5
settle_java "${zookeeper_pids[@]}"
synod_after=$(total_rss "${synod_pids[@]}")
zookeeper_after=$(total_rss "${zookeeper_pids[@]}")
for pid in "${zookeeper_pids[@]}"; do
  echo "zookeeper pid $pid heap: $(jcmd "$pid" GC.heap_info 2>/dev/null | grep -m1 -E 'used' | sed 's/^ *//')"
done
awk -v n="$nodes" -v v="$value" -v sb="$synod_before" -v sa="$synod_after" -v zb="$zookeeper_before" -v za="$zookeeper_after" 'BEGIN {
  s = (sa - sb) * 1024 / 3 / n; z = (za - zb) * 1024 / 3 / n
  printf "znodes=%d value=%dB\n", n, v
  printf "synod     RSS per member: %.0f -> %.0f MiB, %.0f bytes per znode\n", sb / 3 / 1024, sa / 3 / 1024, s
  printf "zookeeper RSS per member: %.0f -> %.0f MiB, %.0f bytes per znode\n", zb / 3 / 1024, za / 3 / 1024, z
  printf "ratio bytes per znode synod/zookeeper = %.2f\n", s / z
}'
