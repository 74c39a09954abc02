#!/bin/sh
# kvbench_test.sh — end-to-end tests of kvbench and the report, run by
# `make -C bench test` (and so by `make test`).
#
# Uses the kvbench binary from $BIN_DIR and bench/report.py from $LAB_DIR
# (both set by the make rules), in a fresh temporary directory:
#   --list; a tiny run (-n 300, one repeat) of every workload on model and
#   on every peer, every result file present and valid; the regression gate
#   on the run itself and on synthetic copies (-10% throughput, +20% p99,
#   -3% throughput); the summary's CV and unstable flag on synthetic
#   repeats; physical at small sizes; --procs refused and accepted; bad
#   --engines options; threads and warm-up; the memory figures of the load
#   (a process of its own, RSS, heap, the engine's count) and the
#   durability class; the report generator, both rendering the smoke
#   results and running end to end, refusing a broken or invalid result
#   file by name, ranking within each class, showing memory figures that
#   disagree, and stating its own wall time; sprint 4's storage
#   micro-benchmarks (amplification figures at N=300 and, past lsm's write
#   buffer, at N=40000) and --micros prefixes.
# Each check prints "ok - ..." or "not ok - ..."; the last line is
# "N passed, N failed" and the exit status is non-zero when a check failed.
set -u

LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
BIN_DIR=${BIN_DIR:-$LAB_DIR/../build/asan/bin/bench}
KVB=$BIN_DIR/kvbench
REPORT=$LAB_DIR/report.py
T=$(mktemp -d "${TMPDIR:-/tmp}/kvbench_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM

pass=0 fail=0
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "not ok - $1"; }
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# run ARGS...: kvbench with stdout in $T/out, stderr in $T/err, status in $rc.
run() { "$KVB" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
rc_is() { [ "$rc" = "$1" ]; }
has() { grep -q -- "$2" "$1"; }
nonempty() { [ -s "$1" ]; }
# jset FILE EXPR: edit a result file with a python expression over `d`.
jset() {
    python3 - "$1" "$2" <<'EOF'
import json, sys
path, expr = sys.argv[1], sys.argv[2]
d = json.load(open(path))
exec(expr)
json.dump(d, open(path, "w"), indent=2)
EOF
}

if [ ! -x "$KVB" ]; then
    echo "not ok - kvbench binary at $KVB"
    echo "0 passed, 1 failed"
    exit 1
fi

ENGINES="model leveldb rocksdb lmdb sqlite"
WORKLOADS="fillseq fillrandom overwrite readrandom readmissing readseq scan ycsb-a ycsb-b ycsb-c ycsb-d ycsb-e ycsb-f deleterandom"

# ---- --list -------------------------------------------------------------------
run --list
check "--list exits 0" rc_is 0
for e in $ENGINES; do
    check "--list shows engine $e" has "$T/out" "^  $e "
done
for w in $WORKLOADS; do
    check "--list shows workload $w" has "$T/out" "^  $w "
done
check "--list shows the micro-benchmarks" sh -c "grep -q '^  crc32c_4k ' '$T/out' && grep -q '^  xxh3_4k ' '$T/out'"
check "--list marks the peers and model" sh -c "grep -q '^  lmdb  *peer ' '$T/out' && grep -q '^  model  *reference ' '$T/out'"

# ---- the smoke run: every workload on model and every peer ------------------------
S=$T/smoke
run -n 300 --repeats 1 --engines 'model;leveldb;rocksdb;lmdb;sqlite' --micros all --out "$S"
check "smoke run of every workload on model and the peers exits 0" rc_is 0
[ "$rc" = 0 ] || sed 's/^/# /' "$T/err" | tail -n 20
missing=0
for e in $ENGINES; do
    for w in $WORKLOADS; do
        [ -s "$S/$e.$w.r0.json" ] || { missing=$((missing + 1)); echo "# missing $e.$w.r0.json"; }
    done
done
check "one result file per engine and workload (70)" [ "$missing" = 0 ]
check "micro-benchmark results (engine micro)" sh -c "[ -s '$S/micro.crc32c_4k.r0.json' ] && [ -s '$S/micro.xxh3_4k.r0.json' ]"
check "run.json and summary.json written" sh -c "[ -s '$S/run.json' ] && [ -s '$S/summary.json' ]"
check "the data directory was removed" sh -c "! ls -d '$S'/.kvbench-data.* >/dev/null 2>&1"
check "the labs' micro-benchmarks ran too (sprint 3's btree_*)" sh -c "[ -s '$S/micro.btree_get_1m.r0.json' ] && [ -s '$S/micro.btree_scan1000_1m.r0.json' ] && [ -s '$S/micro.btree_bulk_load_10k.r0.json' ]"
# 70 engine results plus one per linked micro-benchmark
NFILES=$((70 + $(ls "$S"/micro.*.r0.json 2>/dev/null | wc -l)))
"$KVB" validate "$S"/*.r0.json >"$T/val" 2>&1
vrc=$?
check "kvbench validate accepts all $NFILES files" sh -c "[ $vrc = 0 ] && [ \$(grep -c '^ok ' '$T/val') = $NFILES ]"
# sprint 4's storage benchmarks (benchmarks/storage_benchmarks.c): ten micro-benchmarks
# with their amplification figures in "extra"
nst=0
for e in lsm cowbtree btree leveldb rocksdb; do
    for p in fillrandom readrandom; do [ -s "$S/micro.storage_${p}_$e.r0.json" ] && nst=$((nst + 1)); done
done
check "storage_{fillrandom,readrandom}_{lsm,cowbtree,btree,leveldb,rocksdb}: 10 results" [ "$nst" = 10 ]
sj() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); x=d['extra']; r=d['result']; sys.exit(0 if ($2) else 1)" "$S/micro.$1.r0.json"; }
check "lsm fill: env and syscall write amplification agree and are >= 1 (the WAL)" \
    sj storage_fillrandom_lsm "x['load_env_write_amp'] >= 1 and abs(x['load_env_write_amp'] - x['load_sys_write_amp']) < 0.01 and x['user_bytes'] == 300 * 116"
check "lsm fill: space amplification, settling and the engine's stall counters recorded" \
    sj storage_fillrandom_lsm "x['load_space_amp'] >= 1 and x['settled'] == 1 and 'stall_stops' in x and 'compact_lt10ms' in x and r['errors'] == 0"
check "leveldb fill: syscall write amplification only (its I/O bypasses the env)" \
    sj storage_fillrandom_leveldb "x['load_sys_write_amp'] >= 1 and 'load_env_write_amp' not in x and x['settled_space_amp'] > 0"
check "btree fill: in memory, so no disk figures and nothing written" \
    sj storage_fillrandom_btree "'load_space_amp' not in x and x['load_sys_write_amp'] == 0"
check "readrandom: every get hit its value; lsm and cowbtree count blocks, the peers do not" \
    sh -c "for e in lsm cowbtree btree leveldb rocksdb; do grep -q '\"errors\": 0' '$S/micro.storage_readrandom_'\$e'.r0.json' || exit 1; done; grep -q blocks_per_get '$S/micro.storage_readrandom_lsm.r0.json' && grep -q blocks_per_get '$S/micro.storage_readrandom_cowbtree.r0.json' && ! grep -q blocks_per_get '$S/micro.storage_readrandom_rocksdb.r0.json'"
# A micro-benchmark that starts RocksDB's process-wide background threads
# must not leave them behind for a later forked RocksDB stage (which would
# inherit the library without its threads and wait forever for a flush):
# every micro runs in a child of its own.
H="$T/micro_then_stage"
timeout 120 "$KVB" -n 20000 --repeats 2 --engines rocksdb --workloads fillrandom,overwrite \
    --micros storage_fillrandom_rocksdb --out "$H" --quiet >"$T/out" 2>"$T/err"; hrc=$?
check "RocksDB stages after a RocksDB micro-benchmark finish (no hang; exit $hrc)" \
    sh -c "[ $hrc = 0 ] && [ -s '$H/rocksdb.overwrite.r1.json' ]"
check "a smoke result counts 300 operations without errors" \
    sh -c "grep -q '\"ops\": 300,' '$S/lmdb.readrandom.r0.json' && grep -q '\"errors\": 0' '$S/lmdb.readrandom.r0.json'"
check "readrandom found every key" grep -q '"found": 300' "$S/sqlite.readrandom.r0.json"
check "readmissing found none" grep -q '"not_found": 300' "$S/rocksdb.readmissing.r0.json"
check "deleterandom deleted every key" grep -q '"errors": 0' "$S/leveldb.deleterandom.r0.json"
check "ycsb-e scans 30 times (n/10)" grep -q '"ops": 30,' "$S/model.ycsb-e.r0.json"
check "results record the load's disk size" grep -q '"load_disk_bytes"' "$S/leveldb.ycsb-c.r0.json"
# jget FILE EXPR: print a python expression over the result `d` (its extra is `x`).
jget() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); x=d.get('extra',{}); print($2)" "$1"; }
check "results record the load's RSS, the engine's count and a fresh process" \
    [ "$(jget "$S/sqlite.ycsb-c.r0.json" "'load_mem_bytes' in x and 'load_engine_mem_bytes' in x and x['load_fresh_process']")" = 1 ]
check "the load ran in its own process, apart from fillseq" \
    [ "$(jget "$S/model.readrandom.r0.json" "x['fresh_process']")-$(jget "$S/model.fillseq.r0.json" "x['fresh_process']")" = 1-1 ]
check "results record durability from kv_caps: lmdb durable, model not" \
    [ "$(jget "$S/lmdb.readrandom.r0.json" "x['durable']")-$(jget "$S/model.readrandom.r0.json" "x['durable']")-$(jget "$S/lmdb.readrandom.r0.json" "int(x['caps']) & 2")" = 1-0-2 ]
cp "$S/model.scan.r0.json" "$T/bad.json"
jset "$T/bad.json" 'd["result"]["ops"] = -1'
run validate "$T/bad.json"
check "kvbench validate refuses a bad file (exit 1, names the field)" sh -c "[ $rc = 1 ] && grep -q '/result/ops' '$T/out'"

# ---- storage benchmarks past the memtable, and --micros prefixes ------------------------
# 40,000 keys (4.6 MB of user data) pass lsm's 4 MiB write buffer: a flush writes a
# table, so writes are amplified past the WAL alone and gets read blocks from files.
run -n 40000 --repeats 1 --workloads none --micros 'storage_fillrandom_lsm,storage_readrandom_lsm' \
    --out "$T/st" --quiet
check "storage run of lsm at N=40000 exits 0" rc_is 0
S2=$T/st
st2() { python3 -c "import json,sys; d=json.load(open(sys.argv[1])); x=d['extra']; sys.exit(0 if ($2) else 1)" "$S2/micro.$1.r0.json"; }
check "lsm at 40000: a flush, and settled write amplification above the WAL's (> 1.5)" \
    st2 storage_fillrandom_lsm "x['flushes'] >= 1 and x['settled_env_write_amp'] > 1.5 and x['settled_files'] >= 2"
# (lsm maps its tables when the env can: a block read is then no env read,
# so env_bytes_read_per_get may be 0; the block count is what is checked.)
check "lsm at 40000: blocks read from files per get is counted (> 0, < 2)" \
    st2 storage_readrandom_lsm "0 < x['blocks_per_get'] < 2 and x['env_bytes_read_per_get'] >= 0"
run -n 200 --repeats 1 --workloads none --micros 'storage_fillrandom_l*' --out "$T/pre" --quiet
check "--micros 'storage_fillrandom_l*' runs exactly lsm's and leveldb's" \
    sh -c "[ $rc = 0 ] && [ \$(ls '$T/pre'/micro.*.r0.json | wc -l) = 2 ] && [ -s '$T/pre/micro.storage_fillrandom_leveldb.r0.json' ]"
run -n 200 --repeats 1 --workloads none --micros 'nosuch_*' --out "$T/pre2"
check "--micros with a prefix nothing matches is a usage error (exit 2)" \
    sh -c "[ $rc = 2 ] && grep -q \"no micro-benchmark matches 'nosuch_\\*'\" '$T/err'"

# ---- the regression gate ---------------------------------------------------------
run compare "$S" "$S"
check "compare of a result set with itself exits 0" rc_is 0
check "compare prints a table with every match" has "$T/out" "compare: $NFILES matched, 0 regressions"
mkdir -p "$T/cut" "$T/slow" "$T/small"
cp "$S"/*.r0.json "$T/cut/"; cp "$S"/*.r0.json "$T/slow/"; cp "$S"/*.r0.json "$T/small/"
jset "$T/cut/lmdb.readrandom.r0.json" 'd["result"]["ops_per_sec"] *= 0.90'
run compare "$S" "$T/cut"
check "throughput -10% fails the gate (exit 1)" rc_is 1
check "and names the regression" sh -c "grep -E '^lmdb +readrandom .*REGRESSION throughput' '$T/out' >/dev/null"
jset "$T/slow/rocksdb.ycsb-a.r0.json" 'd["result"]["latency_ns"]["p99"] = int(d["result"]["latency_ns"]["p99"] * 1.2) + 1'
run compare "$S" "$T/slow"
check "p99 +20% fails the gate (exit 1)" rc_is 1
check "and names it" sh -c "grep -E '^rocksdb +ycsb-a .*REGRESSION.* p99' '$T/out' >/dev/null"
jset "$T/small/sqlite.fillrandom.r0.json" 'd["result"]["ops_per_sec"] *= 0.97'
run compare "$S" "$T/small"
check "throughput -3% passes the gate (exit 0)" rc_is 0
run compare "$S" "$T/cut" --max-throughput-drop 15
check "--max-throughput-drop 15 lets -10% pass" rc_is 0
run compare "$S" "$T/nosuch"
check "compare with a missing directory is a usage error (exit 2)" rc_is 2

# ---- summary: CV and the unstable flag on synthetic repeats -----------------------
R=$T/repeats
mkdir -p "$R"
for k in 0 1 2; do
    cp "$S/model.readrandom.r0.json" "$R/model.readrandom.r$k.json"
    cp "$S/model.readmissing.r0.json" "$R/model.readmissing.r$k.json"
done
for k in 0 1 2; do
    f=$(echo "100 102 98" | cut -d' ' -f$((k + 1)))
    g=$(echo "100 110 90" | cut -d' ' -f$((k + 1)))
    jset "$R/model.readrandom.r$k.json" "d['repeat'] = $k; d['result']['ops_per_sec'] = $f * 1000.0"
    jset "$R/model.readmissing.r$k.json" "d['repeat'] = $k; d['result']['ops_per_sec'] = $g * 1000.0"
done
run summary "$R"
check "summary exits 0" rc_is 0
check "summary: 3 repeats, median 100K, CV 2.0%, stable" sh -c "grep -E '^model +readrandom +3 +100.0K +2.0% .*stable' '$T/out' >/dev/null"
check "summary: CV 10.0% is flagged unstable" sh -c "grep -E '^model +readmissing +3 +100.0K +10.0% .* unstable' '$T/out' >/dev/null"
check "summary.json carries the flag" python3 -c "
import json,sys
e={(x['engine'],x['workload']):x for x in json.load(open('$R/summary.json'))['entries']}
a,b=e[('model','readrandom')],e[('model','readmissing')]
sys.exit(0 if not a['unstable'] and b['unstable'] and abs(b['ops_per_sec']['cv']-0.1)<1e-9 and b['ops_per_sec']['median']==100000 else 1)"
run compare "$R" "$R"
check "compare marks unstable figures" sh -c "grep -E '^model +readmissing .*~.*ok \(unstable: throughput' '$T/out' >/dev/null && grep -q '1 unstable' '$T/out'"
mkdir -p "$T/r2"; cp "$R"/*.json "$T/r2/"
for k in 0 1 2; do jset "$T/r2/model.readmissing.r$k.json" "d['result']['ops_per_sec'] *= 0.8"; done
run compare "$R" "$T/r2"
check "and still gates them (an unstable -20% fails)" sh -c "[ $rc = 1 ] && grep -E '^model +readmissing .*REGRESSION throughput \(unstable' '$T/out' >/dev/null"

# ---- physical -------------------------------------------------------------------------
run physical --out "$T/phys" --mem-mib 4 --write-mib 2 --fsyncs 10 --max-seconds 5
check "physical at small sizes exits 0" rc_is 0
check "physical.json has the three figures" python3 -c "
import json,sys
p=json.load(open('$T/phys/physical.json'))
sys.exit(0 if p['memcpy']['gb_per_s']>0 and p['seq_write']['mb_per_s']>0 and p['fsync']['count']==10 and p['fsync']['p99_ns']>=p['fsync']['p50_ns']>0 else 1)"
check "physical prints its summary line" has "$T/out" "^physical: memcpy .* GB/s; sequential write .* MB/s; fsync p50"

# ---- --procs, --threads, warm-up, bad options -------------------------------------------
run -n 300 --repeats 1 --procs 2 --engines leveldb --out "$T/p"
check "--procs 2 on leveldb is refused (exit 2)" rc_is 2
check "with a clear message" sh -c "grep -q \"engine 'leveldb'\" '$T/err' && grep -q KV_CAP_MULTIPROC '$T/err'"
check "and nothing was written" sh -c "! ls '$T/p'/*.json >/dev/null 2>&1"
run -n 300 --repeats 1 --procs 2 --engines 'lmdb;sqlite' --workloads fillrandom,readrandom,ycsb-d,scan --out "$T/p"
check "--procs 2 on lmdb and sqlite is accepted (exit 0)" rc_is 0
[ "$rc" = 0 ] || sed 's/^/# /' "$T/err" | tail -n 20
check "and records procs 2" sh -c "grep -q '\"procs\": 2' '$T/p/lmdb.readrandom.r0.json' && grep -q '\"procs\": 2' '$T/p/sqlite.ycsb-d.r0.json'"
check "with every operation done" grep -q '"ops": 300,' "$T/p/sqlite.readrandom.r0.json"
run -n 1000 --ops 200 --repeats 1 --scan-len 7 --engines btree --workloads scan --out "$T/sl"
check "--scan-len 7: 20 scans read 7 keys each, recorded as scan_len" sh -c "[ $rc = 0 ] &&
    grep -q '\"keys_scanned\", *\"value\": 140[,}]\|\"keys_scanned\": 140[,}]' '$T/sl/btree.scan.r0.json' &&
    grep -q 'scan_len' '$T/sl/btree.scan.r0.json'"
run -n 300 --scan-len 0 --out "$T/b"
check "--scan-len 0 is exit 2" rc_is 2
run -n 300 --repeats 1 --engines model:bogus=1 --out "$T/b"
check "a bad engine option is a usage error (exit 2)" rc_is 2
check "naming the option" sh -c "grep -q \"engine 'model'\" '$T/err' && grep -q bogus '$T/err'"
run -n 300 --engines nosuch --out "$T/b"
check "an unknown engine is exit 2 naming it" sh -c "[ $rc = 2 ] && grep -q nosuch '$T/err'"
run -n 300 --workloads readrandom,nosuch --out "$T/b"
check "an unknown workload is exit 2" rc_is 2
run -n 300 --key-size 3 --out "$T/b"
check "a key size below 6 is exit 2" rc_is 2
run -n 600 --repeats 1 --threads 2 --warmup-ops 100 --engines model --workloads readrandom,ycsb-a,fillseq --out "$T/t"
check "--threads 2 with warm-up runs (exit 0)" rc_is 0
check "threads 2 and the warm-up are recorded" sh -c "grep -q '\"threads\": 2' '$T/t/model.readrandom.r0.json' && grep -q '\"warmup_ops\": 100' '$T/t/model.ycsb-a.r0.json'"
check "fills take no warm-up" grep -q '"warmup_ops": 0' "$T/t/model.fillseq.r0.json"
check "the split still does every operation" grep -q '"ops": 600,' "$T/t/model.readrandom.r0.json"
run -n 300 --repeats 1 --engines 'model:durable=true' --workloads readrandom --cache 1M --keep --dir "$T/keep" --out "$T/k"
check "--cache, --keep and --dir" sh -c "[ $rc = 0 ] && grep -q '\"options\": \"durable=true,cache=1M\"' '$T/k/model_durable_true.readrandom.r0.json' && ls -d '$T/keep'/kvbench.*/model_durable_true.r0 >/dev/null"
check "durability follows the open store's kv_caps (model:durable=true is durable)" \
    [ "$(jget "$T/k/model_durable_true.readrandom.r0.json" "x['durable']")" = 1 ]

# ---- memory of the load: a process of its own ------------------------------------------
# fillseq's store is freed before the load; were the load run in the same
# process, its "before" RSS would include what fillseq left resident (a
# 40 KiB "growth" for a 15 MB keydir once). Run apart, both stages start
# from the same baseline.
run -n 20000 --repeats 1 --engines model --workloads fillseq,fillrandom --out "$T/m"
check "fillseq then the load on model (exit 0)" rc_is 0
check "the load's RSS baseline does not include what fillseq left (within 1/4 of fillseq's growth)" python3 -c "
import json,sys
a=json.load(open('$T/m/model.fillseq.r0.json')); b=json.load(open('$T/m/model.fillrandom.r0.json'))
grow=a['result']['mem_bytes']; d=b['extra']['rss_before_open']-a['extra']['rss_before_open']
print('# fillseq grew', grow, 'load baseline moved by', d)
sys.exit(0 if grow > 0 and d < grow / 4 and b['extra']['load_fresh_process'] == 1 else 1)"
run -n 300 --repeats 1 --engines model --workloads fillseq,fillrandom --no-isolate --out "$T/ni"
check "--no-isolate records the load as not in a fresh process" \
    [ "$(jget "$T/ni/model.fillrandom.r0.json" "x['load_fresh_process']")" = 0 ]

# ---- the report -----------------------------------------------------------------------------
if command -v gnuplot >/dev/null 2>&1; then
    mkdir -p "$T/rep"
    cp -r "$S" "$T/rep/results"
    cp "$T/phys/physical.json" "$T/rep/"
    python3 "$REPORT" render "$T/rep" >"$T/out" 2>"$T/err"
    rc=$?
    check "report.py render on the smoke results exits 0" rc_is 0
    [ "$rc" = 0 ] || sed 's/^/# /' "$T/err" | tail -n 20
    check "index.html and report.md written" sh -c "[ -s '$T/rep/index.html' ] && [ -s '$T/rep/report.md' ]"
    nch=0 bad=0
    for c in throughput latency-readrandom latency-fillrandom latency-ycsb-a footprint; do
        for x in png svg; do
            nch=$((nch + 1))
            [ -s "$T/rep/charts/$c.$x" ] || { bad=$((bad + 1)); echo "# missing chart $c.$x"; }
        done
    done
    check "every chart exists as PNG and SVG, non-empty ($nch files)" [ "$bad" = 0 ]
    check "every chart the page links exists" sh -c "for f in \$(grep -o 'charts/[a-z0-9-]*\.\(png\|svg\)' '$T/rep/index.html' | sort -u); do [ -s '$T/rep/'\$f ] || exit 1; done"
    check "the report states the physical limits" has "$T/rep/report.md" "Physical limits of this machine:.*memcpy .* GB/s; sequential write"
    check "the report has the headline table" sh -c "grep -q '^| readrandom |' '$T/rep/report.md' && grep -q 'ratio to the best peer' '$T/rep/report.md'"
    check "the charts have generated captions" sh -c "grep -q 'What this shows.* leads readrandom at .* ops/s' '$T/rep/report.md'"
    check "the report lists engine settings and the machine" sh -c "grep -q '## Engine settings' '$T/rep/report.md' && grep -q 'CPU' '$T/rep/report.md'"
    check "the HTML needs no JavaScript" sh -c "! grep -qi '<script' '$T/rep/index.html'"
    # Classes: durable engines and in-memory ones are ranked apart.
    check "the report has a headline table per class" sh -c "grep -q '^### Durable engines' '$T/rep/report.md' && grep -q '^### In-memory engines' '$T/rep/report.md'"
    check "model (in memory) is not in the durable table" python3 -c "
import re,sys
md=open('$T/rep/report.md').read()
dur=md.split('### Durable engines')[1].split('###')[0]; mem=md.split('### In-memory engines')[1].split('##')[0]
hdr=lambda t: [l for l in t.splitlines() if l.startswith('| workload')][0]
sys.exit(0 if 'model' not in hdr(dur) and 'lmdb' in hdr(dur) and 'model' in hdr(mem) else 1)"
    check "the durable table's ratios are to the best durable peer" has "$T/rep/report.md" "ratio to the best peer of the class (leveldb, rocksdb, lmdb, sqlite)"
    check "fastest is ranked within each class and overall" sh -c "grep -q 'Fastest among durable engines: ' '$T/rep/report.md' && grep -q 'Fastest among in-memory engines: model in ' '$T/rep/report.md' && grep -q 'Fastest overall, over all 14 workloads: ' '$T/rep/report.md'"
    check "the memory table shows RSS, heap and the engine's count" grep -q '^| engine | class | RSS growth | heap growth | engine.s count |' "$T/rep/report.md"
    # Memory figures that disagree by more than 2x: both shown, and said so.
    mkdir -p "$T/dis"; cp -r "$S" "$T/dis/results"
    for f in "$T/dis/results"/sqlite.*.r0.json; do
        jset "$f" 'x = d.setdefault("extra", {})
if "load_mem_bytes" in x: x.update(load_mem_bytes=40960, load_heap_bytes=15000000, load_engine_mem_bytes=15190504)'
    done
    for f in "$T/dis/results"/leveldb.*.r0.json; do
        jset "$f" 'x = d.setdefault("extra", {})
if "load_mem_bytes" in x: x.update(load_mem_bytes=5586944, load_heap_bytes=5000000, load_engine_mem_bytes=4563648)'
    done
    python3 "$REPORT" render "$T/dis" >"$T/out" 2>"$T/err"
    check "render with disagreeing memory figures exits 0" rc_is 0
    check "the caption shows both figures and the factor" has "$T/dis/report.md" "sqlite: its own count (14.5 MiB) is 371x its RSS growth (40 KiB)"
    check "the memory table flags the pair" sh -c "grep -E '^\| sqlite \| durable \| 40 KiB \| 14.3 MiB \| 14.5 MiB \|.*own count 371x RSS growth' '$T/dis/report.md' >/dev/null"
    check "figures within 2x are said to agree" sh -c "grep -E '^\| leveldb \| durable \| 5.33 MiB .*\| agree within 2x \|' '$T/dis/report.md' >/dev/null"
    # A broken or invalid result file stops the report, naming the file.
    mkdir -p "$T/broken"; cp -r "$S" "$T/broken/results"
    printf '{"schema_version": 1, "engine": "lmdb"' >"$T/broken/results/lmdb.readseq.r0.json"
    python3 "$REPORT" render "$T/broken" >"$T/out" 2>"$T/err"
    rc=$?
    check "render refuses a result file that is not JSON (exit 1, names it)" sh -c "[ $rc = 1 ] && grep -q 'lmdb.readseq.r0.json: cannot parse it' '$T/err'"
    check "and writes no report" sh -c "! [ -e '$T/broken/index.html' ]"
    cp "$S/lmdb.readseq.r0.json" "$T/broken/results/"
    jset "$T/broken/results/rocksdb.scan.r0.json" 'd["result"]["ops"] = -1'
    python3 "$REPORT" render "$T/broken" >"$T/out" 2>"$T/err"
    rc=$?
    check "render refuses a result that fails the schema (exit 1, names file and field)" sh -c "[ $rc = 1 ] && grep -q 'rocksdb.scan.r0.json: not a valid result.*/result/ops: -1 is less than the minimum 0' '$T/err'"
    jset "$T/broken/results/rocksdb.scan.r0.json" 'd["result"]["ops"] = 30; d["result"]["bogus"] = 1'
    python3 "$REPORT" render "$T/broken" >"$T/out" 2>"$T/err"
    rc=$?
    check "and one with a field the schema does not know" sh -c "[ $rc = 1 ] && grep -q 'rocksdb.scan.r0.json: not a valid result.*/result/bogus' '$T/err'"
    "$KVB" validate "$T/broken/results/rocksdb.scan.r0.json" >/dev/null 2>&1
    check "kvbench validate agrees that it is invalid" [ $? = 1 ]
    rm -f "$T/broken/results"/rocksdb.*.json
    python3 "$REPORT" render "$T/broken" >"$T/out" 2>"$T/err"
    rc=$?
    check "an engine of the run with no results at all is named in the notes" sh -c "[ $rc = 0 ] && grep -q 'rocksdb: no result at all' '$T/broken/report.md'"
    # End to end: the default suite is derived from --list (peers, not model).
    python3 "$REPORT" run --kvbench "$KVB" --out "$T/full" -n 300 --repeats 1 \
        --physical-args "--mem-mib 4 --write-mib 2 --fsyncs 10 --max-seconds 5" >"$T/out" 2>"$T/err"
    rc=$?
    check "report.py run end to end exits 0" rc_is 0
    [ "$rc" = 0 ] || sed 's/^/# /' "$T/err" | tail -n 20
    # Expected: every engine --list shows (kvlabs engines and peers) but model.
    "$KVB" --list >"$T/list" 2>&1
    check "the default suite is every kvlabs engine and peer, without model" python3 -c "
import json,re,sys
listed=[m.group(1) for m in (re.match(r'^  (\S+) +(kvlabs|peer) ', l) for l in open('$T/list')) if m]
r=json.load(open('$T/full/results/run.json'))
names=[e['name'] for e in r['engines']]
ok=sorted(names)==sorted(listed) and {'leveldb','lmdb','rocksdb','sqlite'}<=set(names) and 'model' not in names
sys.exit(0 if ok and 'crc32c_4k' in r['micros'] else 1)"
    check "and it is rendered" sh -c "[ -s '$T/full/index.html' ] && [ -s '$T/full/charts/throughput.svg' ] && [ -s '$T/full/plan.json' ]"
    check "the report states its own wall time" sh -c "grep -q 'make report took [0-9]' '$T/full/report.md' && grep -q '^| Wall time of make report | [0-9]' '$T/full/report.md' && grep -q '\"wall_s\"' '$T/full/plan.json'"
else
    notok "gnuplot is installed (scripts/install-deps.sh)"
fi

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
