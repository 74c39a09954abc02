/* SPDX-License-Identifier: MIT */
/*
 * stdbool.h for the kernel build of the B+ tree core: the kernel's
 * <linux/types.h> defines bool, true and false. See kinclude/stddef.h.
 */
#ifndef KVLABS_KINCLUDE_STDBOOL_H
#define KVLABS_KINCLUDE_STDBOOL_H
#include <linux/types.h>
#endif
