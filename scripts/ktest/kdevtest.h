/*
 * kdevtest.h - the VM test harness shared by the ioctl test programs of
 * every kvlabs character device (sprint 2's /dev/kvhash: ktest_kvhash.c;
 * sprint 3's /dev/kvbtree: ktest_kvbtree.c and ktest_scan.c), beside the
 * rest of the VM harness in scripts/ktest/ (module.mk adds this folder to
 * the test programs' include path, and rebuilds them when it changes).
 *
 * What it is. The two devices share their request layout (size, flags, key,
 * val, klen, vlen) and their errno rules, so their tests share everything
 * but the device's own cases: the CHECK macro and its message buffer `why`,
 * the raw ioctl helpers (one request each, returning 0 or the errno), the
 * module parameters under /sys, a page no one may touch (a bad user address
 * that is not NULL), the common cases (round trips, every bad-input rule:
 * EINVAL, EFAULT, E2BIG, ENOSPC with the needed length, ENOTTY, the exact
 * length a GET copies; per-descriptor state, memory given back at close,
 * the memory cap; threads on one descriptor, on several, and CLEARs racing
 * writers; the shared-object case of shared=1) and the driver, kdt_main().
 * Plain static programs: no Criterion, no kvlabs library.
 *
 * How a lab uses it. Before including it, the lab defines:
 *   KDT_NAME       the device's and the module's name ("kvhash")
 *   KDT_OBJ        what one descriptor owns, in messages and case names
 *                  ("table": state/per_fd_tables, shared/two_fds_one_table)
 *   KDT_REQ        the request struct (struct kvhash_req), KDT_STATS the
 *                  STATS struct (size, flags, keys, bytes, mem_bytes,
 *                  module_mem fields at least), KDT_MAX_KEY the longest key
 *   KDT_IOC_MAGIC, KDT_IOC_PUT, _GET, _DEL, _STATS, _CLEAR  the commands
 * Every file of the program includes it for the declarations; exactly one
 * (the driver) defines KDT_MAIN first and gets the definitions: the helpers,
 * the common cases of kdevtest_cases.h (KDT_COMMON_CASES and
 * KDT_SHARED_CASE, to put in its case table), kdt_main(), and must define
 *   static int kdt_many_keys_shape(const KDT_STATS *st)
 * the device's own check after 5000 puts and 2500 deletes (the hash table
 * resized, the B+ tree split and merged).
 *
 * Each case prints "ok   <name>" or "FAIL <name>: why"; the last line is
 * "N passed, N failed", which the VM's step script (lib.sh's counts) adds to
 * its total. Each case opens its own descriptor, so a failed case cannot
 * leave state for the next; a case must close what it opened.
 */
#ifndef KDEVTEST_H
#define KDEVTEST_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#if !defined(KDT_NAME) || !defined(KDT_OBJ) || !defined(KDT_REQ) || !defined(KDT_STATS) || \
	!defined(KDT_MAX_KEY) || !defined(KDT_IOC_CLEAR)
#error "define the KDT_ macros of the device before including kdevtest.h"
#endif

/** The device node. */
#define KDT_DEV "/dev/" KDT_NAME
/** The folder of the module's parameters. */
#define KDT_PARAM_DIR "/sys/module/" KDT_NAME "/parameters/"

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
int stats(int fd, KDT_STATS *st);
/** A fresh descriptor (its own table or tree, unless shared=1). */
int dev_open(void);
/** A module parameter's value (0 when unreadable). */
unsigned long read_param(const char *name);
/** Set a writable module parameter; 0 or -1. */
int write_param(const char *name, unsigned long v);
/** A PROT_NONE page: a bad user address that is not NULL. */
void *bad_page(void);

/** One test case: opened on a fresh descriptor, closed after. */
struct tcase {
	const char *name;
	int (*fn)(int fd);
	int quick; /* 1: also run in the second load cycle; 2: only there */
};

/**
 * kdt_main() - the test program's main: run the cases of `cases` then of
 * `more` (may be NULL), each on a fresh descriptor.
 * Usage of the program: [--list] [--filter SUBSTRING] [--quick]; --quick
 * runs the cases marked quick (the second load cycle, shared=1).
 * @clear_quick: with --quick, CLEAR before each case (the module's one
 *               shared object would otherwise keep the previous case's keys).
 * Return: the exit status (0: every case passed).
 */
int kdt_main(int argc, char **argv, const struct tcase *cases, size_t n, const struct tcase *more,
	     size_t n_more, int clear_quick);

#ifdef KDT_MAIN

char why[256];

int kreq(int fd, unsigned long cmd, const void *key, uint32_t klen, void *val,
		uint32_t *vlen)
{
	KDT_REQ r = { .size = sizeof(r), .key = (uintptr_t)key,
				.val = (uintptr_t)val, .klen = klen,
				.vlen = vlen ? *vlen : 0 };
	int rc = ioctl(fd, cmd, &r);

	if (vlen)
		*vlen = r.vlen;
	return rc == 0 ? 0 : errno;
}

int put(int fd, const char *k, const void *v, uint32_t vlen)
{
	return kreq(fd, KDT_IOC_PUT, k, (uint32_t)strlen(k), (void *)v, &vlen);
}

int get(int fd, const char *k, void *buf, uint32_t *vlen)
{
	return kreq(fd, KDT_IOC_GET, k, (uint32_t)strlen(k), buf, vlen);
}

int del(int fd, const char *k)
{
	return kreq(fd, KDT_IOC_DEL, k, (uint32_t)strlen(k), NULL, NULL);
}

int stats(int fd, KDT_STATS *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, KDT_IOC_STATS, st) == 0 ? 0 : errno;
}

int dev_open(void)
{
	return open(KDT_DEV, O_RDWR);
}

unsigned long read_param(const char *name)
{
	char b[64] = { 0 }, path[128];
	int fd;

	snprintf(path, sizeof(path), KDT_PARAM_DIR "%s", name);
	fd = open(path, O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, b, sizeof(b) - 1) < 0)
		b[0] = 0;
	close(fd);
	return strtoul(b, NULL, 10);
}

int write_param(const char *name, unsigned long v)
{
	char b[64], path[128];
	int fd, n, ok;

	snprintf(path, sizeof(path), KDT_PARAM_DIR "%s", name);
	fd = open(path, O_WRONLY);

	if (fd < 0)
		return -1;
	n = snprintf(b, sizeof(b), "%lu\n", v);
	ok = write(fd, b, (size_t)n) == n;
	close(fd);
	return ok ? 0 : -1;
}

void *bad_page(void)
{
	static void *p;

	if (!p)
		p = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p;
}

#include "kdevtest_cases.h"

/* One case on a fresh descriptor: 1 passed, 0 failed. */
static int kdt_run(const struct tcase *c, int quick, int clear_quick)
{
	int fd = dev_open(), ok;

	why[0] = 0;
	if (fd < 0) {
		printf("FAIL %s: open %s: %s\n", c->name, KDT_DEV, strerror(errno));
		return 0;
	}
	/* --quick runs on the module's one shared object: empty it, so a
	 * case sees no keys of the one before (as with its own) */
	if (quick && clear_quick && ioctl(fd, KDT_IOC_CLEAR) != 0) {
		printf("FAIL %s: clear the shared " KDT_OBJ ": %s\n", c->name, strerror(errno));
		close(fd);
		return 0;
	}
	ok = c->fn(fd) == 0;
	if (ok)
		printf("ok   %s\n", c->name);
	else
		printf("FAIL %s: %s\n", c->name, why);
	close(fd);
	return ok;
}

int kdt_main(int argc, char **argv, const struct tcase *cases, size_t n, const struct tcase *more,
	     size_t n_more, int clear_quick)
{
	const char *filter = NULL;
	int quick = 0, list = 0, passed = 0, failed = 0;

	/* line by line, so a case that hangs the device is seen in the log */
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--quick"))
			quick = 1;
		else if (!strcmp(argv[i], "--list"))
			list = 1;
		else if (!strcmp(argv[i], "--filter") && i + 1 < argc)
			filter = argv[++i];
	}
	for (size_t i = 0; i < n + n_more; i++) {
		const struct tcase *c = i < n ? &cases[i] : &more[i - n];

		if ((quick && !c->quick) || (!quick && c->quick == 2) || (filter && !strstr(c->name, filter)))
			continue;
		if (list) {
			printf("%s\n", c->name);
			continue;
		}
		if (kdt_run(c, quick, clear_quick))
			passed++;
		else
			failed++;
	}
	if (!list)
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

#endif /* KDT_MAIN */
#endif /* KDEVTEST_H */
