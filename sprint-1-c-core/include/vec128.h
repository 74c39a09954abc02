/**
 * @file vec128.h
 * @brief Sprint 1, exercise 4: an aligned struct for 128-bit vectors.
 *
 * SIMD registers (SSE's xmm, NEON's q registers) are 128 bits wide: four
 * floats or four 32-bit ints at once. The fast load and store instructions
 * (SSE `movaps`, the aligned forms the compiler picks when it can prove
 * alignment) require — or are fastest with — an address that is a multiple
 * of 16: such a load never straddles two cache lines. A misaligned `movaps`
 * faults (SIGSEGV/SIGBUS), so vector data is declared with `alignas(16)`
 * and allocated with aligned_alloc(16, ...).
 *
 * - ::v128f is four floats with 16-byte alignment; ::v128i is four int32_t;
 *   ::v128 is a union of both plus the raw bytes, so the same 128 bits can
 *   be read as floats or as integers (type punning through a union is
 *   defined in C11, unlike through a cast pointer).
 * - v128_alloc() / v128_alloc_f32() return zeroed, 16-byte-aligned arrays
 *   from aligned_alloc(), whose size argument C11 requires to be a multiple
 *   of the alignment — hence v128_round_up().
 * - The arithmetic is plain C over the four lanes; with the alignment known,
 *   GCC and Clang at -O2 compile these loops to SIMD instructions. Sprint 4
 *   writes the intrinsics by hand.
 *
 * **Errors.** Allocation functions return NULL (errno ENOMEM, or EINVAL for
 * a bad argument). Functions over float arrays return -EINVAL when a pointer
 * is not 16-byte aligned.
 *
 * **Thread safety.** Every function is reentrant.
 */
#ifndef SPRINT1_VEC128_H
#define SPRINT1_VEC128_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Alignment, in bytes, of every 128-bit vector type and allocation here. */
#define V128_ALIGN 16

/** @brief Four floats, 16-byte aligned: one SSE/NEON register's worth. */
typedef struct v128f {
    alignas(V128_ALIGN) float f[4]; /**< the four lanes */
} v128f;

/** @brief Four 32-bit integers, 16-byte aligned. */
typedef struct v128i {
    alignas(V128_ALIGN) int32_t i[4]; /**< the four lanes */
} v128i;

/** @brief The same 128 bits seen as floats, as int32 lanes, or as bytes. */
typedef union v128 {
    v128f f;                 /**< float view */
    v128i i;                 /**< int32x4 view */
    unsigned char bytes[16]; /**< raw object representation */
} v128;

/**
 * @brief Whether @p p is a multiple of 16.
 * @param[in] p  any address (NULL is aligned).
 * @return true when `(uintptr_t)p % 16 == 0`.
 */
bool v128_is_aligned(const void *p);

/**
 * @brief Whether @p p is a multiple of @p align.
 * @param[in] p      any address.
 * @param[in] align  a power of two.
 * @return true when aligned; false also when @p align is not a power of two.
 */
bool v128_is_aligned_to(const void *p, size_t align);

/**
 * @brief Round @p n up to a multiple of @p align.
 * @param[in] n      a byte count.
 * @param[in] align  a power of two.
 * @return the smallest multiple of @p align that is >= @p n; 0 for @p n = 0;
 *         0 also when the result would not fit in size_t (overflow) or
 *         @p align is not a power of two.
 */
size_t v128_round_up(size_t n, size_t align);

/**
 * @brief Allocate @p size bytes (rounded up to a multiple of 16) aligned to 16, zeroed.
 * @param[in]  size     bytes wanted, > 0.
 * @param[out] rounded  receives the size actually allocated; may be NULL.
 * @return a block the **caller owns and frees with v128_free()** (or free());
 *         NULL with errno EINVAL when @p size is 0 or rounding overflows,
 *         ENOMEM when aligned_alloc fails.
 */
void *v128_alloc_bytes(size_t size, size_t *rounded);

/**
 * @brief Allocate an array of @p n zeroed vectors.
 * @param[in] n  number of vectors, > 0.
 * @return the array (caller owns it; v128_free()), or NULL (errno EINVAL
 *         for n = 0 or a byte count that overflows, ENOMEM).
 */
v128f *v128_alloc(size_t n);

/**
 * @brief Allocate @p count zeroed floats whose first element is 16-byte aligned.
 *
 * `count * 4` bytes are rounded up to a multiple of 16 (5 floats take 32
 * bytes), as aligned_alloc requires.
 * @param[in] count  number of floats, > 0.
 * @return the array (caller owns it; v128_free()), or NULL (errno EINVAL, ENOMEM).
 */
float *v128_alloc_f32(size_t count);

/**
 * @brief Free a block from the v128_alloc* functions.
 * @param[in] p  the block, or NULL.
 */
void v128_free(void *p);

/**
 * @brief Build a vector from four lanes.
 * @param[in] a  lane 0
 * @param[in] b  lane 1
 * @param[in] c  lane 2
 * @param[in] d  lane 3
 * @return {a, b, c, d}.
 */
v128f v128_set(float a, float b, float c, float d);

/**
 * @brief A vector with @p x in every lane.
 * @param[in] x  the value.
 * @return {x, x, x, x}.
 */
v128f v128_splat(float x);

/**
 * @brief Lane-wise sum.
 * @param[in] a  first operand
 * @param[in] b  second operand
 * @return {a0+b0, a1+b1, a2+b2, a3+b3}.
 */
v128f v128_add(v128f a, v128f b);

/**
 * @brief Lane-wise product.
 * @param[in] a  first operand
 * @param[in] b  second operand
 * @return {a0*b0, a1*b1, a2*b2, a3*b3}.
 */
v128f v128_mul(v128f a, v128f b);

/**
 * @brief Sum of the four lanes (a "horizontal" add), as `(a0+a1)+(a2+a3)`.
 * @param[in] a  the vector.
 * @return the sum.
 */
float v128_hsum(v128f a);

/**
 * @brief Dot product of two vectors: v128_hsum(v128_mul(a, b)).
 * @param[in] a  first operand
 * @param[in] b  second operand
 * @return the sum of the lane products.
 */
float v128_dot(v128f a, v128f b);

/**
 * @brief dst[k] = a[k] + b[k] for k < n. @p dst may be @p a or @p b.
 * @param[out] dst  n vectors; may be NULL only when @p n is 0.
 * @param[in]  a    n vectors.
 * @param[in]  b    n vectors.
 * @param[in]  n    number of vectors.
 */
void v128_add_array(v128f *dst, const v128f *a, const v128f *b, size_t n);

/**
 * @brief dst[k] = a[k] * b[k] (lane-wise) for k < n. @p dst may be @p a or @p b.
 * @param[out] dst  n vectors; may be NULL only when @p n is 0.
 * @param[in]  a    n vectors.
 * @param[in]  b    n vectors.
 * @param[in]  n    number of vectors.
 */
void v128_mul_array(v128f *dst, const v128f *a, const v128f *b, size_t n);

/**
 * @brief Dot product of two arrays of vectors: the four lanes are
 *        accumulated separately, then summed with v128_hsum().
 * @param[in] a  n vectors.
 * @param[in] b  n vectors.
 * @param[in] n  number of vectors (0 gives 0).
 * @return the dot product of the 4n floats.
 */
float v128_dot_array(const v128f *a, const v128f *b, size_t n);

/**
 * @brief Dot product of two float arrays, four at a time with a scalar tail.
 *
 * The arrays must start on a 16-byte boundary (as from v128_alloc_f32()),
 * the precondition of aligned SIMD loads; @p count need not be a multiple of 4.
 * @param[in]  a      count floats, 16-byte aligned.
 * @param[in]  b      count floats, 16-byte aligned.
 * @param[in]  count  number of floats.
 * @param[out] out    receives the dot product; not NULL.
 * @return 0; -EINVAL when @p a or @p b is misaligned or @p out is NULL
 *         (@p out untouched).
 */
int v128_dot_f32(const float *a, const float *b, size_t count, float *out);

#ifdef __cplusplus
}
#endif
#endif /* SPRINT1_VEC128_H */
