#!/usr/bin/env bash
# Watch guarantees under chaos: the checkers' unit tests, one clean run of watch_chaos.py (every
# checker must pass), then one shorter run per deliberately broken watch of Synod
# (SYNOD_WATCH_FAULT), each of which its checker must catch. Exits non-zero if the unit tests or
# the clean run fail, or if any broken variant goes undetected. About 2.5 minutes on 2 cores.
#
# Usage: Tests/compat/watch/run.sh [SERVER_BINARY]   (default .build/release/synod)
#   With etcd (/usr/bin/etcd) only the clean run happens, with --allow-known-etcd-3.4-bugs: etcd
#   has no fault switch, and 3.4.23 has a known progress-notification bug (see ../README.md).
# Environment:
#   WATCH_SEED             seed of every run (default: random, printed; replays the runs' plans)
#   WATCH_CLEAN_SECONDS    length of the clean run (default 40)
#   WATCH_FAULT_SECONDS    length of each broken run (default 10)
#   WATCH_CHAOS_BASE_PORT  member i listens on BASE+10*i and BASE+10*i+1 (default 14379)
set -u
watch_dir=$(cd "$(dirname "$0")" && pwd)
repository_root=$(cd "$watch_dir/../../.." && pwd)
server_binary=${1:-$repository_root/.build/release/synod}
seed=${WATCH_SEED:-$(((RANDOM << 15) | RANDOM))}
clean_seconds=${WATCH_CLEAN_SECONDS:-40}
fault_seconds=${WATCH_FAULT_SECONDS:-10}
# A run's own watchdog stops it at its duration + 240 s; this bound only guards against a hung python.
run_timeout_seconds=$((clean_seconds + 300))

# Each fault and the checker(s) that must report it; "early" (a future watch starting at once)
# shows below the start revision, and as events outside the chain when such a watch is resumed.
faults=(reorder:ordered duplicate:unique split:atomic drop:reliable early:start-revision,resumable
  progress-ahead:bookmarkable)

if [ ! -x "$server_binary" ]; then
  echo "FAIL setup: server binary $server_binary is missing or not executable"
  echo "watch suite: 0 passed, 1 failed"
  exit 2
fi
server_is_etcd=0
"$server_binary" --version 2>/dev/null | grep -q '^etcd Version' && server_is_etcd=1

echo "watch suite: seed $seed (replay with WATCH_SEED=$seed), server $server_binary"
passed=() failed=()
record() { # record NAME STATUS
  if [ "$2" -eq 0 ]; then passed+=("$1"); else failed+=("$1 (status $2)"); fi
}

echo "=== checker unit tests"
timeout 120 python3 "$watch_dir/test_watch_checkers.py" 2>&1 | tail -3
record "checker unit tests" "${PIPESTATUS[0]}"

echo "=== clean run, $clean_seconds s"
clean_options=()
[ "$server_is_etcd" = 1 ] && clean_options+=(--allow-known-etcd-3.4-bugs)
timeout "$run_timeout_seconds" python3 "$watch_dir/watch_chaos.py" "$server_binary" --seed "$seed" \
  --duration "$clean_seconds" "${clean_options[@]}"
record "clean run" $?

if [ "$server_is_etcd" = 1 ]; then
  echo "=== broken variants skipped: etcd has no SYNOD_WATCH_FAULT"
else
  for entry in "${faults[@]}"; do
    fault=${entry%%:*} expected=${entry#*:}
    echo "=== broken variant $fault, $fault_seconds s: must fail $expected"
    timeout "$run_timeout_seconds" python3 "$watch_dir/watch_chaos.py" "$server_binary" --seed "$seed" \
      --duration "$fault_seconds" --fault "$fault" --expect-fail "$expected"
    record "fault $fault caught by $expected" $?
  done
fi

echo
echo "=== summary (seed $seed)"
for name in "${passed[@]}"; do echo "PASS $name"; done
for name in "${failed[@]}"; do echo "FAIL $name"; done
echo "watch suite: ${#passed[@]} passed, ${#failed[@]} failed"
[ "${#failed[@]}" -eq 0 ]
