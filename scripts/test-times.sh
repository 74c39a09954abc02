#!/bin/sh
# test-times.sh — the slowest test runners of a `make test`, from their .time files.
#
# Usage: test-times.sh DIR [N]
#
# scripts/run-test.sh leaves beside each runner's .res a .time file holding
# "wall_seconds cpu_seconds name". This prints the N slowest by wall time
# (default 10) and the totals, so whoever adds a test sees what it costs the
# 30-minute budget of `make test` (DEVELOPERS.md). Wall time on a loaded
# machine is noisy; CPU seconds are the steadier figure. Informational: it
# never fails.
dir=$1 n=${2:-10}
files=$(find "$dir" -name '*.time' 2>/dev/null)
[ -n "$files" ] || exit 0
echo "slowest test runners (wall s, cpu s, lab/runner):"
for f in $files; do
    read -r w c name <"$f"
    echo "$w $c $(dirname "$f" | sed "s|^$dir/*||")/$name"
done | sort -rn | head -n "$n" | awk '{ printf "  %7.1f %7.1f  %s\n", $1, $2, $3 }'
for f in $files; do cat "$f"; done | awk '{ w += $1; c += $2 }
    END { printf "  %7.1f %7.1f  total of %d runners\n", w, c, NR }'
