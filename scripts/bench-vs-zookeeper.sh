#!/usr/bin/env bash
# Synod against real ZooKeeper 3.8, in one run, with one client: `synod bench zk`.
#
# Starts 3 Synod members (`synod up`) and a 3-server ZooKeeper ensemble (Debian's `zookeeper`, its
# defaults: tickTime 2000, fsync on) on loopback, runs each workload against one and then the
# other, and prints the figures and the Synod/ZooKeeper ratios.
#
# Usage: scripts/bench-vs-zookeeper.sh [seconds-per-workload] [sessions] [outstanding-per-session]
set -euo pipefail
seconds="${1:-10}"
sessions="${2:-16}"
outstanding="${3:-4}"
root="$(cd "$(dirname "$0")/.." && pwd)"
synod="$root/.build/release/synod"
work="$(mktemp -d)"
pids=()
cleanup() {
  stop_pids
  rm -rf "$work"
}
trap cleanup EXIT
# shellcheck source=Tests/compat/zookeeper/lib-ensemble.sh
. "$root/Tests/compat/zookeeper/lib-ensemble.sh"
"$synod" up --nodes 3 --data-dir "$work/synod" --base-port 12379 --zk-base-port 12181 >"$work/up.log" 2>&1 &
pids+=($!)
mkdir -p "$work/zk"
start_zookeeper_ensemble "$work/zk" 14181
wait_ruok 12181 12191 12201
synod_hosts=127.0.0.1:12181,127.0.0.1:12191,127.0.0.1:12201
zk_hosts=127.0.0.1:14181,127.0.0.1:14191,127.0.0.1:14201
echo "synod: $synod_hosts   zookeeper: $zk_hosts   ${seconds}s per workload, $sessions sessions x $outstanding in flight"
for workload in create set get mixed; do
  s=$("$synod" bench zk --endpoints "$synod_hosts" --workload "$workload" --sessions "$sessions" --outstanding "$outstanding" --duration "$seconds" --label synod)
  z=$("$synod" bench zk --endpoints "$zk_hosts" --workload "$workload" --sessions "$sessions" --outstanding "$outstanding" --duration "$seconds" --label zookeeper)
  echo "$s"
  echo "$z"
  so=$(sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p' <<<"$s"); zo=$(sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p' <<<"$z")
  sp=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$s"); zp=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$z")
  awk -v w="$workload" -v so="$so" -v zo="$zo" -v sp="$sp" -v zp="$zp" \
    'BEGIN { printf "ratio %-7s throughput synod/zookeeper = %.2f   p99 synod/zookeeper = %.2f\n", w, so / zo, sp / zp }'
done
