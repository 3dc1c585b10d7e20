# Helpers for the ZooKeeper suite and benchmark: ruok, and a real ZooKeeper 3.8 ensemble of three
# servers (Debian's jars) on loopback. Source it; it uses and appends to the caller's `pids`.

# A temporary work directory in `work`, and an empty `pids`; on exit, every process in `pids` is
# stopped and the directory removed. For scripts with nothing else to clean up.
use_work_dir() {
  work="$(mktemp -d)"
  pids=()
  trap 'stop_pids; rm -rf "$work"' EXIT
}
# Stops every process in `pids` (TERM, then waits for each).
stop_pids() {
  local pid
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
# ruok on a port, the answer or nothing.
ruok() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf ruok >&3 && timeout 2 cat <&3) 2>/dev/null || true; }
# Waits, bounded, until every server of the list answers ruok.
wait_ruok() {
  local attempt port up
  for attempt in $(seq 1 300); do
    up=0
    for port in "$@"; do [ "$(ruok "$port")" = imok ] && up=$((up + 1)); done
    [ "$up" -eq "$#" ] && return 0
    sleep 0.2
  done
  echo "FAIL setup: not every server answered ruok within 60 s" >&2
  return 1
}
# Starts server INDEX (1, 2 or 3) of the three-server ensemble whose client ports are $2, $2+10,
# $2+20, with its data under $1/zkINDEX and its log appended to $1/zkINDEX.log; its pid goes to
# `zookeeper_server_pid` and to `pids`. Run again on the same directory, it restarts that server on
# the data it left (a killed server rejoining). ZOOKEEPER_TICK_TIME_MS (default 2000, ZooKeeper's
# own) sets tickTime, which scales session timeouts and how soon a silent leader is given up.
start_zookeeper_server() {
  local work=$1 base=$2 i=$3 j
  local ports=("$base" "$((base + 10))" "$((base + 20))")
  local jars=/usr/share/java dir="$1/zk$3"
  [ -f "$jars/zookeeper.jar" ] || { echo "FAIL setup: $jars/zookeeper.jar missing (apt-get install zookeeper)" >&2; exit 1; }
  mkdir -p "$dir/data"
  echo "$i" >"$dir/data/myid"
  {
    printf 'tickTime=%s\ninitLimit=10\nsyncLimit=5\ndataDir=%s/data\nclientPort=%s\n' "${ZOOKEEPER_TICK_TIME_MS:-2000}" "$dir" "${ports[$((i - 1))]}"
    printf 'clientPortAddress=127.0.0.1\nmaxClientCnxns=0\nadmin.enableServer=false\n4lw.commands.whitelist=*\n'
    for j in 1 2 3; do echo "server.$j=127.0.0.1:$((ports[j - 1] + 1)):$((ports[j - 1] + 2))"; done
  } >"$dir/zoo.cfg"
  printf 'log4j.rootLogger=WARN, CONSOLE\nlog4j.appender.CONSOLE=org.apache.log4j.ConsoleAppender\nlog4j.appender.CONSOLE.layout=org.apache.log4j.PatternLayout\n' >"$dir/log4j.properties"
  # ZOOKEEPER_JVM_FLAGS: the suites' small heap by default; the benchmarks pass zkServer.sh's own
  # default heap (-Xmx1000m) and the JVM's default collector, so ZooKeeper runs as shipped.
  # shellcheck disable=SC2086
  (cd "$dir" && exec java ${ZOOKEEPER_JVM_FLAGS:--Xmx256m -XX:+UseSerialGC} -cp "$dir:$jars/zookeeper.jar:$jars/slf4j-log4j12.jar:$jars/log4j-1.2.jar" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >>"$work/zk$i.log" 2>&1 </dev/null) &
  zookeeper_server_pid=$!
  pids+=("$zookeeper_server_pid")
}
# Starts three ZooKeeper servers with client ports $2, $2+10, $2+20 and data under $1.
start_zookeeper_ensemble() {
  local work=$1 base=$2 i
  for i in 1 2 3; do start_zookeeper_server "$work" "$base" "$i"; done
  wait_ruok "$base" "$((base + 10))" "$((base + 20))"
}
