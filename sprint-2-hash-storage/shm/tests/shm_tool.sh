#!/bin/sh
# shm_tool.sh — script test of `kvshm`, the shared-memory store's tool.
#
# What it checks, through the built binary only: put/get/del and their exit
# codes; ls with --prefix and escaped binary keys; the operation log naming
# the pid of the process that wrote; stats; `host` keeping a store, a
# second host refused (exit 4), `destroy` stopping the host and removing the
# store (exit 3 afterwards); snapshot and restore, and a damaged snapshot
# refused (exit 5) with the store unchanged; a process killed with kill -9
# while it holds a lock (KVSHM_HANG test hook) does not wedge the next one,
# and `check` finds the store consistent after the repair; usage errors;
# permissions: a new store is private (directory 0700, segment 0600, its
# snapshots 0600) even under umask 0, `-o mode=0660` shares it with the
# group (0770/0660), and every command warns on stderr, yet succeeds, when
# the segment lets other users read or write it.
#
# Environment: BIN_DIR — the directory holding kvshm (set by make). Prints
# "ok"/"FAIL" per check and ends with exactly "N passed, N failed".
set -u

BIN_DIR=${BIN_DIR:-}
K=${BIN_DIR:+$BIN_DIR/}kvshm
passed=0
failed=0
ok() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }
check() { # name expected-exit command...
    name=$1 want=$2
    shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    if [ "$got" = "$want" ]; then ok "$name"; else fail "$name (exit $got, want $want: $(head -c 300 "$tmp/err"))"; fi
}
finish() {
    echo "$passed passed, $failed failed"
    [ "$failed" -eq 0 ]
    exit $?
}

if [ -z "$BIN_DIR" ] || [ ! -x "$K" ]; then
    fail "kvshm binary found (BIN_DIR='$BIN_DIR')"
    finish
fi
base=/tmp
[ -d /dev/shm ] && [ -w /dev/shm ] && base=/dev/shm
tmp=$(mktemp -d "$base/shm_tool.XXXXXX") || exit 1
hostpid=
trap '[ -n "$hostpid" ] && kill -9 $hostpid 2>/dev/null; rm -rf "$tmp"' EXIT
# LeakSanitizer reports nothing useful for processes we kill on purpose.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
D=$tmp/store

# ---- usage and missing stores -------------------------------------------------
check "no arguments is a usage error" 2 "$K"
check "unknown command is a usage error" 2 "$K" frobnicate "$D"
check "ls on a missing store: not found" 3 "$K" ls "$D"
[ ! -e "$D" ] && ok "inspecting did not create a store" || fail "inspecting did not create a store"

# ---- put / get / del / ls ----------------------------------------------------------
check "put creates the store" 0 "$K" put "$D" apple red -o max_key=64,max_value=4K
check "put a second key" 0 "$K" put "$D" apricot orange
check "put a binary key" 0 "$K" put "$D" 'b\x00\xff' 'v\x01'
check "get" 0 "$K" get "$D" apple
[ "$(cat "$tmp/out")" = "red" ] && ok "get prints the value" || fail "get prints the value: $(cat "$tmp/out")"
check "get a missing key: exit 3" 3 "$K" get "$D" pear
check "key over max_key fixed at creation: failure" 1 "$K" put "$D" "$(printf '%065d' 0)" v
check "ls" 0 "$K" ls "$D"
[ "$(wc -l <"$tmp/out")" -eq 3 ] && ok "ls lists 3 keys" || fail "ls lists 3 keys: $(cat "$tmp/out")"
grep -q '^b\\x00\\xff	2	v\\x01$' "$tmp/out" && ok "ls escapes binary bytes" || fail "ls escapes binary bytes: $(cat "$tmp/out")"
check "ls --prefix" 0 "$K" ls "$D" --prefix ap
[ "$(cut -f1 "$tmp/out" | tr '\n' ' ')" = "apple apricot " ] && ok "ls --prefix filters and sorts" || fail "ls --prefix: $(cat "$tmp/out")"
check "del" 0 "$K" del "$D" apricot
check "del again: exit 3" 3 "$K" del "$D" apricot

# ---- log and stats --------------------------------------------------------------------
"$K" put "$D" logged yes &
wpid=$!
wait $wpid
check "log" 0 "$K" log "$D"
grep -q "pid=$wpid put .*key=logged" "$tmp/out" && ok "log names the writer's pid" || fail "log names the writer's pid $wpid: $(tail -n 3 "$tmp/out")"
grep -q "del .*key not found.*key=apricot" "$tmp/out" && ok "log records a failed delete" || fail "log records a failed delete"
check "stats" 0 "$K" stats "$D"
grep -q '^keys: *3$' "$tmp/out" && ok "stats counts 3 keys" || fail "stats counts keys: $(grep keys "$tmp/out")"
grep -q '^max_key: *64$' "$tmp/out" && ok "stats shows the stored max_key" || fail "stats max_key"
check "check" 0 "$K" check "$D"

# ---- snapshot / restore ------------------------------------------------------------------
check "snapshot" 0 "$K" snapshot "$D" "$tmp/snap"
check "put after the snapshot" 0 "$K" put "$D" later x
check "restore" 0 "$K" restore "$D" "$tmp/snap"
check "restored key" 0 "$K" get "$D" apple
check "key written after the snapshot is gone" 3 "$K" get "$D" later
cp "$tmp/snap" "$tmp/bad"
printf 'X' | dd of="$tmp/bad" bs=1 seek=30 conv=notrunc 2>/dev/null
"$K" put "$D" marker m >/dev/null 2>&1
check "damaged snapshot refused: exit 5" 5 "$K" restore "$D" "$tmp/bad"
check "store unchanged by the refused restore" 0 "$K" get "$D" marker
check "missing snapshot: exit 3" 3 "$K" restore "$D" "$tmp/none"

# ---- permissions ---------------------------------------------------------------------------
mode_of() { stat -c %a "$1" 2>/dev/null; }
P=$tmp/private
check "a store created under umask 0" 0 sh -c 'umask 0; exec "$@"' sh "$K" put "$P" k v
[ "$(mode_of "$P")" = 700 ] && ok "its directory is 0700" || fail "directory mode $(mode_of "$P"), want 700"
[ "$(mode_of "$P/shm.seg")" = 600 ] && ok "its segment is 0600" || fail "segment mode $(mode_of "$P/shm.seg"), want 600"
check "snapshot under umask 0" 0 sh -c 'umask 0; exec "$@"' sh "$K" snapshot "$P" "$tmp/psnap"
[ "$(mode_of "$tmp/psnap")" = 600 ] && ok "the snapshot is 0600" || fail "snapshot mode $(mode_of "$tmp/psnap"), want 600"
check "get on the private store" 0 "$K" get "$P" k
grep -q warning "$tmp/err" && fail "no warning for a private segment: $(cat "$tmp/err")" || ok "no warning for a private segment"
chmod 644 "$P/shm.seg"
check "get on a world-readable segment still works" 0 "$K" get "$P" k
grep -q "warning: .*shm.seg has mode 0644: other users can read it" "$tmp/err" && ok "kvshm warns: others can read" || fail "warning for 0644: $(cat "$tmp/err")"
chmod 620 "$P/shm.seg"
check "ls on a group-writable segment" 0 "$K" ls "$P"
grep -q "mode 0620: other users can write it" "$tmp/err" && ok "kvshm warns: others can write" || fail "warning for 0620: $(cat "$tmp/err")"
chmod 666 "$P/shm.seg"
check "stats on a 0666 segment" 0 "$K" stats "$P"
grep -q "mode 0666: other users can read and write it" "$tmp/err" && ok "kvshm warns: read and write" || fail "warning for 0666: $(cat "$tmp/err")"
G=$tmp/group
check "-o mode=0660 under umask 0" 0 sh -c 'umask 0; exec "$@"' sh "$K" put "$G" k v -o mode=0660
[ "$(mode_of "$G")" = 770 ] && [ "$(mode_of "$G/shm.seg")" = 660 ] && ok "mode=0660: 0770 directory, 0660 segment" || fail "mode=0660 gave $(mode_of "$G") / $(mode_of "$G/shm.seg")"
grep -q "mode 0660: other users can read and write it" "$tmp/err" && ok "kvshm warns about the shared store it made" || fail "warning for 0660: $(cat "$tmp/err")"
check "a bad mode is a failure" 1 "$K" put "$tmp/badmode" k v -o mode=0800
grep -q "option 'mode'" "$tmp/err" && ok "the failure names the option" || fail "bad mode detail: $(cat "$tmp/err")"
[ ! -e "$tmp/badmode" ] && ok "a bad mode creates nothing" || fail "a bad mode created $tmp/badmode"

# ---- kill -9 of a lock holder ----------------------------------------------------------------
KVSHM_HANG=1 "$K" put "$D" apple green 2>"$tmp/hang.err" &
hpid=$!
i=0
while ! grep -q "stops at point 1" "$tmp/hang.err" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
grep -q "stops at point 1" "$tmp/hang.err" && ok "a writer stops holding the lock (test hook)" || fail "hook point reached"
kill -9 $hpid 2>/dev/null
wait $hpid 2>/dev/null
if command -v timeout >/dev/null 2>&1; then T="timeout 20"; else T=""; fi
check "next writer gets through after kill -9" 0 $T "$K" put "$D" apple yellow
check "get after the repair" 0 "$K" get "$D" apple
[ "$(cat "$tmp/out")" = "yellow" ] && ok "value after the repair" || fail "value after the repair: $(cat "$tmp/out")"
check "check after the repair" 0 "$K" check "$D"
"$K" stats "$D" >"$tmp/out"
grep -q '^repairs: *[1-9]' "$tmp/out" && ok "stats counts the repair" || fail "stats counts the repair"

# ---- host / destroy --------------------------------------------------------------------------
H=$tmp/hosted
"$K" host "$H" -o max_size=64M >"$tmp/host.out" 2>&1 &
hostpid=$!
i=0
while [ ! -s "$H/host.pid" ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
[ "$(cat "$H/host.pid" 2>/dev/null)" = "$hostpid" ] && ok "host writes its pid file" || fail "host pid file"
check "a second host is refused: exit 4" 4 "$K" host "$H"
check "clients use the hosted store" 0 "$K" put "$H" k v
kill -0 $hostpid 2>/dev/null && ok "host still running" || fail "host still running"
check "destroy" 0 "$K" destroy "$H"
i=0
while kill -0 $hostpid 2>/dev/null && [ $i -lt 200 ]; do sleep 0.05; i=$((i + 1)); done
if kill -0 $hostpid 2>/dev/null; then fail "destroy stops the host"; else ok "destroy stops the host"; fi
wait $hostpid 2>/dev/null
hst=$?
hostpid=
[ "$hst" = 0 ] && ok "host exits 0" || fail "host exits 0 (got $hst)"
[ ! -e "$H" ] && ok "destroy removes the store directory" || fail "destroy removes the store: $(ls -a "$H")"
check "destroy again: exit 3" 3 "$K" destroy "$H"
check "get on the destroyed store: exit 3" 3 "$K" get "$H" k

finish
