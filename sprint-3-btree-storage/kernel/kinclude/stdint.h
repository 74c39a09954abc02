/* SPDX-License-Identifier: MIT */
/*
 * stdint.h for the kernel build of the B+ tree core: the kernel's
 * <linux/types.h> has uint8_t .. uint64_t and uintptr_t, <linux/limits.h>
 * SIZE_MAX and the U*_MAX limits. See kinclude/stddef.h for why.
 */
#ifndef KVLABS_KINCLUDE_STDINT_H
#define KVLABS_KINCLUDE_STDINT_H
#include <linux/limits.h>
#include <linux/types.h>
#endif
