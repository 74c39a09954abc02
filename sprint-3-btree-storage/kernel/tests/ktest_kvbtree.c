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
 * The cases it shares with sprint 2's ktest_kvhash.c (the two devices share
 * their errno rules) are the harness's, scripts/ktest/kdevtest_cases.h,
 * with the helpers and the driver (kdevtest.h); this file names the device
 * for them (ktest.h) and adds the tree's own cases.
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
#define KDT_MAIN
#include "ktest.h"

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

/* ioctl/many_keys_resize: 5000 keys split the tree, 2500 deletes merge it. */
static int kdt_many_keys_shape(const struct kvbtree_stats *st)
{
	CHECK(st->height >= 2 && st->splits > 0 && st->leaves > 1 && st->inners >= 1,
	      "5000 keys and no split: height %u, %llu splits", st->height,
	      (unsigned long long)st->splits);
	CHECK(st->merges > 0, "2500 deletes and no merge");
	return 0;
}

/* ---- threads ------------------------------------------------------------ */

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

/* ---- driver ------------------------------------------------------------- */

static const struct tcase cases[] = {
	KDT_COMMON_CASES,
	{ "threads/scan_during_writes", t_threads_scan_during_writes, 0 },
	KDT_SHARED_CASE,
};

int main(int argc, char **argv)
{
	return kdt_main(argc, argv, cases, sizeof(cases) / sizeof(cases[0]), scan_cases,
			n_scan_cases, 1);
}
