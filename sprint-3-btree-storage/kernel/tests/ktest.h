/*
 * ktest.h - what the VM test programs of /dev/kvbtree share: the device's
 * names for the harness's kdevtest.h (scripts/ktest/: the CHECK macro and
 * its message buffer, the raw ioctl helpers, the module parameters under
 * /sys, a page no one may touch, the case table and the common cases of
 * the two devices), and the SCAN helper and cases of this device.
 * Implemented in ktest_kvbtree.c (the driver, which defines KDT_MAIN); the
 * SCAN cases are in ktest_scan.c. Plain static programs: no Criterion, no
 * kvlabs library.
 */
#ifndef KTEST_H
#define KTEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "uapi/kvbtree.h"

#define KDT_NAME KVBTREE_DEVICE_NAME
#define KDT_OBJ "tree"
#define KDT_REQ struct kvbtree_req
#define KDT_STATS struct kvbtree_stats
#define KDT_MAX_KEY KVBTREE_MAX_KEY
#define KDT_IOC_MAGIC KVBTREE_IOC_MAGIC
#define KDT_IOC_PUT KVBTREE_IOC_PUT
#define KDT_IOC_GET KVBTREE_IOC_GET
#define KDT_IOC_DEL KVBTREE_IOC_DEL
#define KDT_IOC_STATS KVBTREE_IOC_STATS
#define KDT_IOC_CLEAR KVBTREE_IOC_CLEAR
#include "kdevtest.h"

/** SCAN: fills s (size, flags, key, klen, count, buf, buflen) and runs it. */
int scan(int fd, struct kvbtree_scan *s, const void *key, uint32_t klen, uint32_t flags,
	 uint32_t count, void *buf, uint32_t buflen);

/** The SCAN cases (ktest_scan.c). */
extern const struct tcase scan_cases[];
extern const size_t n_scan_cases;

#endif /* KTEST_H */
