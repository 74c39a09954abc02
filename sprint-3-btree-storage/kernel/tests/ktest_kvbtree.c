/*
 * ktest_kvbtree.c - the ioctl tests of /dev/kvbtree, run inside the test VM
 * (scripts/ktest/), after kvbtree.ko is loaded; the driver of the test
 * program (its SCAN cases are in ktest_scan.c, the shared helpers declared
 * in ktest.h).
 *
 * What it is. A plain static program (no Criterion, no kvlabs library: the
 * initramfs holds only busybox and what the harness packs) that drives the
 * device through the raw ioctls of include/uapi/kvbtree.h and checks every
 * answer: the round trips, every bad-input rule of the header (EINVAL,
 * EFAULT, E2BIG, ENOSPC with the needed length, ENOTTY), that a GET copies
 * exactly the value's length (canary bytes past it stay untouched: a device
 * copying the whole buffer leaks kernel memory), that the tree really is a
 * B+ tree (splits, height, merges in STATS), per-descriptor trees, the
 * memory cap (ENOMEM, tree unchanged, memory back after close), threads on
 * one descriptor and on several, scans racing writers; then the SCAN cases.
 * These are the cases of sprint 2's ktest_kvhash.c, kept rule for rule (the
 * two devices share their errno rules), plus the tree's own.
 *
 * Each case prints "ok   <name>" or "FAIL <name>: why"; the last line is
 * "N passed, N failed", which the VM's init script adds to its total.
 * Usage: ktest_kvbtree [--list] [--filter SUBSTRING] [--quick]
 *   --quick runs the cases of the second load cycle, where the module is
 *   loaded with shared=1 and order=3: a few round-trip, bad-input and scan
 *   cases, and the shared tree seen from two descriptors. The tree is
 *   then shared by every case, so each --quick case starts with a CLEAR.
 * Each case opens its own descriptor, so a failed case cannot leave state
 * for the next; a case must close what it opened.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ktest.h"

#define CAP_PARAM "mem_cap"
#define MAXV_PARAM "max_value"

char why[256];

int kreq(int fd, unsigned long cmd, const void *key, uint32_t klen, void *val,
		uint32_t *vlen)
{
	struct kvbtree_req r = { .size = sizeof(r), .key = (uintptr_t)key,
				.val = (uintptr_t)val, .klen = klen,
				.vlen = vlen ? *vlen : 0 };
	int rc = ioctl(fd, cmd, &r);

	if (vlen)
		*vlen = r.vlen;
	return rc == 0 ? 0 : errno;
}

int put(int fd, const char *k, const void *v, uint32_t vlen)
{
	return kreq(fd, KVBTREE_IOC_PUT, k, (uint32_t)strlen(k), (void *)v, &vlen);
}

int get(int fd, const char *k, void *buf, uint32_t *vlen)
{
	return kreq(fd, KVBTREE_IOC_GET, k, (uint32_t)strlen(k), buf, vlen);
}

int del(int fd, const char *k)
{
	return kreq(fd, KVBTREE_IOC_DEL, k, (uint32_t)strlen(k), NULL, NULL);
}

int stats(int fd, struct kvbtree_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return ioctl(fd, KVBTREE_IOC_STATS, st) == 0 ? 0 : errno;
}

int scan(int fd, struct kvbtree_scan *s, const void *key, uint32_t klen, uint32_t flags,
	 uint32_t count, void *buf, uint32_t buflen)
{
	memset(s, 0, sizeof(*s));
	s->size = sizeof(*s);
	s->flags = flags;
	s->key = (uintptr_t)key;
	s->klen = klen;
	s->count = count;
	s->buf = (uintptr_t)buf;
	s->buflen = buflen;
	return ioctl(fd, KVBTREE_IOC_SCAN, s) == 0 ? 0 : errno;
}

int dev_open(void)
{
	return open(DEV, O_RDWR);
}

unsigned long read_param(const char *name)
{
	char b[64] = { 0 }, path[128];
	int fd;

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
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

	snprintf(path, sizeof(path), PARAM_DIR "%s", name);
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

/* ---- round trips ------------------------------------------------------- */

static int t_roundtrip(int fd)
{
	char buf[64];
	uint32_t n = sizeof(buf);

	CHECK(put(fd, "alpha", "one", 3) == 0, "put failed");
	CHECK(get(fd, "alpha", buf, &n) == 0, "get failed: %s", strerror(errno));
	CHECK(n == 3 && !memcmp(buf, "one", 3), "read back %u bytes '%.*s'", n, (int)n, buf);
	return 0;
}

static int t_replace(int fd)
{
	char buf[64];
	uint32_t n = sizeof(buf);

	CHECK(put(fd, "k", "first-value", 11) == 0, "put 1");
	CHECK(put(fd, "k", "2nd", 3) == 0, "put 2");
	CHECK(get(fd, "k", buf, &n) == 0 && n == 3 && !memcmp(buf, "2nd", 3),
	      "replace not seen (len %u)", n);
	return 0;
}

static int t_missing(int fd)
{
	char buf[8];
	uint32_t n = sizeof(buf);
	int e = get(fd, "nope", buf, &n);

	CHECK(e == ENOENT, "get of a missing key: errno %d, want ENOENT", e);
	e = del(fd, "nope");
	CHECK(e == ENOENT, "del of a missing key: errno %d, want ENOENT", e);
	return 0;
}

static int t_delete(int fd)
{
	uint32_t n = 0;

	CHECK(put(fd, "gone", "x", 1) == 0, "put");
	CHECK(del(fd, "gone") == 0, "del");
	CHECK(get(fd, "gone", NULL, &n) == ENOENT, "still there after delete");
	CHECK(del(fd, "gone") == ENOENT, "second delete not ENOENT");
	return 0;
}

static int t_empty_value(int fd)
{
	char buf[4] = "zzz";
	uint32_t n = sizeof(buf);

	CHECK(put(fd, "empty", NULL, 0) == 0, "put of an empty value with val=0 refused");
	CHECK(get(fd, "empty", buf, &n) == 0 && n == 0, "get: len %u", n);
	CHECK(!memcmp(buf, "zzz", 3), "an empty value wrote into the buffer");
	return 0;
}

static int t_binary_keys(int fd)
{
	unsigned char k1[3] = { 0, 1, 0 }, k2[2] = { 0, 1 }, buf[8];
	uint32_t n = sizeof(buf), v;

	v = 1;
	CHECK(kreq(fd, KVBTREE_IOC_PUT, k1, 3, "A", &v) == 0, "put k1");
	v = 1;
	CHECK(kreq(fd, KVBTREE_IOC_PUT, k2, 2, "B", &v) == 0, "put k2 (prefix of k1)");
	CHECK(kreq(fd, KVBTREE_IOC_GET, k1, 3, buf, &n) == 0 && n == 1 && buf[0] == 'A',
	      "k1 reads back wrong");
	return 0;
}

static int t_many_keys(int fd)
{
	enum { N = 5000 };
	char k[32], v[32], buf[32];
	struct kvbtree_stats st;

	for (int i = 0; i < N; i++) {
		int kl = snprintf(k, sizeof(k), "key-%d", i);
		int vl = snprintf(v, sizeof(v), "v%d", i * 7);

		(void)kl;
		CHECK(put(fd, k, v, (uint32_t)vl) == 0, "put %d", i);
	}
	for (int i = 0; i < N; i += 2)
		CHECK(del(fd, (snprintf(k, sizeof(k), "key-%d", i), k)) == 0, "del %d", i);
	for (int i = 0; i < N; i++) {
		uint32_t n = sizeof(buf);
		int e;

		snprintf(k, sizeof(k), "key-%d", i);
		e = get(fd, k, buf, &n);
		if (i % 2) {
			int vl = snprintf(v, sizeof(v), "v%d", i * 7);

			CHECK(e == 0 && n == (uint32_t)vl && !memcmp(buf, v, n), "key %d wrong", i);
		} else {
			CHECK(e == ENOENT, "deleted key %d still there", i);
		}
	}
	CHECK(stats(fd, &st) == 0, "stats");
	CHECK(st.keys == N / 2, "stats: %llu keys, want %d", (unsigned long long)st.keys, N / 2);
	CHECK(st.height >= 2 && st.splits > 0 && st.leaves > 1 && st.inners >= 1,
	      "5000 keys and no split: height %u, %llu splits", st.height,
	      (unsigned long long)st.splits);
	CHECK(st.merges > 0, "2500 deletes and no merge");
	return 0;
}

/* ---- bad input -------------------------------------------------------------- */

static int t_bad_size(int fd)
{
	struct kvbtree_req r = { .size = sizeof(r) - 1, .key = (uintptr_t)"k", .klen = 1 };

	CHECK(ioctl(fd, KVBTREE_IOC_PUT, &r) == -1 && errno == EINVAL, "size-1: errno %d", errno);
	r.size = sizeof(r) + 8;
	CHECK(ioctl(fd, KVBTREE_IOC_GET, &r) == -1 && errno == EINVAL, "size+8: errno %d", errno);
	r.size = 0;
	CHECK(ioctl(fd, KVBTREE_IOC_DEL, &r) == -1 && errno == EINVAL, "size 0: errno %d", errno);
	return 0;
}

static int t_bad_flags(int fd)
{
	struct kvbtree_req r = { .size = sizeof(r), .flags = 1, .key = (uintptr_t)"k", .klen = 1 };

	CHECK(ioctl(fd, KVBTREE_IOC_PUT, &r) == -1 && errno == EINVAL, "flags=1: errno %d", errno);
	return 0;
}

static int t_zero_klen(int fd)
{
	uint32_t n = 1;
	int e = kreq(fd, KVBTREE_IOC_PUT, "k", 0, "v", &n);

	CHECK(e == EINVAL, "put klen 0: errno %d", e);
	e = kreq(fd, KVBTREE_IOC_GET, "k", 0, NULL, &n);
	CHECK(e == EINVAL, "get klen 0: errno %d", e);
	e = kreq(fd, KVBTREE_IOC_DEL, "k", 0, NULL, NULL);
	CHECK(e == EINVAL, "del klen 0: errno %d", e);
	return 0;
}

static int t_key_limits(int fd)
{
	static char k[KVBTREE_MAX_KEY + 1];
	uint32_t n = 1;
	char b;

	memset(k, 'k', sizeof(k));
	CHECK(kreq(fd, KVBTREE_IOC_PUT, k, KVBTREE_MAX_KEY, "v", &n) == 0, "the longest key refused");
	n = 1;
	CHECK(kreq(fd, KVBTREE_IOC_GET, k, KVBTREE_MAX_KEY, &b, &n) == 0 && b == 'v',
	      "the longest key reads back wrong");
	n = 1;
	CHECK(kreq(fd, KVBTREE_IOC_PUT, k, KVBTREE_MAX_KEY + 1, "v", &n) == E2BIG,
	      "a key one byte too long: not E2BIG");
	CHECK(kreq(fd, KVBTREE_IOC_GET, k, UINT32_MAX, &b, &n) == E2BIG, "klen 2^32-1: not E2BIG");
	return 0;
}

static int t_value_limits(int fd)
{
	uint32_t maxv = (uint32_t)read_param(MAXV_PARAM), n;
	char *v = calloc(1, (size_t)maxv + 1), *b = malloc((size_t)maxv + 1);
	int e1, e2, e3;

	CHECK(maxv > 0 && v && b, "max_value parameter unreadable");
	v[maxv - 1] = 'z';
	n = maxv;
	e1 = kreq(fd, KVBTREE_IOC_PUT, "big", 3, v, &n);
	n = maxv + 1;
	e2 = kreq(fd, KVBTREE_IOC_PUT, "big2", 4, v, &n);
	n = maxv;
	e3 = kreq(fd, KVBTREE_IOC_GET, "big", 3, b, &n);
	e3 = e3 ? e3 : (n != maxv || b[maxv - 1] != 'z') ? -1 : 0;
	free(v);
	free(b);
	CHECK(e1 == 0, "a value of max_value bytes refused (%d)", e1);
	CHECK(e2 == E2BIG, "a value one byte too big: errno %d, want E2BIG", e2);
	CHECK(e3 == 0, "the largest value reads back wrong");
	n = UINT32_MAX;
	CHECK(kreq(fd, KVBTREE_IOC_PUT, "huge", 4, v, &n) == E2BIG, "vlen 2^32-1: not E2BIG");
	return 0;
}

static int t_bad_req_pointer(int fd)
{
	CHECK(ioctl(fd, KVBTREE_IOC_PUT, NULL) == -1 && errno == EFAULT, "PUT NULL: errno %d", errno);
	CHECK(ioctl(fd, KVBTREE_IOC_GET, bad_page()) == -1 && errno == EFAULT,
	      "GET unmapped: errno %d", errno);
	CHECK(ioctl(fd, KVBTREE_IOC_STATS, bad_page()) == -1 && errno == EFAULT,
	      "STATS unmapped: errno %d", errno);
	CHECK(ioctl(fd, KVBTREE_IOC_DEL, (void *)1) == -1 && errno == EFAULT,
	      "DEL at address 1: errno %d", errno);
	return 0;
}

static int t_bad_key_pointer(int fd)
{
	uint32_t n = 1;
	char b[4];

	CHECK(kreq(fd, KVBTREE_IOC_PUT, bad_page(), 4, "v", &n) == EFAULT, "put");
	n = sizeof(b);
	CHECK(kreq(fd, KVBTREE_IOC_GET, bad_page(), 4, b, &n) == EFAULT, "get");
	CHECK(kreq(fd, KVBTREE_IOC_DEL, NULL, 4, NULL, NULL) == EFAULT, "del");
	return 0;
}

static int t_bad_value_pointer(int fd)
{
	char buf[8];
	uint32_t n = 5;
	struct kvbtree_stats st;

	CHECK(kreq(fd, KVBTREE_IOC_PUT, "k", 1, bad_page(), &n) == EFAULT, "put from unmapped");
	n = 0;
	CHECK(get(fd, "k", NULL, &n) == ENOENT, "a put that faulted stored the key");
	CHECK(put(fd, "k", "hello", 5) == 0, "put");
	n = 5;
	CHECK(get(fd, "k", bad_page(), &n) == EFAULT, "get into unmapped");
	n = sizeof(buf);
	CHECK(get(fd, "k", buf, &n) == 0 && n == 5, "the tree changed after a faulting get");
	CHECK(stats(fd, &st) == 0 && st.keys == 1, "keys after faults");
	return 0;
}

static int t_get_too_small(int fd)
{
	char buf[8] = "########";
	uint32_t n = 4;

	CHECK(put(fd, "long", "0123456789", 10) == 0, "put");
	CHECK(get(fd, "long", buf, &n) == ENOSPC, "a 4-byte buffer for 10 bytes: not ENOSPC");
	CHECK(n == 10, "ENOSPC wrote back %u, want the needed 10", n);
	CHECK(!memcmp(buf, "########", 8), "ENOSPC still wrote into the buffer");
	n = 0;
	CHECK(get(fd, "long", NULL, &n) == ENOSPC && n == 10, "length query: n=%u", n);
	n = 9;
	CHECK(get(fd, "long", buf, &n) == ENOSPC && n == 10, "one byte short: n=%u", n);
	return 0;
}

static int t_get_copies_exact(int fd)
{
	unsigned char buf[256];
	uint32_t n = sizeof(buf);

	memset(buf, 0xA5, sizeof(buf));
	CHECK(put(fd, "short", "abc", 3) == 0, "put");
	CHECK(get(fd, "short", buf, &n) == 0 && n == 3, "get");
	for (size_t i = 3; i < sizeof(buf); i++)
		CHECK(buf[i] == 0xA5, "byte %zu past the value was written (kernel memory leaked)", i);
	n = 3;
	CHECK(get(fd, "short", buf, &n) == 0 && n == 3, "an exact-size buffer refused");
	return 0;
}

static int t_unknown_cmd(int fd)
{
	struct kvbtree_req r = { .size = sizeof(r) };

	CHECK(ioctl(fd, _IOW(KVBTREE_IOC_MAGIC, 99, struct kvbtree_req), &r) == -1 &&
	      errno == ENOTTY, "command 99: errno %d", errno);
	CHECK(ioctl(fd, _IOW('x', 1, struct kvbtree_req), &r) == -1 && errno == ENOTTY,
	      "another type byte: errno %d", errno);
	return 0;
}

static int t_stats(int fd)
{
	struct kvbtree_stats st;

	CHECK(put(fd, "a", "12", 2) == 0 && put(fd, "bb", "345", 3) == 0, "put");
	CHECK(stats(fd, &st) == 0, "stats");
	CHECK(st.size == sizeof(st) && st.keys == 2 && st.bytes == 8,
	      "keys %llu bytes %llu", (unsigned long long)st.keys, (unsigned long long)st.bytes);
	CHECK(st.mem_bytes > 0 && st.module_mem >= st.mem_bytes, "memory counters");
	st.size = sizeof(st) - 8;
	CHECK(ioctl(fd, KVBTREE_IOC_STATS, &st) == -1 && errno == EINVAL, "bad stats size");
	st.size = sizeof(st);
	st.flags = 2;
	CHECK(ioctl(fd, KVBTREE_IOC_STATS, &st) == -1 && errno == EINVAL, "bad stats flags");
	return 0;
}

static int t_clear(int fd)
{
	struct kvbtree_stats st;
	uint32_t n = 0;

	for (int i = 0; i < 100; i++) {
		char k[16];

		snprintf(k, sizeof(k), "c%d", i);
		CHECK(put(fd, k, "v", 1) == 0, "put");
	}
	CHECK(ioctl(fd, KVBTREE_IOC_CLEAR) == 0, "clear: errno %d", errno);
	CHECK(stats(fd, &st) == 0 && st.keys == 0, "keys after clear");
	CHECK(get(fd, "c5", NULL, &n) == ENOENT, "a key survived clear");
	CHECK(put(fd, "after", "v", 1) == 0, "put after clear");
	return 0;
}

/* ---- state and memory ---------------------------------------------------- */

static int t_per_fd_trees(int fd)
{
	int fd2 = dev_open();
	uint32_t n = 0;
	int e;

	CHECK(fd2 >= 0, "second open");
	CHECK(put(fd, "mine", "1", 1) == 0, "put");
	e = get(fd2, "mine", NULL, &n);
	close(fd2);
	CHECK(e == ENOENT, "another descriptor sees this one's key (errno %d)", e);
	fd2 = dev_open();
	CHECK(fd2 >= 0, "third open");
	e = get(fd2, "mine", NULL, &n);
	close(fd2);
	CHECK(e == ENOENT, "a fresh open is not empty");
	return 0;
}

static int t_close_frees(int fd)
{
	struct kvbtree_stats st;
	unsigned long before, after;
	int fd2;

	CHECK(stats(fd, &st) == 0, "stats");
	before = st.module_mem;
	fd2 = dev_open();
	CHECK(fd2 >= 0, "open");
	for (int i = 0; i < 2000; i++) {
		char k[16];

		snprintf(k, sizeof(k), "f%d", i);
		CHECK(put(fd2, k, "0123456789abcdef", 16) == 0, "put %d", i);
	}
	close(fd2);
	CHECK(stats(fd, &st) == 0, "stats");
	after = st.module_mem;
	CHECK(after == before, "module memory %lu before, %lu after the other tree closed",
	      before, after);
	return 0;
}

static int t_mem_cap(int fd)
{
	unsigned long cap0 = read_param(CAP_PARAM), base;
	struct kvbtree_stats st;
	char k[32], v[200];
	uint32_t n = 0;
	int i, e = 0, rc = 0;

	memset(v, 'm', sizeof(v));
	CHECK(stats(fd, &st) == 0, "stats");
	base = st.module_mem;
	CHECK(write_param(CAP_PARAM, base + 256 * 1024) == 0, "cannot set mem_cap");
	for (i = 0; i < 100000; i++) {
		snprintf(k, sizeof(k), "cap-%d", i);
		e = put(fd, k, v, sizeof(v));
		if (e)
			break;
	}
	if (e != ENOMEM) {
		snprintf(why, sizeof(why), "filling to the cap ended with errno %d after %d puts", e, i);
		rc = -1;
		goto out_restore;
	}
	if (get(fd, k, NULL, &n) != ENOENT) {
		snprintf(why, sizeof(why), "the refused key was stored");
		rc = -1;
		goto out_restore;
	}
	for (int j = 0; j < i; j++) {
		char b[sizeof(v)];

		n = sizeof(b);
		snprintf(k, sizeof(k), "cap-%d", j);
		if (get(fd, k, b, &n) != 0 || n != sizeof(v)) {
			snprintf(why, sizeof(why), "key %d lost at the cap", j);
			rc = -1;
			goto out_restore;
		}
	}
	if (stats(fd, &st) || st.module_mem > base + 256 * 1024) {
		snprintf(why, sizeof(why), "module_mem %llu above the cap",
			 (unsigned long long)st.module_mem);
		rc = -1;
		goto out_restore;
	}
	if (ioctl(fd, KVBTREE_IOC_CLEAR) != 0 || put(fd, "after-cap", v, sizeof(v)) != 0) {
		snprintf(why, sizeof(why), "clear at the cap did not free memory");
		rc = -1;
	}
out_restore:
	write_param(CAP_PARAM, cap0);
	return rc;
}

/* ---- threads ------------------------------------------------------------ */

struct worker {
	int fd;
	int id;
	int bad;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	char k[32], v[32], b[32];

	for (int i = 0; i < 1500; i++) {
		uint32_t n = sizeof(b);
		int vl = snprintf(v, sizeof(v), "%d:%d", w->id, i);

		snprintf(k, sizeof(k), "t%d-%d", w->id, i);
		if (put(w->fd, k, v, (uint32_t)vl) != 0)
			w->bad++;
		if (get(w->fd, k, b, &n) != 0 || n != (uint32_t)vl || memcmp(b, v, n))
			w->bad++;
		snprintf(k, sizeof(k), "shared-%d", i % 64);
		put(w->fd, k, v, (uint32_t)vl);
		n = sizeof(b);
		if (get(w->fd, k, b, &n) != 0 || n == 0 || n > 16)
			w->bad++;
		if (i % 3 == 0 && del(w->fd, (snprintf(k, sizeof(k), "t%d-%d", w->id, i), k)) != 0)
			w->bad++;
	}
	return NULL;
}

static int run_threads(int fd, int own_fds)
{
	enum { T = 4 };
	pthread_t th[T];
	struct worker w[T];
	struct kvbtree_stats st;
	int bad = 0;

	for (int i = 0; i < T; i++) {
		w[i] = (struct worker){ .fd = own_fds ? dev_open() : fd, .id = i };
		CHECK(w[i].fd >= 0, "open");
		CHECK(pthread_create(&th[i], NULL, work, &w[i]) == 0, "pthread_create");
	}
	for (int i = 0; i < T; i++) {
		pthread_join(th[i], NULL);
		bad += w[i].bad;
		if (own_fds) {
			CHECK(stats(w[i].fd, &st) == 0 && st.keys == 1000 + 64,
			      "thread %d's tree: %llu keys", i, (unsigned long long)st.keys);
			close(w[i].fd);
		}
	}
	CHECK(bad == 0, "%d wrong answers under concurrency", bad);
	if (!own_fds) {
		CHECK(stats(fd, &st) == 0, "stats");
		CHECK(st.keys == T * 1000 + 64, "%llu keys after the threads, want %d",
		      (unsigned long long)st.keys, T * 1000 + 64);
	}
	return 0;
}

static int t_threads_one_fd(int fd)
{
	return run_threads(fd, 0);
}

static int t_threads_own_fds(int fd)
{
	return run_threads(fd, 1);
}

static int t_threads_clear(int fd)
{
	struct worker w = { .fd = fd, .id = 9 };
	pthread_t th;

	CHECK(pthread_create(&th, NULL, work, &w) == 0, "pthread_create");
	for (int i = 0; i < 50; i++)
		CHECK(ioctl(fd, KVBTREE_IOC_CLEAR) == 0, "clear during puts");
	pthread_join(th, NULL);
	/* answers may miss keys a CLEAR dropped; the point is no crash, no hang */
	CHECK(put(fd, "alive", "1", 1) == 0, "device dead after concurrent clears");
	return 0;
}

/* A reader scanning the whole tree batch by batch while a writer puts and
 * deletes: every batch in strictly ascending order, each batch starting at
 * or after its resume key, the stable keys (never written during the run)
 * all seen; no crash, no hang. */
struct scanner {
	int fd;
	int stop;
	int bad;
	int rounds;
};

static int key_cmp(const void *a, uint32_t al, const void *b, uint32_t bl)
{
	int c = memcmp(a, b, al < bl ? al : bl);

	return c ? c : (al > bl) - (al < bl);
}

static void *scan_work(void *arg)
{
	struct scanner *sc = arg;
	static unsigned char buf[4096];
	struct kvbtree_scan s;
	unsigned char last[64], start[KVBTREE_MAX_KEY];
	uint32_t lastlen, startlen;

	while (!__atomic_load_n(&sc->stop, __ATOMIC_ACQUIRE) || sc->rounds == 0) {
		int stable = 0;

		startlen = 0;
		lastlen = 0;
		for (int batches = 0;; batches++) {
			uint32_t off = 0;

			/* ~1500 keys at most, 17 a batch: a resume key that does
			 * not move on would loop forever */
			if (batches > 1000) {
				sc->bad++;
				return NULL;
			}

			if (scan(sc->fd, &s, start, startlen, 0, 17, buf, sizeof(buf)) != 0) {
				sc->bad++;
				return NULL;
			}
			for (uint32_t i = 0; i < s.count; i++) {
				struct kvbtree_entry e;

				memcpy(&e, buf + off, sizeof(e));
				if (e.klen > sizeof(last) ||
				    (lastlen && key_cmp(last, lastlen, buf + off + 8, e.klen) >= 0))
					sc->bad++;
				if (e.klen > sizeof(last))
					return NULL;
				memcpy(last, buf + off + 8, e.klen);
				lastlen = e.klen;
				if (e.klen > 7 && !memcmp(last, "stable-", 7))
					stable++;
				off += (uint32_t)KVBTREE_ENTRY_SIZE(e.klen, e.vlen);
			}
			if (!s.rklen)
				break;
			memcpy(start, s.rkey, s.rklen);
			startlen = s.rklen;
		}
		if (stable != 200)
			sc->bad++;
		sc->rounds++;
	}
	return NULL;
}

static int t_threads_scan_during_writes(int fd)
{
	struct scanner sc = { .fd = fd };
	struct worker w = { .fd = fd, .id = 5 };
	pthread_t th;
	char k[32];

	for (int i = 0; i < 200; i++) {
		snprintf(k, sizeof(k), "stable-%03d", i);
		CHECK(put(fd, k, "s", 1) == 0, "put %d", i);
	}
	CHECK(pthread_create(&th, NULL, scan_work, &sc) == 0, "pthread_create");
	work(&w);
	__atomic_store_n(&sc.stop, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	CHECK(w.bad == 0, "%d wrong answers to the writer", w.bad);
	CHECK(sc.bad == 0, "%d bad scans (out of order or a stable key missing) in %d rounds",
	      sc.bad, sc.rounds);
	return 0;
}

static int t_shared_tree(int fd)
{
	int fd2 = dev_open();
	char b[8];
	uint32_t n = sizeof(b);
	int e;

	CHECK(fd2 >= 0, "second open");
	CHECK(put(fd, "both", "seen", 4) == 0, "put");
	e = get(fd2, "both", b, &n);
	close(fd2);
	CHECK(e == 0 && n == 4, "with shared=1 another descriptor does not see the key (%d)", e);
	CHECK(del(fd, "both") == 0, "del");
	return 0;
}

/* ---- driver ------------------------------------------------------------- */

static const struct tcase cases[] = {
	{ "ioctl/roundtrip", t_roundtrip, 1 },
	{ "ioctl/replace", t_replace, 0 },
	{ "ioctl/missing_is_enoent", t_missing, 1 },
	{ "ioctl/delete", t_delete, 0 },
	{ "ioctl/empty_value", t_empty_value, 0 },
	{ "ioctl/binary_keys", t_binary_keys, 0 },
	{ "ioctl/many_keys_resize", t_many_keys, 0 },
	{ "ioctl/stats", t_stats, 0 },
	{ "ioctl/clear", t_clear, 0 },
	{ "bad/size_is_einval", t_bad_size, 1 },
	{ "bad/flags_is_einval", t_bad_flags, 0 },
	{ "bad/zero_klen_is_einval", t_zero_klen, 0 },
	{ "bad/key_limits_e2big", t_key_limits, 1 },
	{ "bad/value_limits_e2big", t_value_limits, 0 },
	{ "bad/req_pointer_efault", t_bad_req_pointer, 1 },
	{ "bad/key_pointer_efault", t_bad_key_pointer, 0 },
	{ "bad/value_pointer_efault", t_bad_value_pointer, 0 },
	{ "bad/get_too_small_enospc", t_get_too_small, 1 },
	{ "bad/get_copies_exact_length", t_get_copies_exact, 0 },
	{ "bad/unknown_cmd_enotty", t_unknown_cmd, 0 },
	{ "state/per_fd_trees", t_per_fd_trees, 0 },
	{ "state/close_frees_memory", t_close_frees, 0 },
	{ "state/mem_cap_enomem", t_mem_cap, 0 },
	{ "threads/one_fd", t_threads_one_fd, 0 },
	{ "threads/own_fds", t_threads_own_fds, 0 },
	{ "threads/clear_during_puts", t_threads_clear, 0 },
	{ "threads/scan_during_writes", t_threads_scan_during_writes, 0 },
	{ "shared/two_fds_one_tree", t_shared_tree, 2 },
};

static const size_t n_cases = sizeof(cases) / sizeof(cases[0]);

int main(int argc, char **argv)
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
	for (size_t i = 0; i < n_cases + n_scan_cases; i++) {
		const struct tcase *c = i < n_cases ? &cases[i] : &scan_cases[i - n_cases];
		int fd;

		if ((quick && !c->quick) || (!quick && c->quick == 2) || (filter && !strstr(c->name, filter)))
			continue;
		if (list) {
			printf("%s\n", c->name);
			continue;
		}
		fd = dev_open();
		why[0] = 0;
		if (fd < 0) {
			printf("FAIL %s: open %s: %s\n", c->name, DEV, strerror(errno));
			failed++;
			continue;
		}
		/* --quick runs on the module's one shared tree: empty it, so a
		 * case sees no keys of the one before (as with its own tree) */
		if (quick && ioctl(fd, KVBTREE_IOC_CLEAR) != 0) {
			printf("FAIL %s: clear the shared tree: %s\n", c->name, strerror(errno));
			failed++;
			close(fd);
			continue;
		}
		if (c->fn(fd) == 0) {
			printf("ok   %s\n", c->name);
			passed++;
		} else {
			printf("FAIL %s: %s\n", c->name, why);
			failed++;
		}
		close(fd);
	}
	if (!list)
		printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
