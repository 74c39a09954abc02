/*
 * vec128.c — sprint 1, exercise 4: aligned 128-bit vectors.
 *
 * What this is: the reference solution of include/vec128.h — alignment
 * checks, aligned allocation, and four-lane arithmetic over 16-byte-aligned
 * vectors and float arrays.
 *
 * How it works.
 *  - Alignment test: an address is a multiple of a power of two `a` exactly
 *    when its low log2(a) bits are zero: `((uintptr_t)p & (a - 1)) == 0`.
 *    uintptr_t is the integer type a pointer converts to and from losslessly.
 *  - aligned_alloc(alignment, size) (C11) requires `size` to be a multiple
 *    of `alignment`; glibc forgives a violation, other libraries return NULL,
 *    so the size is rounded up first (v128_round_up(), which checks the
 *    addition for overflow: n + align - 1 may wrap around).
 *  - The vector type carries its alignment (`alignas(16)` on its first
 *    member makes alignof(v128f) == 16 and sizeof a multiple of 16), so
 *    every element of a v128f array is aligned once the first one is: the
 *    array functions need no checks. Float arrays carry no such guarantee;
 *    v128_dot_f32() checks its pointers like SIMD code must before using
 *    aligned loads, and handles the last count % 4 floats one by one.
 *  - Four separate lane accumulators in the dot products mirror what a
 *    SIMD register does (and let the compiler vectorise): the sum is
 *    re-associated, so it may differ in the last bits from a sequential
 *    scalar sum. The tests use small integers, which add up exactly.
 */
#include "vec128.h"
#include "stub.h" /* the kit's stubs: "not implemented: FN" */

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* Whether x is a power of two (0 is not). Marked unused: the starter kit's
 * stubs do not call it, and clang would warn. */
__attribute__((unused)) static inline bool is_pow2(size_t x)
{
    return x != 0 && (x & (x - 1)) == 0;
}

bool v128_is_aligned(const void *p)
{
    /* STUB: (void)p; stub_not_implemented(__func__); return false; */
    /* BEGIN SOLUTION */
    return v128_is_aligned_to(p, V128_ALIGN);
    /* END SOLUTION */
}

bool v128_is_aligned_to(const void *p, size_t align)
{
    /* STUB: (void)p; (void)align; stub_not_implemented(__func__); return false; */
    /* BEGIN SOLUTION */
    if (!is_pow2(align))
        return false;
    return ((uintptr_t)p & (align - 1)) == 0;
    /* END SOLUTION */
}

size_t v128_round_up(size_t n, size_t align)
{
    /* STUB: (void)align; return n; */
    /* BEGIN SOLUTION */
    if (!is_pow2(align) || n > SIZE_MAX - (align - 1))
        return 0;
    return (n + align - 1) & ~(align - 1);
    /* END SOLUTION */
}

void *v128_alloc_bytes(size_t size, size_t *rounded)
{
    /* STUB: (void)size; (void)rounded; stub_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    size_t n = v128_round_up(size, V128_ALIGN);
    if (n == 0) {
        errno = EINVAL;
        return NULL;
    }
    void *p = aligned_alloc(V128_ALIGN, n);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    memset(p, 0, n);
    if (rounded)
        *rounded = n;
    return p;
    /* END SOLUTION */
}

v128f *v128_alloc(size_t n)
{
    /* STUB: (void)n; stub_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    if (n == 0 || n > SIZE_MAX / sizeof(v128f)) {
        errno = EINVAL;
        return NULL;
    }
    return v128_alloc_bytes(n * sizeof(v128f), NULL);
    /* END SOLUTION */
}

float *v128_alloc_f32(size_t count)
{
    /* STUB: (void)count; stub_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    if (count == 0 || count > SIZE_MAX / sizeof(float)) {
        errno = EINVAL;
        return NULL;
    }
    return v128_alloc_bytes(count * sizeof(float), NULL);
    /* END SOLUTION */
}

void v128_free(void *p)
{
    free(p);
}

v128f v128_set(float a, float b, float c, float d)
{
    v128f v = {{a, b, c, d}};
    return v;
}

v128f v128_splat(float x)
{
    return v128_set(x, x, x, x);
}

v128f v128_add(v128f a, v128f b)
{
    /* STUB: (void)b; return a; */
    /* BEGIN SOLUTION */
    v128f r;
    for (int k = 0; k < 4; k++)
        r.f[k] = a.f[k] + b.f[k];
    return r;
    /* END SOLUTION */
}

v128f v128_mul(v128f a, v128f b)
{
    /* STUB: (void)b; return a; */
    /* BEGIN SOLUTION */
    v128f r;
    for (int k = 0; k < 4; k++)
        r.f[k] = a.f[k] * b.f[k];
    return r;
    /* END SOLUTION */
}

float v128_hsum(v128f a)
{
    /* STUB: (void)a; return 0.0f; */
    /* BEGIN SOLUTION */
    return (a.f[0] + a.f[1]) + (a.f[2] + a.f[3]);
    /* END SOLUTION */
}

float v128_dot(v128f a, v128f b)
{
    /* STUB: (void)a; (void)b; return 0.0f; */
    /* BEGIN SOLUTION */
    return v128_hsum(v128_mul(a, b));
    /* END SOLUTION */
}

void v128_add_array(v128f *dst, const v128f *a, const v128f *b, size_t n)
{
    /* STUB: (void)dst; (void)a; (void)b; (void)n; */
    /* BEGIN SOLUTION */
    for (size_t k = 0; k < n; k++)
        dst[k] = v128_add(a[k], b[k]);
    /* END SOLUTION */
}

void v128_mul_array(v128f *dst, const v128f *a, const v128f *b, size_t n)
{
    /* STUB: (void)dst; (void)a; (void)b; (void)n; */
    /* BEGIN SOLUTION */
    for (size_t k = 0; k < n; k++)
        dst[k] = v128_mul(a[k], b[k]);
    /* END SOLUTION */
}

float v128_dot_array(const v128f *a, const v128f *b, size_t n)
{
    /* STUB: (void)a; (void)b; (void)n; return 0.0f; */
    /* BEGIN SOLUTION */
    v128f acc = v128_splat(0.0f);
    for (size_t k = 0; k < n; k++)
        acc = v128_add(acc, v128_mul(a[k], b[k]));
    return v128_hsum(acc);
    /* END SOLUTION */
}

int v128_dot_f32(const float *a, const float *b, size_t count, float *out)
{
    /* STUB: (void)a; (void)b; (void)count; (void)out; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!out || !v128_is_aligned(a) || !v128_is_aligned(b))
        return -EINVAL;
    v128f acc = v128_splat(0.0f);
    size_t k = 0;
    for (; k + 4 <= count; k += 4) {
        v128f va = v128_set(a[k], a[k + 1], a[k + 2], a[k + 3]);
        v128f vb = v128_set(b[k], b[k + 1], b[k + 2], b[k + 3]);
        acc = v128_add(acc, v128_mul(va, vb));
    }
    float sum = v128_hsum(acc);
    for (; k < count; k++)
        sum += a[k] * b[k];
    *out = sum;
    return 0;
    /* END SOLUTION */
}
