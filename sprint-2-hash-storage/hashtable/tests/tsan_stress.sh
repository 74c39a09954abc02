#!/bin/sh
# tsan_stress.sh — the concurrency stress test (tests/stress_tsan.c,
# tests/stress.h) under ThreadSanitizer.
#
# The build-and-run logic is shared by the labs: scripts/tsan_stress.sh
# (why a script, the tsan variant, halt_on_error, the output). Environment
# (set by common/mk/rules.mk): BIN_DIR, LAB_DIR, KVLABS_ROOT; STRESS_OPS.
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KVLABS_ROOT=${KVLABS_ROOT:-$LAB_DIR/..}
export LAB_DIR KVLABS_ROOT
exec sh "$KVLABS_ROOT/scripts/tsan_stress.sh" stress_tsan
