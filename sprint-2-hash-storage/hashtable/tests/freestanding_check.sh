#!/bin/sh
# freestanding_check.sh — prove that the hash-table core is kernel-portable.
#
# The core files (ht_core.c, ht_arena.c, ht_resize.c and the four strategy files) are
# compiled into the Linux kernel by the kernel-device issue, where there is
# no C library and no floating point. The check itself is shared with sprint
# 3 (scripts/freestanding_check.sh: what it compiles, with which flags, and
# the negative controls); this file names the hash core's parts of it:
# its sources, its own headers (hashtable_int.h, ht.h, ht_port.h, the only ones a
# core file may include), the header chain, the port's prefix (ht_port_*),
# and -DHT_PORT_FREESTANDING, with which ht_port.h declares the port
# functions and uses the SWAR group match (no SIMD intrinsics headers, which
# are hosted headers).
#
# Output: "ok"/"FAIL" per check and a final "N passed, N failed". Environment:
# LAB_DIR (default: this script's parent), KVLABS_ROOT, CC, BIN_DIR.
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KVLABS_ROOT=${KVLABS_ROOT:-$LAB_DIR/..}
FS_CORE="hashtable/ht_core.c hashtable/ht_arena.c hashtable/ht_resize.c hashtable/ht_chaining.c hashtable/ht_linear.c
 hashtable/ht_robinhood.c hashtable/ht_swiss.c"
FS_OWN="hashtable_int.h ht.h ht_port.h"
FS_HEADERS='hashtable/hashtable_int.h "ht.h"
include/ht.h "ht_port.h"
include/ht_port.h <stddef.h>|<stdint.h>|<stdbool.h>|<emmintrin.h>|<arm_neon.h>|<linux/seqlock.h>'
FS_PORT=ht_port_
FS_FLAGS="-DHT_PORT_FREESTANDING -I$LAB_DIR/include -I$LAB_DIR/hashtable"
export LAB_DIR FS_CORE FS_OWN FS_HEADERS FS_PORT FS_FLAGS
exec sh "$KVLABS_ROOT/scripts/freestanding_check.sh"
