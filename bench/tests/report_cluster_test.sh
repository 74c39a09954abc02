#!/bin/sh
# report_cluster_test.sh — the cluster section of `make report`
# (bench/report_cluster.py), run by `make -C bench test` (and so by `make test`).
#
# Renders a report whose cluster directory holds the small canned result
# bench/tests/data/cluster_bench.json (kvnode against etcd: throughput,
# check perf, three failover trials each) beside a tiny kvbench run (model,
# two workloads, -n 300), and checks the section's tables and the figures
# derived from them (the 16-client put ratio, the worst write gap ratio,
# the elections under 1 s, a trial with no new leader); that a result
# breaking common/schema/cluster.schema.json or holding NaN stops the
# report naming the file and the field; that a skipped run says why (etcd
# missing, no binaries, no --cluster-bindir); and that a benchmark over its
# time limit is stopped with everything it started. It runs no cluster:
# about 2 s. Each check prints "ok - ..." or "not ok - ..."; the last line
# is "N passed, N failed" and the exit status is non-zero when one failed.
set -u

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BIN_DIR=${BIN_DIR:-$LAB_DIR/../build/asan/bin/bench}
KVB=$BIN_DIR/kvbench
REPORT=$LAB_DIR/report.py
CANNED=$LAB_DIR/tests/data/cluster_bench.json
PY=$(command -v python3)
T=$(mktemp -d "${TMPDIR:-/tmp}/report_cluster_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
has() { grep -qF -- "$2" "$1"; }
# render DIR: report.py render, output in $T/out and $T/err, status in $rc.
render() { "$PY" "$REPORT" render "$1" >"$T/out" 2>"$T/err"; rc=$?; }
rc_is() { [ "$rc" = "$1" ]; }
# rc_py EXPR...: python with bench/ on the path (report_cluster importable).
rc_py() { PYTHONPATH=$LAB_DIR "$PY" -c "$@"; }
# jset FILE EXPR: edit a JSON file with a python statement over `d`.
jset() {
    "$PY" - "$1" "$2" <<'EOF'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
d = json.load(open(path))
exec(expr)
json.dump(d, open(path, "w"), indent=1)
EOF
}

if [ ! -x "$KVB" ] || ! command -v gnuplot >/dev/null 2>&1; then
    echo "not ok - kvbench at $KVB and gnuplot (scripts/install-deps.sh)"
    echo "0 passed, 1 failed"
    exit 1
fi

# A report directory: a tiny kvbench run, then the cluster's files.
"$KVB" -n 300 --repeats 1 --engines model --workloads fillseq,readrandom --out "$T/base/results" \
    >"$T/out" 2>"$T/err"
check "a tiny kvbench run for the page around the section" sh -c "[ -s '$T/base/results/run.json' ]"
fresh() { rm -rf "$T/$1"; cp -r "$T/base" "$T/$1"; mkdir -p "$T/$1/cluster"; }

# ---- the canned result, rendered ----------------------------------------------------
fresh rep
cp "$CANNED" "$T/rep/cluster/cluster_bench.json"
render "$T/rep"
check "render with the canned cluster result exits 0" rc_is 0
[ "$rc" = 0 ] || sed 's/^/# /' "$T/err" | tail -n 20
M=$T/rep/report.md
check "the section is in report.md and index.html" \
    sh -c "grep -q '^## Raft cluster (sprint 5) against etcd' '$M' && grep -q 'Raft cluster (sprint 5) against etcd</h2>' '$T/rep/index.html'"
check "the throughput table: one row per cluster, op and client count" \
    sh -c "[ \$(grep -cE '^\| (kvnode|etcd) \| (put|get) \| (1|16) \|' '$M') = 8 ]"
check "a row carries ops/s, p50 and p99 as measured" has "$M" "| kvnode | put | 16 | 2400 | 5.28 | 30.95 | 0 |"
check "the 16-client put ratio kvnode / etcd is 2400 / 800" has "$M" "Put throughput with 16 clients, kvnode / etcd: 3.00x"
check "etcdctl check perf's verdict is quoted" has "$M" "FAIL: Throughput too low: 112 writes/s"
check "the failover table: three trials per cluster" \
    sh -c "[ \$(grep -cE '^\| (kvnode|etcd) \| [123] \| ' '$M') = 6 ]"
check "a trial without a new leader says so (not 0 ms)" has "$M" "| etcd | 2 | none in 10 s | 800 |"
check "elections under 1 s: 2 of 3 for kvnode (1250 ms is not)" has "$M" "kvnode: a new leader in under 1 s in 2 of 3 trials."
check "elections under 1 s: 1 of 3 for etcd (no leader is not fast)" has "$M" "etcd: a new leader in under 1 s in 1 of 3 trials."
check "the worst write gap ratio is max over max: 400 / 1600" has "$M" "Worst write gap, kvnode / etcd: 0.25x"
check "the run's load average and wall time are stated" sh -c "grep -q 'Load average 4.5 before, 6.2 after' '$M' && grep -q 'the run took 131 s' '$M'"

# ---- kvnode alone: no ratios ----------------------------------------------------------
fresh solo
cp "$CANNED" "$T/solo/cluster/cluster_bench.json"
jset "$T/solo/cluster/cluster_bench.json" "d['clusters']=['kvnode']; d['throughput']=[r for r in d['throughput'] if r['cluster']=='kvnode']; del d['failover']['etcd']; d['check_perf']=[]"
render "$T/solo"
check "a kvnode-only result renders (exit 0) without ratios" \
    sh -c "[ $rc = 0 ] && grep -q '| kvnode | put | 1 |' '$T/solo/report.md' && ! grep -q 'kvnode / etcd' '$T/solo/report.md'"

# ---- results the report must refuse -------------------------------------------------------
fresh bad
cp "$CANNED" "$T/bad/cluster/cluster_bench.json"
jset "$T/bad/cluster/cluster_bench.json" "del d['throughput'][3]['p99_ms']"
render "$T/bad"
check "a throughput entry without p99 stops the report (exit 1)" rc_is 1
check "naming the file and the field" sh -c "grep -q 'cluster/cluster_bench.json' '$T/err' && grep -q '/throughput/3/p99_ms' '$T/err'"
cp "$CANNED" "$T/bad/cluster/cluster_bench.json"
jset "$T/bad/cluster/cluster_bench.json" "d['failover']['kvnode'][1]['write_gap_ms']=-5"
render "$T/bad"
check "a negative write gap is refused (exit 1) by name" sh -c "[ $rc = 1 ] && grep -q '/failover/kvnode/1/write_gap_ms' '$T/err'"
cp "$CANNED" "$T/bad/cluster/cluster_bench.json"
jset "$T/bad/cluster/cluster_bench.json" "d['schema']='kvlabs-cluster-bench/0'"
render "$T/bad"
check "another schema version is refused (exit 1)" sh -c "[ $rc = 1 ] && grep -q '/schema' '$T/err'"
sed 's/"p50_ms": 1.95/"p50_ms": NaN/' "$CANNED" >"$T/bad/cluster/cluster_bench.json"
render "$T/bad"
check "NaN (not JSON) is refused (exit 1) naming the file" sh -c "[ $rc = 1 ] && grep -q 'cluster_bench.json: cannot parse' '$T/err'"

# ---- skipped, and why ------------------------------------------------------------------------
fresh skip
echo "etcd and etcdctl not installed (scripts/install-deps.sh: etcd-server, etcd-client)" \
    >"$T/skip/cluster/skipped.txt"
render "$T/skip"
check "a skipped run renders (exit 0) and states the reason" \
    sh -c "[ $rc = 0 ] && grep -q '^Not measured in this run: etcd and etcdctl not installed' '$T/skip/report.md'"
rm -rf "$T/skip/cluster"
render "$T/skip"
check "no cluster directory at all: the section says there are no results" \
    sh -c "[ $rc = 0 ] && grep -q 'Not measured in this run: no cluster results' '$T/skip/report.md'"
rc_py "import report_cluster as c; c.run('$T/r1', '')" >/dev/null
check "run() without --cluster-bindir records why" grep -q "no --cluster-bindir" "$T/r1/cluster/skipped.txt"
rc_py "import os; os.environ['PATH'] = '/nonexistent'; import report_cluster as c; c.run('$T/r2', '$T')" >/dev/null
check "run() without etcd on PATH records that etcd is missing" grep -q "etcd and etcdctl not installed" "$T/r2/cluster/skipped.txt"
rc_py "import report_cluster as c; c.shutil.which = lambda t: '/bin/true'; c.run('$T/r3', '$T/nobin')" >/dev/null
check "run() with no kvnode binary records that it is not built" grep -q "nobin/kvnode is not built" "$T/r3/cluster/skipped.txt"

# ---- the time limit: the benchmark and what it started are stopped ------------------------------
mkdir -p "$T/fakebin"
printf '#!/bin/sh\nexit 0\n' >"$T/fakebin/kvnode"
cp "$T/fakebin/kvnode" "$T/fakebin/cluster_load"
chmod +x "$T/fakebin/kvnode" "$T/fakebin/cluster_load"
cat >"$T/slow.py" <<EOF
import subprocess, sys, time
child = subprocess.Popen(["sleep", "60"])
open("$T/child.pid", "w").write(str(child.pid))
time.sleep(60)
EOF
t0=$(date +%s)
rc_py "import report_cluster as c; c.shutil.which = lambda t: '/bin/true'; c.SCRIPT = '$T/slow.py'; c.run('$T/r4', '$T/fakebin', limit=1)" >/dev/null 2>&1
t1=$(date +%s)
check "a benchmark over its limit is stopped and recorded as such" grep -q "ran out of its 1 s" "$T/r4/cluster/skipped.txt"
check "within seconds of the limit (took $((t1 - t0)) s)" [ $((t1 - t0)) -le 20 ]
# gone PID: no such process, or a zombie waiting for its new parent to reap it.
gone() { s=$(ps -o stat= -p "$1" 2>/dev/null); [ -z "$s" ] || [ "${s#Z}" != "$s" ]; }
child=$(cat "$T/child.pid" 2>/dev/null || echo 0)
i=0
while [ "$child" != 0 ] && ! gone "$child" && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
child_gone() { [ "$child" != 0 ] && gone "$child"; }
check "and what it started is gone too (pid $child)" child_gone

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
