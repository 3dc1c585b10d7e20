#!/usr/bin/env bash
# TTL nodes, which need ZooKeeper's extended types: one server with them on (Synod:
# --zk-extended-types true; ZooKeeper: -Dzookeeper.extendedTypesEnabled=true, standalone) and a
# half-second sweep (--zk-container-check-interval 500; -Dznode.container.checkIntervalMs=500).
# zkCli.sh creates TTL nodes; the same lines are expected of both servers:
# - a TTL node's Stat shows ephemeralOwner 0 (ZooKeeper keeps the TTL there but hides it from clients);
# - a sequential TTL node is named as any sequential node;
# - a TTL node with a child outlives its TTL; once childless and past its TTL it is deleted;
# - a TTL of zero is refused (by zkCli.sh itself, before it reaches either server; the server's own
#   refusal is unit-tested in ZooKeeperDataTreeTests).
# Usage: Tests/compat/zookeeper/ttl.sh SYNOD_BINARY | zookeeper
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: ttl.sh SYNOD_BINARY | zookeeper}"
port="${ZK_TTL_PORT:-29181}"
# shellcheck source=Tests/compat/zookeeper/lib-ensemble.sh
. "$here/lib-ensemble.sh"
use_work_dir
jars=/usr/share/java
zkcli=/usr/share/zookeeper/bin/zkCli.sh
[ -x "$zkcli" ] || { echo "FAIL setup: $zkcli missing (apt-get install zookeeper)"; exit 1; }
if [ "$target" = zookeeper ]; then
  [ -f "$jars/zookeeper.jar" ] || { echo "FAIL setup: $jars/zookeeper.jar missing (apt-get install zookeeper)"; exit 1; }
  mkdir -p "$work/zk/data"
  printf 'tickTime=2000\ndataDir=%s/zk/data\nclientPort=%s\nclientPortAddress=127.0.0.1\nadmin.enableServer=false\n4lw.commands.whitelist=*\n' \
    "$work" "$port" >"$work/zk/zoo.cfg"
  printf 'log4j.rootLogger=WARN, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\nlog4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n' >"$work/zk/log4j.properties"
  (cd "$work/zk" && exec java -Xmx256m -XX:+UseSerialGC -Dzookeeper.extendedTypesEnabled=true -Dznode.container.checkIntervalMs=500 \
    -cp "$work/zk:$jars/zookeeper.jar:$jars/slf4j-log4j12.jar:$jars/log4j-1.2.jar" \
    org.apache.zookeeper.server.ZooKeeperServerMain "$work/zk/zoo.cfg" >"$work/zk.log" 2>&1 </dev/null) &
  pids+=($!)
else
  [ -x "$target" ] || { echo "FAIL setup: $target is not executable"; exit 1; }
  client=$((port + 100))
  "$target" serve --name ttl --data-dir "$work/ttl" --listen-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$((client + 1))" --initial-cluster "ttl=http://127.0.0.1:$((client + 1))" \
    --zk-listen-address "127.0.0.1:$port" --zk-4lw-whitelist '*' --zk-extended-types true --zk-container-check-interval 500 \
    --log-level warning >"$work/ttl.log" 2>&1 &
  pids+=($!)
fi
wait_ruok "$port"

status=0
# One zkCli.sh session: its lines, times and zxids aside, must match on both servers.
zkcli_session() { printf '%s\n' "$@" quit | timeout 120 "$zkcli" -waitforconnection -server "127.0.0.1:$port" 2>&1 || true; }
expect() {
  if grep -qF -- "$2" <<<"$1"; then echo "PASS $3"; else
    echo "FAIL $3: expected '$2' in:"
    sed 's/^/    /' <<<"$1" | tail -20
    status=1
  fi
}
expect_not() {
  if grep -qF -- "$2" <<<"$1"; then
    echo "FAIL $3: did not expect '$2'"
    status=1
  else echo "PASS $3"; fi
}
made=$(zkcli_session "create -t 1500 /ttl x" "stat /ttl" "create -t 1500 /kept x" "create /kept/child y" \
  "create /seqs x" "create -s -t 1500 /seqs/n- x" "create -t 0 /zero x")
expect "$made" "Created /ttl" "a TTL node is created"
expect "$made" "ephemeralOwner = 0x0" "its Stat shows no owner"
expect "$made" "Created /seqs/n-0000000000" "a sequential TTL node is named as any sequential node"
expect_not "$made" "Created /zero" "a TTL of zero is refused (by zkCli.sh)"
# Past the TTL (1.5 s) and a few half-second sweeps.
sleep 4
after=$(zkcli_session "stat /ttl" "stat /kept" "ls /seqs")
expect "$after" "Node does not exist: /ttl" "a childless TTL node is deleted once past its TTL"
expect "$after" "numChildren = 1" "a TTL node with a child outlives its TTL"
expect "$after" "[]" "the sequential TTL node is deleted too"
zkcli_session "delete /kept/child" >/dev/null
sleep 4
expect "$(zkcli_session "stat /kept")" "Node does not exist: /kept" "a TTL node is deleted once its last child goes"
exit "$status"
