#!/usr/bin/env bash
# Membership and maintenance as an operator drives them with etcdctl 3.4, against Synod or etcd:
#
#   Tests/compat/faults/membership.sh [SERVER_BINARY]     (default .build/release/synod)
#
# A 3-member cluster. `member add --learner` of a fourth, which starts with
# --initial-cluster-state existing and catches up; promoting it before it runs is refused with
# etcd's "can only promote a learner member which is in sync with leader"; once it runs, promote
# succeeds. `endpoint hashkv` agrees on all four. `member update` changes a peer URL. Removing two
# members while one is down is refused ("not enough started members"). `move-leader` hands
# leadership to another member. Then every founding member is replaced, one at a time, while a
# writer keeps writing: each write it saw acknowledged must be readable at the end.
#
# Env: MEMBERSHIP_BASE_PORT (default 12379). Every command runs under `timeout`; every process is
# killed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
server=${1:-$root/.build/release/synod}
base_port=${MEMBERSHIP_BASE_PORT:-12379}
# shellcheck source=../lib.sh
source "$here/../lib.sh"

if [ ! -x "$server" ]; then
  echo "FAIL setup: server binary $server is missing"
  exit 2
fi
if ! server_command_for "$server"; then
  echo "FAIL setup: $server is neither synod nor etcd"
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/synod-membership.XXXXXX")
export COMPAT_WORK_DIR=$work
declare -A pid_of
writer_pid=""
history_pids=()
cleanup() {
  [ -n "$writer_pid" ] && kill -KILL "$writer_pid" 2>/dev/null
  for name in "${!pid_of[@]}"; do kill -KILL "${pid_of[$name]}" 2>/dev/null; done
  for pid in "${history_pids[@]}"; do kill -KILL "$pid" 2>/dev/null; done
  wait 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
token="membership-$$"

client_port() { echo $((base_port + 10 * $1)); }
peer_url() { echo "http://127.0.0.1:$(($(client_port "$1") + 1))"; }
endpoint() { echo "127.0.0.1:$(client_port "$1")"; }

# start_member INDEX STATE INITIAL_CLUSTER: member mINDEX, new or existing.
start_member() {
  local index=$1 state=$2 initial=$3 port
  port=$(client_port "$index")
  "${server_command[@]}" --name "m$index" --data-dir "$work/m$index" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "$(peer_url "$index")" --initial-advertise-peer-urls "$(peer_url "$index")" \
    --initial-cluster "$initial" --initial-cluster-token "$token" --initial-cluster-state "$state" \
    --heartbeat-interval 50 --election-timeout 500 --snapshot-count 200 \
    >>"$work/m$index.log" 2>&1 </dev/null &
  pid_of[m$index]=$!
}

stop_member() {
  kill -KILL "${pid_of[m$1]}" 2>/dev/null
  wait "${pid_of[m$1]}" 2>/dev/null
  unset "pid_of[m$1]"
}

# member_id INDEX: the id `member list` shows for mINDEX's peer URL (hex), via any live member.
member_id() {
  ctl_at "$(live_endpoints)" member list -w json | json_query \
    "[format(m['ID'], 'x') for m in d['members'] if '$(peer_url "$1")' in m.get('peerURLs', [])][0]"
}

live=(1 2 3)
live_endpoints() {
  local list="" index
  for index in "${live[@]}"; do list+="${list:+,}$(endpoint "$index")"; done
  echo "$list"
}

leader_index() {
  local index status
  for index in "${live[@]}"; do
    status=$(ctl_at "$(endpoint "$index")" endpoint status -w json 2>/dev/null) || continue
    if [ "$(json_query 'd[0]["Status"]["leader"] == d[0]["Status"]["header"]["member_id"]' <<<"$status")" == "True" ]; then
      echo "$index"
      return 0
    fi
  done
  return 1
}

hashes_agree() {
  local revision=$1 hashes
  hashes=$(ctl_at "$(live_endpoints)" endpoint hashkv --rev "$revision" -w json | json_query 'sorted(set(e["HashKV"]["hash"] for e in d))')
  [ "$(json_query 'len(d)' <<<"$hashes")" == "1" ]
}

initial="m1=$(peer_url 1),m2=$(peer_url 2),m3=$(peer_url 3)"
for index in 1 2 3; do start_member "$index" new "$initial"; done
if wait_until "three members healthy" 30 ctl_at "$(live_endpoints)" endpoint health; then pass "a 3-member cluster starts"; else
  fail "a 3-member cluster starts" "$(for index in 1 2 3; do echo "m$index:"; tail -5 "$work/m$index.log"; done)"
  finish_suite membership
  exit 1
fi
for i in $(seq 1 300); do ctl_at "$(endpoint 1)" put "seed/$i" "v$i" >/dev/null || break; done

# A learner joins.
capture ctl_at "$(endpoint 1)" member add m4 --learner --peer-urls "$(peer_url 4)"
if [ "$check_status" -eq 0 ] && [[ "$check_stdout" == *'Member '*' added to cluster '* ]]; then pass "member add --learner"; else fail "member add --learner" "$check_stdout" "$check_stderr"; fi
learner_id=$(member_id 4)
expect_error "promoting a learner that has not started is refused" 1 \
  "Error: etcdserver: can only promote a learner member which is in sync with leader" \
  ctl_at "$(endpoint 2)" member promote "$learner_id"
start_member 4 existing "$initial,m4=$(peer_url 4)"
live=(1 2 3 4)
if wait_until "the learner holds seed/300" 30 bash -c "[ \"\$($ETCDCTL_BIN --endpoints=$(endpoint 4) --dial-timeout=2s get seed/300 --print-value-only --consistency=s 2>/dev/null)\" == v300 ]"; then
  pass "the learner catches up (serializable read on it sees the last write)"
else
  fail "the learner catches up" "$(tail -5 "$work/m4.log")"
fi
expect_equal "member list shows m4 as a learner" "True" \
  "$(ctl_at "$(endpoint 3)" member list -w json | json_query "[m.get('isLearner', False) for m in d['members'] if m['ID'] == int('$learner_id', 16)][0]")"
if wait_until "promote m4" 20 ctl_at "$(endpoint 2)" member promote "$learner_id"; then pass "member promote of a caught-up learner (sent to a follower or the leader)"; else fail "member promote" "$(ctl_at "$(endpoint 2)" member promote "$learner_id" 2>&1)"; fi
expect_equal "member list shows four voters" "4 0" \
  "$(ctl_at "$(endpoint 4)" member list -w json | json_query "'%d %d' % (len(d['members']), sum(1 for m in d['members'] if m.get('isLearner')))")"
ctl_at "$(endpoint 1)" put after-promote yes >/dev/null
revision=$(current_revision "$(endpoint 1)")
if wait_until "hashes agree" 15 hashes_agree "$revision"; then pass "endpoint hashkv agrees on every member at revision $revision"; else
  fail "endpoint hashkv agrees" "$(ctl_at "$(live_endpoints)" endpoint hashkv --rev "$revision" 2>&1)"
fi
capture ctl_at "$(live_endpoints)" endpoint status -w json
expect_equal "endpoint status: every member reports isLearner false, the same raft term and a leader" "4 False 1 1" \
  "$(json_query "'%d %s %d %d' % (len(d), any(e['Status'].get('isLearner', False) for e in d), len(set(e['Status']['raftTerm'] for e in d)), len(set(e['Status']['leader'] for e in d)))" <<<"$check_stdout")"

# Refusals. etcd checks that every voter has been connected for 5 seconds before anything else
# about a new member, so the new voter m4 gets that long first.
sleep 6
expect_error "adding a member whose peer URL is taken is refused" 1 "Error: etcdserver: Peer URLs already exists" \
  ctl_at "$(endpoint 1)" member add dup --peer-urls "$(peer_url 2)"
expect_error "removing an unknown member is refused" 1 "Error: etcdserver: member not found" \
  ctl_at "$(endpoint 1)" member remove 1234
expect_error "promoting a voter is refused" 1 "Error: etcdserver: can only promote a learner member" \
  ctl_at "$(endpoint 1)" member promote "$(member_id 2)"

# member update: the peer URL changes everywhere, then back (m4 listens on the original only).
m4_id=$(member_id 4)
moved_url="http://127.0.0.1:$(($(client_port 4) + 5))"
capture ctl_at "$(endpoint 1)" member update "$m4_id" --peer-urls="$moved_url"
peer_urls_of_m4() { ctl_at "$(endpoint 2)" member list -w json | json_query "[m['peerURLs'] for m in d['members'] if m['ID'] == int('$m4_id', 16)][0]"; }
# A member lists what it has applied, so m2 may see the change a moment later.
m4_listed_at() { [ "$(peer_urls_of_m4)" == "[\"$1\"]" ]; }
if [ "$check_status" -eq 0 ] && [[ "$check_stdout" == *"updated in cluster"* ]] && wait_until "m2 lists the moved URL" 10 m4_listed_at "$moved_url"; then
  pass "member update changes a member's peer URL, as every member lists it"
else
  fail "member update changes a member's peer URL" "$check_stdout" "$check_stderr" "$(peer_urls_of_m4)"
fi
ctl_at "$(endpoint 1)" member update "$m4_id" --peer-urls="$(peer_url 4)" >/dev/null
if wait_until "m2 lists the original URL" 10 m4_listed_at "$(peer_url 4)"; then pass "member update back to the original peer URL"; else
  fail "member update back to the original peer URL" "$(peer_urls_of_m4)"
fi

# move-leader.
leader=$(leader_index)
target=$(( leader % 4 + 1 ))
capture ctl_at "$(endpoint "$leader")" move-leader "$(member_id "$target")"
if [ "$check_status" -eq 0 ] && [ "$(leader_index)" == "$target" ]; then pass "move-leader hands leadership to m$target"; else fail "move-leader" "$check_stdout" "$check_stderr" "leader now: $(leader_index)"; fi
# etcdctl itself looks for the leader among the endpoints it is given, on etcd as on Synod.
expect_error "move-leader given only a follower is refused" 128 "Error: no leader endpoint given at [$(endpoint $(( target % 4 + 1 )))]" \
  ctl_at "$(endpoint $(( target % 4 + 1 )))" move-leader "$(member_id "$target")"

# Strict reconfiguration (etcd's default): with m3 down, removing m2 from four voters leaves
# m1, m3, m4, of which two answer, a quorum; then, with m2 gone too, removing m4 would leave m1
# alone answering of m1, m3: refused, as etcd refuses it ("unhealthy cluster").
stop_member 3
live=(1 2 4)
sleep 1.5
m2_id=$(member_id 2)
for attempt in $(seq 1 15); do
  capture ctl_at "$(live_endpoints)" member remove "$m2_id"
  # A retry after an attempt that timed out at the client but went through finds the ID removed.
  [ "$check_status" -eq 0 ] || [[ "$check_stderr" == *"ID removed"* ]] && break
  sleep 1
done
if [ "$check_status" -eq 0 ] || [[ "$check_stderr" == *"ID removed"* ]]; then pass "removing a member that leaves a quorum answering succeeds"; else fail "removing m2 with m3 down" "$check_stdout" "$check_stderr"; fi
stop_member 2
live=(1 4)
# Let the cluster settle on a leader without m2 first: this checks the strict reconfiguration
# refusal, not a request sent to a leader that just died.
sleep 2
expect_error "removing a member that would leave too few answering is refused" 1 \
  "Error: etcdserver: unhealthy cluster" \
  ctl_at "$(live_endpoints)" member remove "$(member_id 4)"
start_member 3 new "$initial"
live=(1 3 4)
wait_until "m3 back" 20 ctl_at "$(endpoint 3)" endpoint health >/dev/null
# etcd adds a voter only once it has been connected to every voter for 5 seconds.
sleep 6

# Replace every founding member under write load. A writer puts load/N with increasing N and logs
# each acknowledged key; at the end every logged key must be readable.
writer() {
  local n=0
  while [ "$n" -lt 100000 ]; do
    n=$((n + 1))
    if timeout 5 "$ETCDCTL_BIN" --endpoints="$(cat "$work/endpoints")" --dial-timeout=1s --command-timeout=3s put "load/$n" "$n" >/dev/null 2>&1; then
      echo "$n" >>"$work/acked"
    fi
  done
}
live_endpoints >"$work/endpoints"
writer &
writer_pid=$!
# Besides the writer, clients recording a history of puts and linearizable gets on shared keys,
# checked for linearizability at the end (Synod only: the checker is `synod check-history`).
history_pids=()
if [ "$server_kind" == synod ]; then
  for client in 1 2 3; do
    python3 "$here/history_worker.py" "$work/endpoints" "$work/history.jsonl" "$client" 120 2>>"$work/history-workers.log" &
    history_pids+=($!)
  done
fi
next=5
replaced_ok=1
for old in 1 3 4; do
  new=$next
  next=$((next + 1))
  # Retried: etcd refuses a voter until every voter has been connected for 5 seconds.
  for attempt in $(seq 1 30); do
    capture ctl_at "$(live_endpoints)" member add "m$new" --peer-urls "$(peer_url "$new")"
    [ "$check_status" -eq 0 ] && break
    sleep 1
  done
  if [ "$check_status" -ne 0 ]; then replaced_ok=0; fail "member add m$new" "$check_stdout" "$check_stderr"; break; fi
  cluster_line=$(grep '^ETCD_INITIAL_CLUSTER=' <<<"$check_stdout" | sed 's/^ETCD_INITIAL_CLUSTER="\(.*\)"$/\1/')
  start_member "$new" existing "$cluster_line"
  live+=("$new")
  live_endpoints >"$work/endpoints"
  wait_until "m$new serves" 60 ctl_at "$(endpoint "$new")" get load/1 --consistency=s >/dev/null
  old_id=$(member_id "$old")
  # A remove whose reply is lost (etcd drops it when the member removed is the leader, and the
  # command times out) may still have committed: a member no longer listed counts as removed.
  removed() {
    ctl_at "$(live_endpoints)" member remove "$1" 2>&1 | grep -q -E "Member .* removed|ID removed" && return 0
    local members
    members=$(ctl_at "$(live_endpoints)" member list -w json) || return 1
    [ "$(json_query "any(format(m['ID'], 'x') == '$1' for m in d['members'])" <<<"$members")" == "False" ]
  }
  if ! wait_until "remove m$old" 60 removed "$old_id"; then
    replaced_ok=0
    fail "member remove m$old" "$(ctl_at "$(live_endpoints)" member remove "$old_id" 2>&1)"
    break
  fi
  stop_member "$old"
  remaining=()
  for index in "${live[@]}"; do [ "$index" != "$old" ] && remaining+=("$index"); done
  live=("${remaining[@]}")
  live_endpoints >"$work/endpoints"
  sleep 1
done
kill -KILL "$writer_pid" 2>/dev/null
wait "$writer_pid" 2>/dev/null
writer_pid=""
for pid in "${history_pids[@]}"; do kill -TERM "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
if [ "$server_kind" == synod ]; then
  capture timeout 300 "${server_command[0]}" check-history "$work/history.jsonl"
  operations=$(wc -l <"$work/history.jsonl" 2>/dev/null || echo 0)
  if [ "$check_status" -eq 0 ] && [ "$operations" -gt 100 ]; then
    pass "the clients' history across the replacements is linearizable ($check_stdout)"
  else
    fail "the clients' history across the replacements is linearizable" "exit $check_status, $operations lines" "$check_stdout" "$check_stderr"
  fi
  # The checker is shown to catch a history no cluster may produce: a read, after a completed
  # put, of a value nobody wrote.
  printf '%s\n' '{"client":1,"op":"put","key":"k0","value":"a","invoke":1,"complete":2}' \
    '{"client":2,"op":"get","key":"k0","value":"b","invoke":3,"complete":4}' >"$work/broken.jsonl"
  capture timeout 60 "${server_command[0]}" check-history "$work/broken.jsonl"
  if [ "$check_status" -eq 1 ] && [[ "$check_stdout" == *notLinearizable* ]]; then pass "check-history catches a history that is not linearizable"; else
    fail "check-history catches a history that is not linearizable" "exit $check_status" "$check_stdout" "$check_stderr"
  fi
fi
[ "$replaced_ok" -eq 1 ] && pass "every founding member replaced, one at a time, under write load (members now: ${live[*]})"
acked=$(wc -l <"$work/acked" 2>/dev/null || echo 0)
missing=0
while read -r n; do
  [ "$(ctl_at "$(live_endpoints)" get "load/$n" --print-value-only 2>/dev/null)" == "$n" ] || missing=$((missing + 1))
done <"$work/acked"
if [ "$acked" -gt 20 ] && [ "$missing" -eq 0 ]; then pass "no acknowledged write lost ($acked acknowledged)"; else fail "no acknowledged write lost" "$acked acknowledged, $missing missing"; fi
expect_output "the original data survives the replacements" "v300" ctl_at "$(live_endpoints)" get seed/300 --print-value-only

finish_suite membership
