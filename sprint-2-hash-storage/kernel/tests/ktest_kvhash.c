/*
 * ktest_kvhash.c - the ioctl tests of /dev/kvhash, run inside the test VM
 * (scripts/ktest/), after kvhash.ko is loaded.
 *
 * What it is. A plain static program (no Criterion, no kvlabs library: the
 * initramfs holds only busybox and what the harness packs) that drives the
 * device through the raw ioctls of include/uapi/kvhash.h and checks every
 * answer: the round trips, every bad-input rule of the header (EINVAL,
 * EFAULT, E2BIG, ENOSPC with the needed length, ENOTTY), that a GET copies
 * exactly the value's length (canary bytes past it stay untouched: a device
 * copying the whole buffer leaks kernel memory), per-descriptor tables,
 * the memory cap (ENOMEM, table unchanged, memory back after close), and
 * threads on one descriptor and on several.
 *
 * The helpers, those cases and the driver are the harness's, shared with
 * sprint 3's /dev/kvbtree (scripts/ktest/kdevtest.h and kdevtest_cases.h:
 * the two devices share their request layout and errno rules); this file
 * names the device for them and adds the hash table's own check (5000 keys
 * from 64 buckets resize the table).
 *
 * Each case prints "ok   <name>" or "FAIL <name>: why"; the last line is
 * "N passed, N failed", which the VM's init script adds to its total.
 * Usage: ktest_kvhash [--list] [--filter SUBSTRING] [--quick]
 *   --quick runs the cases of the second load cycle, where the module is
 *   loaded with shared=1: a few round-trip and bad-input cases, and the
 *   shared table seen from two descriptors.
 * Each case opens its own descriptor, so a failed case cannot leave state
 * for the next; a case must close what it opened.
 */
#define _GNU_SOURCE
#include "uapi/kvhash.h"

#define KDT_NAME KVHASH_DEVICE_NAME
#define KDT_OBJ "table"
#define KDT_REQ struct kvhash_req
#define KDT_STATS struct kvhash_stats
#define KDT_MAX_KEY KVHASH_MAX_KEY
#define KDT_IOC_MAGIC KVHASH_IOC_MAGIC
#define KDT_IOC_PUT KVHASH_IOC_PUT
#define KDT_IOC_GET KVHASH_IOC_GET
#define KDT_IOC_DEL KVHASH_IOC_DEL
#define KDT_IOC_STATS KVHASH_IOC_STATS
#define KDT_IOC_CLEAR KVHASH_IOC_CLEAR
#define KDT_MAIN
#include "kdevtest.h"

static int kdt_many_keys_shape(const struct kvhash_stats *st)
{
	CHECK(st->resizes > 0, "5000 keys from 64 buckets and no resize");
	return 0;
}

static const struct tcase cases[] = {
	KDT_COMMON_CASES,
	KDT_SHARED_CASE,
};

int main(int argc, char **argv)
{
	return kdt_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]), NULL, 0, 0);
}
