#!/bin/sh
# conf_raft.sh — the conformance suite on engine raft against a fresh local
# 3-node cluster: `make -C sprint-5-production-features conf-raft`.
#
# Starts `kvnode cluster up 3` ($KVNODE, default the kvnode beside the
# conformance binary in $BIN_DIR; make conf-raft passes the release one, whose
# nodes are several times faster than ASan's) in a fresh directory, runs the conformance binary with
# KV_CONF_ENGINE=raft:cluster=DIR/cluster.conf (every case in its own
# keyspace, the case's temporary path), then stops the cluster by the pid
# it started and removes the directory. Extra arguments go to the binary
# (e.g. --filter 'conf_basic/*', -j2). The cases about files, their modes
# and damage, and the fault env's crashes are skipped by the suite itself
# with the reason (the engine has KV_CAP_REMOTE); the rest run against the
# cluster, every write replicated and fsynced by a majority, so the whole
# suite takes minutes (not in make test). Exit status: the binary's.
set -u
BIN_DIR=${BIN_DIR:?set BIN_DIR to the lab bin directory}
KVNODE=${KVNODE:-$BIN_DIR/kvnode}
# The nodes' data goes to tmpfs (/dev/shm) when there is one: an fsync there
# costs microseconds instead of milliseconds, and the suite's cases run one
# synchronous call after another (20,000 puts in conf_basic/many_keys), so
# on a disk they measure its fsync latency (about 3 ms a put on the lab
# machine, against the suite's 60 s per case) rather than the contract. The
# nodes still persist and fsync everything in the same order; surviving a
# node's crash is what the fault tests (faults.c) check, on a disk.
# CONF_RAFT_DATA= chooses the directory.
DATA=${CONF_RAFT_DATA:-}
if [ -z "$DATA" ]; then
    if [ -d /dev/shm ] && [ -w /dev/shm ]; then DATA=/dev/shm; else DATA=${TMPDIR:-/tmp}; fi
fi
D=$(mktemp -d "$DATA/kvl-conf-raft.XXXXXX") || exit 1
"$KVNODE" cluster up 3 --dir "$D/c" >"$D/up.out" 2>&1 &
UP=$!
stop() {
    kill -TERM "$UP" 2>/dev/null
    wait "$UP" 2>/dev/null
    rm -rf "$D"
}
trap 'stop; exit 1' INT TERM
i=0
while [ ! -s "$D/c/cluster.conf" ] || ! grep -q "cluster file" "$D/up.out"; do
    i=$((i + 1))
    if [ $i -gt 100 ] || ! kill -0 "$UP" 2>/dev/null; then
        echo "conf_raft: the cluster did not start:"; cat "$D/up.out"; stop; exit 1
    fi
    sleep 0.1
done
KV_CONF_ENGINE="raft:cluster=$D/c/cluster.conf" "$BIN_DIR/conformance" "$@"
rc=$?
stop
exit $rc
