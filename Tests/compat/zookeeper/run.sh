#!/usr/bin/env bash
# The ZooKeeper compatibility suite (kazoo, the seed's lock pattern) against a 3-member Synod
# cluster, or, given "zookeeper", against a real 3-server ZooKeeper 3.8 ensemble (Debian's
# `zookeeper` package, run from its jars on loopback), with the same verdicts expected of both.
# Usage: Tests/compat/zookeeper/run.sh SYNOD_BINARY | zookeeper
# ZK_SUITE_ENGINE picks the consensus engine Synod's members run (raft by default; `synod engines`
# lists them): any API runs on any engine, and CI runs the suite on each.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
target="${1:?usage: run.sh SYNOD_BINARY | zookeeper}"
base="${ZK_SUITE_BASE_PORT:-23181}"
# shellcheck source=Tests/compat/zookeeper/lib-ensemble.sh
. "$here/lib-ensemble.sh"
use_work_dir
ports=("$base" "$((base + 10))" "$((base + 20))")
hosts="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
if [ "$target" = zookeeper ]; then
  start_zookeeper_ensemble "$work" "$base"
else
  [ -x "$target" ] || { echo "FAIL setup: $target is not executable" >&2; exit 1; }
  cluster=""
  for i in 0 1 2; do cluster+="${cluster:+,}z$i=http://127.0.0.1:$((base + 100 + 10 * i + 1))"; done
  for i in 0 1 2; do
    client=$((base + 100 + 10 * i))
    "$target" serve --engine "${ZK_SUITE_ENGINE:-raft}" --name "z$i" --data-dir "$work/z$i" --listen-client-urls "http://127.0.0.1:$client" \
      --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$((client + 1))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((client + 1))" --initial-cluster "$cluster" \
      --initial-cluster-token zk-suite --zk-listen-address "127.0.0.1:${ports[$i]}" --zk-4lw-whitelist '*' --log-level warning >"$work/z$i.log" 2>&1 &
    pids+=($!)
  done
  wait_ruok "${ports[@]}"
fi
echo "target: $target${ZK_SUITE_ENGINE:+ (engine $ZK_SUITE_ENGINE)}   hosts: $hosts"
status=0
timeout 300 python3 "$here/kazoo_suite.py" "$hosts" || status=1
timeout 120 python3 "$here/sessions.py" "$hosts" || status=1

# Curator 5 (Debian's libcurator-*-java), compiled here against the packaged jars.
jars=/usr/share/java
classpath="$jars/curator-client.jar:$jars/curator-framework.jar:$jars/curator-recipes.jar:$jars/zookeeper.jar:$jars/zookeeper-jute.jar:$jars/guava.jar:$jars/slf4j-api.jar"
if ! command -v javac >/dev/null || [ ! -f "$jars/curator-recipes.jar" ]; then
  echo "FAIL Curator: javac or $jars/curator-recipes.jar missing (apt-get install default-jdk-headless libcurator-recipes-java)"
  status=1
elif ! javac -d "$work/curator" -cp "$classpath" "$here/CuratorCheck.java"; then
  echo "FAIL Curator: CuratorCheck.java does not compile"
  status=1
else
  timeout 300 java -cp "$work/curator:$classpath" CuratorCheck "$hosts" 2>&1 | grep -v '^SLF4J' || status=1
fi

# zkCli.sh from Debian's zookeeper (the Java client), one scripted session; the same lines must
# appear for Synod and for ZooKeeper (times, zxids and session ids differ and are not checked).
zkcli=/usr/share/zookeeper/bin/zkCli.sh
if [ ! -x "$zkcli" ]; then
  echo "FAIL zkCli.sh: $zkcli missing (apt-get install zookeeper)"
  status=1
else
  transcript=$(printf '%s\n' "create /zkcli hello" "get /zkcli" "set /zkcli world" "get -s /zkcli" "create -s -e /zkcli/e- x" \
    "ls /zkcli" "ls /" "delete /zkcli/missing" "create /zkcli dup" "deleteall /zkcli" "stat /zkcli" quit |
    timeout 120 "$zkcli" -waitforconnection -server "${hosts%%,*}" 2>&1 || true)
  zkcli_passed=0
  for expected in "Created /zkcli" "hello" "dataVersion = 1" "dataLength = 5" "Created /zkcli/e-0000000000" "[e-0000000000]" \
    "zookeeper" "Node does not exist: /zkcli/missing" "Node already exists: /zkcli" "Node does not exist: /zkcli"; do
    if grep -qF -- "$expected" <<<"$transcript"; then
      zkcli_passed=$((zkcli_passed + 1))
    else
      echo "FAIL zkCli.sh: expected '$expected' in the transcript"
      status=1
    fi
  done
  echo "zkCli.sh: $zkcli_passed lines as expected"
fi
# Four-letter words, as monitoring and `zkServer.sh status` read them.
four_letter() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf '%s' "$2" >&3 && timeout 2 cat <&3) 2>/dev/null || true; }
modes=""
for port in "${ports[@]}"; do modes+=" $(four_letter "$port" srvr | sed -n 's/^Mode: //p')"; done
if [ "$(tr ' ' '\n' <<<"$modes" | grep -c '^leader$')" -eq 1 ] && [ "$(tr ' ' '\n' <<<"$modes" | grep -c '^follower$')" -eq 2 ]; then
  echo "PASS srvr: one leader and two followers (Mode lines:$modes)"
else
  echo "FAIL srvr: Mode lines:$modes"
  status=1
fi
if four_letter "${ports[0]}" mntr | grep -q '^zk_znode_count'; then echo "PASS mntr: zk_znode_count"; else echo "FAIL mntr"; status=1; fi
exit "$status"
