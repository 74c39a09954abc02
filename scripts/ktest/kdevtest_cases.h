/*
 * kdevtest_cases.h - the common cases of the character-device VM tests
 * (see kdevtest.h, which includes this file in the driver of a test
 * program, the one that defines KDT_MAIN; never include it elsewhere).
 *
 * What they check, each as the bug a student could make in the device's
 * ioctls: round trips (replace, missing keys, delete, an empty value,
 * binary keys that prefix each other, 5000 keys, STATS, CLEAR); every
 * bad-input rule (a wrong size or flags: EINVAL; klen 0: EINVAL; a key or
 * value one byte too long: E2BIG; unmapped request, key and value
 * addresses: EFAULT, the store unchanged; a GET buffer too small: ENOSPC
 * with the needed length written back and nothing else written; a GET
 * copies exactly the value's length, canaries past it untouched; an
 * unknown command: ENOTTY); per-descriptor state, the memory given back at
 * close, the memory cap (ENOMEM, the store unchanged, CLEAR frees); threads
 * on one descriptor and on several, CLEARs racing writers; the shared
 * object of shared=1 seen from two descriptors. Every case is static: the
 * table of the driver (KDT_COMMON_CASES, KDT_SHARED_CASE) names them.
 */
#ifndef KDEVTEST_CASES_H
#define KDEVTEST_CASES_H

#ifndef KDT_MAIN
#error "kdevtest_cases.h belongs to the driver of a test program (KDT_MAIN)"
#endif

/* The device's own check of ioctl/many_keys_resize (defined by the driver). */
static int kdt_many_keys_shape(const KDT_STATS *st);

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
	CHECK(kreq(fd, KDT_IOC_PUT, k1, 3, "A", &v) == 0, "put k1");
	v = 1;
	CHECK(kreq(fd, KDT_IOC_PUT, k2, 2, "B", &v) == 0, "put k2 (prefix of k1)");
	CHECK(kreq(fd, KDT_IOC_GET, k1, 3, buf, &n) == 0 && n == 1 && buf[0] == 'A',
	      "k1 reads back wrong");
	return 0;
}

static int t_many_keys(int fd)
{
	enum { N = 5000 };
	char k[32], v[32], buf[32];
	KDT_STATS st;

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
	return kdt_many_keys_shape(&st);
}

/* ---- bad input -------------------------------------------------------------- */

static int t_bad_size(int fd)
{
	KDT_REQ r = { .size = sizeof(r) - 1, .key = (uintptr_t)"k", .klen = 1 };

	CHECK(ioctl(fd, KDT_IOC_PUT, &r) == -1 && errno == EINVAL, "size-1: errno %d", errno);
	r.size = sizeof(r) + 8;
	CHECK(ioctl(fd, KDT_IOC_GET, &r) == -1 && errno == EINVAL, "size+8: errno %d", errno);
	r.size = 0;
	CHECK(ioctl(fd, KDT_IOC_DEL, &r) == -1 && errno == EINVAL, "size 0: errno %d", errno);
	return 0;
}

static int t_bad_flags(int fd)
{
	KDT_REQ r = { .size = sizeof(r), .flags = 1, .key = (uintptr_t)"k", .klen = 1 };

	CHECK(ioctl(fd, KDT_IOC_PUT, &r) == -1 && errno == EINVAL, "flags=1: errno %d", errno);
	return 0;
}

static int t_zero_klen(int fd)
{
	uint32_t n = 1;
	int e = kreq(fd, KDT_IOC_PUT, "k", 0, "v", &n);

	CHECK(e == EINVAL, "put klen 0: errno %d", e);
	e = kreq(fd, KDT_IOC_GET, "k", 0, NULL, &n);
	CHECK(e == EINVAL, "get klen 0: errno %d", e);
	e = kreq(fd, KDT_IOC_DEL, "k", 0, NULL, NULL);
	CHECK(e == EINVAL, "del klen 0: errno %d", e);
	return 0;
}

static int t_key_limits(int fd)
{
	static char k[KDT_MAX_KEY + 1];
	uint32_t n = 1;
	char b;

	memset(k, 'k', sizeof(k));
	CHECK(kreq(fd, KDT_IOC_PUT, k, KDT_MAX_KEY, "v", &n) == 0, "the longest key refused");
	n = 1;
	CHECK(kreq(fd, KDT_IOC_GET, k, KDT_MAX_KEY, &b, &n) == 0 && b == 'v',
	      "the longest key reads back wrong");
	n = 1;
	CHECK(kreq(fd, KDT_IOC_PUT, k, KDT_MAX_KEY + 1, "v", &n) == E2BIG,
	      "a key one byte too long: not E2BIG");
	CHECK(kreq(fd, KDT_IOC_GET, k, UINT32_MAX, &b, &n) == E2BIG, "klen 2^32-1: not E2BIG");
	return 0;
}

static int t_value_limits(int fd)
{
	uint32_t maxv = (uint32_t)read_param("max_value"), n;
	char *v = calloc(1, (size_t)maxv + 1), *b = malloc((size_t)maxv + 1);
	int e1, e2, e3;

	CHECK(maxv > 0 && v && b, "max_value parameter unreadable");
	v[maxv - 1] = 'z';
	n = maxv;
	e1 = kreq(fd, KDT_IOC_PUT, "big", 3, v, &n);
	n = maxv + 1;
	e2 = kreq(fd, KDT_IOC_PUT, "big2", 4, v, &n);
	n = maxv;
	e3 = kreq(fd, KDT_IOC_GET, "big", 3, b, &n);
	e3 = e3 ? e3 : (n != maxv || b[maxv - 1] != 'z') ? -1 : 0;
	free(v);
	free(b);
	CHECK(e1 == 0, "a value of max_value bytes refused (%d)", e1);
	CHECK(e2 == E2BIG, "a value one byte too big: errno %d, want E2BIG", e2);
	CHECK(e3 == 0, "the largest value reads back wrong");
	n = UINT32_MAX;
	CHECK(kreq(fd, KDT_IOC_PUT, "huge", 4, v, &n) == E2BIG, "vlen 2^32-1: not E2BIG");
	return 0;
}

static int t_bad_req_pointer(int fd)
{
	CHECK(ioctl(fd, KDT_IOC_PUT, NULL) == -1 && errno == EFAULT, "PUT NULL: errno %d", errno);
	CHECK(ioctl(fd, KDT_IOC_GET, bad_page()) == -1 && errno == EFAULT,
	      "GET unmapped: errno %d", errno);
	CHECK(ioctl(fd, KDT_IOC_STATS, bad_page()) == -1 && errno == EFAULT,
	      "STATS unmapped: errno %d", errno);
	CHECK(ioctl(fd, KDT_IOC_DEL, (void *)1) == -1 && errno == EFAULT,
	      "DEL at address 1: errno %d", errno);
	return 0;
}

static int t_bad_key_pointer(int fd)
{
	uint32_t n = 1;
	char b[4];

	CHECK(kreq(fd, KDT_IOC_PUT, bad_page(), 4, "v", &n) == EFAULT, "put");
	n = sizeof(b);
	CHECK(kreq(fd, KDT_IOC_GET, bad_page(), 4, b, &n) == EFAULT, "get");
	CHECK(kreq(fd, KDT_IOC_DEL, NULL, 4, NULL, NULL) == EFAULT, "del");
	return 0;
}

static int t_bad_value_pointer(int fd)
{
	char buf[8];
	uint32_t n = 5;
	KDT_STATS st;

	CHECK(kreq(fd, KDT_IOC_PUT, "k", 1, bad_page(), &n) == EFAULT, "put from unmapped");
	n = 0;
	CHECK(get(fd, "k", NULL, &n) == ENOENT, "a put that faulted stored the key");
	CHECK(put(fd, "k", "hello", 5) == 0, "put");
	n = 5;
	CHECK(get(fd, "k", bad_page(), &n) == EFAULT, "get into unmapped");
	n = sizeof(buf);
	CHECK(get(fd, "k", buf, &n) == 0 && n == 5, "the " KDT_OBJ " changed after a faulting get");
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
	KDT_REQ r = { .size = sizeof(r) };

	CHECK(ioctl(fd, _IOW(KDT_IOC_MAGIC, 99, KDT_REQ), &r) == -1 &&
	      errno == ENOTTY, "command 99: errno %d", errno);
	CHECK(ioctl(fd, _IOW('x', 1, KDT_REQ), &r) == -1 && errno == ENOTTY,
	      "another type byte: errno %d", errno);
	return 0;
}

static int t_stats(int fd)
{
	KDT_STATS st;

	CHECK(put(fd, "a", "12", 2) == 0 && put(fd, "bb", "345", 3) == 0, "put");
	CHECK(stats(fd, &st) == 0, "stats");
	CHECK(st.size == sizeof(st) && st.keys == 2 && st.bytes == 8,
	      "keys %llu bytes %llu", (unsigned long long)st.keys, (unsigned long long)st.bytes);
	CHECK(st.mem_bytes > 0 && st.module_mem >= st.mem_bytes, "memory counters");
	st.size = sizeof(st) - 8;
	CHECK(ioctl(fd, KDT_IOC_STATS, &st) == -1 && errno == EINVAL, "bad stats size");
	st.size = sizeof(st);
	st.flags = 2;
	CHECK(ioctl(fd, KDT_IOC_STATS, &st) == -1 && errno == EINVAL, "bad stats flags");
	return 0;
}

static int t_clear(int fd)
{
	KDT_STATS st;
	uint32_t n = 0;

	for (int i = 0; i < 100; i++) {
		char k[16];

		snprintf(k, sizeof(k), "c%d", i);
		CHECK(put(fd, k, "v", 1) == 0, "put");
	}
	CHECK(ioctl(fd, KDT_IOC_CLEAR) == 0, "clear: errno %d", errno);
	CHECK(stats(fd, &st) == 0 && st.keys == 0, "keys after clear");
	CHECK(get(fd, "c5", NULL, &n) == ENOENT, "a key survived clear");
	CHECK(put(fd, "after", "v", 1) == 0, "put after clear");
	return 0;
}

/* ---- state and memory ---------------------------------------------------- */

static int t_per_fd_objs(int fd)
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
	KDT_STATS st;
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
	CHECK(after == before, "module memory %lu before, %lu after the other " KDT_OBJ " closed",
	      before, after);
	return 0;
}

static int t_mem_cap(int fd)
{
	unsigned long cap0 = read_param("mem_cap"), base;
	KDT_STATS st;
	char k[32], v[200];
	uint32_t n = 0;
	int i, e = 0, rc = 0;

	memset(v, 'm', sizeof(v));
	CHECK(stats(fd, &st) == 0, "stats");
	base = st.module_mem;
	CHECK(write_param("mem_cap", base + 256 * 1024) == 0, "cannot set mem_cap");
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
	if (ioctl(fd, KDT_IOC_CLEAR) != 0 || put(fd, "after-cap", v, sizeof(v)) != 0) {
		snprintf(why, sizeof(why), "clear at the cap did not free memory");
		rc = -1;
	}
out_restore:
	write_param("mem_cap", cap0);
	return rc;
}

/* ---- threads ------------------------------------------------------------ */

struct worker {
	int fd;
	int id;
	int bad;
};

static __attribute__((unused)) void *work(void *arg)
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
	KDT_STATS st;
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
			      "thread %d's " KDT_OBJ ": %llu keys", i, (unsigned long long)st.keys);
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
		CHECK(ioctl(fd, KDT_IOC_CLEAR) == 0, "clear during puts");
	pthread_join(th, NULL);
	/* answers may miss keys a CLEAR dropped; the point is no crash, no hang */
	CHECK(put(fd, "alive", "1", 1) == 0, "device dead after concurrent clears");
	return 0;
}

static int t_shared_obj(int fd)
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

/* The common cases, in the order of the device's case table. */
#define KDT_COMMON_CASES                                                     \
	{ "ioctl/roundtrip", t_roundtrip, 1 },                               \
	{ "ioctl/replace", t_replace, 0 },                                   \
	{ "ioctl/missing_is_enoent", t_missing, 1 },                         \
	{ "ioctl/delete", t_delete, 0 },                                     \
	{ "ioctl/empty_value", t_empty_value, 0 },                           \
	{ "ioctl/binary_keys", t_binary_keys, 0 },                           \
	{ "ioctl/many_keys_resize", t_many_keys, 0 },                        \
	{ "ioctl/stats", t_stats, 0 },                                       \
	{ "ioctl/clear", t_clear, 0 },                                       \
	{ "bad/size_is_einval", t_bad_size, 1 },                             \
	{ "bad/flags_is_einval", t_bad_flags, 0 },                           \
	{ "bad/zero_klen_is_einval", t_zero_klen, 0 },                       \
	{ "bad/key_limits_e2big", t_key_limits, 1 },                         \
	{ "bad/value_limits_e2big", t_value_limits, 0 },                     \
	{ "bad/req_pointer_efault", t_bad_req_pointer, 1 },                  \
	{ "bad/key_pointer_efault", t_bad_key_pointer, 0 },                  \
	{ "bad/value_pointer_efault", t_bad_value_pointer, 0 },              \
	{ "bad/get_too_small_enospc", t_get_too_small, 1 },                  \
	{ "bad/get_copies_exact_length", t_get_copies_exact, 0 },            \
	{ "bad/unknown_cmd_enotty", t_unknown_cmd, 0 },                      \
	{ "state/per_fd_" KDT_OBJ "s", t_per_fd_objs, 0 },                   \
	{ "state/close_frees_memory", t_close_frees, 0 },                    \
	{ "state/mem_cap_enomem", t_mem_cap, 0 },                            \
	{ "threads/one_fd", t_threads_one_fd, 0 },                           \
	{ "threads/own_fds", t_threads_own_fds, 0 },                         \
	{ "threads/clear_during_puts", t_threads_clear, 0 }
/* The case of the second load cycle only (shared=1). */
#define KDT_SHARED_CASE { "shared/two_fds_one_" KDT_OBJ, t_shared_obj, 2 }

#endif /* KDEVTEST_CASES_H */
