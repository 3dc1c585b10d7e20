#!/usr/bin/env bash
# Synod against real ZooKeeper 3.8, in one run, through two clients: `synod bench zk` (ours) and
# ZooKeeper's own Java client (scripts/ZooKeeperJavaBench.java, compiled here against Debian's
# jars), at several concurrencies.
#
# Starts 3 Synod members (`synod up`) and a 3-server ZooKeeper ensemble (Debian's `zookeeper` as
# shipped: tickTime 2000, fsync on, zkServer.sh's default heap of 1000 MB) on loopback, runs each
# workload against one and then the other, and prints the figures and the Synod/ZooKeeper ratios.
#
# Usage: scripts/bench-vs-zookeeper.sh [seconds-per-run] [SESSIONSxOUTSTANDING ...]
#        (default: 8 s; 1x1 16x4 64x8)
set -euo pipefail
seconds="${1:-8}"
shift || true
concurrencies=("$@")
[ "${#concurrencies[@]}" -gt 0 ] || concurrencies=(1x1 16x4 64x8)
root="$(cd "$(dirname "$0")/.." && pwd)"
synod="$root/.build/release/synod"
# shellcheck source=Tests/compat/zookeeper/lib-ensemble.sh
. "$root/Tests/compat/zookeeper/lib-ensemble.sh"
use_work_dir
jars=/usr/share/java
classpath="$jars/zookeeper.jar:$jars/zookeeper-jute.jar:$jars/slf4j-api.jar"
javac -d "$work/java" -cp "$classpath" "$root/scripts/ZooKeeperJavaBench.java"
"$synod" up --nodes 3 --data-dir "$work/synod" --base-port 12379 --zk-base-port 12181 >"$work/up.log" 2>&1 &
pids+=($!)
mkdir -p "$work/zk"
ZOOKEEPER_JVM_FLAGS="-Xmx1000m" start_zookeeper_ensemble "$work/zk" 14181
wait_ruok 12181 12191 12201
synod_hosts=127.0.0.1:12181,127.0.0.1:12191,127.0.0.1:12201
zk_hosts=127.0.0.1:14181,127.0.0.1:14191,127.0.0.1:14201
echo "synod: $synod_hosts   zookeeper: $zk_hosts   ${seconds}s per run, concurrencies ${concurrencies[*]} (sessions x in flight)"

ops() { sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p' <<<"$1"; }
p99() { sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$1"; }
ratio() {
  awk -v w="$1" -v c="$2" -v k="$3" -v so="$(ops "$4")" -v zo="$(ops "$5")" -v sp="$(p99 "$4")" -v zp="$(p99 "$5")" \
    'BEGIN { printf "ratio %-6s %-5s %-6s throughput synod/zookeeper = %.2f   p99 synod/zookeeper = %.2f\n", w, c, k, so / zo, (zp > 0 ? sp / zp : 0) }'
}
for concurrency in "${concurrencies[@]}"; do
  sessions=${concurrency%x*}
  outstanding=${concurrency#*x}
  for workload in create set get mixed; do
    ours_s=$("$synod" bench zk --endpoints "$synod_hosts" --workload "$workload" --sessions "$sessions" --outstanding "$outstanding" --duration "$seconds" --label synod)
    ours_z=$("$synod" bench zk --endpoints "$zk_hosts" --workload "$workload" --sessions "$sessions" --outstanding "$outstanding" --duration "$seconds" --label zookeeper)
    java_s=$(java -cp "$work/java:$classpath" ZooKeeperJavaBench "$synod_hosts" "$workload" "$sessions" "$outstanding" "$seconds" synod 2>/dev/null | grep '^synod ')
    java_z=$(java -cp "$work/java:$classpath" ZooKeeperJavaBench "$zk_hosts" "$workload" "$sessions" "$outstanding" "$seconds" zookeeper 2>/dev/null | grep '^zookeeper ')
    printf '%s\n%s\n%s\n%s\n' "$ours_s" "$ours_z" "$java_s" "$java_z"
    ratio "$workload" "$concurrency" synod "$ours_s" "$ours_z"
    ratio "$workload" "$concurrency" java "$java_s" "$java_z"
  done
done
