/*
 * ktest.h - what the VM test programs of /dev/kvbtree share: the CHECK
 * macro and its message buffer, the raw ioctl helpers (one request each,
 * returning 0 or the errno), the module parameters under /sys, a page no
 * one may touch (a bad user address that is not NULL), and the case table.
 * Implemented in ktest_kvbtree.c (the driver); the SCAN cases are in
 * ktest_scan.c. Plain static programs: no Criterion, no kvlabs library.
 */
#ifndef KTEST_H
#define KTEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "uapi/kvbtree.h"

#define DEV "/dev/" KVBTREE_DEVICE_NAME
#define PARAM_DIR "/sys/module/kvbtree/parameters/"

/** The failing case's explanation (set by CHECK). */
extern char why[256];

/** Fail the current case (return -1) with a message unless cond holds. */
#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			snprintf(why, sizeof(why), __VA_ARGS__);           \
			return -1;                                         \
		}                                                          \
	} while (0)

/** One PUT/GET/DEL; *vlen in and out (may be NULL). Returns 0 or errno. */
int kreq(int fd, unsigned long cmd, const void *key, uint32_t klen, void *val, uint32_t *vlen);
/** PUT of a NUL-terminated key. */
int put(int fd, const char *k, const void *v, uint32_t vlen);
/** GET of a NUL-terminated key. */
int get(int fd, const char *k, void *buf, uint32_t *vlen);
/** DEL of a NUL-terminated key. */
int del(int fd, const char *k);
/** STATS into *st. */
int stats(int fd, struct kvbtree_stats *st);
/** SCAN: fills s (size, flags, key, klen, count, buf, buflen) and runs it. */
int scan(int fd, struct kvbtree_scan *s, const void *key, uint32_t klen, uint32_t flags,
	 uint32_t count, void *buf, uint32_t buflen);
/** A fresh descriptor (its own tree). */
int dev_open(void);
/** A module parameter's value (0 when unreadable). */
unsigned long read_param(const char *name);
/** Set a writable module parameter; 0 or -1. */
int write_param(const char *name, unsigned long v);
/** A PROT_NONE page. */
void *bad_page(void);

/** One test case: opened on a fresh descriptor, closed after. */
struct tcase {
	const char *name;
	int (*fn)(int fd);
	int quick; /* 1: also run in the second load cycle; 2: only there */
};

/** The SCAN cases (ktest_scan.c). */
extern const struct tcase scan_cases[];
extern const size_t n_scan_cases;

#endif /* KTEST_H */
