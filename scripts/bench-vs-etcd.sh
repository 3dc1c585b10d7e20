#!/usr/bin/env bash
# Synod against real etcd 3.4, in one run, with one client: `synod bench etcd`.
#
# Starts a 3-node Synod cluster and a 3-member etcd cluster (Debian's etcd-server, fsync on, as
# shipped), both on loopback, runs each workload against one and then the other, and prints the
# figures and the Synod/etcd ratios. Needs: `apt-get install -y etcd-server etcd-client`.
#
# Usage: scripts/bench-vs-etcd.sh [seconds-per-workload] [clients]
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
seconds="${1:-10}"
clients="${2:-64}"
synod="$repo/.build/release/synod"
reference="${REFERENCE_DIR:-$repo/../shared/reference}"
work="$(mktemp -d /tmp/synod-vs-etcd.XXXXXX)"
[ -x "$synod" ] || { echo "build first: swift build -c release" >&2; exit 1; }
command -v etcd >/dev/null || { echo "etcd not found: apt-get install -y etcd-server" >&2; exit 1; }

cleanup() {
    "$reference/etcd-cluster.sh" stop 3 41000 "$work/etcd" >/dev/null 2>&1 || true
    if [ -n "${synod_up:-}" ]; then
        # The nodes themselves too, not only `synod up`: once in a while `up` missed the signal
        # and the script waited for it forever. Bounded, then SIGKILL.
        pkill -TERM -P "$synod_up" 2>/dev/null || true
        kill "$synod_up" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$synod_up" 2>/dev/null || break; sleep 0.1; done
        pkill -KILL -P "$synod_up" 2>/dev/null || true
        kill -9 "$synod_up" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# Synod: `synod up` puts node i on base + 20000·i (client) and the next port (peer).
"$synod" up --nodes 3 --data-dir "$work/synod" --base-port 2479 --log-level warn > "$work/synod-up.log" 2>&1 &
synod_up=$!
synod_endpoints="127.0.0.1:2479,127.0.0.1:22479,127.0.0.1:42479"

# To a file, not a pipe: the etcd members inherit the script's output, and a command
# substitution would wait for them to exit.
"$reference/etcd-cluster.sh" start 3 41000 "$work/etcd" > "$work/etcd-start.log" 2>&1
etcd_endpoints="$(tail -1 "$work/etcd-start.log" | sed 's#http://##g')"

for attempt in $(seq 1 100); do
    etcdctl --endpoints="$synod_endpoints" endpoint health >/dev/null 2>&1 && break
    sleep 0.3
done
etcdctl --endpoints="$synod_endpoints" endpoint health >/dev/null

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
