# shellcheck shell=bash
# Sourced by the scripts that compare Synod with real etcd in one run: starts a 3-node Synod cluster
# (`synod up`) and a 3-member etcd 3.4 cluster (../shared/reference/etcd-cluster.sh, Debian's
# etcd-server, fsync on, as shipped) on loopback, stops both on any exit, and sets
# synod_endpoints, etcd_endpoints, synod and work. Needs: apt-get install -y etcd-server etcd-client.
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
synod="$repo/.build/release/synod"
reference="${REFERENCE_DIR:-$repo/../shared/reference}"
[ -x "$synod" ] || { echo "build first: swift build -c release (or swift test -c release --disable-testable-imports)" >&2; exit 1; }
command -v etcd >/dev/null || { echo "etcd not found: apt-get install -y etcd-server" >&2; exit 1; }
command -v etcdctl >/dev/null || { echo "etcdctl not found: apt-get install -y etcd-client" >&2; exit 1; }
work="$(mktemp -d /tmp/synod-vs-etcd.XXXXXX)"

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

# Synod: `synod up` puts node i on base + 10·i (client), the next port (peer) and the one after (metrics).
"$synod" up --nodes 3 --data-dir "$work/synod" --base-port 2479 --log-level warn > "$work/synod-up.log" 2>&1 &
synod_up=$!
synod_endpoints="127.0.0.1:2479,127.0.0.1:2489,127.0.0.1:2499"

# To a file, not a pipe: the etcd members inherit the script's output, and a command
# substitution would wait for them to exit.
"$reference/etcd-cluster.sh" start 3 41000 "$work/etcd" > "$work/etcd-start.log" 2>&1
etcd_endpoints="$(tail -1 "$work/etcd-start.log" | sed 's#http://##g')"

for _ in $(seq 1 100); do
    etcdctl --endpoints="$synod_endpoints" endpoint health >/dev/null 2>&1 && break
    sleep 0.3
done
etcdctl --endpoints="$synod_endpoints" endpoint health >/dev/null
