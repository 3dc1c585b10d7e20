#!/usr/bin/env bash
# A Jepsen-style register test over kazoo while members are killed and paused, against a 3-member
# Synod cluster or, given "zookeeper", a real 3-server ZooKeeper 3.8 ensemble, with the same
# verdicts expected of both but one (below).
#
#   Tests/compat/zookeeper/register.sh SYNOD_BINARY | zookeeper
#
# Clients (register_worker.py) read (sync + get), write (set) and compare-and-set (get, then set with
# the version read) four registers /reg/k0../reg/k3 holding unique values, and create sequential
# nodes under /seq, each on a member of its own and moving to another when a connection drops.
# Meanwhile a nemesis, every few seconds, either kills a member (SIGKILL), then restarts it with the
# identical command line on the same data, or pauses it (SIGSTOP), then resumes it (SIGCONT); never
# more than one member at a time, half the time the leader, and the next fault only once the member
# is back in the quorum (`srvr` says leader or follower). After the faults the clients go on for a
# while on the healed cluster, then every member reads every register. Verdicts: `synod
# check-history` finds the writes (set, set with a version) linearizable, and the whole history,
# sync + get reads included, too; sequential names are unique and follow real time; acknowledged
# persistent nodes survive; every register is written again once healed (progress); every member is
# alive and answers at the end.
#
# ZooKeeper 3.8 does not make sync + get linearizable, and this test catches it now and then, so on
# ZooKeeper that one verdict is printed as a NOTE, not a failure (REGISTER_STRICT_READS=1 makes it
# one). On the leader, sync is answered at once, without waiting until the leader has applied what
# it committed, so a session on the leader can miss a write that a follower has acknowledged
# already (measured here with no fault at all: 17 of 3000 sync + get on the leader, each right after
# a set acknowledged by a follower, read the previous value). And sync is not a quorum operation
# (ZOOKEEPER-1675): a deposed leader resuming from a pause answers sync at once and serves what it
# held. Synod must pass both verdicts.
#
# Env: REGISTER_SEED (default 1) drives the nemesis schedule and the clients' choices, and every
# failure prints it; REGISTER_FAULT_SECONDS (60) how long faults go on; REGISTER_HEAL_SECONDS (10)
# how long the clients go on after; REGISTER_CLIENTS (5); REGISTER_CAS=0 leaves out compare-and-set
# (for a `synod check-history` that does not know "cas" yet); SYNOD_BIN the synod whose
# check-history judges (default .build/release/synod; the target itself when it is synod);
# REGISTER_ZK_TICK_MS ZooKeeper's tickTime (2000; see below); REGISTER_STRICT_READS (1 for Synod, 0
# for ZooKeeper) whether a non-linearizable read fails the run; REGISTER_ENGINE the consensus
# engine Synod's members run (raft; `synod engines` lists them); REGISTER_KEEP=1 keeps the work
# directory (member logs, histories, and nemesis.log, each fault at its time on the histories'
# clock). Ports: REGISTER_BASE_PORT, +10, +20 on loopback (default 27181 for Synod, whose etcd
# ports are 100 above, and 28181 for ZooKeeper, whose quorum ports are 1 and 2 above); the run
# fails at once if any of them is taken. REGISTER_TIMEOUT_SECONDS (300) bounds the whole run.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
target=${1:?usage: register.sh SYNOD_BINARY | zookeeper}
if [ -z "${REGISTER_UNDER_TIMEOUT:-}" ]; then
  REGISTER_UNDER_TIMEOUT=1 exec timeout -k 15 "${REGISTER_TIMEOUT_SECONDS:-300}" "$0" "$@"
fi
seed=${REGISTER_SEED:-1}
fault_seconds=${REGISTER_FAULT_SECONDS:-60}
heal_seconds=${REGISTER_HEAL_SECONDS:-10}
client_count=${REGISTER_CLIENTS:-5}
cas_enabled=${REGISTER_CAS:-1}
# Bounds of the nemesis: faults at most, a member's time to rejoin, and the ranges (ms) of the
# healthy gap before a fault, of a killed member's time down and of a pause.
faults_max=100
rejoin_seconds_max=60
gap_ms_min=1000 gap_ms_spread=3000
down_ms_min=1000 down_ms_spread=2000
pause_ms_min=1000 pause_ms_spread=4000
# The clients' time bound: they are stopped (SIGTERM) well before it.
client_seconds_max=$((fault_seconds + heal_seconds + rejoin_seconds_max * 2 + 60))

engine=""
work=$(mktemp -d "${TMPDIR:-/tmp}/synod-register.XXXXXX")
pids=()
member_pids=("" "" "")
client_pids=()
passed=0 failed=0
cleanup() {
  local pid
  # Bash would report each member it kills here as "Killed" on stderr.
  exec 2>/dev/null
  # A stopped member would never act on TERM, and a stopped process is still killed by KILL.
  for pid in "${member_pids[@]}" "${pids[@]}"; do [ -n "$pid" ] && kill -CONT "$pid" 2>/dev/null; done
  for pid in "${client_pids[@]}" "${member_pids[@]}" "${pids[@]}"; do [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  if [ "${REGISTER_KEEP:-0}" = 1 ]; then echo "work directory kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 143' TERM INT

pass() { echo "PASS $1"; passed=$((passed + 1)); }
fail() {
  local name=$1 detail
  shift
  echo "FAIL $name (target $target_name, REGISTER_SEED=$seed)"
  for detail in "$@"; do sed 's/^/    /' <<<"$detail"; done
  failed=$((failed + 1))
}
finish() {
  echo "register ($target_name, seed $seed): $passed passed, $failed failed"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
  exit $?
}
monotonic_ns() { python3 -c 'import time; print(time.monotonic_ns())'; }
# One line of nemesis.log: the time on the clients' clock, then what happened.
note_fault() { echo "$(monotonic_ns) $*" >>"$work/nemesis.log"; }
# Echoes a Python check's output, counting its PASS and FAIL lines (each FAIL gets the seed).
relay_checks() {
  local line
  while IFS= read -r line; do
    case "$line" in
      PASS*) echo "$line"; passed=$((passed + 1)) ;;
      FAIL*) echo "$line (target $target_name, REGISTER_SEED=$seed)"; failed=$((failed + 1)) ;;
      *) echo "$line" ;;
    esac
  done <<<"$1"
}
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# `srvr`'s Mode line for a port: leader or follower once the member is in a quorum.
member_mode() { (exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && timeout 2 cat <&3) 2>/dev/null | sed -n 's/^Mode: //p'; }
in_quorum() { case "$(member_mode "${ports[$1]}")" in leader | follower) return 0 ;; *) return 1 ;; esac; }
# Waits, bounded, until member INDEX is back in a quorum; gives up at once if its process ended
# (then whatever answers on its port is not it).
wait_rejoined() {
  local attempt
  for attempt in $(seq 1 $((rejoin_seconds_max * 5))); do
    kill -0 "${member_pids[$1]}" 2>/dev/null || return 1
    in_quorum "$1" && return 0
    sleep 0.2
  done
  return 1
}
# Fails the run when something already listens on one of the ports: the clients would talk to it.
require_free_ports() {
  local port
  for port in "$@"; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "setup: port $port is free (another process listens on it; REGISTER_BASE_PORT moves the test)"
      finish
    fi
  done
}
member_logs() {
  local index
  for index in 0 1 2; do echo "member $index (last lines of its log):"; tail -n 15 "$(member_log "$index")" 2>/dev/null; done
}

# The binary that judges the history: a copy, so that a rebuild during the run changes nothing
# (for a Synod target, the members run that same copy, and a restarted member runs what it ran).
if [ "$target" = zookeeper ]; then
  target_name=zookeeper
  checker_source=${SYNOD_BIN:-$root/.build/release/synod}
  strict_reads=${REGISTER_STRICT_READS:-0}
else
  target_name=synod
  checker_source=$target
  engine=${REGISTER_ENGINE:-raft}
  strict_reads=${REGISTER_STRICT_READS:-1}
fi
for attempt in $(seq 1 60); do [ -x "$checker_source" ] && break; sleep 1; done
if ! cp "$checker_source" "$work/synod" 2>/dev/null; then
  fail "setup: $checker_source is missing or not executable"
  finish
fi
checker=$work/synod
printf '%s\n' '{"client":1,"op":"put","key":"k","value":"a","invoke":1,"complete":2}' \
  '{"client":2,"op":"cas","key":"k","value":"b","expected":"a","ok":true,"invoke":3,"complete":4}' >"$work/probe.jsonl"
if [ "$cas_enabled" != 0 ] && ! timeout 30 "$checker" check-history "$work/probe.jsonl" >/dev/null 2>&1; then
  fail "setup: $checker_source check-history does not accept op \"cas\" (rebuild it, or run with REGISTER_CAS=0)"
  finish
fi

if [ "$target" = zookeeper ]; then
  base=${REGISTER_BASE_PORT:-28181}
  # shellcheck source=Tests/compat/zookeeper/lib-ensemble.sh
  . "$here/lib-ensemble.sh"
  # ZooKeeper's default tick, 2000 ms: a follower gives its leader up after syncLimit (5 ticks,
  # 10 s), longer than any pause here, so a paused ZooKeeper leader stays the leader, while a
  # paused Synod leader is replaced after its election timeout (1 s). REGISTER_ZK_TICK_MS=500 gets
  # ZooKeeper's leader replaced too (syncLimit 2.5 s), and a session reconnecting to the old leader
  # as it resumes then reads, after sync, the value it held before the pause (ZOOKEEPER-1675).
  export ZOOKEEPER_TICK_TIME_MS=${REGISTER_ZK_TICK_MS:-2000}
  member_log() { echo "$work/zk$(($1 + 1)).log"; }
  start_member() {
    start_zookeeper_server "$work" "$base" "$(($1 + 1))"
    member_pids[$1]=$zookeeper_server_pid
  }
else
  base=${REGISTER_BASE_PORT:-27181}
  cluster=""
  for index in 0 1 2; do cluster+="${cluster:+,}z$index=http://127.0.0.1:$((base + 100 + 10 * index + 1))"; done
  member_log() { echo "$work/z$1.log"; }
  start_member() {
    local client=$((base + 100 + 10 * $1))
    "$checker" serve --engine "$engine" --name "z$1" --data-dir "$work/z$1" --listen-client-urls "http://127.0.0.1:$client" \
      --advertise-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$((client + 1))" \
      --initial-advertise-peer-urls "http://127.0.0.1:$((client + 1))" --initial-cluster "$cluster" \
      --initial-cluster-token register --zk-listen-address "127.0.0.1:${ports[$1]}" --zk-4lw-whitelist '*' \
      --log-level warning >>"$work/z$1.log" 2>&1 </dev/null &
    member_pids[$1]=$!
  }
fi
ports=("$base" "$((base + 10))" "$((base + 20))")
# Client ports, ZooKeeper's quorum and election ports (1 and 2 above), Synod's etcd client and peer
# ports (100 and 101 above).
for port in "${ports[@]}"; do require_free_ports "$port" "$((port + 1))" "$((port + 2))" "$((port + 100))" "$((port + 101))"; done
hosts="127.0.0.1:${ports[0]},127.0.0.1:${ports[1]},127.0.0.1:${ports[2]}"
echo "register: target $target_name${engine:+ (engine $engine)}, hosts $hosts, REGISTER_SEED=$seed, ${fault_seconds}s of faults, ${heal_seconds}s healed, $client_count clients, cas $([ "$cas_enabled" != 0 ] && echo on || echo off)"

for index in 0 1 2; do start_member "$index"; done
for index in 0 1 2; do
  if ! wait_rejoined "$index"; then
    fail "setup: member $index joins a quorum within ${rejoin_seconds_max}s" "$(member_logs)"
    finish
  fi
done
if ! timeout 60 python3 "$here/register_worker.py" setup "$hosts" "$work/history-0.jsonl" >"$work/setup.log" 2>&1; then
  fail "setup: the registers are created" "$(tail -n 20 "$work/setup.log")"
  finish
fi

for client in $(seq 1 "$client_count"); do
  python3 "$here/register_worker.py" worker "$hosts" "$work" "$client" "$seed" "$client_seconds_max" "$cas_enabled" \
    >>"$work/client-$client.log" 2>&1 </dev/null &
  client_pids+=($!)
done
# The clients get going on a healthy cluster first.
sleep 3

# The nemesis: bash's RANDOM, seeded, draws the schedule.
RANDOM=$seed
kills=0 pauses=0
faults_end=$((SECONDS + fault_seconds))
while [ "$SECONDS" -lt "$faults_end" ] && [ $((kills + pauses)) -lt "$faults_max" ]; do
  sleep_ms $((gap_ms_min + RANDOM % gap_ms_spread))
  # Half the faults go to the leader (as `srvr` names it then), which forces an election.
  victim=$((RANDOM % 3))
  role=member
  if [ $((RANDOM % 2)) -eq 0 ]; then
    for index in 0 1 2; do [ "$(member_mode "${ports[$index]}")" = leader ] && victim=$index && role=leader; done
  fi
  if [ $((RANDOM % 2)) -eq 0 ]; then
    down_ms=$((down_ms_min + RANDOM % down_ms_spread))
    note_fault "kill $role $victim"
    kill -KILL "${member_pids[$victim]}" 2>/dev/null
    wait "${member_pids[$victim]}" 2>/dev/null
    sleep_ms "$down_ms"
    note_fault "restart $victim"
    start_member "$victim"
    kills=$((kills + 1))
    fault="kill $role $victim, restart after ${down_ms} ms"
  else
    pause_ms=$((pause_ms_min + RANDOM % pause_ms_spread))
    note_fault "pause $role $victim"
    kill -STOP "${member_pids[$victim]}" 2>/dev/null
    sleep_ms "$pause_ms"
    kill -CONT "${member_pids[$victim]}" 2>/dev/null
    note_fault "resume $victim"
    pauses=$((pauses + 1))
    fault="pause $role $victim for ${pause_ms} ms"
  fi
  started=$SECONDS
  if wait_rejoined "$victim"; then
    note_fault "rejoined $victim"
    echo "nemesis at ${SECONDS}s: $fault; back in $((SECONDS - started))s"
  else
    echo "nemesis at ${SECONDS}s: $fault; not back within ${rejoin_seconds_max}s"
    fail "member $victim rejoins a quorum after: $fault" "$(member_logs)"
    break
  fi
done
healed_at=$(monotonic_ns)
echo "nemesis done: $kills kills, $pauses pauses; clients go on for ${heal_seconds}s on the healed cluster"
sleep "$heal_seconds"
# A client that ended before it was told to had crashed.
for client in $(seq 1 "$client_count"); do
  kill -0 "${client_pids[$((client - 1))]}" 2>/dev/null ||
    fail "client $client runs until it is stopped" "$(tail -n 20 "$work/client-$client.log")"
done
for pid in "${client_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; done
# A client ends after the operation in hand, which a timeout bounds; past that it is killed.
for attempt in $(seq 1 100); do
  alive=0
  for pid in "${client_pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=$((alive + 1)); done
  [ "$alive" -eq 0 ] && break
  sleep 0.2
done
for pid in "${client_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done

dead=""
for index in 0 1 2; do kill -0 "${member_pids[$index]}" 2>/dev/null || dead+=" $index"; done
if [ -z "$dead" ]; then pass "every member is alive after the faults"; else fail "every member is alive after the faults (dead:$dead)" "$(member_logs)"; fi
output=$(timeout 120 python3 "$here/register_worker.py" final "$hosts" "$work/history-final.jsonl" 2>&1)
status=$?
relay_checks "$output"
[ "$status" -eq 0 ] || grep -q '^FAIL' <<<"$output" || fail "every member is read after the faults" "$output"
output=$(timeout 60 python3 "$here/register_worker.py" check "$work" "$healed_at" "$hosts" 2>&1)
status=$?
relay_checks "$output"
[ "$status" -eq 0 ] || grep -q '^FAIL' <<<"$output" || fail "the sequence and progress checks run" "$output"

# Two verdicts: the writes alone (set and set-with-version, which every ZooKeeper orders through
# its leader), then everything, sync + get reads included.
echo "faults: $kills kills, $pauses pauses"
cat "$work"/history-*.jsonl >"$work/history.jsonl"
grep -v '"op": "get"' "$work/history.jsonl" >"$work/writes.jsonl"
for scope in writes all; do
  if [ "$scope" = writes ]; then file=$work/writes.jsonl name="the writes (set, set with a version) are linearizable"; else
    file=$work/history.jsonl name="the whole history, sync + get reads included, is linearizable"
  fi
  verdict=$(timeout 150 "$checker" check-history "$file" 2>&1)
  verdict_status=$?
  echo "check-history ($scope): $verdict"
  if [ "$verdict_status" -eq 0 ]; then
    pass "$name"
  elif [ "$scope" = all ] && [ "$strict_reads" = 0 ] && [ "$verdict_status" -eq 1 ]; then
    echo "NOTE $name: not in this run, which ZooKeeper 3.8 allows (see the top of register.sh); REGISTER_STRICT_READS=1 makes it a failure"
  else
    case "$verdict_status" in
      1) fail "$name" "$verdict" "$(member_logs)" ;;
      2) fail "$name: undecided within the checker's budget" "$verdict" ;;
      *) fail "$name: check-history exit $verdict_status" "$verdict" ;;
    esac
  fi
done
if [ "$failed" -gt 0 ] && [ "${REGISTER_KEEP:-0}" != 1 ]; then
  mkdir -p "${TMPDIR:-/tmp}/synod-register-failures"
  kept=$(mktemp -d "${TMPDIR:-/tmp}/synod-register-failures/$target_name-seed$seed.XXXXXX")
  cp "$work"/*.jsonl "$work"/*.log "$kept"/ 2>/dev/null
  echo "histories and logs of the failed run: $kept"
fi
finish
