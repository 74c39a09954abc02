#!/bin/sh
# kvctl_test.sh — end-to-end tests of kvctl, run by `make -C tools test`.
#
# Runs the kvctl binary from $BIN_DIR (set by the make rules) in a fresh
# temporary directory, on the durable model engine by default. Each check
# prints "ok - ..." or "not ok - ..."; the last line is "N passed, N failed"
# and the exit status is non-zero when any check failed.
set -u

BIN_DIR=${BIN_DIR:-$(cd "$(dirname "$0")/../../build/asan/bin/tools" 2>/dev/null && pwd)}
KVCTL=$BIN_DIR/kvctl
T=$(mktemp -d "${TMPDIR:-/tmp}/kvctl_test.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT INT TERM
cd "$T" || exit 1
unset KVCTL_ENGINE KVCTL_PATH

pass=0 fail=0
TAB=$(printf '\t')
ok() { pass=$((pass + 1)); echo "ok - $1"; }
notok() { fail=$((fail + 1)); echo "not ok - $1"; }
# check DESCRIPTION COMMAND...: ok when the command succeeds.
check() { d=$1; shift; if "$@"; then ok "$d"; else notok "$d"; fi; }
# run ARGS...: kvctl with stdout in $T/out, stderr in $T/err, status in $rc.
run() { "$KVCTL" "$@" >"$T/out" 2>"$T/err"; rc=$?; }
# expect FILE printf-FORMAT [ARGS]: FILE holds exactly those bytes.
expect() { f=$1; shift; printf "$@" >"$T/want"; cmp -s "$T/want" "$f"; }
has() { grep -q -- "$2" "$1"; }
rc_is() { [ "$rc" = "$1" ]; }

if [ ! -x "$KVCTL" ]; then
    echo "not ok - kvctl binary at $KVCTL"
    echo "0 passed, 1 failed"
    exit 1
fi

# ---- put / get / del ---------------------------------------------------------
run put alpha one
check "put exits 0" rc_is 0
check "put creates the default ./kvdata directory" test -d kvdata
run get alpha
check "get exits 0" rc_is 0
check "get prints exactly the value (no newline when not a terminal)" expect "$T/out" 'one'
run put alpha uno
run get alpha
check "put overwrites" expect "$T/out" 'uno'
run put empty ''
run get empty
check "empty value round-trips" sh -c "[ $rc = 0 ] && [ ! -s '$T/out' ]"
run put tabbed "$(printf 'a\tb c')"
run get tabbed
check "value with a tab and a space round-trips byte for byte" expect "$T/out" 'a\tb c'
run del alpha
check "del exits 0" rc_is 0
run get alpha
check "get after del exits 1" rc_is 1
check "not-found error is 'kvctl: key not found: ...'" has "$T/err" '^kvctl: key not found'
run del alpha
check "del of a missing key exits 1" rc_is 1
run put '' v
check "empty key is an engine error (exit 3)" rc_is 3

# ---- persistence ---------------------------------------------------------------
run -d p1 put k1 v1
run -d p1 put k2 v2
run -d p1 del k1
run -d p1 get k2
check "durable model keeps keys across invocations" expect "$T/out" 'v2'
run -d p1 get k1
check "and keeps deletions across invocations" rc_is 1
run -e model -d p2 put k v
check "a one-shot put to the in-memory model is refused (exit 2), not silently lost" rc_is 2
check "the refusal says why and points at kvctl shell" \
    sh -c "grep -q 'neither durable nor multiproc' '$T/err' && grep -q 'kvctl -e model shell' '$T/err'"
run -e hash put k v
check "a one-shot put to hash is refused (exit 2)" rc_is 2
run -e hash del k
check "a one-shot del on hash is refused (exit 2)" rc_is 2
printf 'k\tv\n' >"$T/one.tsv"
run -e hash load "$T/one.tsv"
check "a one-shot load into hash is refused (exit 2)" rc_is 2
run -e hash get k
check "get on hash in one-shot mode says the store starts empty each run" \
    sh -c "[ $rc = 1 ] && grep -q \"keeps nothing between kvctl runs\" '$T/err'"
run -e shm -d "$T/shmdir" put sk sv
run -e shm -d "$T/shmdir" get sk
check "shm (multiproc) one-shot writes are allowed and kept" expect "$T/out" 'sv'
KVCTL_ENGINE=model:durable=true KVCTL_PATH=p3 "$KVCTL" put ek ev >/dev/null 2>&1
run -d p3 get ek
check "KVCTL_ENGINE and KVCTL_PATH are honoured" expect "$T/out" 'ev'
run -d p3 -o sync=always put ek2 ev2
check "-o passes options to the engine" rc_is 0
run -e bitcask -d bc put bk1 bv1
run -e bitcask -d bc put bk2 bv2
run -e bitcask -d bc del bk1
run -e bitcask -d bc get bk2
check "bitcask (sprint 2) keeps keys across invocations" expect "$T/out" 'bv2'
run -e bitcask -d bc get bk1
check "and keeps its deletions" rc_is 1
run -e bitcask -d bc scan
check "scan of unordered bitcask lists its keys (KV_CAP_SCAN)" expect "$T/out" 'bk2\tbv2\n'
check "and says the order is arbitrary" has "$T/err" 'arbitrary order'
run -e bitcask -d bc scan --start a
check "scan --start on an unordered engine is a usage error (exit 2)" rc_is 2
run -e model -d p2 scan
check "scan of the in-memory model (ordered, empty) exits 0" rc_is 0

# ---- shell: several commands on one open store --------------------------------
cat >"$T/script" <<'EOS'
# a comment line, then a blank one

put alpha one
put 'two words' "a \"quoted\" value"
get alpha
get 'two words'
get missing
del alpha
scan
put k
quit
put after quit
EOS
"$KVCTL" -e hash shell <"$T/script" >"$T/out" 2>"$T/err"; rc=$?
check "shell on hash keeps the store open between commands" \
    expect "$T/out" 'one\na "quoted" value\ntwo words\ta "quoted" value\n'
check "shell: a failed command names its line (stdin:7)" has "$T/err" '^kvctl: stdin:7: key not found: missing'
check "shell: a usage error names its line and does not stop the shell" has "$T/err" '^kvctl: stdin:10: put: expected KEY VALUE'
check "shell: exit status is the first failure's (1: key not found)" rc_is 1
check "shell: quit ends it (nothing after it runs)" sh -c "! grep -q 'after' '$T/out'"
printf 'put a 1\nget a\n' | "$KVCTL" -e hash shell >"$T/out" 2>"$T/err"; rc=$?
check "shell: all commands succeed -> exit 0" rc_is 0
printf 'put s 1\nshell\nload -\n' | "$KVCTL" -e hash shell >"$T/out" 2>"$T/err"; rc=$?
check "shell: no shell in a shell, no load from the commands' stdin" \
    sh -c "[ $rc = 2 ] && grep -q 'already in the shell' '$T/err' && grep -q 'reads its commands from stdin' '$T/err'"
for i in 1 2 3 4 5 6 7 8 9 10; do echo "put key$i v$i"; done >"$T/many"
echo scan >>"$T/many"
"$KVCTL" -e hash:strategy=linear,shards=4 shell <"$T/many" >"$T/out" 2>"$T/err"
check "scan on hash lists every key once" sh -c "[ \$(sort -u '$T/out' | wc -l) = 10 ] && [ \$(wc -l <'$T/out') = 10 ]"
"$KVCTL" -e shm -d "$T/shm2" load "$T/many" >/dev/null 2>&1
printf 'put a 1\nput b 2\nput c 3\n' | "$KVCTL" -e shm -d "$T/shm3" shell >/dev/null 2>&1
run -e shm -d "$T/shm3" scan --prefix b
check "scan on shm with --prefix filters the unordered listing" expect "$T/out" 'b\t2\n'

# ---- messages ---------------------------------------------------------------------
run -d "$T/deep/er/dir" put k v
check "-d creates the missing parent directories" sh -c "[ $rc = 0 ] && [ -d '$T/deep/er/dir' ]"
run -d p1 get nosuchkey
check "key not found is said once, naming the key" expect "$T/err" 'kvctl: key not found: nosuchkey\n'
run -e nosuch get k
check "an unknown engine lists the linked engines" has "$T/err" "unknown engine 'nosuch'; this kvctl has: .*hash.*model"
run engines
check "engines prints size ranges as 1T, not 1.09951e+12" sh -c "grep -q 'buckets${TAB}size \[1..1T\]' '$T/out' && ! grep -q 'e+' '$T/out'"
check "engines prints limits with suffixes (max_value 64M)" has "$T/out" 'max_value 64M'
run -d p1 stats
check "stats says which counters are per process" has "$T/err" 'per process'

# ---- scan ------------------------------------------------------------------------
for k in banana apple cherry apricot b; do "$KVCTL" -d s put "$k" "v-$k" >/dev/null 2>&1; done
run -d s scan
check "scan lists every key in order" expect "$T/out" \
    'apple\tv-apple\napricot\tv-apricot\nb\tv-b\nbanana\tv-banana\ncherry\tv-cherry\n'
run -d s scan --prefix ap
check "scan --prefix" expect "$T/out" 'apple\tv-apple\napricot\tv-apricot\n'
run -d s scan --limit 2
check "scan --limit" expect "$T/out" 'apple\tv-apple\napricot\tv-apricot\n'
run -d s scan --start b
check "scan --start (first key >= K)" expect "$T/out" 'b\tv-b\nbanana\tv-banana\ncherry\tv-cherry\n'
run -d s scan --start az --limit 1
check "scan --start between keys, with --limit" expect "$T/out" 'b\tv-b\n'
run -d s scan --prefix b --start ba
check "scan --prefix with a later --start" expect "$T/out" 'banana\tv-banana\n'
run -d s scan --prefix zz
check "scan --prefix with no match prints nothing, exit 0" sh -c "[ $rc = 0 ] && [ ! -s '$T/out' ]"

# ---- load ------------------------------------------------------------------------
printf 'k1\tplain\nk\\t2\ttab\\there\n\nk3\tline\\nbreak\\\\slash\\x01\r\nk4\t\n' >in.tsv
run -d l load in.tsv
check "load exits 0" rc_is 0
check "load reports the count loaded" has "$T/out" 'loaded 4 keys'
run -d l scan
check "load decodes escapes; scan re-escapes them" expect "$T/out" \
    'k\\t2\ttab\\there\nk1\tplain\nk3\tline\\nbreak\\\\slash\\x01\nk4\t\n'
run -d l get k3
check "loaded value holds the decoded bytes" expect "$T/out" 'line\nbreak\\slash\001'
run -d l get "$(printf 'k\t2')"
check "loaded key holds the decoded tab" expect "$T/out" 'tab\there'
"$KVCTL" -d l scan >dump.tsv 2>/dev/null
run -d l2 load dump.tsv
"$KVCTL" -d l2 scan >dump2.tsv 2>/dev/null
check "scan output loads back to the same contents" cmp -s dump.tsv dump2.tsv
printf 's1\tx\ns2\ty\n' | "$KVCTL" -d l3 load - >"$T/out" 2>"$T/err"
check "load - reads stdin" has "$T/out" 'loaded 2 keys'
printf 'g1\tx\ng2\ty\nno tab here\ng4\tz\n' >bad.tsv
run -d lb load bad.tsv
check "load with a line without a tab exits 4" rc_is 4
check "its message names line 3" has "$T/err" 'line 3'
run -d lb get g2
check "lines before the bad one are loaded" expect "$T/out" 'y'
run -d lb get g4
check "lines after the bad one are not" rc_is 1
printf 'a\tb\n\tempty key\n' >bad2.tsv
run -d lb2 load bad2.tsv
check "load with an empty key exits 4 naming line 2" sh -c "[ $rc = 4 ] && grep -q 'line 2' '$T/err'"
printf 'a\tbad \\q escape\n' >bad3.tsv
run -d lb3 load bad3.tsv
check "load with an unknown escape exits 4" rc_is 4
run -d lb4 load does-not-exist.tsv
check "load of a missing file exits 4" rc_is 4

# ---- hex mode --------------------------------------------------------------------
run -d h -x put 00ff00 0a0000ff
check "hex put of a key with NUL bytes" rc_is 0
run -d h -x get 00ff00
check "hex get prints the value in hex" expect "$T/out" '0a0000ff\n'
run -d h -x put 00 01
run -d h -x put 0000 02
run -d h -x put 01 03
run -d h -x scan
check "hex scan orders binary keys bytewise, shorter first" expect "$T/out" \
    '00\t01\n0000\t02\n00ff00\t0a0000ff\n01\t03\n'
run -d h scan --limit 1
check "plain scan escapes NUL as \\x00" expect "$T/out" '\\x00\t\\x01\n'
run -d h -x scan --prefix 00 --start 0001
check "hex --prefix and --start" expect "$T/out" '00ff00\t0a0000ff\n'
run -d h -x get 0
check "odd hex digits are a usage error (exit 2)" rc_is 2
run -d h -x put zz 00
check "non-hex key is a usage error (exit 2)" rc_is 2
printf '6869\t7468657265\n' >hex.tsv
run -d h -x load hex.tsv
run -d h get hi
check "hex load" expect "$T/out" 'there'

# ---- stats, engines, help -----------------------------------------------------
run -d s stats
check "stats exits 0" rc_is 0
check "stats counts the keys" has "$T/out" "^keys${TAB}5$"
all_fields() {
    for f in keys bytes mem_bytes disk_bytes puts gets deletes user_bytes_written \
        io_bytes_read io_bytes_written io_syncs; do
        grep -q "^$f$TAB[0-9]" "$T/out" || return 1
    done
}
check "stats lists every kv_stats field" all_fields
run engines
check "engines exits 0" rc_is 0
check "engines lists model" has "$T/out" '^model'
check "engines lists model's durable option with type and default" has "$T/out" "durable${TAB}bool${TAB}default false"
run help
check "help exits 0 and documents the exit codes" sh -c "[ $rc = 0 ] && grep -q 'Exit codes' '$T/out'"

# ---- errors ------------------------------------------------------------------------
run -e nosuch get k
check "unknown engine exits 3" rc_is 3
check "its message names the engine" has "$T/err" "^kvctl: unknown engine 'nosuch'"
run -e model:bukets=3 -d e get k
check "bad option exits 3" rc_is 3
check "its message names the option" has "$T/err" "bukets"
run -e model -o durable=maybe get k
check "bad option value exits 3 naming the option" sh -c "[ $rc = 3 ] && grep -q durable '$T/err'"
run
check "no command: exit 2" rc_is 2
check "usage is printed" has "$T/err" '^usage: kvctl'
run frobnicate
check "unknown command: exit 2" rc_is 2
run -q get k
check "unknown flag: exit 2" rc_is 2
run -e
check "flag without its value: exit 2" rc_is 2
run get
check "get without KEY: exit 2" rc_is 2
run put k
check "put without VALUE: exit 2" rc_is 2
run del a b
check "del with two keys: exit 2" rc_is 2
run -d s scan --limit ten
check "scan --limit with a non-number: exit 2" rc_is 2
run -d s scan --bogus
check "scan with an unknown argument: exit 2" rc_is 2
run stats extra
check "stats with an argument: exit 2" rc_is 2
run -d u put k
check "a usage error opens no engine (creates no data directory)" test ! -e u

# ---- dot (engine btree) ------------------------------------------------------
printf 'a\t1\nb\t2\nc\t3\n' >"$T/abc.tsv"
run -e btree:order=3 dot "$T/abc.tsv"
check "dot on btree exits 0" rc_is 0
check "dot prints a digraph with the root's separator and both leaves" \
    sh -c "grep -q '^digraph bpt {' '$T/out' && grep -q '^n0_0 .*<td><b>c</b></td>' '$T/out' &&
           grep -q '^n1_0 .*<td>a</td><td>b</td></tr>' '$T/out' && grep -q '^n1_1 .*<td>c</td></tr>' '$T/out'"
check "dot draws the leaf link dashed" has "$T/out" 'n1_0 -> n1_1 \[style=dashed'
run -e btree dot --title 'empty tree'
check "dot of an empty btree is one empty leaf" has "$T/out" '(empty)'
check "dot --title labels the graph" has "$T/out" 'label="empty tree"'
run -d m dot
check "dot on another engine is an engine error (exit 3)" rc_is 3
run -e btree dot a b
check "dot with two files: exit 2" rc_is 2

# cluster status: engine raft only; a cluster nobody serves has no leader
run -d m cluster status
check "cluster status on another engine is an engine error (exit 3)" rc_is 3
printf '127.0.0.1:1\n' > "$T/dead.conf"
run -e "raft:cluster=$T/dead.conf" -d ks cluster status
check "cluster status without a live node: exit 3" rc_is 3
check "cluster status names the unreachable node" has "$T/out" 'node 0: unreachable'
run -e "raft:cluster=$T/dead.conf" -d ks cluster
check "cluster without status: exit 2" rc_is 2
# cluster add/remove NODE: usage errors, an unknown node, no leader in time
run -e "raft:cluster=$T/dead.conf" -d ks cluster add x
check "cluster add x: exit 2, NODE is an id" sh -c "[ $rc = 2 ] && grep -q 'NODE is a node id' '$T/err'"
run -e "raft:cluster=$T/dead.conf" -d ks cluster remove
check "cluster remove without NODE: exit 2" rc_is 2
run -e "raft:cluster=$T/dead.conf" -d ks cluster add 1
check "cluster add of a node the file lacks: exit 1, says so" \
    sh -c "[ $rc = 1 ] && grep -q 'no node 1: the cluster file names nodes 0 .. 0' '$T/err'"
run -d m cluster add 1
check "cluster add on another engine is an engine error (exit 3)" rc_is 3
printf '127.0.0.1:1\n127.0.0.1:2\n' > "$T/dead2.conf"
run -e "raft:cluster=$T/dead2.conf,timeout_ms=300,rpc_timeout_ms=50" -d ks cluster remove 1
check "cluster remove with no node answering: exit 1, no answer in time" \
    sh -c "[ $rc = 1 ] && grep -q 'no answer within' '$T/err'"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
