#!/usr/bin/env bash
# Synod against real etcd 3.4, in one run, with one client: `synod bench etcd`.
#
# Starts a 3-node Synod cluster and a 3-member etcd cluster (Debian's etcd-server, fsync on, as
# shipped), both on loopback, runs each workload against one and then the other, and prints the
# figures and the Synod/etcd ratios. Needs: `apt-get install -y etcd-server etcd-client`.
#
# Usage: scripts/bench-vs-etcd.sh [seconds-per-workload] [clients]
set -euo pipefail
seconds="${1:-10}"
clients="${2:-64}"
# shellcheck source=scripts/lib-both-clusters.sh
. "$(dirname "$0")/lib-both-clusters.sh"

echo "synod: $synod_endpoints   etcd: $etcd_endpoints   ${seconds}s per workload, $clients clients"
for workload in put range range-serializable mixed; do
    s=$("$synod" bench etcd --endpoints "$synod_endpoints" --workload "$workload" --clients "$clients" --duration "$seconds" --label synod 2>/dev/null)
    e=$("$synod" bench etcd --endpoints "$etcd_endpoints" --workload "$workload" --clients "$clients" --duration "$seconds" --label etcd 2>/dev/null)
    echo "$s"
    echo "$e"
    so=$(sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p' <<<"$s"); eo=$(sed -n 's/.*ops\/s=\([0-9]*\).*/\1/p' <<<"$e")
    sp=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$s"); ep=$(sed -n 's/.*p99=\([0-9.]*\)ms.*/\1/p' <<<"$e")
    awk -v w="$workload" -v so="$so" -v eo="$eo" -v sp="$sp" -v ep="$ep" \
        'BEGIN { printf "ratio %-18s throughput synod/etcd = %.2f   p99 synod/etcd = %.2f\n", w, so / eo, sp / ep }'
done
