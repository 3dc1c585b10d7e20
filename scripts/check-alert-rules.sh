#!/usr/bin/env bash
# Checks the shipped Prometheus alert rules (deploy/prometheus/etcd-alerts.yml) with promtool: their
# syntax, their unit tests (etcd-alerts.test.yml: each alert fires on one member's series and not
# on another's), and that the tests catch broken rules: each mutation below must fail them.
# Needs: promtool (Debian's prometheus package).
set -euo pipefail
rules_dir=$(cd "$(dirname "$0")/../deploy/prometheus" && pwd)
command -v promtool >/dev/null || { echo "FAIL alert rules: promtool not found (apt-get install -y prometheus)" >&2; exit 1; }
promtool check rules "$rules_dir/etcd-alerts.yml"
promtool test rules "$rules_dir/etcd-alerts.test.yml"

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp "$rules_dir/etcd-alerts.test.yml" "$scratch/"
mutations=(
  's/^\( *\)for: .*/\1for: 0m/'               # every alert fires at once
  's/etcd_server_has_leader == 0/etcd_server_has_leader == 2/'
  's/\[15m:1m\]) >= 4/[15m:1m]) >= 40/'
  's/\[5m\])) > 0.5$/[5m])) > 5/'
  's/\[15m\]) > 5$/[15m]) > 50/'
  's/\* 100 > 95$/* 100 > 99/'
)
for mutation in "${mutations[@]}"; do
  sed "$mutation" "$rules_dir/etcd-alerts.yml" >"$scratch/etcd-alerts.yml"
  if cmp -s "$rules_dir/etcd-alerts.yml" "$scratch/etcd-alerts.yml"; then
    echo "FAIL alert rules: the mutation $mutation changed nothing" >&2
    exit 1
  fi
  if promtool test rules "$scratch/etcd-alerts.test.yml" >/dev/null 2>&1; then
    echo "FAIL alert rules: the tests still pass with the rules mutated by $mutation" >&2
    exit 1
  fi
done
echo "PASS alert rules: checked, unit-tested, and the tests fail on all ${#mutations[@]} broken variants"
