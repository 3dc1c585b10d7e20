#!/usr/bin/env bash
# Installs what the compatibility suite needs on a Debian machine, as root, without a virtualenv:
# etcdctl 3.4 (etcd-client), nc (netcat-openbsd, for one shell-level garbage check), curl (the HTTP
# endpoints beside gRPC), promtool (Debian's prometheus, for the alert rules), tcpdump (the
# heartbeat monitor of faults/read_storm.py), chromium (headless, for dashboard.py) and
# python-etcd3 with the protobuf it still works with, and for the ZooKeeper suite Debian's ZooKeeper
# 3.8 (its jars, run by Tests/compat/zookeeper/run.sh), kazoo, and Curator 5 with a JDK to compile
# the suite's Curator program. --with-etcd-server also installs
# the real etcd 3.4, to run the suite against it:
# Tests/compat/run.sh /usr/bin/etcd
set -euo pipefail
packages=(etcd-client netcat-openbsd curl tcpdump chromium zookeeper libcurator-framework-java libcurator-recipes-java default-jdk-headless)
[ "${1:-}" = --with-etcd-server ] && packages+=(etcd-server)
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
# promtool, for scripts/check-alert-rules.sh; without the exporters Debian recommends.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
# The exact line recorded in requirements.txt.
pip install etcd3==0.12.0 protobuf==3.20.3 kazoo==2.11.0
