/*
 * test_alloc.c — unit tests of the allocation module (alloc.h): the
 * kv_malloc family and the hook that fails the nth allocation.
 *
 * The hook is process-wide, and Criterion runs every test in its own
 * process, so each test starts with the hook disarmed and may count
 * allocations exactly (no other thread allocates through kvlabs here).
 *
 * What is checked: which calls count (every malloc, calloc, realloc,
 * strdup and memdup, size 0 included; not free, nor a calloc refused for
 * overflow); the nth counted call fails and only it, unless sticky; the hit
 * flag; re-arming and disarming; realloc keeping the old block on failure;
 * the copies; and kv_alloc_fail_loop(): the failure moves one allocation
 * further per run, the loop stops after the first run that did not reach
 * it, after a non-zero body result (returned), or at max_runs, and it
 * leaves the hook disarmed.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#include "kvlabs/alloc.h"

/* A block that must be a usable, writable allocation of @p n bytes. */
static void touch(void *p, size_t n)
{
    cr_assert_not_null(p);
    memset(p, 0xA5, n);
}

Test(alloc, zero_sizes_allocate_one_byte)
{
    void *a = kv_malloc(0), *b = kv_calloc(0, 8), *c = kv_calloc(8, 0), *d = kv_realloc(NULL, 0);

    touch(a, 1);
    touch(b, 1);
    touch(c, 1);
    touch(d, 1);
    /* realloc to 0 resizes to one byte: it does not free. */
    d = kv_realloc(d, 0);
    touch(d, 1);
    kv_free(a);
    kv_free(b);
    kv_free(c);
    kv_free(d);
    kv_free(NULL);
}

Test(alloc, count_increments_once_per_call)
{
    uint64_t c0 = kv_alloc_count();
    void *p = kv_malloc(10);

    cr_assert_eq(kv_alloc_count(), c0 + 1);
    p = kv_realloc(p, 100);
    cr_assert_eq(kv_alloc_count(), c0 + 2);
    void *q = kv_calloc(3, 4);
    cr_assert_eq(kv_alloc_count(), c0 + 3);
    char *s = kv_strdup("abc");
    cr_assert_eq(kv_alloc_count(), c0 + 4);
    void *m = kv_memdup("xyz", 3);
    cr_assert_eq(kv_alloc_count(), c0 + 5);
    void *z = kv_malloc(0);
    cr_assert_eq(kv_alloc_count(), c0 + 6, "size 0 counts too");
    kv_free(p);
    kv_free(q);
    kv_free(s);
    kv_free(m);
    kv_free(z);
    cr_assert_eq(kv_alloc_count(), c0 + 6, "kv_free does not count");
}

Test(alloc, calloc_zeroes)
{
    unsigned char *p = kv_calloc(100, 3);

    cr_assert_not_null(p);
    for (size_t i = 0; i < 300; i++)
        cr_assert_eq(p[i], 0, "byte %zu", i);
    kv_free(p);
}

Test(alloc, calloc_overflow_is_null_and_not_counted)
{
    uint64_t c0 = kv_alloc_count();

    cr_assert_null(kv_calloc(SIZE_MAX, 2));
    cr_assert_null(kv_calloc(2, SIZE_MAX));
    cr_assert_null(kv_calloc(SIZE_MAX / 2 + 1, 2));
    cr_assert_eq(kv_alloc_count(), c0, "an overflowing calloc is refused before the count");
    /* Nor does it consume an armed failure. */
    kv_alloc_fail_at(1, false);
    cr_assert_null(kv_calloc(SIZE_MAX, SIZE_MAX));
    cr_assert_not(kv_alloc_fail_hit());
    cr_assert_null(kv_malloc(1), "the armed failure is still the next counted call");
    cr_assert(kv_alloc_fail_hit());
    kv_alloc_fail_at(0, false);
}

Test(alloc, fail_at_nth_only)
{
    void *p[6];

    kv_alloc_fail_at(3, false);
    cr_assert_not(kv_alloc_fail_hit());
    p[0] = kv_malloc(8);
    p[1] = kv_calloc(1, 8);
    cr_assert_not_null(p[0]);
    cr_assert_not_null(p[1]);
    cr_assert_not(kv_alloc_fail_hit(), "not reached yet");
    p[2] = kv_malloc(8);
    cr_assert_null(p[2], "the 3rd allocation fails");
    cr_assert(kv_alloc_fail_hit());
    p[3] = kv_malloc(8);
    p[4] = kv_strdup("after");
    cr_assert_not_null(p[3], "not sticky: the 4th succeeds");
    cr_assert_str_eq(p[4], "after");
    cr_assert(kv_alloc_fail_hit(), "the flag stays set");
    for (int i = 0; i < 5; i++)
        kv_free(p[i]);
    kv_alloc_fail_at(0, false);
}

/* A suspended thread's allocations are neither counted nor failed (also when
 * sticky), nesting needs as many resumes, and the armed failure then lands
 * on the next counted call. */
Test(alloc, suspended_calls_neither_count_nor_fail)
{
    void *p[5];

    kv_alloc_fail_at(1, true);
    uint64_t before = kv_alloc_count();
    kv_alloc_hook_suspend();
    kv_alloc_hook_suspend();
    p[0] = kv_malloc(8);
    kv_alloc_hook_resume();
    p[1] = kv_realloc(NULL, 8);
    cr_assert_not_null(p[0], "suspended: not failed");
    cr_assert_not_null(p[1], "still suspended after one resume of two");
    cr_assert_eq(kv_alloc_count(), before, "suspended calls are not counted");
    cr_assert_not(kv_alloc_fail_hit());
    kv_alloc_hook_resume();
    kv_alloc_hook_resume(); /* an extra resume is harmless */
    p[2] = kv_malloc(8);
    cr_assert_null(p[2], "resumed: the armed failure is the next counted call");
    cr_assert(kv_alloc_fail_hit());
    p[3] = kv_calloc(1, 8);
    cr_assert_null(p[3], "sticky");
    kv_alloc_hook_suspend();
    p[4] = kv_calloc(1, 8);
    kv_alloc_hook_resume();
    cr_assert_not_null(p[4], "sticky failures skip a suspended thread too");
    kv_alloc_fail_at(0, false);
    for (int i = 0; i < 5; i++)
        kv_free(p[i]);
}

Test(alloc, fail_at_each_kind_of_call)
{
    void *old = kv_malloc(16);

    kv_alloc_fail_at(1, false);
    cr_assert_null(kv_calloc(2, 2));
    kv_alloc_fail_at(1, false);
    cr_assert_null(kv_realloc(NULL, 5));
    kv_alloc_fail_at(1, false);
    cr_assert_null(kv_strdup("s"));
    kv_alloc_fail_at(1, false);
    cr_assert_null(kv_memdup("m", 1));
    kv_alloc_fail_at(1, false);
    cr_assert_null(kv_malloc(0));
    kv_alloc_fail_at(0, false);
    kv_free(old);
}

Test(alloc, sticky_fails_every_later_call)
{
    void *a, *b;

    kv_alloc_fail_at(2, true);
    a = kv_malloc(4);
    cr_assert_not_null(a);
    cr_assert_not(kv_alloc_fail_hit());
    for (int i = 0; i < 5; i++)
        cr_assert_null(kv_malloc(4), "sticky: call %d fails", i + 2);
    cr_assert(kv_alloc_fail_hit());
    kv_alloc_fail_at(0, false);
    cr_assert_not(kv_alloc_fail_hit(), "disarming clears the flag");
    b = kv_malloc(4);
    cr_assert_not_null(b, "disarmed");
    kv_free(a);
    kv_free(b);
}

Test(alloc, rearm_replaces_and_clears_hit)
{
    void *a, *b, *c;

    kv_alloc_fail_at(1, false);
    cr_assert_null(kv_malloc(1));
    cr_assert(kv_alloc_fail_hit());
    kv_alloc_fail_at(2, false); /* counted from now */
    cr_assert_not(kv_alloc_fail_hit(), "arming clears the flag");
    a = kv_malloc(1);
    cr_assert_not_null(a);
    cr_assert_null(kv_malloc(1));
    kv_alloc_fail_at(5, false);
    kv_alloc_fail_at(1, true); /* replaces the failure at 5, now sticky */
    cr_assert_null(kv_malloc(1));
    cr_assert_null(kv_malloc(1));
    kv_alloc_fail_at(0, false);
    b = kv_malloc(1);
    c = kv_malloc(1);
    cr_assert_not_null(b);
    cr_assert_not_null(c);
    kv_free(a);
    kv_free(b);
    kv_free(c);
}

Test(alloc, realloc_failure_keeps_old_block)
{
    unsigned char *p = kv_malloc(32), *q;

    cr_assert_not_null(p);
    for (int i = 0; i < 32; i++)
        p[i] = (unsigned char)i;
    kv_alloc_fail_at(1, false);
    q = kv_realloc(p, 1 << 20);
    cr_assert_null(q);
    cr_assert(kv_alloc_fail_hit());
    for (int i = 0; i < 32; i++)
        cr_assert_eq(p[i], i, "old block byte %d changed", i);
    q = kv_realloc(p, 1 << 20); /* disarmed again (not sticky) */
    cr_assert_not_null(q);
    for (int i = 0; i < 32; i++)
        cr_assert_eq(q[i], i, "realloc kept byte %d", i);
    q[(1 << 20) - 1] = 1;
    kv_free(q);
}

Test(alloc, memdup_and_strdup)
{
    static const unsigned char bytes[] = {'a', 0, 'b', 0xff};
    unsigned char *m = kv_memdup(bytes, sizeof(bytes));
    static const char hello[] = "hello";
    char *e = kv_memdup(NULL, 0), *s = kv_strdup(hello), *es = kv_strdup("");

    cr_assert_not_null(m);
    cr_assert_eq(memcmp(m, bytes, sizeof(bytes)), 0);
    cr_assert_eq(m[sizeof(bytes)], 0, "memdup adds a NUL");
    cr_assert_not_null(e);
    cr_assert_eq(e[0], '\0');
    cr_assert_str_eq(s, "hello");
    cr_assert_neq((const void *)s, (const void *)hello, "a copy, not the original");
    cr_assert_str_eq(es, "");
    kv_free(m);
    kv_free(e);
    kv_free(s);
    kv_free(es);
}

struct counter_arg {
    int n;
};

static void *alloc_many(void *p)
{
    struct counter_arg *a = p;

    for (int i = 0; i < a->n; i++)
        kv_free(kv_malloc(16));
    return NULL;
}

Test(alloc, count_is_thread_safe)
{
    pthread_t t[4];
    struct counter_arg a = {.n = 5000};
    uint64_t c0 = kv_alloc_count();

    for (int i = 0; i < 4; i++)
        cr_assert_eq(pthread_create(&t[i], NULL, alloc_many, &a), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(t[i], NULL);
    cr_assert_eq(kv_alloc_count(), c0 + 4 * 5000);
}

/* ---- the malloc-failure loop ------------------------------------------- */

enum { NALLOC = 5 };

struct loop_log {
    uint64_t calls;         /* body runs */
    uint64_t failed_at[16]; /* per run: which allocation (1-based) failed, 0 = none */
    int stop_at;            /* return 7 in this run (0: never) */
    int nalloc;             /* allocations per run */
};

static int body_allocs(void *arg, uint64_t n)
{
    struct loop_log *l = arg;
    void *p[32];

    cr_assert_eq(n, l->calls + 1, "runs are numbered 1, 2, ...");
    l->calls++;
    for (int i = 0; i < l->nalloc; i++) {
        p[i] = kv_malloc(8);
        if (!p[i] && l->calls <= 16)
            l->failed_at[l->calls - 1] = (uint64_t)i + 1;
    }
    for (int i = 0; i < l->nalloc; i++)
        kv_free(p[i]);
    return l->stop_at && (uint64_t)l->stop_at == n ? 7 : 0;
}

Test(alloc, loop_fails_each_allocation_once)
{
    struct loop_log l = {.nalloc = NALLOC};
    uint64_t runs = 0;

    cr_assert_eq(kv_alloc_fail_loop(body_allocs, &l, 0, &runs), 0);
    cr_assert_eq(runs, NALLOC + 1, "one run per allocation plus the clean run: %llu",
                 (unsigned long long)runs);
    cr_assert_eq(l.calls, runs);
    for (uint64_t r = 0; r < NALLOC; r++)
        cr_assert_eq(l.failed_at[r], r + 1, "run %llu failed allocation %llu",
                     (unsigned long long)r + 1, (unsigned long long)l.failed_at[r]);
    cr_assert_eq(l.failed_at[NALLOC], 0, "the last run is clean");
    /* Disarmed afterwards. */
    void *p = kv_malloc(1);
    cr_assert_not_null(p);
    cr_assert_not(kv_alloc_fail_hit());
    kv_free(p);
}

Test(alloc, loop_body_without_allocations_runs_once)
{
    struct loop_log l = {.nalloc = 0};
    uint64_t runs = 0;

    cr_assert_eq(kv_alloc_fail_loop(body_allocs, &l, 0, &runs), 0);
    cr_assert_eq(runs, 1);
    cr_assert_eq(l.calls, 1);
}

Test(alloc, loop_stops_on_nonzero_body_result)
{
    struct loop_log l = {.nalloc = NALLOC, .stop_at = 3};
    uint64_t runs = 0;

    cr_assert_eq(kv_alloc_fail_loop(body_allocs, &l, 0, &runs), 7);
    cr_assert_eq(runs, 3);
    cr_assert_eq(l.calls, 3);
    /* Disarmed after an early exit too: the failure armed at 3 does not linger. */
    for (int i = 0; i < 5; i++) {
        void *p = kv_malloc(1);
        cr_assert_not_null(p, "allocation %d after the loop", i + 1);
        kv_free(p);
    }
}

Test(alloc, loop_respects_max_runs)
{
    struct loop_log l = {.nalloc = 20};
    uint64_t runs = 0;

    cr_assert_eq(kv_alloc_fail_loop(body_allocs, &l, 4, &runs), 0);
    cr_assert_eq(runs, 4);
    cr_assert_eq(l.calls, 4);
    cr_assert_eq(l.failed_at[3], 4, "the 4th run still failed allocation 4");
    void *p = kv_malloc(1);
    cr_assert_not_null(p, "disarmed at max_runs");
    kv_free(p);
}

Test(alloc, loop_max_runs_exactly_enough)
{
    struct loop_log l = {.nalloc = 3};
    uint64_t runs = 0;

    /* 3 allocations: runs 1..3 fail one each, run 4 is clean. */
    cr_assert_eq(kv_alloc_fail_loop(body_allocs, &l, 4, &runs), 0);
    cr_assert_eq(runs, 4);
    l = (struct loop_log){.nalloc = 3};
    cr_assert_eq(kv_alloc_fail_loop(body_allocs, &l, 3, &runs), 0);
    cr_assert_eq(runs, 3, "cut at max_runs before the clean run");
}

Test(alloc, loop_runs_may_be_null)
{
    struct loop_log l = {.nalloc = 2};

    cr_assert_eq(kv_alloc_fail_loop(body_allocs, &l, 0, NULL), 0);
    cr_assert_eq(l.calls, 3);
}
