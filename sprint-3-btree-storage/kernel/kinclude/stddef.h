/* SPDX-License-Identifier: MIT */
/*
 * stddef.h for the kernel build of the B+ tree core.
 *
 * The core's port header (include/bpt_port.h) includes the three
 * freestanding C headers <stddef.h>, <stdint.h> and <stdbool.h>. Kbuild
 * compiles with -nostdinc, so they do not exist there; these three files
 * (on the include path of kernel/Kbuild only) map them to the kernel's own
 * definitions, which have the same names (size_t, uint64_t, bool, ...).
 * Nothing but the core may include them, and they must stay type-only.
 */
#ifndef KVLABS_KINCLUDE_STDDEF_H
#define KVLABS_KINCLUDE_STDDEF_H
#include <linux/stddef.h>
#include <linux/types.h>
#endif
