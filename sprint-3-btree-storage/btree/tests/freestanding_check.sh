#!/bin/sh
# freestanding_check.sh — prove that the B+ tree core is kernel-portable.
#
# The core files (btree/btree_core.c, btree_operations.c, btree_bulk.c,
# btree_check.c, btree_dot.c) are meant to be compiled into the Linux kernel
# by the lab's kernel part, where there is no C library and no floating
# point. The check itself is shared with sprint 2's hash core
# (scripts/freestanding_check.sh: what it compiles, with which flags, and the
# negative controls); this file names the B+ tree's parts of it: its
# sources, its own headers (btree_int.h, bpt.h, bpt_port.h, the only ones a
# core file may include), the header chain and the port's prefix
# (bpt_port_*).
#
# Output: "ok"/"FAIL" per check and a final "N passed, N failed". Environment:
# LAB_DIR (default: this script's lab), KVLABS_ROOT, CC, BIN_DIR.
LAB_DIR=${LAB_DIR:-$(cd "$(dirname "$0")/../.." && pwd)}
KVLABS_ROOT=${KVLABS_ROOT:-$LAB_DIR/..}
FS_CORE="btree/btree_core.c btree/btree_operations.c btree/btree_bulk.c btree/btree_check.c btree/btree_dot.c"
FS_OWN="btree_int.h bpt.h bpt_port.h"
FS_HEADERS='btree/btree_int.h "bpt.h"
include/bpt.h "bpt_port.h"
include/bpt_port.h <stddef.h>|<stdint.h>|<stdbool.h>'
FS_PORT=bpt_port_
FS_FLAGS="-I$LAB_DIR/include -I$LAB_DIR/btree"
export LAB_DIR FS_CORE FS_OWN FS_HEADERS FS_PORT FS_FLAGS
exec sh "$KVLABS_ROOT/scripts/freestanding_check.sh"
