#!/usr/bin/env bash
# The ZooKeeper differential test (differential.py: seeded random operations in lockstep, every
# reply compared) against a 3-member Synod cluster and a real 3-server ZooKeeper 3.8 ensemble
# (Debian's jars), both started here on loopback and stopped on any exit.
# Usage: Tests/compat/zookeeper/differential.sh SYNOD_BINARY [--seed N] [--ops N] [--verbose]
# Ports: Synod's members serve ZooKeeper on ZK_DIFFERENTIAL_SYNOD_PORT (25181), +10, +20 and etcd's
# client and peer ports on that +100+10*i and the next; ZooKeeper's servers on
# ZK_DIFFERENTIAL_ZOOKEEPER_PORT (26181), +10, +20 (quorum and election on the next two). Logs and
# data go to a temporary directory: its logs are kept (and its path printed) when the test fails,
# everything when ZK_DIFFERENTIAL_KEEP_DIR is set.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
binary="${1:?usage: differential.sh SYNOD_BINARY [--seed N] [--ops N] [--verbose]}"
shift
[ -x "$binary" ] || { echo "FAIL setup: $binary is not executable" >&2; exit 1; }
synod_base="${ZK_DIFFERENTIAL_SYNOD_PORT:-25181}"
zookeeper_base="${ZK_DIFFERENTIAL_ZOOKEEPER_PORT:-26181}"
work="$(mktemp -d)"
pids=()
status=1
# shellcheck source=Tests/compat/zookeeper/lib-ensemble.sh
. "$here/lib-ensemble.sh"
cleanup() {
  stop_pids
  rm -f "$work/synod"
  if [ -n "${ZK_DIFFERENTIAL_KEEP_DIR:-}" ]; then
    echo "differential: logs and data kept in $work"
  elif [ "$status" -ne 0 ]; then
    # The servers' logs say what happened; Synod's data directories (a preallocated log each,
    # about 65 MB) rarely do.
    rm -rf "$work/z0" "$work/z1" "$work/z2"
    echo "differential: logs kept in $work"
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT
# A signal ends the script through the EXIT trap, which stops every server.
trap 'exit 143' TERM HUP
trap 'exit 130' INT

# Every port either cluster will listen on must be free: a server of another run answering on one
# of them would be tested in place of ours.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for i in 0 1 2; do
  for port in "$((synod_base + 10 * i))" "$((synod_base + 100 + 10 * i))" "$((synod_base + 101 + 10 * i))" \
    "$((zookeeper_base + 10 * i))" "$((zookeeper_base + 1 + 10 * i))" "$((zookeeper_base + 2 + 10 * i))"; do
    if port_in_use "$port"; then echo "FAIL setup: port $port is in use" >&2; exit 1; fi
  done
done

# A copy of the binary: the build may replace the original while the test runs.
cp "$binary" "$work/synod"
synod_ports=("$synod_base" "$((synod_base + 10))" "$((synod_base + 20))")
cluster=""
for i in 0 1 2; do cluster+="${cluster:+,}z$i=http://127.0.0.1:$((synod_base + 100 + 10 * i + 1))"; done
for i in 0 1 2; do
  client=$((synod_base + 100 + 10 * i))
  "$work/synod" serve --name "z$i" --data-dir "$work/z$i" --listen-client-urls "http://127.0.0.1:$client" \
    --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$((client + 1))" \
    --initial-advertise-peer-urls "http://127.0.0.1:$((client + 1))" --initial-cluster "$cluster" \
    --initial-cluster-token zk-differential --zk-listen-address "127.0.0.1:${synod_ports[$i]}" --zk-4lw-whitelist '*' \
    --log-level warning >"$work/z$i.log" 2>&1 &
  pids+=($!)
done
start_zookeeper_ensemble "$work" "$zookeeper_base"
wait_ruok "${synod_ports[@]}"

synod_hosts="127.0.0.1:${synod_ports[0]},127.0.0.1:${synod_ports[1]},127.0.0.1:${synod_ports[2]}"
zookeeper_hosts="127.0.0.1:$zookeeper_base,127.0.0.1:$((zookeeper_base + 10)),127.0.0.1:$((zookeeper_base + 20))"
# In the background and waited for, so that a signal reaches the traps at once.
timeout 240 python3 "$here/differential.py" --synod "$synod_hosts" --zookeeper "$zookeeper_hosts" "$@" &
pids+=($!)
set +e
wait "$!"
status=$?
set -e
exit "$status"
