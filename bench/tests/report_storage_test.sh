#!/bin/sh
# report_storage_test.sh — the storage section of `make report`
# (bench/report_storage.py: sprint 4's LSM tree against the B+ trees and the
# peers), run by `make -C bench test` (and so by `make test`).
#
# Renders a report whose results hold a tiny kvbench run (model, -n 300)
# and the canned storage results bench/tests/data/storage_results.json,
# each entry expanded into a schema-valid result file (engine "micro",
# workload storage_<phase>_<engine>), and checks: the section and its
# tables; medians over repeats; the amplification and stall figures as
# given; the recommendations' winners and ratios as computed from the
# numbers (and that they follow the numbers when those change); the
# in-memory btree kept out of the rankings; an unsettled store named; a
# report without storage results has no section; a storage result that
# breaks the schema stops the report naming the file. Runs nothing but
# kvbench at -n 300: about 2 s. Each check prints "ok - ..." or
# "not ok - ..."; the last line is "N passed, N failed" and the exit status
# is non-zero when one failed.
set -u

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BIN_DIR=${BIN_DIR:-$LAB_DIR/../build/asan/bin/bench}
KVB=$BIN_DIR/kvbench
REPORT=$LAB_DIR/report.py
CANNED=$LAB_DIR/tests/data/storage_results.json
PY=$(command -v python3)
T=$(mktemp -d "${TMPDIR:-/tmp}/report_storage_test.XXXXXX") || exit 1
[ -n "${KEEP_T:-}" ] || trap 'rm -rf "$T"' EXIT INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
has() { grep -qF -- "$2" "$1"; }
render() { "$PY" "$REPORT" render "$1" >"$T/out" 2>"$T/err"; rc=$?; }
rc_is() { [ "$rc" = "$1" ]; }
# expand DIR [EXPR]: write the canned entries as result files into DIR/results, after
# running the python statement EXPR over the entry list `es` (to change a number).
expand() {
    "$PY" - "$CANNED" "$1/results" "${2:-pass}" <<'EOF'
import glob, json, os, sys
canned, res, expr = sys.argv[1], sys.argv[2], sys.argv[3]
es = json.load(open(canned))["entries"]
exec(expr)
tmpl = json.load(open(sorted(glob.glob(os.path.join(res, "model.readrandom.r*.json")))[0]))
for e in es:
    d = json.loads(json.dumps(tmpl))
    d["engine"], d["options"], d["workload"], d["repeat"] = "micro", "", e["workload"], e["repeat"]
    r = d["result"]
    r["ops_per_sec"] = e["ops_per_sec"]
    for k in ("p50", "p99", "p999"):
        r["latency_ns"][k] = e[k]
    r["latency_ns"]["max"] = max(r["latency_ns"]["max"], e["p999"])
    d["extra"] = dict({"sample_every": 1, "bytes_per_op": 0, "bytes_per_sec": 0}, **e["extra"])
    json.dump(d, open(os.path.join(res, f"micro.{e['workload']}.r{e['repeat']}.json"), "w"))
EOF
}

if [ ! -x "$KVB" ] || ! command -v gnuplot >/dev/null 2>&1; then
    echo "not ok - kvbench at $KVB and gnuplot (scripts/install-deps.sh)"
    echo "0 passed, 1 failed"
    exit 1
fi

"$KVB" -n 300 --repeats 1 --engines model --workloads fillseq,readrandom --out "$T/base/results" \
    >"$T/out" 2>"$T/err"
check "a tiny kvbench run for the page around the section" sh -c "[ -s '$T/base/results/run.json' ]"
fresh() { rm -rf "$T/$1"; cp -r "$T/base" "$T/$1"; }

# ---- no storage results: no section ------------------------------------------------------
fresh none
render "$T/none"
check "without storage results the report renders (exit 0) without the section" \
    sh -c "[ $rc = 0 ] && ! grep -q 'measured amplification' '$T/none/report.md'"

# ---- the canned results, rendered -----------------------------------------------------------
fresh rep
expand "$T/rep"
render "$T/rep"
check "render with the canned storage results exits 0" rc_is 0
[ "$rc" = 0 ] || sed 's/^/# /' "$T/err" | tail -n 20
M=$T/rep/report.md
check "the section is in report.md and index.html" \
    sh -c "grep -q '^## LSM tree or B+ tree: measured amplification (sprint 4)' '$M' && grep -q 'LSM tree or B+ tree: measured amplification (sprint 4)</h2>' '$T/rep/index.html'"
check "the throughput table: one row per engine, LSM trees first" \
    sh -c "[ \$(grep -cE '^\| (lsm|leveldb|rocksdb) \| LSM tree \|' '$M') = 3 ] && [ \$(grep -cE '^\| (cowbtree|btree) \| B\+ tree \|' '$M') = 2 ]"
check "lsm's fill throughput is the median of its three repeats (280K, 300K, 330K)" \
    has "$M" "| lsm | LSM tree | 300K | 2 µs | 9 µs | 50 µs | 400K | 2 µs | 6 µs | 20 µs |"
check "the amplification row of lsm: env and syscalls, load and settled, space, blocks/get" \
    has "$M" "| lsm | 3.00x | 8.00x | 3.00x | 8.00x | 1.30x | 1.10x | 1.20 | 4.79 KiB | 122 MiB |"
check "a peer has no env figures and no block count (n/a, not 0)" \
    has "$M" "| leveldb | n/a | n/a | 4.00x | 10.00x | 1.40x | 1.20x | n/a | 12 B | n/a |"
check "the stall row of lsm: slow puts, stops, and compactions by duration" \
    has "$M" "| lsm | 30 | 4 | 0 | 45 ms | 12 | 3 | 150 ms | 40 ms | 49 | 40 / 7 / 2 / 0 | 450 ms |"
check "an engine that did not settle is named" has "$M" "limit): rocksdb."
check "write-heavy: the LSM tree lsm, 1.20x its runner-up, 3.00x the best B+ tree" \
    has "$M" "Write-heavy, random inserts (fillrandom throughput): pick the LSM tree lsm (ops/s 300K against 250K for the runner-up leveldb: 1.20x better); the best B+ tree, cowbtree, measured 100K, 3.00x worse (in memory, without a disk: btree 1M)."
check "read-heavy: the B+ tree cowbtree, 1.60x the best LSM tree (btree kept out: in memory)" \
    has "$M" "Read-heavy, random point gets (readrandom throughput): pick the B+ tree cowbtree (ops/s 800K against 500K for the runner-up leveldb: 1.60x better)"
check "flash wear: the lower write amplification wins (cowbtree 4.00 against lsm 8.00)" \
    has "$M" "pick the B+ tree cowbtree (write amplification 4.00 against 8.00 for the runner-up lsm: 2.00x better)"
check "disk space: lsm 1.10 against 1.15 (rocksdb), cowbtree 1.36x worse" \
    has "$M" "pick the LSM tree lsm (space amplification 1.10 against 1.15 for the runner-up rocksdb: 1.05x better); the best B+ tree, cowbtree, measured 1.50, 1.36x worse."
check "blocks per get: cowbtree 0.60 against lsm 1.20" \
    has "$M" "pick the B+ tree cowbtree (blocks per get 0.60 against 1.20 for the runner-up lsm: 2.00x better)"
check "the LSM/B+ tree summary sentence from the numbers" \
    has "$M" "the fastest-writing LSM tree, lsm, against the fastest-writing durable B+ tree, cowbtree: puts 3.00x as fast; gets 0.50x as fast; write amplification 8.00 against 4.00; space amplification 1.10 against 1.50; blocks read per get 1.20 against 0.60."
check "N is derived from the user bytes (116 per key)" has "$M" "LSM tree against B+ tree at N = 1,000,000:"

# ---- the text follows the numbers ---------------------------------------------------------
fresh moved
expand "$T/moved" "[e.update(ops_per_sec=600000) for e in es if e['workload'] == 'storage_fillrandom_leveldb']; [e['extra'].update(settled_space_amp=1.1) for e in es if e['workload'] == 'storage_fillrandom_cowbtree']"
render "$T/moved"
check "leveldb at 600K puts/s becomes the write-heavy pick, 2.00x lsm" \
    sh -c "[ $rc = 0 ] && grep -qF 'pick the LSM tree leveldb (ops/s 600K against 300K for the runner-up lsm: 2.00x better)' '$T/moved/report.md'"
check "equal space amplification across families is a tie, not a win" \
    grep -qF 'Disk space (file bytes / live user bytes, settled): pick either family: lsm, tied with cowbtree (space amplification 1.10 and 1.10).' "$T/moved/report.md"
fresh nobt
expand "$T/nobt" "es[:] = [e for e in es if 'btree' not in e['workload']]"
render "$T/nobt"
check "without the B+ trees: no family comparison, the LSM trees still ranked" \
    sh -c "[ $rc = 0 ] && ! grep -q 'fastest-writing durable B+ tree' '$T/nobt/report.md' && grep -qF 'pick the LSM tree lsm (ops/s 300K' '$T/nobt/report.md'"

# ---- results the report must refuse ---------------------------------------------------------
fresh bad
expand "$T/bad"
"$PY" - "$T/bad/results/micro.storage_readrandom_lsm.r0.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
d["extra"]["blocks_per_get"] = "many"
json.dump(d, open(sys.argv[1], "w"))
EOF
render "$T/bad"
check "a storage result whose figure is not a number stops the report (exit 1) by name" \
    sh -c "[ $rc = 1 ] && grep -q 'micro.storage_readrandom_lsm.r0.json' '$T/err' && grep -q 'blocks_per_get' '$T/err'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
