#!/bin/sh
# layering_test.sh — run layering_test.py (see its docstring), a script test of
# the tools lab: the layering check's fixtures, then the check on this
# repository's libraries, built here first (each lab's `make lib`, a no-op
# when they are up to date) so the check sees every lab, also bench (which
# `make test` builds after tools).
root="${KVLABS_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}"
variant="${VARIANT:-asan}"
labs=$(python3 -c 'import sys; sys.path.insert(0, sys.argv[1] + "/scripts"); import layering_check as c; print(" ".join(c.labs_from_makefile(sys.argv[1])))' "$root") || exit 1
for l in $labs; do
    [ "$l" = tools ] && continue
    make --no-print-directory -C "$root/$l" lib VARIANT="$variant" KVLABS_ROOT="$root" >/dev/null ||
        echo "layering_test: make -C $l lib failed"
done
VARIANT="$variant" exec python3 "$(dirname "$0")/layering_test.py"
