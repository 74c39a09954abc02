/*
 * ktest_scan.c - the SCAN cases of the /dev/kvbtree VM test (linked into
 * ktest_kvbtree; helpers in ktest.h).
 *
 * What they check, each as the bug a student could make: the empty tree
 * (no entries, no resume key, nothing written); the wire layout (headers,
 * key and value bytes, zero padding, every entry 8-byte aligned) in key
 * order whatever the insertion order; `count` honoured, with the resume
 * key the first key not returned; a buffer of exactly the entries' size
 * (all fit, `used` == `buflen`) and one byte short (the last entry left
 * out, and not a byte written past `used`: canaries); a first entry that
 * does not fit (ENOSPC, `needed`, nothing written, the resume key set);
 * walking the whole tree through resume keys (every key once, in order) at
 * several batch shapes; inclusive and exclusive starts, a start between
 * keys and past the end; the longest key as a resume key; values larger
 * than the device's first batch buffer (its growth path); every bad input
 * (size, flags, count 0, an oversized start key, bad struct, key and
 * buffer addresses).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "ktest.h"

#define CANARY 0xA5

/* Put keys k000..k(n-1) (3+ digits) with values "v<i>" repeated to i%13+1 bytes,
 * in a scrambled order. */
static int fill(int fd, int n)
{
	for (int j = 0; j < n; j++) {
		int i = (int)(((unsigned)j * 7919u) % (unsigned)n);
		char k[16], v[16];

		snprintf(k, sizeof(k), "k%03d", i);
		memset(v, 'a' + i % 26, sizeof(v));
		if (put(fd, k, v, (uint32_t)(i % 13 + 1)))
			return -1;
	}
	return 0;
}

/* The size of key i's entry (fill()'s layout). */
static uint32_t esize(int i)
{
	char k[16];
	int kl = snprintf(k, sizeof(k), "k%03d", i);

	return (uint32_t)KVBTREE_ENTRY_SIZE(kl, i % 13 + 1);
}

/* Check that the batch holds keys first..first+count-1 of fill(), laid out
 * exactly; set why and return -1 if not. */
static int check_batch(const unsigned char *buf, const struct kvbtree_scan *s, int first)
{
	uint32_t off = 0;

	for (uint32_t e = 0; e < s->count; e++) {
		struct kvbtree_entry h;
		char k[16];
		int i = first + (int)e, kl = snprintf(k, sizeof(k), "k%03d", i);
		uint32_t sz = esize(i);

		CHECK(off % 8 == 0, "entry %u at offset %u: not 8-byte aligned", e, off);
		memcpy(&h, buf + off, sizeof(h));
		CHECK(h.klen == (uint32_t)kl && !memcmp(buf + off + 8, k, (size_t)kl),
		      "entry %u: key '%.*s' (len %u), want %s", e, (int)(h.klen < 16 ? h.klen : 16),
		      buf + off + 8, h.klen, k);
		CHECK(h.vlen == (uint32_t)(i % 13 + 1), "entry %u: vlen %u", e, h.vlen);
		for (uint32_t b = 0; b < h.vlen; b++)
			CHECK(buf[off + 8 + h.klen + b] == 'a' + i % 26, "entry %u: value byte %u", e, b);
		for (uint32_t b = 8 + h.klen + h.vlen; b < sz; b++)
			CHECK(buf[off + b] == 0, "entry %u: padding byte %u not zero", e, b);
		off += sz;
	}
	CHECK(off == s->used, "used %u, the entries take %u", s->used, off);
	return 0;
}

static int resume_is(const struct kvbtree_scan *s, int i)
{
	char k[16];
	int kl = snprintf(k, sizeof(k), "k%03d", i);

	return s->rklen == (uint32_t)kl && !memcmp(s->rkey, k, (size_t)kl);
}

static int t_empty(int fd)
{
	unsigned char buf[64];
	struct kvbtree_scan s;

	memset(buf, CANARY, sizeof(buf));
	CHECK(scan(fd, &s, NULL, 0, 0, 10, buf, sizeof(buf)) == 0, "scan of an empty tree: %d", errno);
	CHECK(s.count == 0 && s.used == 0 && s.rklen == 0 && s.needed == 0,
	      "empty tree: count %u used %u rklen %u needed %u", s.count, s.used, s.rklen, s.needed);
	CHECK(buf[0] == CANARY, "an empty scan wrote into the buffer");
	return 0;
}

static int t_order_and_layout(int fd)
{
	static unsigned char buf[8192];
	struct kvbtree_scan s;

	CHECK(fill(fd, 150) == 0, "fill");
	memset(buf, CANARY, sizeof(buf));
	CHECK(scan(fd, &s, NULL, 0, 0, 1000, buf, sizeof(buf)) == 0, "scan: %d", errno);
	CHECK(s.count == 150, "%u entries, want 150", s.count);
	CHECK(s.rklen == 0, "the whole tree returned, yet a resume key of %u bytes", s.rklen);
	if (check_batch(buf, &s, 0))
		return -1;
	for (uint32_t b = s.used; b < sizeof(buf); b++)
		CHECK(buf[b] == CANARY, "byte %u past used (%u) was written", b, s.used);
	return 0;
}

static int t_count_limit(int fd)
{
	unsigned char buf[4096];
	struct kvbtree_scan s;

	CHECK(fill(fd, 40) == 0, "fill");
	CHECK(scan(fd, &s, NULL, 0, 0, 3, buf, sizeof(buf)) == 0, "scan: %d", errno);
	CHECK(s.count == 3, "count 3: got %u entries", s.count);
	if (check_batch(buf, &s, 0))
		return -1;
	CHECK(resume_is(&s, 3), "resume key '%.*s', want k003 (the first key not returned)",
	      (int)s.rklen, s.rkey);
	CHECK(scan(fd, &s, NULL, 0, 0, 40, buf, sizeof(buf)) == 0 && s.count == 40 && s.rklen == 0,
	      "count == keys: %u entries, rklen %u (want 40, 0)", s.count, s.rklen);
	CHECK(scan(fd, &s, NULL, 0, 0, 39, buf, sizeof(buf)) == 0 && s.count == 39 && resume_is(&s, 39),
	      "count == keys-1: %u entries, resume not the last key", s.count);
	return 0;
}

static int t_exact_fit(int fd)
{
	unsigned char buf[512];
	uint32_t len = esize(0) + esize(1) + esize(2);
	struct kvbtree_scan s;

	CHECK(fill(fd, 10) == 0, "fill");
	memset(buf, CANARY, sizeof(buf));
	CHECK(scan(fd, &s, NULL, 0, 0, 100, buf, len) == 0, "scan: %d", errno);
	CHECK(s.count == 3 && s.used == len, "a buffer of exactly 3 entries: %u entries, used %u/%u",
	      s.count, s.used, len);
	if (check_batch(buf, &s, 0))
		return -1;
	CHECK(resume_is(&s, 3), "resume key not k003");
	CHECK(buf[len] == CANARY, "a byte past the buffer was written");
	return 0;
}

static int t_one_byte_short(int fd)
{
	unsigned char buf[512];
	uint32_t len = esize(0) + esize(1) + esize(2) - 1;
	struct kvbtree_scan s;

	CHECK(fill(fd, 10) == 0, "fill");
	memset(buf, CANARY, sizeof(buf));
	CHECK(scan(fd, &s, NULL, 0, 0, 100, buf, len) == 0, "scan: %d", errno);
	CHECK(s.count == 2, "3 entries' size minus 1: %u entries, want 2", s.count);
	if (check_batch(buf, &s, 0))
		return -1;
	CHECK(resume_is(&s, 2), "resume key not k002 (the entry that did not fit)");
	for (uint32_t b = s.used; b < sizeof(buf); b++)
		CHECK(buf[b] == CANARY, "byte %u past used (%u) was written (a partial entry?)", b, s.used);
	return 0;
}

static int t_first_too_big_enospc(int fd)
{
	unsigned char buf[64];
	struct kvbtree_scan s;

	CHECK(fill(fd, 10) == 0, "fill");
	memset(buf, CANARY, sizeof(buf));
	CHECK(scan(fd, &s, NULL, 0, 0, 5, buf, esize(0) - 1) == ENOSPC,
	      "a buffer one byte short of the first entry: not ENOSPC");
	CHECK(s.needed == esize(0), "needed %u, want %u", s.needed, esize(0));
	CHECK(s.count == 0 && s.used == 0, "ENOSPC with count %u used %u", s.count, s.used);
	CHECK(resume_is(&s, 0), "ENOSPC: the resume key is not the entry that did not fit");
	for (size_t b = 0; b < sizeof(buf); b++)
		CHECK(buf[b] == CANARY, "ENOSPC wrote byte %zu of the buffer", b);
	CHECK(scan(fd, &s, NULL, 0, 0, 5, NULL, 0) == ENOSPC && s.needed == esize(0),
	      "a length query (buf 0, buflen 0): needed %u", s.needed);
	/* an error path that kept a lock hangs here (CLEAR takes it exclusive) */
	CHECK(ioctl(fd, KVBTREE_IOC_CLEAR) == 0 && put(fd, "after", "x", 1) == 0,
	      "CLEAR and PUT after ENOSPC");
	return 0;
}

/* Walk the whole tree through resume keys with `count` entries and `len`
 * bytes per call. */
static int walk(int fd, int n, uint32_t count, uint32_t len)
{
	static unsigned char buf[4096];
	unsigned char start[KVBTREE_MAX_KEY];
	uint32_t startlen = 0;
	struct kvbtree_scan s;
	int seen = 0, calls = 0;

	for (;;) {
		CHECK(scan(fd, &s, start, startlen, 0, count, buf, len) == 0, "scan: %d", errno);
		CHECK(s.count > 0 || s.rklen == 0, "an empty batch with a resume key (loops forever)");
		if (check_batch(buf, &s, seen))
			return -1;
		seen += (int)s.count;
		CHECK(++calls <= n + 1, "more calls than keys");
		if (!s.rklen)
			break;
		CHECK(resume_is(&s, seen), "after %d keys the resume key is not key %d", seen, seen);
		memcpy(start, s.rkey, s.rklen);
		startlen = s.rklen;
	}
	CHECK(seen == n, "the walk (count %u, %u bytes) saw %d keys, want %d", count, len, seen, n);
	return 0;
}

static int t_resume_walk(int fd)
{
	/* the largest entry of fill(): a 4-byte key, a 13-byte value */
	uint32_t one = (uint32_t)KVBTREE_ENTRY_SIZE(4, 13);

	CHECK(fill(fd, 300) == 0, "fill");
	if (walk(fd, 300, 7, 4096) || walk(fd, 300, 1, 4096) || walk(fd, 300, 1000, 100) ||
	    walk(fd, 300, 1000, one) || walk(fd, 300, 1000, 2 * one - 1))
		return -1;
	return 0;
}

static int t_start_keys(int fd)
{
	unsigned char buf[256];
	struct kvbtree_scan s;

	CHECK(fill(fd, 20) == 0, "fill");
	CHECK(scan(fd, &s, "k005", 4, 0, 1, buf, sizeof(buf)) == 0 && s.count == 1 &&
	      !check_batch(buf, &s, 5), "inclusive start at k005 did not return k005 first");
	CHECK(resume_is(&s, 6), "resume after k005 is not k006");
	CHECK(scan(fd, &s, "k005", 4, KVBTREE_SCAN_EXCLUSIVE, 1, buf, sizeof(buf)) == 0 &&
	      s.count == 1 && !check_batch(buf, &s, 6), "exclusive start at k005 did not return k006");
	CHECK(scan(fd, &s, "k0055", 5, 0, 1, buf, sizeof(buf)) == 0 && s.count == 1 &&
	      !check_batch(buf, &s, 6), "a start between k005 and k006 did not return k006");
	CHECK(scan(fd, &s, "k019", 4, KVBTREE_SCAN_EXCLUSIVE, 5, buf, sizeof(buf)) == 0 &&
	      s.count == 0 && s.rklen == 0 && s.used == 0, "a start after the last key returned %u",
	      s.count);
	CHECK(scan(fd, &s, "z", 1, 0, 5, buf, sizeof(buf)) == 0 && s.count == 0 && s.rklen == 0,
	      "a start past the end returned %u entries", s.count);
	CHECK(scan(fd, &s, "a", 1, KVBTREE_SCAN_EXCLUSIVE, 1, buf, sizeof(buf)) == 0 &&
	      s.count == 1 && !check_batch(buf, &s, 0), "a start before the first key");
	return 0;
}

static int t_longest_resume_key(int fd)
{
	static unsigned char k[KVBTREE_MAX_KEY], buf[4096], rk[KVBTREE_MAX_KEY];
	struct kvbtree_scan s;
	uint32_t n = 1;

	memset(k, 'L', sizeof(k));
	k[sizeof(k) - 1] = 'Z';
	CHECK(put(fd, "A", "1", 1) == 0, "put A");
	CHECK(kreq(fd, KVBTREE_IOC_PUT, k, sizeof(k), "2", &n) == 0, "put the longest key");
	CHECK(scan(fd, &s, NULL, 0, 0, 1, buf, sizeof(buf)) == 0 && s.count == 1, "scan");
	CHECK(s.rklen == sizeof(k) && !memcmp(s.rkey, k, sizeof(k)),
	      "the longest key as a resume key: %u bytes, or its bytes differ", s.rklen);
	memcpy(rk, s.rkey, s.rklen); /* scan() clears s, rkey included */
	CHECK(scan(fd, &s, rk, sizeof(rk), 0, 5, buf, sizeof(buf)) == 0 && s.count == 1 &&
	      s.used == KVBTREE_ENTRY_SIZE(sizeof(k), 1) && s.rklen == 0,
	      "resuming from the longest key: %u entries", s.count);
	return 0;
}

static int t_large_values(int fd)
{
	enum { N = 5, V = 100000 };
	uint32_t sz = (uint32_t)KVBTREE_ENTRY_SIZE(2, V);
	unsigned char *v = malloc(V), *buf = malloc((size_t)sz * N + 64);
	struct kvbtree_scan s;
	int e = 0, ok = 1;

	CHECK(v && buf, "malloc");
	for (int i = 0; i < N && !e; i++) {
		char k[4] = { 'b', (char)('0' + i), 0 };

		memset(v, 'A' + i, V);
		e = put(fd, k, v, V);
	}
	memset(buf, CANARY, (size_t)sz * N + 64);
	if (!e)
		e = scan(fd, &s, NULL, 0, 0, 100, buf, sz * N);
	for (int i = 0; !e && ok && i < N; i++) {
		struct kvbtree_entry h;

		memcpy(&h, buf + (size_t)i * sz, sizeof(h));
		ok = h.klen == 2 && h.vlen == V && buf[(size_t)i * sz + 8 + 1] == '0' + i &&
		     buf[(size_t)i * sz + 10] == 'A' + i && buf[(size_t)i * sz + 9 + V] == 'A' + i;
	}
	ok = ok && !e && s.count == N && s.used == sz * N && buf[sz * N] == CANARY;
	free(v);
	free(buf);
	CHECK(e == 0, "put or scan of 100 KB values: errno %d", e);
	CHECK(ok, "5 values of 100 KB (past the device's first batch buffer) came back wrong");
	return 0;
}

static int t_bad_inputs(int fd)
{
	unsigned char buf[256];
	static unsigned char k[KVBTREE_MAX_KEY + 1];
	struct kvbtree_scan s;

	CHECK(fill(fd, 5) == 0, "fill");
	memset(&s, 0, sizeof(s));
	s.size = sizeof(s) - 1;
	s.count = 1;
	CHECK(ioctl(fd, KVBTREE_IOC_SCAN, &s) == -1 && errno == EINVAL, "size-1: errno %d", errno);
	s.size = 0;
	CHECK(ioctl(fd, KVBTREE_IOC_SCAN, &s) == -1 && errno == EINVAL, "size 0: errno %d", errno);
	CHECK(scan(fd, &s, NULL, 0, 2, 1, buf, sizeof(buf)) == EINVAL, "flags 2: not EINVAL");
	CHECK(scan(fd, &s, NULL, 0, 0, 0, buf, sizeof(buf)) == EINVAL, "count 0: not EINVAL");
	memset(k, 'k', sizeof(k));
	CHECK(scan(fd, &s, k, KVBTREE_MAX_KEY + 1, 0, 1, buf, sizeof(buf)) == E2BIG,
	      "a start key one byte too long: not E2BIG");
	CHECK(scan(fd, &s, k, UINT32_MAX, 0, 1, buf, sizeof(buf)) == E2BIG, "klen 2^32-1: not E2BIG");
	CHECK(scan(fd, &s, k, KVBTREE_MAX_KEY, 0, 1, buf, sizeof(buf)) == 0,
	      "a start key of the longest length refused");
	CHECK(scan(fd, &s, bad_page(), 4, 0, 1, buf, sizeof(buf)) == EFAULT, "unmapped start key");
	CHECK(scan(fd, &s, NULL, 4, 0, 1, buf, sizeof(buf)) == EFAULT, "NULL start key, klen 4");
	CHECK(scan(fd, &s, NULL, 0, 0, 3, bad_page(), 4096) == EFAULT, "unmapped buffer");
	CHECK(ioctl(fd, KVBTREE_IOC_SCAN, NULL) == -1 && errno == EFAULT, "NULL request");
	CHECK(ioctl(fd, KVBTREE_IOC_SCAN, bad_page()) == -1 && errno == EFAULT, "unmapped request");
	CHECK(scan(fd, &s, NULL, 0, 0, 100, buf, sizeof(buf)) == 0 && s.count == 5,
	      "the tree is not whole after the bad scans (%u keys)", s.count);
	CHECK(ioctl(fd, KVBTREE_IOC_CLEAR) == 0, "CLEAR after the bad scans: errno %d", errno);
	return 0;
}

const struct tcase scan_cases[] = {
	{ "scan/empty_tree", t_empty, 1 },
	{ "scan/order_and_layout", t_order_and_layout, 1 },
	{ "scan/count_limit_and_resume_key", t_count_limit, 0 },
	{ "scan/exact_fit", t_exact_fit, 1 },
	{ "scan/one_byte_short", t_one_byte_short, 1 },
	{ "scan/first_entry_too_big_enospc", t_first_too_big_enospc, 0 },
	{ "scan/resume_walk", t_resume_walk, 1 },
	{ "scan/start_keys", t_start_keys, 0 },
	{ "scan/longest_resume_key", t_longest_resume_key, 0 },
	{ "scan/large_values", t_large_values, 0 },
	{ "scan/bad_inputs", t_bad_inputs, 0 },
};
const size_t n_scan_cases = sizeof(scan_cases) / sizeof(scan_cases[0]);
