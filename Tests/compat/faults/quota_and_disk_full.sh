#!/usr/bin/env bash
# Quota, NOSPACE and a full disk, against Synod (or etcd: the quota half runs on either).
#
#   Tests/compat/faults/quota_and_disk_full.sh [SERVER_BINARY]     (default .build/release/synod)
#
# Quota: one member with --quota-backend-bytes 4000000. Puts of 64 KiB until one is refused with
# etcd's "database space exceeded"; then the NOSPACE alarm is listed, reads and deletes are served,
# puts refused; after compaction, defragmentation and `alarm disarm`, puts are accepted again.
#
# Disk full (Synod only, needs root to mount): the member's data directory is a 160 MiB tmpfs that
# the test mounts, with a 40 MiB filler file, so the log's first 64 MiB segment fits but its next
# one cannot be prepared. Writing past half a segment must raise NOSPACE and refuse writes, with
# the member still serving reads; removing the filler must let it recover (after disarm).
#
# Env: FAULTS_BASE_PORT (default 16379). Every command runs under `timeout`; members are stopped
# and the tmpfs unmounted on any exit.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
server=${1:-$root/.build/release/synod}
base_port=${FAULTS_BASE_PORT:-16379}
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
kind=$server_kind

work=$(mktemp -d "${TMPDIR:-/tmp}/synod-quota.XXXXXX")
export COMPAT_WORK_DIR=$work
pids=()
mounted=""
cleanup() {
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; done
  [ -n "$mounted" ] && umount "$mounted" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# start_member NAME DATA_DIR CLIENT_PORT EXTRA_FLAGS...: one-member cluster; waits until healthy.
start_member() {
  local name=$1 data=$2 port=$3
  shift 3
  "${server_command[@]}" --name "$name" --data-dir "$data" \
    --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
    --listen-peer-urls "http://127.0.0.1:$((port + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((port + 1))" \
    --initial-cluster "$name=http://127.0.0.1:$((port + 1))" --initial-cluster-token "quota-$$" "$@" \
    >>"$work/$name.log" 2>&1 </dev/null &
  pids+=($!)
  wait_until "$name healthy" 30 ctl_at "127.0.0.1:$port" endpoint health
}

value_of_bytes() { head -c "$1" /dev/zero | tr '\0' 'v'; }
big_value=$(value_of_bytes 65536)

# fill ENDPOINT PREFIX MAX: puts 64 KiB values until one fails; prints how many succeeded, and
# leaves the failing put's stderr in $work/fill.err.
fill() {
  local endpoint=$1 prefix=$2 max=$3 i
  for ((i = 0; i < max; i++)); do
    if ! ctl_at "$endpoint" put "$prefix$i" "$big_value" >/dev/null 2>"$work/fill.err"; then
      echo "$i"
      return
    fi
  done
  echo "$max"
}

quota_checks() {
  local endpoint=127.0.0.1:$base_port
  start_member quota "$work/quota" "$base_port" --quota-backend-bytes 4000000 || { fail "quota member starts"; return; }
  local written
  written=$(fill "$endpoint" quota/ 200)
  if [ "$written" -gt 20 ] && [ "$written" -lt 200 ]; then
    pass "puts past a 4 MB quota are refused (after $written puts of 64 KiB)"
  else
    fail "puts past a 4 MB quota are refused" "$written puts succeeded"
  fi
  expect_equal "the refusal is etcd's" "Error: etcdserver: mvcc: database space exceeded" "$(grep -v '^{' "$work/fill.err")"
  capture ctl_at "$endpoint" alarm list
  if [[ "$check_stdout" == *"alarm:NOSPACE"* ]]; then pass "alarm list shows NOSPACE"; else fail "alarm list shows NOSPACE" "$check_stdout $check_stderr"; fi
  expect_output "reads are served under NOSPACE" "$big_value" ctl_at "$endpoint" get quota/0 --print-value-only
  # etcd 3.4's /health is false while any alarm is raised.
  expect_equal "GET /health under NOSPACE: 503 {\"health\":\"false\"}" '503 {"health":"false"}' \
    "$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://$endpoint/health") $(curl -s -m 5 "http://$endpoint/health")"
  expect_error "puts are refused under NOSPACE" 1 "Error: etcdserver: mvcc: database space exceeded" ctl_at "$endpoint" put small v
  expect_output "deletes are served under NOSPACE" "$written" ctl_at "$endpoint" del quota/ --prefix
  local revision
  revision=$(current_revision "$endpoint")
  expect_output "compaction is served under NOSPACE" "compacted revision $revision" ctl_at "$endpoint" compact "$revision"
  capture ctl_at "$endpoint" defrag
  if [ "$check_status" -eq 0 ]; then pass "defrag succeeds"; else fail "defrag succeeds" "$check_stdout $check_stderr"; fi
  expect_error "puts are still refused until the alarm is disarmed" 1 "Error: etcdserver: mvcc: database space exceeded" ctl_at "$endpoint" put small v
  capture ctl_at "$endpoint" alarm disarm
  if [[ "$check_stdout" == *"alarm:NOSPACE"* ]]; then pass "alarm disarm clears NOSPACE"; else fail "alarm disarm clears NOSPACE" "$check_stdout $check_stderr"; fi
  expect_output "alarm list is empty after disarm" "" ctl_at "$endpoint" alarm list
  expect_output "puts are accepted after compaction, defrag and disarm" "OK" ctl_at "$endpoint" put small v
}

disk_full_checks() {
  local endpoint=127.0.0.1:$((base_port + 10)) mount_point=$work/tmpfs
  mkdir -p "$mount_point"
  if ! mount -t tmpfs -o size=160m tmpfs "$mount_point" 2>"$work/mount.err"; then
    fail "mount a 160 MiB tmpfs for the disk-full checks (needs root)" "$(cat "$work/mount.err")"
    return
  fi
  mounted=$mount_point
  head -c $((40 << 20)) /dev/zero >"$mount_point/filler"
  start_member disk "$mount_point/data" "$((base_port + 10))" || { fail "disk-full member starts" "$(tail -5 "$work/disk.log")"; return; }
  local written
  written=$(fill "$endpoint" disk/ 1000)
  if [ "$written" -lt 1000 ] && grep -q "database space exceeded" "$work/fill.err"; then
    pass "a full disk refuses writes with NOSPACE instead of crashing (after $written puts of 64 KiB)"
  else
    fail "a full disk refuses writes with NOSPACE" "$written puts succeeded; last error: $(cat "$work/fill.err")"
  fi
  if kill -0 "${pids[-1]}" 2>/dev/null; then pass "the member is still running with its disk full"; else fail "the member is still running with its disk full" "$(tail -20 "$work/disk.log")"; fi
  expect_output "reads are served with the disk full" "$big_value" ctl_at "$endpoint" get disk/0 --print-value-only
  capture ctl_at "$endpoint" alarm list
  if [[ "$check_stdout" == *"alarm:NOSPACE"* ]]; then pass "a full disk raises NOSPACE"; else fail "a full disk raises NOSPACE" "$check_stdout $check_stderr"; fi
  rm -f "$mount_point/filler"
  # The log retries its next segment every second; the member then has room again.
  has_room() { grep -q "storage has room again" "$work/disk.log"; }
  if wait_until "room again" 20 has_room; then pass "the member sees the freed space"; else fail "the member sees the freed space" "$(tail -5 "$work/disk.log")"; fi
  ctl_at "$endpoint" alarm disarm >/dev/null 2>&1
  expect_output "writes are accepted once space is freed and the alarm disarmed" "OK" ctl_at "$endpoint" put after-disk-full v
}

echo "quota and disk-full checks against $kind ($server)"
quota_checks
if [ "$kind" = synod ]; then disk_full_checks; fi
finish_suite "quota-and-disk-full"
