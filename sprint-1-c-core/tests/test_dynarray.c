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
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "dynarray.h"

const char *__asan_default_options(void);
__attribute__((used)) const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1";
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
    cr_assert_eq(da_push(&a, elem), -ENOMEM, "2^61 bytes cannot be allocated");
    cr_assert_null(a.data);
    cr_assert_eq(da_cap(&a), 0);

    da_array b = DA_INIT(int);
    push_range(&b, 9);
    void *data = b.data;
    cr_assert_eq(da_reserve(&b, ((size_t)1 << 61) / sizeof(int)), -ENOMEM);
    cr_assert_eq(b.data, data, "the old block is kept, not leaked");
    cr_assert_eq(da_cap(&b), 16);
    cr_assert_eq(da_len(&b), 9);
    assert_ints(&b, (int[]){0, 1, 2, 3, 4, 5, 6, 7, 8}, 9);
    da_free(&b);
}
