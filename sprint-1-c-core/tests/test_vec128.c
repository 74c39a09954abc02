/*
 * test_vec128.c — Criterion tests of the aligned 128-bit vectors (vec128.h).
 *
 * Suite "vec128". Alignment facts of the types (also pinned with
 * _Static_assert), the alignment check, size rounding for aligned_alloc,
 * alignment of every element of allocated arrays, union punning, and the
 * arithmetic. The float values are small integers and halves, so every
 * sum is exact and compared with ==.
 *
 * The allocation tests use the test allocator (alloc_fail.h): a count whose
 * byte size overflows must be refused (EINVAL) before any allocation, and
 * an aligned_alloc that fails must give NULL with errno ENOMEM and leak
 * nothing. A failure is armed even where the right code allocates nothing,
 * so wrong code that asks for a wrapped-around size gets NULL instead of a
 * block too small for what it was asked.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <errno.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>

#include "alloc_fail.h"
#include "vec128.h"

_Static_assert(alignof(v128f) == 16, "v128f is 16-byte aligned");
_Static_assert(sizeof(v128f) == 16, "v128f is exactly 128 bits");
_Static_assert(alignof(v128i) == 16 && sizeof(v128i) == 16, "v128i likewise");
_Static_assert(alignof(v128) == 16 && sizeof(v128) == 16, "the union likewise");

/* Assert the four lanes of v. */
static void assert_lanes(v128f v, float a, float b, float c, float d)
{
    cr_assert(v.f[0] == a && v.f[1] == b && v.f[2] == c && v.f[3] == d,
              "got {%g, %g, %g, %g}, want {%g, %g, %g, %g}", (double)v.f[0], (double)v.f[1],
              (double)v.f[2], (double)v.f[3], (double)a, (double)b, (double)c, (double)d);
}

Test(vec128, type_alignment)
{
    cr_assert_eq(alignof(v128f), 16);
    v128f stack[3];
    for (int i = 0; i < 3; i++)
        cr_assert(v128_is_aligned(&stack[i]), "stack[%d]", i);
    struct holder {
        char c;
        v128f v;
    } s;
    cr_assert_eq(offsetof(struct holder, v), 16, "a v128f member is placed at a multiple of 16");
    cr_assert(v128_is_aligned(&s.v));
}

Test(vec128, is_aligned)
{
    alignas(16) unsigned char buf[64] = {0};
    cr_assert(v128_is_aligned(buf));
    cr_assert(v128_is_aligned(buf + 16));
    cr_assert_not(v128_is_aligned(buf + 4));
    cr_assert_not(v128_is_aligned(buf + 8));
    cr_assert(v128_is_aligned(NULL));
    cr_assert(v128_is_aligned_to(buf + 8, 8));
    cr_assert_not(v128_is_aligned_to(buf + 8, 16));
    cr_assert(v128_is_aligned_to(buf, 32) != v128_is_aligned_to(buf + 16, 32),
              "exactly one of two neighbouring 16-byte boundaries is a 32-byte one");
    cr_assert_not(v128_is_aligned_to(buf, 0), "0 is not a power of two");
    cr_assert_not(v128_is_aligned_to(buf, 12), "12 is not a power of two");
}

Test(vec128, round_up_size)
{
    cr_assert_eq(v128_round_up(0, 16), 0);
    cr_assert_eq(v128_round_up(1, 16), 16);
    cr_assert_eq(v128_round_up(16, 16), 16);
    cr_assert_eq(v128_round_up(17, 16), 32);
    cr_assert_eq(v128_round_up(20, 16), 32, "5 floats need 32 bytes");
    cr_assert_eq(v128_round_up(100, 64), 128);
    cr_assert_eq(v128_round_up(SIZE_MAX, 16), 0, "overflow");
    cr_assert_eq(v128_round_up(SIZE_MAX - 14, 16), 0, "overflow");
    cr_assert_eq(v128_round_up(SIZE_MAX - 15, 16), SIZE_MAX - 15, "largest multiple of 16");
    cr_assert_eq(v128_round_up(10, 3), 0, "not a power of two");
}

Test(vec128, alloc_bytes_rounds_and_zeroes)
{
    size_t got = 0;
    unsigned char *p = v128_alloc_bytes(20, &got);
    cr_assert_not_null(p);
    cr_assert_eq(got, 32);
    cr_assert(v128_is_aligned(p));
    for (size_t i = 0; i < got; i++)
        cr_assert_eq(p[i], 0, "byte %zu zeroed", i);
    v128_free(p);
    errno = 0;
    cr_assert_null(v128_alloc_bytes(0, NULL));
    cr_assert_eq(errno, EINVAL);
    errno = 0;
    cr_assert_null(v128_alloc_bytes(SIZE_MAX, NULL));
    cr_assert_eq(errno, EINVAL, "rounding overflows");
}

Test(vec128, every_allocated_element_aligned)
{
    for (size_t n = 1; n <= 64; n++) {
        v128f *v = v128_alloc(n);
        cr_assert_not_null(v, "n=%zu", n);
        for (size_t i = 0; i < n; i++) {
            cr_assert(v128_is_aligned(&v[i]), "n=%zu element %zu", n, i);
            assert_lanes(v[i], 0, 0, 0, 0);
        }
        v128_free(v);
    }
    errno = 0;
    cr_assert_null(v128_alloc(0));
    cr_assert_eq(errno, EINVAL);
    cr_assert_null(v128_alloc(SIZE_MAX / 8));
}

Test(vec128, float_arrays_aligned)
{
    for (size_t count = 1; count <= 33; count++) {
        float *f = v128_alloc_f32(count);
        cr_assert_not_null(f, "count=%zu", count);
        cr_assert(v128_is_aligned(f));
        for (size_t i = 0; i + 4 <= count; i += 4)
            cr_assert(v128_is_aligned(f + i), "every 4th float starts a vector");
        f[count - 1] = 1.0f; /* the last float is inside the block */
        v128_free(f);
    }
    cr_assert_null(v128_alloc_f32(0));
}

Test(vec128, union_views)
{
    v128 u;
    memset(&u, 0, sizeof u);
    u.f = v128_set(1.0f, -2.0f, 0.0f, 0.5f);
    cr_assert_eq((uint32_t)u.i.i[0], 0x3f800000u, "IEEE-754 bits of 1.0f");
    cr_assert_eq((uint32_t)u.i.i[1], 0xc0000000u, "-2.0f");
    cr_assert_eq(u.i.i[2], 0);
    cr_assert_eq((uint32_t)u.i.i[3], 0x3f000000u, "0.5f");
    cr_assert_eq(u.bytes[3], 0x3f, "little-endian: the high byte of lane 0 is byte 3");
    cr_assert(v128_is_aligned(&u));
    cr_assert_float_eq(v128_hsum(u.f), -0.5f, 0.0f);
}

Test(vec128, lane_arithmetic)
{
    v128f a = v128_set(1, 2, 3, 4), b = v128_set(10, 20, 30, 40);
    assert_lanes(v128_add(a, b), 11, 22, 33, 44);
    assert_lanes(v128_mul(a, b), 10, 40, 90, 160);
    assert_lanes(v128_splat(2.5f), 2.5f, 2.5f, 2.5f, 2.5f);
    cr_assert_float_eq(v128_hsum(a), 10.0f, 0.0f);
    cr_assert_float_eq(v128_dot(a, b), 300.0f, 0.0f);
    cr_assert_float_eq(v128_dot(a, v128_splat(0)), 0.0f, 0.0f);
}

Test(vec128, array_add_mul_dot)
{
    const size_t n = 25;
    v128f *a = v128_alloc(n), *b = v128_alloc(n), *c = v128_alloc(n);
    cr_assert(a && b && c);
    float want_dot = 0;
    for (size_t k = 0; k < n; k++) {
        float x = (float)k;
        a[k] = v128_set(x, x + 1, x + 2, x + 3);
        b[k] = v128_splat(2);
        want_dot += 2 * (4 * x + 6);
    }
    v128_add_array(c, a, b, n);
    assert_lanes(c[0], 2, 3, 4, 5);
    assert_lanes(c[24], 26, 27, 28, 29);
    v128_mul_array(c, a, b, n);
    assert_lanes(c[7], 14, 16, 18, 20);
    cr_assert_float_eq(v128_dot_array(a, b, n), want_dot, 0.0f);
    cr_assert_float_eq(v128_dot_array(a, b, 0), 0.0f, 0.0f);
    v128_add_array(a, a, a, n); /* dst may alias the operands */
    assert_lanes(a[3], 6, 8, 10, 12);
    v128_free(a);
    v128_free(b);
    v128_free(c);
}

Test(vec128, dot_f32_with_tail_and_alignment_check)
{
    const size_t count = 11; /* two full vectors and a tail of 3 */
    float *a = v128_alloc_f32(count + 4), *b = v128_alloc_f32(count + 4);
    cr_assert(a && b);
    float want = 0;
    for (size_t i = 0; i < count + 4; i++) {
        a[i] = (float)(i + 1);
        b[i] = (i % 2) ? 1.0f : -1.0f;
    }
    for (size_t i = 0; i < count; i++)
        want += a[i] * b[i];
    float got = 12345;
    cr_assert_eq(v128_dot_f32(a, b, count, &got), 0);
    cr_assert_float_eq(got, want, 0.0f, "got %g want %g", (double)got, (double)want);
    cr_assert_eq(v128_dot_f32(a, b, 0, &got), 0);
    cr_assert_float_eq(got, 0.0f, 0.0f);
    got = 12345;
    cr_assert_eq(v128_dot_f32(a + 1, b, 4, &got), -EINVAL, "a + 1 is 4 bytes off");
    cr_assert_eq(v128_dot_f32(a, b + 2, 4, &got), -EINVAL);
    cr_assert_float_eq(got, 12345.0f, 0.0f, "out untouched on error");
    cr_assert_eq(v128_dot_f32(a + 4, b + 4, count, &got), 0, "16 bytes further is aligned");
    v128_free(a);
    v128_free(b);
}

/* The three allocators behind one signature. */
static void *alloc_vectors(size_t n)
{
    return v128_alloc(n);
}
static void *alloc_floats(size_t n)
{
    return v128_alloc_f32(n);
}
static void *alloc_bytes(size_t n)
{
    return v128_alloc_bytes(n, NULL);
}

/* Call fn(n) with the first allocation armed to fail. want_errno EINVAL:
 * refused before any allocation; ENOMEM: the request reached aligned_alloc
 * with want_bytes bytes (and failed there). */
static void armed_alloc(void *(*fn)(size_t), const char *what, size_t n, int want_errno,
                        size_t want_bytes)
{
    uint64_t before = af_count();
    af_fail_at(1);
    errno = 0;
    void *p = fn(n);
    int err = errno;
    bool hit = af_hit();
    af_fail_at(0);
    if (p)
        v128_free(p);
    cr_assert_null(p, "%s(%zu): a block although the size does not fit", what, n);
    cr_assert_eq(err, want_errno, "%s(%zu): errno %d, want %d (%s)", what, n, err, want_errno,
                 want_errno == EINVAL ? "the byte count overflows" : "the allocation failed");
    if (want_errno == EINVAL) {
        cr_assert_eq(af_count(), before,
                     "%s(%zu): the overflow reached the allocator, asking for %zu bytes", what, n,
                     af_last_size());
    } else {
        cr_assert(hit, "%s(%zu): no allocation was attempted", what, n);
        cr_assert_eq(af_last_size(), want_bytes, "%s(%zu): asked for %zu bytes, want %zu", what,
                     n, af_last_size(), want_bytes);
    }
}

Test(vec128, alloc_count_overflow_at_every_boundary)
{
    const size_t top = SIZE_MAX - 15; /* the largest multiple of 16 */
    /* v128_alloc: 16 bytes a vector; n * 16 wraps to 16, to 0, or fits exactly. */
    armed_alloc(alloc_vectors, "v128_alloc", SIZE_MAX / 16 + 2, EINVAL, 0);
    armed_alloc(alloc_vectors, "v128_alloc", SIZE_MAX / 16 + 1, EINVAL, 0);
    armed_alloc(alloc_vectors, "v128_alloc", SIZE_MAX, EINVAL, 0);
    armed_alloc(alloc_vectors, "v128_alloc", SIZE_MAX / 16, ENOMEM, top);
    /* v128_alloc_f32: 4 bytes a float, then rounded up to 16. */
    armed_alloc(alloc_floats, "v128_alloc_f32", SIZE_MAX / 4 + 5, EINVAL, 0);
    armed_alloc(alloc_floats, "v128_alloc_f32", SIZE_MAX / 4 + 1, EINVAL, 0);
    armed_alloc(alloc_floats, "v128_alloc_f32", top / 4 + 1, EINVAL, 0);
    armed_alloc(alloc_floats, "v128_alloc_f32", top / 4, ENOMEM, top);
    armed_alloc(alloc_floats, "v128_alloc_f32", top / 4 - 1, ENOMEM, top);
    /* v128_alloc_bytes: the rounding itself overflows past top. */
    armed_alloc(alloc_bytes, "v128_alloc_bytes", top + 1, EINVAL, 0);
    armed_alloc(alloc_bytes, "v128_alloc_bytes", top, ENOMEM, top);
    armed_alloc(alloc_bytes, "v128_alloc_bytes", top - 1, ENOMEM, top);
}

struct alloc_case {
    void *(*fn)(size_t);
    size_t n;
};

/* One allocation under the failure loop: NULL with ENOMEM and no leak, or a block. */
static int alloc_body(void *arg, uint64_t n)
{
    (void)n;
    struct alloc_case *c = arg;
    size_t live = af_live();
    errno = 0;
    void *p = c->fn(c->n);
    int err = errno;
    bool hit = af_hit();
    if (p) {
        bool aligned = v128_is_aligned(p);
        v128_free(p);
        return hit ? 1 : aligned ? 0 : 5;
    }
    if (!hit)
        return 2;
    if (err != ENOMEM)
        return 3;
    return af_live() != live ? 4 : 0;
}

Test(vec128, alloc_failure_gives_null_and_enomem)
{
    static const char *const why[] = {"", "a block although the allocation failed",
                                      "NULL although no allocation failed", "errno is not ENOMEM",
                                      "a block leaked", "a misaligned block"};
    struct {
        const char *name;
        struct alloc_case c;
    } cases[] = {
        {"v128_alloc_bytes(20)", {alloc_bytes, 20}},
        {"v128_alloc(3)", {alloc_vectors, 3}},
        {"v128_alloc_f32(5)", {alloc_floats, 5}},
    };
    size_t live = af_live();
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint64_t runs = 0;
        int rc = af_fail_loop(alloc_body, &cases[i].c, 10, &runs);
        cr_assert_eq(rc, 0, "%s with its allocation failing: %s", cases[i].name,
                     why[rc > 0 && rc < 6 ? rc : 0]);
        cr_assert_geq(runs, 2, "%s allocated nothing?", cases[i].name);
    }
    cr_assert_eq(af_live(), live);
    NO_LEAKS();
}
