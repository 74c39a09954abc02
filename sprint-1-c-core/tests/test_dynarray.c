/*
 * test_dynarray.c — Criterion tests of the dynamic array (dynarray.h).
 *
 * Suite "dynarray"; run one test with --filter 'dynarray/shrink_*'.
 * What is checked: the growth and shrink policies as pure functions and as
 * observed capacities, bounds-checked access, order under insert/remove,
 * large counts, and that failures (overflowing sizes, allocations the
 * machine cannot satisfy) return the documented code and change nothing.
 *
 * The allocation-failure tests ask for 2^61 bytes: below DA_MAX_BYTES, so
 * the array really calls realloc, but beyond any 64-bit address space, so
 * the allocation fails even with memory overcommit. AddressSanitizer
 * aborts on such requests unless allocator_may_return_null is set, which
 * __asan_default_options() below does (ignored in other builds).
 *
 * The later tests use the test allocator (alloc_fail.h): the Nth
 * allocation fails on demand, so every growth and every shrink runs with
 * its realloc failing (the malloc-failure loop), and af_count() shows
 * whether a call reached the allocator at all. A failing call must leave
 * len, cap and the data pointer as they were; a size whose byte count
 * would overflow must be refused before any allocation. Those tests arm a
 * failure even where the right code allocates nothing, so that wrong code
 * which requests a wrapped-around size gets NULL instead of corrupting
 * memory: the test then fails on its assertion, not by a crash.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "alloc_fail.h"
#include "dynarray.h"

const char *__asan_default_options(void);
__attribute__((used)) const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
}

/*
 * The deliberate 2^61-byte requests run with stderr muted: AddressSanitizer
 * returns NULL as asked but still prints "WARNING: AddressSanitizer failed
 * to allocate 0x2000000000000000 bytes", which would read as a problem in a
 * passing run. Only these calls are muted; an assertion runs after unmute.
 */
static int saved_stderr = -1;

static void mute_stderr(void)
{
    int fd = open("/dev/null", O_WRONLY);

    fflush(stderr);
    saved_stderr = dup(STDERR_FILENO);
    if (fd >= 0) {
        dup2(fd, STDERR_FILENO);
        close(fd);
    }
}

static void unmute_stderr(void)
{
    fflush(stderr);
    if (saved_stderr >= 0) {
        dup2(saved_stderr, STDERR_FILENO);
        close(saved_stderr);
        saved_stderr = -1;
    }
}

/* An elem_size for which DA_MIN_CAP elements take 2^61 bytes. */
#define HUGE_ELEM (((size_t)1 << 61) / DA_MIN_CAP)

/* Push ints 0..n-1; assert every push succeeds. */
static void push_range(da_array *a, int n)
{
    for (int i = 0; i < n; i++)
        cr_assert_eq(da_push(a, &i), 0, "push %d", i);
}

/* Assert the array holds exactly want[0..n-1]. */
static void assert_ints(da_array *a, const int *want, size_t n)
{
    cr_assert_eq(da_len(a), n);
    for (size_t i = 0; i < n; i++) {
        int v = -1;
        cr_assert_eq(da_get(a, i, &v), 0);
        cr_assert_eq(v, want[i], "element %zu: %d, want %d", i, v, want[i]);
    }
}

Test(dynarray, grow_capacity_policy)
{
    cr_assert_eq(da_grow_capacity(0, 1), DA_MIN_CAP);
    cr_assert_eq(da_grow_capacity(0, 0), 0, "no growth needed");
    cr_assert_eq(da_grow_capacity(8, 8), 8);
    cr_assert_eq(da_grow_capacity(8, 9), 16);
    cr_assert_eq(da_grow_capacity(16, 17), 32);
    cr_assert_eq(da_grow_capacity(0, 100), 128);
    cr_assert_eq(da_grow_capacity(10, 11), 20, "doubling starts from the current capacity");
    cr_assert_eq(da_grow_capacity(3, 4), DA_MIN_CAP);
    cr_assert_eq(da_grow_capacity(SIZE_MAX / 2 + 1, SIZE_MAX), 0, "doubling would overflow");
}

Test(dynarray, growth_sequence_of_capacities)
{
    da_array a = DA_INIT(int);
    size_t caps[32], ncaps = 0, last = 0;
    for (int i = 0; i < 1000; i++) {
        cr_assert_eq(da_push(&a, &i), 0);
        if (da_cap(&a) != last) {
            last = da_cap(&a);
            caps[ncaps++] = last;
        }
    }
    size_t want[] = {8, 16, 32, 64, 128, 256, 512, 1024};
    cr_assert_eq(ncaps, sizeof want / sizeof want[0], "%zu distinct capacities", ncaps);
    cr_assert_arr_eq(caps, want, sizeof want);
    cr_assert_eq(da_len(&a), 1000);
    da_free(&a);
}

Test(dynarray, shrink_capacity_policy)
{
    cr_assert_eq(da_shrink_capacity(64, 16), 32);
    cr_assert_eq(da_shrink_capacity(64, 17), 64, "above a quarter: keep");
    cr_assert_eq(da_shrink_capacity(16, 4), 8);
    cr_assert_eq(da_shrink_capacity(16, 5), 16);
    cr_assert_eq(da_shrink_capacity(12, 3), DA_MIN_CAP, "never below the minimum");
    cr_assert_eq(da_shrink_capacity(DA_MIN_CAP, 0), DA_MIN_CAP);
    cr_assert_eq(da_shrink_capacity(1024, 0), 512, "one halving per removal");
}

Test(dynarray, shrink_on_pop_follows_policy)
{
    da_array a = DA_INIT(int);
    push_range(&a, 64);
    cr_assert_eq(da_cap(&a), 64);
    size_t model = 64;
    for (int i = 63; i >= 0; i--) {
        int v = -1;
        cr_assert_eq(da_pop(&a, &v), 0);
        cr_assert_eq(v, i, "LIFO order");
        if (model > DA_MIN_CAP && da_len(&a) <= model / 4)
            model = model / 2 < DA_MIN_CAP ? DA_MIN_CAP : model / 2;
        cr_assert_eq(da_cap(&a), model, "len %zu: cap %zu, want %zu", da_len(&a), da_cap(&a),
                     model);
    }
    cr_assert_eq(da_cap(&a), DA_MIN_CAP);
    cr_assert_eq(da_len(&a), 0);
    da_free(&a);
}

Test(dynarray, hysteresis_no_thrash_at_boundary)
{
    da_array a = DA_INIT(int);
    push_range(&a, 17); /* just grew from 16 to 32 */
    cr_assert_eq(da_cap(&a), 32);
    void *data = a.data;
    for (int round = 0; round < 100; round++) {
        cr_assert_eq(da_pop(&a, NULL), 0);
        cr_assert_eq(da_push(&a, &round), 0);
        cr_assert_eq(da_cap(&a), 32, "round %d", round);
    }
    cr_assert_eq(a.data, data, "no reallocation at all");
    da_free(&a);
}

Test(dynarray, bounds_checked_access)
{
    da_array a = DA_INIT(int);
    int v = 1234;
    cr_assert_eq(da_get(&a, 0, &v), -ERANGE, "empty array");
    cr_assert_eq(da_pop(&a, &v), -ERANGE);
    cr_assert_eq(v, 1234, "out untouched on failure");
    push_range(&a, 3);
    cr_assert_eq(da_get(&a, 2, &v), 0);
    cr_assert_eq(v, 2);
    cr_assert_eq(da_get(&a, 3, &v), -ERANGE);
    cr_assert_eq(da_get(&a, SIZE_MAX, &v), -ERANGE);
    cr_assert_eq(da_set(&a, 3, &v), -ERANGE);
    cr_assert_eq(da_remove(&a, 3, NULL), -ERANGE);
    cr_assert_eq(da_insert(&a, 4, &v), -ERANGE);
    cr_assert_null(da_at(&a, 3));
    cr_assert_eq(da_len(&a), 3, "nothing changed");
    int w = 77;
    cr_assert_eq(da_set(&a, 1, &w), 0);
    cr_assert_eq(da_get(&a, 1, &v), 0);
    cr_assert_eq(v, 77);
    da_free(&a);
}

Test(dynarray, invalid_arguments)
{
    da_array a;
    cr_assert_eq(da_init(&a, 0), -EINVAL);
    cr_assert_eq(da_init(NULL, 4), -EINVAL);
    cr_assert_eq(da_init(&a, SIZE_MAX), -EINVAL);
    cr_assert_eq(da_init(&a, sizeof(int)), 0);
    int v = 0;
    cr_assert_eq(da_push(NULL, &v), -EINVAL);
    cr_assert_eq(da_push(&a, NULL), -EINVAL);
    cr_assert_eq(da_get(&a, 0, NULL), -EINVAL);
    da_array zero = {0}; /* never initialised: elem_size 0 */
    cr_assert_eq(da_push(&zero, &v), -EINVAL);
    cr_assert_eq(da_reserve(&zero, 4), -EINVAL);
    cr_assert_eq(da_len(&a), 0);
    da_free(&a);
}

Test(dynarray, insert_and_remove_keep_order)
{
    da_array a = DA_INIT(int);
    int vals[] = {10, 20, 30};
    cr_assert_eq(da_insert(&a, 0, &vals[1]), 0); /* 20 */
    cr_assert_eq(da_insert(&a, 0, &vals[0]), 0); /* 10 20 */
    cr_assert_eq(da_insert(&a, 2, &vals[2]), 0); /* 10 20 30 (at len: append) */
    int x = 15;
    cr_assert_eq(da_insert(&a, 1, &x), 0); /* 10 15 20 30 */
    assert_ints(&a, (int[]){10, 15, 20, 30}, 4);
    int out = 0;
    cr_assert_eq(da_remove(&a, 2, &out), 0);
    cr_assert_eq(out, 20);
    assert_ints(&a, (int[]){10, 15, 30}, 3);
    cr_assert_eq(da_remove(&a, 0, &out), 0);
    cr_assert_eq(out, 10);
    cr_assert_eq(da_remove(&a, 1, NULL), 0);
    assert_ints(&a, (int[]){15}, 1);
    da_free(&a);
}

Test(dynarray, insert_across_growth)
{
    da_array a = DA_INIT(int);
    /* insert each value at the front: the array ends up reversed */
    for (int i = 0; i < 100; i++)
        cr_assert_eq(da_insert(&a, 0, &i), 0);
    cr_assert_eq(da_cap(&a), 128);
    for (size_t i = 0; i < 100; i++) {
        int v;
        cr_assert_eq(da_get(&a, i, &v), 0);
        cr_assert_eq(v, 99 - (int)i);
    }
    da_free(&a);
}

Test(dynarray, struct_elements)
{
    struct rec {
        int id;
        double score;
        char name[16];
    };
    da_array a;
    cr_assert_eq(da_init(&a, sizeof(struct rec)), 0);
    for (int i = 0; i < 20; i++) {
        struct rec r = {i, i * 0.5, ""};
        snprintf(r.name, sizeof r.name, "rec%d", i);
        cr_assert_eq(da_push(&a, &r), 0);
    }
    struct rec r;
    cr_assert_eq(da_get(&a, 13, &r), 0);
    cr_assert_eq(r.id, 13);
    cr_assert_float_eq(r.score, 6.5, 0.0);
    cr_assert_str_eq(r.name, "rec13");
    struct rec *p = da_at(&a, 7);
    cr_assert_not_null(p);
    p->id = 700; /* in place */
    cr_assert_eq(da_get(&a, 7, &r), 0);
    cr_assert_eq(r.id, 700);
    da_free(&a);
}

Test(dynarray, large_count)
{
    const int n = 1 << 20;
    da_array a = DA_INIT(uint32_t);
    for (int i = 0; i < n; i++) {
        uint32_t v = (uint32_t)i * 2654435761u;
        cr_assert_eq(da_push(&a, &v), 0);
    }
    cr_assert_eq(da_len(&a), (size_t)n);
    cr_assert_eq(da_cap(&a), (size_t)n, "a power of two fits exactly");
    const uint32_t *d = a.data;
    for (int i = 0; i < n; i += 4099)
        cr_assert_eq(d[i], (uint32_t)i * 2654435761u);
    for (int i = n - 1; i >= 0; i--) {
        uint32_t v;
        cr_assert_eq(da_pop(&a, &v), 0);
        if (v != (uint32_t)i * 2654435761u)
            cr_assert_fail("pop %d gave %u", i, v);
    }
    cr_assert_eq(da_cap(&a), DA_MIN_CAP);
    da_free(&a);
}

Test(dynarray, reserve_and_set_capacity)
{
    da_array a = DA_INIT(int);
    cr_assert_eq(da_reserve(&a, 100), 0);
    cr_assert_eq(da_cap(&a), 100, "reserve is exact");
    cr_assert_eq(da_len(&a), 0);
    cr_assert_eq(da_reserve(&a, 50), 0);
    cr_assert_eq(da_cap(&a), 100, "reserve never shrinks");
    void *data = a.data;
    push_range(&a, 100);
    cr_assert_eq(a.data, data, "no reallocation within the reserve");
    int v = 100;
    cr_assert_eq(da_push(&a, &v), 0);
    cr_assert_eq(da_cap(&a), 200);
    cr_assert_eq(da_set_capacity(&a, 100), -EINVAL, "below len");
    cr_assert_eq(da_set_capacity(&a, 101), 0, "shrink to fit");
    cr_assert_eq(da_cap(&a), 101);
    cr_assert_eq(da_get(&a, 100, &v), 0);
    cr_assert_eq(v, 100);
    da_clear(&a);
    cr_assert_eq(da_len(&a), 0);
    cr_assert_eq(da_cap(&a), 101, "clear keeps the capacity");
    cr_assert_eq(da_set_capacity(&a, 0), 0);
    cr_assert_null(a.data);
    cr_assert_eq(da_cap(&a), 0);
    da_free(&a);
}

Test(dynarray, free_and_reuse)
{
    da_array a = DA_INIT(short);
    short s = 5;
    cr_assert_eq(da_push(&a, &s), 0);
    da_free(&a);
    cr_assert_null(a.data);
    cr_assert_eq(da_len(&a), 0);
    cr_assert_eq(da_cap(&a), 0);
    cr_assert_eq(a.elem_size, sizeof(short), "still initialised");
    cr_assert_eq(da_push(&a, &s), 0);
    cr_assert_eq(da_len(&a), 1);
    da_free(&a);
    da_free(&a); /* twice is harmless */
    da_free(NULL);
}

Test(dynarray, overflow_sizes_rejected_unchanged)
{
    da_array a;
    cr_assert_eq(da_init(&a, (size_t)1 << 60), 0);
    char elem[1] = {0}; /* never read: the push fails before copying */
    cr_assert_eq(da_push(&a, elem), -EOVERFLOW, "8 * 2^60 bytes exceeds DA_MAX_BYTES");
    cr_assert_null(a.data);
    cr_assert_eq(da_cap(&a), 0);
    cr_assert_eq(da_len(&a), 0);

    da_array b = DA_INIT(int);
    push_range(&b, 3);
    void *data = b.data;
    cr_assert_eq(da_reserve(&b, SIZE_MAX), -EOVERFLOW);
    cr_assert_eq(da_reserve(&b, SIZE_MAX / 4 + 1), -EOVERFLOW,
                 "wraps to a small size if unchecked");
    cr_assert_eq(da_set_capacity(&b, DA_MAX_BYTES / sizeof(int) + 1), -EOVERFLOW);
    cr_assert_eq(b.data, data);
    cr_assert_eq(da_cap(&b), DA_MIN_CAP);
    assert_ints(&b, (int[]){0, 1, 2}, 3);
    da_free(&b);
}

Test(dynarray, allocation_failure_leaves_array_unchanged)
{
    da_array a;
    cr_assert_eq(da_init(&a, HUGE_ELEM), 0);
    char elem[1] = {0};
    mute_stderr();
    int rc = da_push(&a, elem);
    unmute_stderr();
    cr_assert_eq(rc, -ENOMEM, "2^61 bytes cannot be allocated");
    cr_assert_null(a.data);
    cr_assert_eq(da_cap(&a), 0);

    da_array b = DA_INIT(int);
    push_range(&b, 9);
    void *data = b.data;
    mute_stderr();
    rc = da_reserve(&b, ((size_t)1 << 61) / sizeof(int));
    unmute_stderr();
    cr_assert_eq(rc, -ENOMEM, "2^61 bytes cannot be allocated");
    cr_assert_eq(b.data, data, "the old block is kept, not leaked");
    cr_assert_eq(da_cap(&b), 16);
    cr_assert_eq(da_len(&b), 9);
    assert_ints(&b, (int[]){0, 1, 2, 3, 4, 5, 6, 7, 8}, 9);
    da_free(&b);
}

/* What a failing call must not change, and how much it may allocate. */
struct da_snap {
    void *data;
    size_t len, cap;
    uint64_t allocs; /* af_count() */
    size_t live;     /* af_live() */
};

static struct da_snap snap(const da_array *a)
{
    return (struct da_snap){a->data, a->len, a->cap, af_count(), af_live()};
}

/* Assert that a failed call left a as s recorded it and allocated nothing. */
static void assert_untouched(const da_array *a, struct da_snap s, const char *what)
{
    cr_assert_eq(a->len, s.len, "%s: len %zu, was %zu", what, a->len, s.len);
    cr_assert_eq(a->cap, s.cap, "%s: cap %zu, was %zu", what, a->cap, s.cap);
    cr_assert_eq(a->data, s.data, "%s: the data pointer changed (a reallocation)", what);
    cr_assert_eq(af_count(), s.allocs, "%s: a failing call reached the allocator %llu times", what,
                 (unsigned long long)(af_count() - s.allocs));
    cr_assert_eq(af_live(), s.live, "%s: live blocks %zu, were %zu", what, af_live(), s.live);
}

Test(dynarray, failed_calls_on_full_array_change_nothing)
{
    /* A full array: the next insert must grow, unless it fails first. */
    da_array a = DA_INIT(int);
    push_range(&a, DA_MIN_CAP);
    cr_assert_eq(da_cap(&a), DA_MIN_CAP, "full: len == cap");
    struct da_snap s = snap(&a);
    int v = 99, out = 1234;
    cr_assert_eq(da_insert(&a, DA_MIN_CAP + 1, &v), -ERANGE, "insert at len + 1");
    assert_untouched(&a, s, "insert at len + 1 into a full array");
    cr_assert_eq(da_insert(&a, SIZE_MAX, &v), -ERANGE);
    assert_untouched(&a, s, "insert at SIZE_MAX into a full array");
    cr_assert_eq(da_insert(&a, 0, NULL), -EINVAL);
    assert_untouched(&a, s, "insert of NULL into a full array");
    cr_assert_eq(da_push(&a, NULL), -EINVAL);
    assert_untouched(&a, s, "push of NULL onto a full array");
    cr_assert_eq(da_set(&a, DA_MIN_CAP, &v), -ERANGE);
    cr_assert_eq(da_get(&a, DA_MIN_CAP, &out), -ERANGE);
    cr_assert_eq(da_remove(&a, DA_MIN_CAP, &out), -ERANGE);
    cr_assert_eq(out, 1234, "out untouched by failed calls");
    cr_assert_eq(da_set_capacity(&a, DA_MIN_CAP - 1), -EINVAL, "below len");
    assert_untouched(&a, s, "set/get/remove past the end, capacity below len");
    assert_ints(&a, (int[]){0, 1, 2, 3, 4, 5, 6, 7}, DA_MIN_CAP);

    /* A roomy array: any removal would shrink it, but not a failed one. */
    cr_assert_eq(da_reserve(&a, 64), 0);
    cr_assert_eq(da_cap(&a), 64);
    s = snap(&a);
    cr_assert_eq(da_remove(&a, DA_MIN_CAP, &out), -ERANGE);
    assert_untouched(&a, s, "remove at len, len <= cap / 4");
    da_clear(&a);
    s = snap(&a);
    cr_assert_eq(da_pop(&a, &out), -ERANGE);
    assert_untouched(&a, s, "pop of an empty array of capacity 64");
    cr_assert_eq(da_remove(&a, 0, &out), -ERANGE);
    assert_untouched(&a, s, "remove from an empty array of capacity 64");
    cr_assert_eq(out, 1234);
    da_free(&a);
}

/* elem_size values for which DA_MIN_CAP elements take more than size_t can
 * count: the product wraps around to 0, 8 and 24 bytes. */
static const size_t wrapping_elem[] = {(size_t)1 << 61, ((size_t)1 << 61) + 1,
                                       ((size_t)1 << 62) + 3};

/* Call op with the first allocation armed to fail; assert -EOVERFLOW and no allocation. */
#define ASSERT_OVERFLOW(a, call, what, ...)                                                        \
    do {                                                                                           \
        struct da_snap s_ = snap(a);                                                               \
        af_fail_at(1);                                                                             \
        int rc_ = (call);                                                                          \
        size_t asked_ = af_last_size();                                                            \
        af_fail_at(0);                                                                             \
        char what_[160];                                                                           \
        snprintf(what_, sizeof what_, what, __VA_ARGS__);                                          \
        cr_assert_eq(rc_, -EOVERFLOW, "%s: %d, want -EOVERFLOW%s%zu bytes", what_, rc_,            \
                     af_count() != s_.allocs ? "; it requested a wrapped-around size: " : "; ",    \
                     asked_);                                                                      \
        assert_untouched(a, s_, what_);                                                            \
    } while (0)

Test(dynarray, size_overflow_refused_in_every_growing_call)
{
    char elem[1] = {0}; /* never read: every call fails before copying */
    for (size_t k = 0; k < sizeof wrapping_elem / sizeof wrapping_elem[0]; k++) {
        size_t e = wrapping_elem[k];
        da_array a;
        cr_assert_eq(da_init(&a, e), 0, "elem_size %zu <= DA_MAX_BYTES", e);
        ASSERT_OVERFLOW(&a, da_push(&a, elem), "push, elem_size %zu", e);
        ASSERT_OVERFLOW(&a, da_insert(&a, 0, elem), "insert, elem_size %zu", e);
        ASSERT_OVERFLOW(&a, da_reserve(&a, DA_MIN_CAP), "reserve(8), elem_size %zu", e);
        ASSERT_OVERFLOW(&a, da_set_capacity(&a, DA_MIN_CAP), "set_capacity(8), elem_size %zu", e);
        cr_assert_null(a.data);
    }

    da_array b = DA_INIT(int);
    push_range(&b, 3);
    /* 4 * n wraps to 4, to 0; the last one does not wrap but exceeds DA_MAX_BYTES */
    size_t counts[] = {SIZE_MAX / 4 + 2, SIZE_MAX / 4 + 1, DA_MAX_BYTES / 4 + 1, SIZE_MAX};
    for (size_t k = 0; k < sizeof counts / sizeof counts[0]; k++) {
        ASSERT_OVERFLOW(&b, da_reserve(&b, counts[k]), "reserve(%zu) of ints", counts[k]);
        ASSERT_OVERFLOW(&b, da_set_capacity(&b, counts[k]), "set_capacity(%zu) of ints",
                        counts[k]);
    }
    assert_ints(&b, (int[]){0, 1, 2}, 3);

    /* The largest capacity is allowed: the request reaches the allocator
     * (failed here by the test allocator) with exactly that many bytes. */
    size_t maxcap = DA_MAX_BYTES / sizeof(int);
    struct da_snap s = snap(&b);
    af_fail_at(1);
    int rc = da_reserve(&b, maxcap);
    bool hit = af_hit();
    af_fail_at(0);
    cr_assert_eq(rc, -ENOMEM, "reserve(DA_MAX_BYTES / 4) is not an overflow: %d", rc);
    cr_assert(hit);
    cr_assert_eq(af_last_size(), maxcap * sizeof(int), "asked for %zu bytes, want %zu",
                 af_last_size(), maxcap * sizeof(int));
    s.allocs = af_count();
    assert_untouched(&b, s, "failed reserve(DA_MAX_BYTES / 4)");
    da_free(&b);

    /* The largest element: one fits in DA_MAX_BYTES, two do not. */
    da_array c;
    cr_assert_eq(da_init(&c, DA_MAX_BYTES + 1), -EINVAL);
    cr_assert_eq(da_init(&c, DA_MAX_BYTES), 0);
    af_fail_at(1);
    rc = da_reserve(&c, 1);
    hit = af_hit();
    af_fail_at(0);
    cr_assert_eq(rc, -ENOMEM, "one element of DA_MAX_BYTES bytes is not an overflow: %d", rc);
    cr_assert(hit && af_last_size() == DA_MAX_BYTES);
    ASSERT_OVERFLOW(&c, da_reserve(&c, 2), "reserve(2) of %s", "DA_MAX_BYTES-byte elements");
}

/* One call of the allocation-failure loop over a growing operation. */
enum grow_op { OP_PUSH, OP_INSERT, OP_RESERVE, OP_SET_CAPACITY };

struct grow_case {
    da_array *a;
    enum grow_op op;
    size_t idx;     /* OP_INSERT: where; OP_RESERVE, OP_SET_CAPACITY: the capacity */
    int val;        /* OP_PUSH, OP_INSERT: the element */
    int model[256]; /* what the array holds */
    size_t mlen;
    unsigned failures; /* runs that failed as they should */
    char msg[200];
};

static const char *const op_names[] = {"push", "insert", "reserve", "set_capacity"};

static int grow_body(void *arg, uint64_t n)
{
    struct grow_case *g = arg;
    da_array *a = g->a;
    struct da_snap s = snap(a);
    int rc = -1;
    switch (g->op) {
    case OP_PUSH: rc = da_push(a, &g->val); break;
    case OP_INSERT: rc = da_insert(a, g->idx, &g->val); break;
    case OP_RESERVE: rc = da_reserve(a, g->idx); break;
    case OP_SET_CAPACITY: rc = da_set_capacity(a, g->idx); break;
    }
    bool hit = af_hit();
    const char *op = op_names[g->op];
    if (rc == 0 && hit)
        snprintf(g->msg, sizeof g->msg, "%s at len %zu: allocation %llu failed, yet it returned 0",
                 op, s.len, (unsigned long long)n);
    else if (rc == 0)
        return 0; /* the loop ends: this run reached no failure */
    else if (rc != -ENOMEM || !hit)
        snprintf(g->msg, sizeof g->msg, "%s at len %zu, allocation %llu failing: %d (hit %d)", op,
                 s.len, (unsigned long long)n, rc, hit);
    else if (a->len != s.len || a->cap != s.cap || a->data != s.data)
        snprintf(g->msg, sizeof g->msg,
                 "failed %s: len %zu cap %zu data %p, were len %zu cap %zu data %p", op, a->len,
                 a->cap, a->data, s.len, s.cap, s.data);
    else if (af_live() != s.live)
        snprintf(g->msg, sizeof g->msg, "failed %s: %zu live blocks, were %zu (a leak)", op,
                 af_live(), s.live);
    else if (a->len && memcmp(a->data, g->model, a->len * sizeof(int)) != 0)
        snprintf(g->msg, sizeof g->msg, "failed %s changed the elements", op);
    else {
        g->failures++;
        return 0;
    }
    return 1;
}

/* Run one operation under the failure loop, then apply it to the model. */
static void grow_step(struct grow_case *g, enum grow_op op, size_t idx, int val)
{
    uint64_t runs = 0;
    g->op = op;
    g->idx = idx;
    g->val = val;
    g->msg[0] = '\0';
    int rc = af_fail_loop(grow_body, g, 10, &runs);
    cr_assert_eq(rc, 0, "%s", g->msg);
    if (op == OP_PUSH)
        g->model[g->mlen++] = val;
    if (op == OP_INSERT) {
        memmove(&g->model[idx + 1], &g->model[idx], (g->mlen - idx) * sizeof(int));
        g->model[idx] = val;
        g->mlen++;
    }
    assert_ints(g->a, g->model, g->mlen);
}

Test(dynarray, allocation_failure_loop_every_growth)
{
    da_array a = DA_INIT(int);
    static struct grow_case g;
    g.a = &a;
    size_t live = af_live();
    for (int i = 0; i < 64; i++) /* grows at 0, 8, 16, 32 */
        grow_step(&g, OP_PUSH, 0, i);
    cr_assert_eq(da_cap(&a), 64);
    grow_step(&g, OP_INSERT, 0, -1); /* full: grows, then shifts */
    grow_step(&g, OP_INSERT, 40, -2);
    grow_step(&g, OP_RESERVE, 200, 0);
    cr_assert_eq(da_cap(&a), 200);
    grow_step(&g, OP_SET_CAPACITY, g.mlen, 0); /* shrink to fit: a realloc too */
    cr_assert_eq(da_cap(&a), g.mlen);
    grow_step(&g, OP_PUSH, 0, -3); /* full again */
    cr_assert_geq(g.failures, 8, "failed runs: %u", g.failures);
    da_free(&a);
    cr_assert_eq(af_live(), live, "blocks left after da_free: %zu", af_live() - live);
    NO_LEAKS();
}

Test(dynarray, failed_shrink_keeps_element_and_block)
{
    /* The shrinking realloc of a removal may fail: the removal has still
     * happened and succeeded, and the array keeps its larger block (the
     * documented best effort); it must neither report an error for a removal
     * it made nor lose or shrink the block it could not replace. */
    da_array a = DA_INIT(int);
    push_range(&a, 64);
    cr_assert_eq(da_cap(&a), 64);
    size_t live = af_live(), cap = 64;
    unsigned failed = 0;
    for (int i = 63; i >= 0; i--) {
        bool fail = i % 2 == 0, shrinks = cap > DA_MIN_CAP && (size_t)i <= cap / 4;
        void *data = a.data;
        int v = -1;
        if (fail)
            af_fail_at(1);
        int rc = i % 4 < 2 ? da_pop(&a, &v) : da_remove(&a, (size_t)i, &v);
        bool hit = af_hit();
        af_fail_at(0);
        cr_assert_eq(rc, 0, "removing element %d%s: %d", i,
                     hit ? " with the shrinking realloc failing" : "", rc);
        cr_assert_eq(v, i);
        cr_assert_eq(da_len(&a), (size_t)i);
        if (fail && shrinks) {
            cr_assert(hit, "len %d <= cap %zu / 4: the removal should have tried to shrink", i,
                      cap);
            cr_assert_eq(da_cap(&a), cap, "a failed shrink keeps the capacity");
            cr_assert_eq(a.data, data, "a failed shrink keeps the block");
            failed++;
        } else if (shrinks) {
            cap = cap / 2 < DA_MIN_CAP ? DA_MIN_CAP : cap / 2;
        }
        cr_assert_eq(da_cap(&a), cap, "len %d: cap %zu, want %zu", i, da_cap(&a), cap);
        cr_assert_eq(af_live(), live, "len %d: %zu live blocks, want %zu", i, af_live(), live);
        if (i > 0) {
            int w;
            cr_assert_eq(da_get(&a, (size_t)i - 1, &w), 0);
            cr_assert_eq(w, i - 1, "the elements below survive");
        }
    }
    cr_assert_geq(failed, 3, "shrinks that failed: %u", failed);
    da_free(&a);
    NO_LEAKS();
}
