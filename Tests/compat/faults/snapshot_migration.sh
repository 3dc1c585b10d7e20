#!/usr/bin/env bash
# Snapshots in etcd's format, and a cluster moved etcd -> Synod -> etcd:
#
#   Tests/compat/faults/snapshot_migration.sh [SYNOD_BINARY] [ETCD_BINARY]
#        (defaults .build/release/synod and /usr/bin/etcd)
#
# 1. A real etcd 3.4 member gets a history: keys with several versions, a delete, a key on a
#    lease, a transaction, a compaction. `etcdctl snapshot save` takes its snapshot.
# 2. `synod snapshot restore` makes three Synod data directories from it; the 3-member Synod
#    cluster serves every key with the same value, create and mod revision, version and lease,
#    the same lease, and etcd's own HashKV at the same revision.
# 3. Synod takes more writes; `etcdctl snapshot save` against Synod verifies the stream's SHA-256,
#    `etcdctl snapshot status` reads the file, and `etcdctl snapshot restore` makes an etcd data
#    directory from it: the etcd member started on it serves everything Synod held, with the
#    same HashKV.
# 4. Damaged files are refused with a clear error: a flipped byte (hash mismatch), a truncated
#    file, and garbage with --skip-hash-check.
#
# Env: MIGRATION_BASE_PORT (default 20379). Every command runs under `timeout`; every process is
# killed on exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
synod=${1:-$root/.build/release/synod}
etcd=${2:-/usr/bin/etcd}
base_port=${MIGRATION_BASE_PORT:-20379}
# shellcheck source=../lib.sh
source "$here/../lib.sh"

for binary in "$synod" "$etcd"; do
  if [ ! -x "$binary" ]; then
    echo "FAIL setup: $binary is missing"
    exit 2
  fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/synod-migration.XXXXXX")
export COMPAT_WORK_DIR=$work
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

port() { echo $((base_port + $1)); }

# start_etcd NAME DATA_DIR INDEX: a one-member etcd on ports base+10*INDEX (client) and +1 (peer).
start_etcd() {
  local name=$1 data=$2 client peer
  client=$(port $((10 * $3)))
  peer=$((client + 1))
  "$etcd" --name "$name" --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "$name=http://127.0.0.1:$peer" >>"$work/$name.log" 2>&1 </dev/null &
  pids+=($!)
  wait_until "$name healthy" 30 ctl_at "127.0.0.1:$client" endpoint health
}

# Comparable form of a full read: every key-value with its revisions, version and lease, and the
# header revision.
all_keys() {
  ctl_at "$1" get "" --prefix -w json | json_query '{"revision": d["header"]["revision"], "kvs": d.get("kvs", [])}'
}
hashkv_at() {
  ctl_at "$1" endpoint hashkv --rev "$2" -w json | json_query 'd[0]["HashKV"]["hash"]'
}
leases_with_keys() {
  local endpoint=$1 id
  for id in $(ctl_at "$endpoint" lease list | tail -n +2); do
    ctl_at "$endpoint" lease timetolive "$id" --keys -w json | json_query '[d["id"], d["granted-ttl"], sorted(d.get("keys") or [])]'
  done
}

# 1. History in etcd.
etcd_a=127.0.0.1:$(port 10)
start_etcd source "$work/source" 1 || { fail "the source etcd starts" "$(tail -5 "$work/source.log")"; finish_suite snapshot-migration; exit 1; }
lease=$(ctl_at "$etcd_a" lease grant 900 | awk '{print $2}')
{
  ctl_at "$etcd_a" put a 1 && ctl_at "$etcd_a" put a 2 && ctl_at "$etcd_a" put b x --lease="$lease" &&
    ctl_at "$etcd_a" put c gone && ctl_at "$etcd_a" del c && ctl_at "$etcd_a" put a 3 &&
    ctl_at "$etcd_a" txn <<<$'\n\nput t1 one\nput t2 two\n\n' &&
    ctl_at "$etcd_a" compact 4 --physical && ctl_at "$etcd_a" put "$(printf 'big')" "$(head -c 100000 /dev/zero | tr '\0' 'v')" &&
    for i in $(seq 1 200); do ctl_at "$etcd_a" put "many/$i" "$i" || exit 1; done
} >/dev/null
source_keys=$(all_keys "$etcd_a")
source_revision=$(json_query 'd["revision"]' <<<"$source_keys")
source_hash=$(hashkv_at "$etcd_a" "$source_revision")
source_leases=$(leases_with_keys "$etcd_a")
if [ "$source_revision" -gt 200 ] && [[ "$source_leases" == *'"Yg=="'* ]]; then pass "etcd holds the history (revision $source_revision, a lease on b)"; else
  fail "etcd holds the history" "revision $source_revision" "leases: $source_leases"
fi
capture ctl_at "$etcd_a" snapshot save "$work/from-etcd.db"
if [ "$check_status" -eq 0 ]; then pass "etcdctl snapshot save from etcd"; else fail "etcdctl snapshot save from etcd" "$check_stderr"; fi

# 2. etcd -> Synod.
initial="s1=http://127.0.0.1:$(($(port 21))),s2=http://127.0.0.1:$(($(port 31))),s3=http://127.0.0.1:$(($(port 41)))"
restored_all=1
for index in 1 2 3; do
  client=$(port $((10 * (index + 1))))
  capture timeout 60 "$synod" snapshot restore "$work/from-etcd.db" --data-dir "$work/s$index" --name "s$index" \
    --initial-cluster "$initial" --initial-cluster-token moved --initial-advertise-peer-urls "http://127.0.0.1:$((client + 1))"
  [ "$check_status" -eq 0 ] || { restored_all=0; fail "synod snapshot restore s$index" "$check_stdout" "$check_stderr"; }
done
[ "$restored_all" -eq 1 ] && pass "synod snapshot restore makes three data directories from etcd's snapshot"
synod_endpoints=""
for index in 1 2 3; do
  client=$(port $((10 * (index + 1))))
  "$synod" serve --zk-listen-address "" --name "s$index" --data-dir "$work/s$index" \
    --listen-client-urls "http://127.0.0.1:$client" --listen-peer-urls "http://127.0.0.1:$((client + 1))" \
    --initial-cluster "$initial" --initial-cluster-token moved >>"$work/s$index.log" 2>&1 </dev/null &
  pids+=($!)
  synod_endpoints+="${synod_endpoints:+,}127.0.0.1:$client"
done
wait_until "the restored Synod cluster is healthy" 30 ctl_at "$synod_endpoints" endpoint health >/dev/null
expect_equal "Synod serves every key of etcd's snapshot with its revisions, version and lease" "$source_keys" "$(all_keys "$synod_endpoints")"
expect_equal "Synod holds etcd's leases with their keys" "$source_leases" "$(leases_with_keys "$synod_endpoints")"
expect_equal "HashKV at revision $source_revision: Synod's equals etcd's" "$source_hash" "$(hashkv_at "$synod_endpoints" "$source_revision")"
expect_error "the compaction came along: reading below it is refused" 1 "Error: etcdserver: mvcc: required revision has been compacted" \
  ctl_at "$synod_endpoints" get a --rev 3

# 3. Synod -> etcd.
{
  ctl_at "$synod_endpoints" put a 4 && ctl_at "$synod_endpoints" put synod-only yes && ctl_at "$synod_endpoints" del many/7
} >/dev/null
synod_keys=$(all_keys "$synod_endpoints")
synod_revision=$(json_query 'd["revision"]' <<<"$synod_keys")
synod_hash=$(hashkv_at "$synod_endpoints" "$synod_revision")
synod_leases=$(leases_with_keys "$synod_endpoints")
capture ctl_at "127.0.0.1:$(port 20)" snapshot save "$work/from-synod.db"
if [ "$check_status" -eq 0 ]; then pass "etcdctl snapshot save from Synod (the stream's SHA-256 checks)"; else fail "etcdctl snapshot save from Synod" "$check_stderr"; fi
capture timeout 30 "$ETCDCTL_BIN" snapshot status "$work/from-synod.db" -w json
expect_equal "etcdctl snapshot status reads Synod's snapshot: revision $synod_revision" "$synod_revision" \
  "$(json_query 'd["revision"]' <<<"$check_stdout" 2>/dev/null)"
capture timeout 60 "$ETCDCTL_BIN" snapshot restore "$work/from-synod.db" --data-dir "$work/back" --name back \
  --initial-cluster "back=http://127.0.0.1:$(($(port 51)))" --initial-advertise-peer-urls "http://127.0.0.1:$(($(port 51)))"
if [ "$check_status" -eq 0 ]; then pass "etcdctl snapshot restore makes an etcd data directory from Synod's snapshot"; else fail "etcdctl snapshot restore of Synod's snapshot" "$check_stderr"; fi
etcd_b=127.0.0.1:$(port 50)
start_etcd back "$work/back" 5 || fail "etcd starts on the restored data directory" "$(tail -5 "$work/back.log")"
expect_equal "etcd serves every key Synod held with its revisions, version and lease" "$synod_keys" "$(all_keys "$etcd_b")"
expect_equal "etcd holds Synod's leases with their keys" "$synod_leases" "$(leases_with_keys "$etcd_b")"
expect_equal "HashKV at revision $synod_revision: etcd's equals Synod's" "$synod_hash" "$(hashkv_at "$etcd_b" "$synod_revision")"
expect_output "etcd takes writes on the restored data" "OK" ctl_at "$etcd_b" put back-in-etcd yes

# 4. Damaged files.
cp "$work/from-etcd.db" "$work/flipped.db"
printf '\xff' | dd of="$work/flipped.db" bs=1 seek=5000 conv=notrunc 2>/dev/null
capture timeout 30 "$synod" snapshot restore "$work/flipped.db" --data-dir "$work/x1" --name s1 \
  --initial-cluster "s1=http://127.0.0.1:1" --initial-advertise-peer-urls "http://127.0.0.1:1"
if [ "$check_status" -ne 0 ] && [[ "$check_stderr" == *"sha256"* || "$check_stderr" == *"SHA-256"* || "$check_stderr" == *"hash"* ]] && [ ! -e "$work/x1" ]; then
  pass "a flipped byte fails the snapshot's hash check, and no data directory is made"
else
  fail "a flipped byte fails the hash check" "exit $check_status" "$check_stderr"
fi
head -c 20000 "$work/from-etcd.db" >"$work/truncated.db"
capture timeout 30 "$synod" snapshot restore "$work/truncated.db" --skip-hash-check --data-dir "$work/x2" --name s1 \
  --initial-cluster "s1=http://127.0.0.1:1" --initial-advertise-peer-urls "http://127.0.0.1:1"
if [ "$check_status" -ne 0 ] && [[ "$check_stderr" == *"not an etcd 3.4 backend"* ]]; then
  pass "a truncated file is refused with a clear error"
else
  fail "a truncated file is refused" "exit $check_status" "$check_stderr"
fi
head -c 10000 /dev/urandom >"$work/garbage.db"
capture timeout 30 "$synod" snapshot restore "$work/garbage.db" --skip-hash-check --data-dir "$work/x3" --name s1 \
  --initial-cluster "s1=http://127.0.0.1:1" --initial-advertise-peer-urls "http://127.0.0.1:1"
if [ "$check_status" -ne 0 ] && [[ "$check_stderr" == *"not an etcd 3.4 backend"* ]]; then pass "garbage is refused with a clear error"; else fail "garbage is refused" "exit $check_status" "$check_stderr"; fi

finish_suite snapshot-migration
