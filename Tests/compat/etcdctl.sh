#!/usr/bin/env bash
# etcdctl 3.4 against a running 3-node cluster: every check states the exact output etcd 3.4 gives.
#
# Usage: etcdctl.sh   (run.sh sets the environment below; set it yourself to aim at another cluster)
#   COMPAT_ENDPOINTS     comma-separated client URLs, one per member, in member order
#   COMPAT_MEMBER_NAMES  space-separated member names, same order
#   COMPAT_PEER_URLS     comma-separated peer URLs, same order
#   COMPAT_WORK_DIR      scratch directory
#
# The checks run in order against a cluster that nobody else writes to, so revisions are computed
# from the revision read at the start of each section. Compaction runs last because it removes the
# history that the --rev checks before it read.
# shellcheck disable=SC2016 # eval '...' strings are expanded by eval, on purpose
set -u
cd "$(dirname "$0")" || exit 2
# shellcheck source=lib.sh
source ./lib.sh

IFS=, read -r -a endpoints <<<"$COMPAT_ENDPOINTS"
IFS=, read -r -a peer_urls <<<"$COMPAT_PEER_URLS"
read -r -a member_names <<<"$COMPAT_MEMBER_NAMES"
first=${endpoints[0]}
member_count=${#endpoints[@]}

ctl() { ctl_at "$first" "$@"; }
ctl_with_input() {
  local input_file=$1
  shift
  ctl "$@" <"$input_file"
}

# Roles. Several checks aim at a particular role: a watch on a follower fed by writes through the
# leader, leases granted on one follower and revoked on the other, writes through a follower. The
# roles are read once here; should leadership move during the run, those checks still test the
# same behaviour, only not through the intended path.
status_json=$COMPAT_WORK_DIR/endpoint-status.json
ctl_at "$COMPAT_ENDPOINTS" endpoint status -w json >"$status_json" 2>/dev/null
leader=$(json_query '[e["Endpoint"] for e in d if e["Status"]["leader"] == e["Status"]["header"]["member_id"]][0]' <"$status_json")
mapfile -t followers < <(json_query '"\n".join(e["Endpoint"] for e in d if e["Status"]["leader"] != e["Status"]["header"]["member_id"])' <"$status_json")
if [ -z "$leader" ] || [ "${#followers[@]}" -ne $((member_count - 1)) ]; then
  fail "find the leader and $((member_count - 1)) followers" "endpoint status: $(cat "$status_json")"
  leader=$first
  followers=("$first" "$first")
fi
echo "leader $leader, followers ${followers[*]}"

echo "== put and get"
base=$(current_revision "$first")
# The data is chosen so that every sort order below is different and has no ties:
#   k/a: created base+1, modified base+4, version 2, value 1b
#   k/b: created base+2, modified base+2, version 1, value 0
#   k/c: created base+3, modified base+6, version 3, value 3c
expect_output "put prints OK" "OK" ctl put k/a 1
ctl put k/b 0 >/dev/null
ctl put k/c 3 >/dev/null
ctl put k/a 1b >/dev/null
ctl put k/c 3b >/dev/null
ctl put k/c 3c >/dev/null
expect_output "get one key" $'k/a\n1b' ctl get k/a
expect_output "get a missing key prints nothing" "" ctl get k/missing
expect_output "get --prefix" $'k/a\n1b\nk/b\n0\nk/c\n3c' ctl get k/ --prefix
expect_output "get key range_end (half-open)" $'k/b\n0\nk/c\n3c' ctl get k/b k/d
expect_output "get --rev at the first write" $'k/a\n1' ctl get k/a --rev=$((base + 1))
expect_output "get --prefix --rev in the middle of history" $'k/a\n1\nk/b\n0\nk/c\n3' \
  ctl get k/ --prefix --rev=$((base + 3))
expect_output "get --rev before the key existed" "" ctl get k/c --rev=$((base + 2))
expect_output "get --prefix --limit 2" $'k/a\n1b\nk/b\n0' ctl get k/ --prefix --limit 2
expect_output "get --sort-by=KEY --order=DESCEND" $'k/c\n3c\nk/b\n0\nk/a\n1b' \
  ctl get k/ --prefix --sort-by=KEY --order=DESCEND
expect_output "get --sort-by=MODIFY --order=ASCEND" $'k/b\n0\nk/a\n1b\nk/c\n3c' \
  ctl get k/ --prefix --sort-by=MODIFY --order=ASCEND
expect_output "get --sort-by=VERSION --order=DESCEND" $'k/c\n3c\nk/a\n1b\nk/b\n0' \
  ctl get k/ --prefix --sort-by=VERSION --order=DESCEND
expect_output "get --sort-by=CREATE --order=DESCEND" $'k/c\n3c\nk/b\n0\nk/a\n1b' \
  ctl get k/ --prefix --sort-by=CREATE --order=DESCEND
expect_output "get --sort-by=VALUE --order=ASCEND" $'k/b\n0\nk/a\n1b\nk/c\n3c' \
  ctl get k/ --prefix --sort-by=VALUE --order=ASCEND
expect_output "get --sort-by=MODIFY --order=DESCEND --limit 1" $'k/c\n3c' \
  ctl get k/ --prefix --sort-by=MODIFY --order=DESCEND --limit 1
# etcdctl 3.4 prints an empty value line after each key with --keys-only.
expect_output "get --keys-only" $'k/a\n\nk/b\n\nk/c' ctl get k/ --prefix --keys-only
expect_output "get --print-value-only" $'1b\n0\n3c' ctl get k/ --prefix --print-value-only
expect_output "get -w json (revision, create_revision, mod_revision, version, count)" \
  "{\"count\":1,\"header\":{\"revision\":$((base + 6))},\"kvs\":[{\"create_revision\":$((base + 1)),\"key\":\"$(b64 k/a)\",\"mod_revision\":$((base + 4)),\"value\":\"$(b64 1b)\",\"version\":2}]}" \
  eval 'ctl get k/a -w json | json_without_ids'
# --count-only arrived in etcdctl 3.5; with 3.4 the count is read from the JSON of a limited,
# keys-only range, which is what --count-only sends.
expect_output "get --limit 1 --keys-only -w json: count of the whole range and more=true" \
  "{\"count\":3,\"header\":{\"revision\":$((base + 6))},\"kvs\":[{\"create_revision\":$((base + 1)),\"key\":\"$(b64 k/a)\",\"mod_revision\":$((base + 4)),\"version\":2}],\"more\":true}" \
  eval 'ctl get k/ --prefix --limit 1 --keys-only -w json | json_without_ids'
expect_output "get --rev -w json: header carries the current revision, kvs the old one" \
  "{\"count\":1,\"header\":{\"revision\":$((base + 6))},\"kvs\":[{\"create_revision\":$((base + 3)),\"key\":\"$(b64 k/c)\",\"mod_revision\":$((base + 5)),\"value\":\"$(b64 3b)\",\"version\":2}]}" \
  eval "ctl get k/c --rev=$((base + 5)) -w json | json_without_ids"
expect_output "put --prev-kv -w json returns the previous key-value" \
  "{\"header\":{\"revision\":$((base + 7))},\"prev_kv\":{\"create_revision\":$((base + 2)),\"key\":\"$(b64 k/b)\",\"mod_revision\":$((base + 2)),\"value\":\"$(b64 0)\",\"version\":1}}" \
  eval 'ctl put k/b 0b --prev-kv -w json | json_without_ids'
expect_output "put --prev-kv prints OK then the previous key-value" $'OK\nk/b\n0b' ctl put k/b 0c --prev-kv

echo "== del"
base=$(current_revision "$first")
for key in d/a d/b d/c d/x; do ctl put "$key" "value-of-$key" >/dev/null; done
expect_output "del one key prints the count" "1" ctl del d/a
expect_output "del a missing key prints 0" "0" ctl del d/missing
expect_output "del --prefix --prev-kv prints the count and the deleted pairs" \
  $'3\nd/b\nvalue-of-d/b\nd/c\nvalue-of-d/c\nd/x\nvalue-of-d/x' ctl del d/ --prefix --prev-kv
expect_output "get --prefix after del --prefix is empty" "" ctl get d/ --prefix
expect_output "get --rev still sees a deleted key" $'d/b\nvalue-of-d/b' ctl get d/b --rev=$((base + 4))
for key in d/1 d/2 d/3; do ctl put "$key" v >/dev/null; done
expect_output "del key range_end deletes the half-open range" "2" ctl del d/1 d/3
base=$(current_revision "$first")
ctl put d/j v >/dev/null
expect_output "del --prev-kv -w json" \
  "{\"deleted\":1,\"header\":{\"revision\":$((base + 2))},\"prev_kvs\":[{\"create_revision\":$((base + 1)),\"key\":\"$(b64 d/j)\",\"mod_revision\":$((base + 1)),\"value\":\"$(b64 v)\",\"version\":1}]}" \
  eval 'ctl del d/j --prev-kv -w json | json_without_ids'
expect_output "get after a delete and re-create: create_revision and version restart" \
  "{\"count\":1,\"header\":{\"revision\":$((base + 3))},\"kvs\":[{\"create_revision\":$((base + 3)),\"key\":\"$(b64 d/j)\",\"mod_revision\":$((base + 3)),\"value\":\"$(b64 again)\",\"version\":1}]}" \
  eval 'ctl put d/j again >/dev/null && ctl get d/j -w json | json_without_ids'

echo "== txn"
# etcdctl txn reads compares, a blank line, the success operations, a blank line, the failure
# operations and a blank line from stdin, which is its non-interactive form of `txn -i`.
base=$(current_revision "$first")
ctl put t/v v1 >/dev/null
ctl put t/v v2 >/dev/null
txn_input=$COMPAT_WORK_DIR/txn-input
cat >"$txn_input" <<EOF
value("t/v") = "v2"
version("t/v") = "2"
create("t/v") = "$((base + 1))"
mod("t/v") = "$((base + 2))"

put t/ok yes
get t/v

put t/bad yes

EOF
expect_output "txn: value, version, create and mod all hold: success branch runs" \
  $'SUCCESS\n\nOK\n\nt/v\nv2' ctl_with_input "$txn_input" txn
expect_output "txn: the failure branch did not run" "" ctl get t/bad
cat >"$txn_input" <<EOF
value("t/v") = "v2"
version("t/v") = "1"

put t/bad yes

del t/ok
get t/v

EOF
expect_output "txn: one compare (version) fails: failure branch runs" \
  $'FAILURE\n\n1\n\nt/v\nv2' ctl_with_input "$txn_input" txn
expect_output "txn: the success branch did not run" "" ctl get t/bad
cat >"$txn_input" <<EOF
version("t/v") > "1"
mod("t/v") < "$((base + 3))"
create("t/missing") = "0"
value("t/v") != "v1"

put t/ok again


EOF
expect_output "txn: >, <, != and create of a missing key = 0" $'SUCCESS\n\nOK' ctl_with_input "$txn_input" txn
cat >"$txn_input" <<EOF
mod("t/v") > "$((base + 2))"

put t/bad yes

put t/failure-ran yes

EOF
expect_output "txn -w json: failure response (succeeded omitted) with its put response" \
  "{\"header\":{\"revision\":$((base + 6))},\"responses\":[{\"Response\":{\"ResponsePut\":{\"header\":{\"revision\":$((base + 6))}}}}]}" \
  eval 'ctl_with_input "$txn_input" txn -w json | json_without_ids'
printf '\n\n\n\n' >"$txn_input"
expect_output "txn with no compares and no operations succeeds" "SUCCESS" ctl_with_input "$txn_input" txn

echo "== watch"
# A live watch must see events that happen after it was created, so each live check first proves
# the watch is in place: it writes a sentinel value ready-N into the watched range until the watch
# prints it, then performs the operations under test, and compares only what follows the last
# sentinel. The watch process itself is bounded by `timeout` and killed when the last expected
# event has arrived. Watches run on a follower and every write goes through the leader, so the
# events reach the watcher through replication and the follower's own apply.
watch_pid=""
start_watch() {
  local output_file=$1
  shift
  timeout 60 "$ETCDCTL_BIN" --endpoints="${followers[0]}" --dial-timeout=2s watch "$@" >"$output_file" 2>"$output_file.stderr" &
  watch_pid=$!
}
stop_watch() {
  [ -n "$watch_pid" ] && kill "$watch_pid" 2>/dev/null
  wait "$watch_pid" 2>/dev/null
  watch_pid=""
}
# Up to 25 sentinels, each given up to 0.6 s to show: at most about 15 s in all.
wait_for_watch_ready() {
  local output_file=$1 sentinel_key=$2 attempt
  for attempt in $(seq 1 25); do
    ctl_at "$leader" put "$sentinel_key" "ready-$attempt" >/dev/null
    for _ in 1 2 3; do
      sleep "$COMPAT_POLL_INTERVAL_SECONDS"
      if grep -qx "ready-$attempt" "$output_file" 2>/dev/null; then return 0; fi
    done
  done
  return 1
}
# events_after_last_sentinel FILE: the watch output after the last event whose value is ready-N.
events_after_last_sentinel() {
  python3 -c '
import sys
lines = open(sys.argv[1]).read().rstrip("\n").split("\n")
events = []
for line in lines:
    if line in ("PUT", "DELETE"):
        events.append([line])
    elif events:
        events[-1].append(line)
last_sentinel = -1
for index, event in enumerate(events):
    if event[0] == "PUT" and event[-1].startswith("ready-"):
        last_sentinel = index
print("\n".join("\n".join(event) for event in events[last_sentinel + 1:]))' "$1"
}

watch_output=$COMPAT_WORK_DIR/watch-key.out
start_watch "$watch_output" w/key
if wait_for_watch_ready "$watch_output" w/key; then
  ctl_at "$leader" put w/key a >/dev/null
  ctl_at "$leader" put w/other ignored >/dev/null
  ctl_at "$leader" del w/key >/dev/null
  ctl_at "$leader" put w/key final >/dev/null
  wait_until "live watch prints the final event" 10 grep -qx final "$watch_output"
  stop_watch
  expect_equal "watch a key live: PUT, DELETE, PUT; other keys not shown" \
    $'PUT\nw/key\na\nDELETE\nw/key\n\nPUT\nw/key\nfinal' "$(events_after_last_sentinel "$watch_output")"
else
  stop_watch
  fail "watch a key live: PUT, DELETE, PUT; other keys not shown" "the watch never printed a sentinel" "$(cat "$watch_output")"
fi

watch_output=$COMPAT_WORK_DIR/watch-prefix.out
start_watch "$watch_output" wp/ --prefix --prev-kv
if wait_for_watch_ready "$watch_output" wp/ready; then
  ctl_at "$leader" put wp/a 1 >/dev/null
  ctl_at "$leader" put wp/a 2 >/dev/null
  ctl_at "$leader" put wq/outside x >/dev/null
  ctl_at "$leader" del wp/a >/dev/null
  ctl_at "$leader" put wp/z final >/dev/null
  wait_until "prefix watch prints the final event" 10 grep -qx final "$watch_output"
  stop_watch
  # With --prev-kv etcdctl prints the previous key-value before the new one.
  expect_equal "watch --prefix --prev-kv live" \
    $'PUT\nwp/a\n1\nPUT\nwp/a\n1\nwp/a\n2\nDELETE\nwp/a\n2\nwp/a\n\nPUT\nwp/z\nfinal' \
    "$(events_after_last_sentinel "$watch_output")"
else
  stop_watch
  fail "watch --prefix --prev-kv live" "the watch never printed a sentinel" "$(cat "$watch_output")"
fi

base=$(current_revision "$leader")
ctl_at "$leader" put wh/a 1 >/dev/null
ctl_at "$leader" put wh/b 2 >/dev/null
ctl_at "$leader" put wh/a 3 >/dev/null
ctl_at "$leader" del wh/b >/dev/null
watch_output=$COMPAT_WORK_DIR/watch-history.out
start_watch "$watch_output" wh/ --prefix --rev=$((base + 2))
wait_until "historical watch replays to the delete" 10 grep -qx DELETE "$watch_output"
stop_watch
expect_equal "watch --prefix --rev replays history from that revision" \
  $'PUT\nwh/b\n2\nPUT\nwh/a\n3\nDELETE\nwh/b' "$(cat "$watch_output")"
watch_output=$COMPAT_WORK_DIR/watch-history-json.out
start_watch "$watch_output" wh/a --rev=$((base + 1)) -w json
wait_until "historical json watch prints its response" 10 grep -q Events "$watch_output"
stop_watch
expect_equal "watch --rev -w json: both events of one key, with revisions and versions" \
  "[{\"kv\":{\"create_revision\":$((base + 1)),\"key\":\"$(b64 wh/a)\",\"mod_revision\":$((base + 1)),\"value\":\"$(b64 1)\",\"version\":1}},{\"kv\":{\"create_revision\":$((base + 1)),\"key\":\"$(b64 wh/a)\",\"mod_revision\":$((base + 3)),\"value\":\"$(b64 3)\",\"version\":2}}]" \
  "$(head -1 "$watch_output" | json_query 'd["Events"]')"

echo "== lease"
lease_id_of() { sed -nE 's/^lease ([0-9a-f]+) granted with TTL\(([0-9]+)s\)$/\1/p'; }
# The lease's life is spread over the members: granted on one follower, used through the leader,
# inspected and revoked on the other follower, so that every lease request crosses members.
capture ctl_at "${followers[0]}" lease grant 60
lease=$(lease_id_of <<<"$check_stdout")
expect_equal "lease grant 60" "lease $lease granted with TTL(60s)" "$check_stdout" "stderr: $check_stderr"
expect_output "put --lease" "OK" ctl_at "$leader" put l/a 1 --lease="$lease"
ctl_at "$leader" put l/b 2 --lease="$lease" >/dev/null
capture ctl_at "${followers[1]}" lease timetolive "$lease" --keys
remaining=$(sed -nE 's/.*remaining\(([0-9]+)s\).*/\1/p' <<<"$check_stdout")
# etcd lists a lease's keys in no particular order (they live in a Go map), so they are sorted.
expect_equal "lease timetolive --keys" \
  "lease $lease granted with TTL(60s), remaining(Ns), attached keys([l/a l/b])" \
  "$(sed -E 's/remaining\([0-9]+s\)/remaining(Ns)/' <<<"$check_stdout" |
    python3 -c 'import re, sys; print(re.sub(r"keys\(\[(.*)\]\)", lambda m: "keys([%s])" % " ".join(sorted(m.group(1).split())), sys.stdin.read().rstrip("\n")))')"
if [ -n "$remaining" ] && [ "$remaining" -ge 50 ] && [ "$remaining" -le 60 ]; then
  pass "lease timetolive: remaining TTL within 50..60 s"
else
  fail "lease timetolive: remaining TTL within 50..60 s" "got: $check_stdout"
fi
expect_output "lease timetolive --keys -w json: id, granted-ttl and keys" \
  "[$((16#$lease)),60,[\"$(b64 l/a)\",\"$(b64 l/b)\"]]" \
  eval "ctl_at '${followers[1]}' lease timetolive $lease --keys -w json | json_query '[d[\"id\"], d[\"granted-ttl\"], sorted(d[\"keys\"])]'"
expect_output "lease keep-alive --once" "lease $lease keepalived with TTL(60)" \
  ctl_at "${followers[0]}" lease keep-alive --once "$lease"
expect_output "lease list shows the one live lease" $'found 1 leases\n'"$lease" ctl_at "$leader" lease list
expect_output "lease revoke" "lease $lease revoked" ctl_at "${followers[1]}" lease revoke "$lease"
for endpoint in "${endpoints[@]}"; do
  expect_output "keys attached to a revoked lease are deleted, on $endpoint" "" ctl_at "$endpoint" get l/ --prefix
done
expect_output "lease timetolive of a revoked lease" "lease $lease already expired" ctl lease timetolive "$lease"
expect_error "lease revoke of a revoked lease" 1 \
  "Error: failed to revoke lease (etcdserver: requested lease not found)" ctl lease revoke "$lease"
expect_error "lease keep-alive --once of a revoked lease" 2 \
  "Error: etcdserver: requested lease not found" ctl lease keep-alive --once "$lease"
expect_output "lease list after revoke" "found 0 leases" ctl lease list
# etcd serves LeaseTimeToLive on the leader (a follower forwards it), so its answer reflects every
# put that has returned. Several rounds, because a stale answer from a member's own state shows
# only when the question beats the next heartbeat.
stale_rounds=""
for round in 1 2 3 4 5; do
  round_lease=$(ctl_at "${followers[0]}" lease grant 60 | lease_id_of)
  ctl_at "$leader" put "l/round/$round" v --lease="$round_lease" >/dev/null
  round_answer=$(ctl_at "${followers[1]}" lease timetolive "$round_lease" --keys)
  [[ "$round_answer" == *"attached keys([l/round/$round])" ]] || stale_rounds+="round $round: $round_answer"$'\n'
  ctl_at "$leader" lease revoke "$round_lease" >/dev/null
done
if [ -z "$stale_rounds" ]; then
  pass "lease timetolive on a follower sees a key attached through the leader just before (5 rounds)"
else
  fail "lease timetolive on a follower sees a key attached through the leader just before (5 rounds)" "$stale_rounds"
fi
# etcd raises any TTL below its minimum (3 x heartbeat + election timeout, rounded up: 2 s with the
# default 100 ms / 1000 ms) to that minimum.
capture ctl lease grant 1
short_lease=$(lease_id_of <<<"$check_stdout")
expect_equal "lease grant 1 is raised to the minimum TTL of 2 s" "lease $short_lease granted with TTL(2s)" "$check_stdout"
ctl lease revoke "$short_lease" >/dev/null
capture ctl lease grant 2
expiring_lease=$(lease_id_of <<<"$check_stdout")
ctl_at "$leader" put l/expiring v --lease="$expiring_lease" >/dev/null
granted_at=$(date +%s.%N)
expect_output "a key with a 2 s lease is readable at once" $'l/expiring\nv' ctl get l/expiring
key_is_gone() { [ -z "$(ctl get l/expiring)" ]; }
if wait_until "l/expiring disappears" 15 key_is_gone; then
  elapsed=$(python3 -c "import time; print(round(time.time() - $granted_at, 1))")
  # Expiry is checked by the leader on its own clock, so allow scheduling slack around the 2 s.
  if python3 -c "import sys; sys.exit(0 if 1.0 <= $elapsed <= 10 else 1)"; then
    pass "lease expiry deletes the key after the TTL (${elapsed} s)"
  else
    fail "lease expiry deletes the key after the TTL" "gone after $elapsed s, expected about 2 s"
  fi
else
  fail "lease expiry deletes the key after the TTL" "l/expiring still present after 15 s"
fi
for endpoint in "${endpoints[@]}"; do
  expiry_applied_on_member() { [ -z "$(ctl_at "$endpoint" get l/expiring --consistency=s)" ]; }
  if wait_until "expiry applied on $endpoint" 5 expiry_applied_on_member; then
    pass "the expired key is gone from $endpoint's own state (--consistency=s)"
  else
    fail "the expired key is gone from $endpoint's own state (--consistency=s)" "$(ctl_at "$endpoint" get l/expiring --consistency=s 2>&1)"
  fi
done
expect_output "timetolive of an expired lease" "lease $expiring_lease already expired" ctl lease timetolive "$expiring_lease"
# A streaming keep-alive from a follower must reach the leader, which alone expires leases: the
# key outlives its 2 s TTL while the stream runs, and expires once the stream stops.
capture ctl_at "${followers[0]}" lease grant 2
kept_lease=$(lease_id_of <<<"$check_stdout")
ctl_at "$leader" put l/kept v --lease="$kept_lease" >/dev/null
timeout 5 "$ETCDCTL_BIN" --endpoints="${followers[0]}" lease keep-alive "$kept_lease" >"$COMPAT_WORK_DIR/keep-alive.out" 2>&1 &
keep_alive_pid=$!
sleep 4
expect_output "lease keep-alive (streaming, on a follower) keeps a 2 s lease's key past 4 s" $'l/kept\nv' ctl_at "$leader" get l/kept
wait "$keep_alive_pid"
expect_output "each keep-alive response renews the full TTL" "lease $kept_lease keepalived with TTL(2)" \
  eval "grep -v '^{\"level' '$COMPAT_WORK_DIR/keep-alive.out' | sort -u"
kept_key_is_gone() { [ -z "$(ctl_at "$leader" get l/kept)" ]; }
if wait_until "l/kept disappears" 15 kept_key_is_gone; then
  pass "the key expires once the keep-alive stream stops"
else
  fail "the key expires once the keep-alive stream stops" "l/kept still present 15 s after the stream ended"
fi
# `etcdctl lock` is built from a lease, a txn on create revisions and a watch (clientv3/concurrency).
expect_output "lock runs the command while it holds the lock" "locked" ctl lock compat-lock echo locked

echo "== cluster"
ctl_at "$COMPAT_ENDPOINTS" endpoint status -w json >"$status_json" 2>/dev/null
# Member ids in member order, as the endpoints themselves report them.
mapfile -t member_ids < <(json_query '"\n".join(format(e["Status"]["header"]["member_id"], "x") for e in d)' <"$status_json")
expected_member_list=$(for i in "${!endpoints[@]}"; do
  echo "${member_ids[$i]}, started, ${member_names[$i]}, ${peer_urls[$i]}, ${endpoints[$i]}, false"
done | sort)
expect_output "member list: $member_count members with names and URLs" "$expected_member_list" eval 'ctl member list | sort'
for endpoint in "${endpoints[@]}"; do
  expect_output "member list from $endpoint is the same" "$expected_member_list" eval "ctl_at '$endpoint' member list | sort"
done
expect_output "member list -w json: names, peerURLs, clientURLs" \
  "$(for i in "${!endpoints[@]}"; do echo "${member_names[$i]} ${peer_urls[$i]} ${endpoints[$i]}"; done | sort)" \
  eval "ctl member list -w json | json_query '\"\\n\".join(sorted(\"%s %s %s\" % (m[\"name\"], \",\".join(m[\"peerURLs\"]), \",\".join(m[\"clientURLs\"])) for m in d[\"members\"]))'"
expect_output "endpoint status -w json: one row per endpoint" "$(tr , '\n' <<<"$COMPAT_ENDPOINTS")" \
  json_query '"\n".join(e["Endpoint"] for e in d)' <"$status_json"
expect_output "endpoint status -w json: every member names the same leader, and it is a member" "1 True" \
  json_query '"%d %s" % (len({e["Status"]["leader"] for e in d}), d[0]["Status"]["leader"] in {e["Status"]["header"]["member_id"] for e in d})' <"$status_json"
expect_output "endpoint status -w json: raft term, index and applied index are set" "True" \
  json_query 'all(e["Status"]["raftTerm"] >= 1 and e["Status"]["raftIndex"] >= 1 and e["Status"]["raftAppliedIndex"] >= 1 for e in d)' <"$status_json"
# Table columns: ENDPOINT, ID, VERSION, DB SIZE, IS LEADER, IS LEARNER, RAFT TERM, RAFT INDEX,
# RAFT APPLIED INDEX, ERRORS.
status_table=$(ctl_at "$COMPAT_ENDPOINTS" endpoint status -w table 2>/dev/null)
expect_equal "endpoint status -w table: header" \
  "|        ENDPOINT        |        ID        | VERSION | DB SIZE | IS LEADER | IS LEARNER | RAFT TERM | RAFT INDEX | RAFT APPLIED INDEX | ERRORS |" \
  "$(sed -n 2p <<<"$status_table")"
table_rows=$(grep '^| http' <<<"$status_table")
expect_equal "endpoint status -w table: one row per endpoint, exactly one leader, no learners, no errors" \
  "$member_count 1 $member_count $member_count" \
  "$(awk -F'|' '{ rows++; gsub(/ /, ""); if ($6 == "true") leaders++; if ($7 == "false") voters++; if ($11 == "") clean++ }
                END { print rows+0, leaders+0, voters+0, clean+0 }' <<<"$table_rows")" "$status_table"
# etcdctl 3.4 prints the health lines on stderr.
expect_output "endpoint health, every endpoint" \
  "$(for e in "${endpoints[@]}"; do echo "$e is healthy: successfully committed proposal: took = T"; done | sort)" \
  eval "ctl_at '$COMPAT_ENDPOINTS' endpoint health 2>&1 | grep -v '^{\"level' | sed -E 's/took = .*/took = T/' | sort"
expect_output "endpoint health -w json" \
  "$(for e in "${endpoints[@]}"; do echo "$e True"; done | sort)" \
  eval "ctl_at '$COMPAT_ENDPOINTS' endpoint health -w json | json_query '\"\\n\".join(sorted(\"%s %s\" % (e[\"endpoint\"], e[\"health\"]) for e in d))'"

echo "== writes through a follower"
writer=${followers[0]}
reader=${followers[1]}
value="through-follower-$RANDOM"
expect_output "put sent to a follower succeeds" "OK" ctl_at "$writer" put f/key "$value"
expect_output "linearizable get from the other follower sees it at once" $'f/key\n'"$value" ctl_at "$reader" get f/key
# A serializable read is answered from the member's own applied state, which may trail the
# leader's commit by a heartbeat; etcd gives no freshness promise for it, so poll (bounded).
serializable_sees_value() { [ "$(ctl_at "$reader" get f/key --consistency=s --print-value-only)" == "$value" ]; }
if wait_until "serializable read shows the follower's write" 5 serializable_sees_value; then
  pass "serializable get (--consistency=s) from the other follower sees it"
else
  fail "serializable get (--consistency=s) from the other follower sees it" "after 5 s: $(ctl_at "$reader" get f/key --consistency=s 2>&1)"
fi
for endpoint in "${endpoints[@]}"; do
  expect_output "linearizable get on $endpoint after the follower write" $'f/key\n'"$value" ctl_at "$endpoint" get f/key
done
expect_output "delete through a follower" "1" ctl_at "$writer" del f/key
printf 'create("f/key") = "0"\n\nput f/key again\n\n\n' >"$txn_input"
expect_output "txn through a follower" $'SUCCESS\n\nOK' eval 'ctl_at "$writer" txn <"$txn_input"'

echo "== compaction"
base=$(current_revision "$first")
ctl put c/key 1 >/dev/null
ctl put c/key 2 >/dev/null
ctl put c/key 3 >/dev/null
compact_revision=$((base + 2))
expect_output "compact N" "compacted revision $compact_revision" ctl compact "$compact_revision"
expect_error "get --rev below the compacted revision fails" 1 \
  "Error: etcdserver: mvcc: required revision has been compacted" ctl get c/key --rev=$((base + 1))
expect_output "get --rev at the compacted revision still works" $'c/key\n2' ctl get c/key --rev="$compact_revision"
expect_error "compact at an already compacted revision fails" 1 \
  "Error: etcdserver: mvcc: required revision has been compacted" ctl compact "$compact_revision"
expect_error "compact at a future revision fails" 1 \
  "Error: etcdserver: mvcc: required revision is a future revision" ctl compact $((base + 1000))
expect_error "get --rev at a future revision fails" 1 \
  "Error: etcdserver: mvcc: required revision is a future revision" ctl get c/key --rev=$((base + 1000))
capture timeout 10 "$ETCDCTL_BIN" --endpoints="$first" watch c/key --rev=$((base + 1))
expect_equal "watch --rev below the compacted revision is canceled" \
  $'exit 5\n\nwatch was canceled (etcdserver: mvcc: required revision has been compacted)\nError: watch is canceled by the server' \
  "exit $check_status"$'\n'"$check_stdout"$'\n'"$check_stderr"
expect_output "compact --physical" "compacted revision $((base + 3))" ctl compact $((base + 3)) --physical
for endpoint in "${endpoints[@]}"; do
  expect_error "compaction reached $endpoint" 1 \
    "Error: etcdserver: mvcc: required revision has been compacted" ctl_at "$endpoint" get c/key --rev="$compact_revision"
done

finish_suite "etcdctl"
