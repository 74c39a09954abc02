/**
 * @file dynarray.h
 * @brief Sprint 1, exercise 2: a generic dynamic array (malloc, realloc, free).
 *
 * A da_array holds `len` elements of `elem_size` bytes each, contiguous in
 * one heap block of `cap` elements. Elements are copied in and out by
 * value (memcpy of elem_size bytes), so any type fits: `int`, a struct, a
 * pointer.
 *
 * @code
 *   da_array a = DA_INIT(int);          // or da_init(&a, sizeof(int))
 *   for (int i = 0; i < 100; i++)
 *       if (da_push(&a, &i) != 0) { ... }
 *   int x;
 *   da_get(&a, 42, &x);                 // x == 42
 *   da_free(&a);
 * @endcode
 *
 * **Growth policy.** When a push or insert finds the array full, the
 * capacity grows geometrically: to DA_MIN_CAP first, then doubling
 * (da_grow_capacity()). Doubling makes push amortised O(1): growing to
 * capacity c copies at most c elements, and the c/2 pushes since the
 * previous growth paid for them, so n pushes copy fewer than 2n elements
 * in total. Growing by a constant step instead (c + 16) would copy
 * about n²/32 elements for n pushes: quadratic.
 *
 * **Shrink policy (hysteresis).** After a pop or remove leaves `len <= cap/4`,
 * the capacity halves (never below DA_MIN_CAP; da_shrink_capacity()).
 * Shrinking at a quarter, not at a half, leaves the array half full after
 * shrinking, so neither a push nor a pop right after can trigger another
 * reallocation: alternating push/pop at a boundary never thrashes.
 *
 * **Errors** are negative errno values:
 * - `-EINVAL`    a NULL argument, an uninitialised array (elem_size 0), or a
 *                capacity below the current length;
 * - `-ERANGE`    an index out of range (also: pop on an empty array);
 * - `-EOVERFLOW` a capacity whose size in bytes, `cap * elem_size`, would
 *                exceed DA_MAX_BYTES (checked before multiplying);
 * - `-ENOMEM`    realloc failed.
 *
 * Every failing call leaves the array exactly as it was.
 *
 * **Pointers into the array** (da_at(), or `data` itself) are invalidated by
 * any call that may reallocate: da_push(), da_insert(), da_reserve(),
 * da_set_capacity(), da_pop(), da_remove(), da_free().
 *
 * **Thread safety.** None: a da_array is a plain value; callers serialise
 * access to one array. Distinct arrays are independent.
 */
#ifndef SPRINT1_DYNARRAY_H
#define SPRINT1_DYNARRAY_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Capacity of the first allocation, and the floor of shrinking. */
#define DA_MIN_CAP 8

/**
 * @brief Largest allocation in bytes the array will request: PTRDIFF_MAX.
 *
 * An object larger than PTRDIFF_MAX bytes makes `p - q` overflow for
 * pointers at its two ends, so C libraries refuse such sizes anyway.
 */
#define DA_MAX_BYTES ((size_t)PTRDIFF_MAX)

/**
 * @brief A dynamic array. Fields are public for debuggers (the .gdbinit
 *        commands read them) and for reading; change them only through
 *        the da_* functions.
 */
typedef struct da_array {
    void *data;       /**< cap * elem_size bytes from malloc, or NULL when cap is 0 */
    size_t len;       /**< number of elements in use, <= cap */
    size_t cap;       /**< number of elements allocated */
    size_t elem_size; /**< bytes per element, > 0 once initialised */
} da_array;

/**
 * @brief Static initialiser of an empty array of @p type: `da_array a = DA_INIT(int);`
 * @param type  the element type; its sizeof becomes elem_size.
 */
#define DA_INIT(type)                                                                              \
    {                                                                                              \
        .data = NULL, .len = 0, .cap = 0, .elem_size = sizeof(type)                                \
    }

/**
 * @brief Initialise an empty array. Allocates nothing (cap 0).
 * @param[out] a          the array to initialise; not NULL.
 * @param[in]  elem_size  bytes per element, 1..DA_MAX_BYTES.
 * @return 0; -EINVAL when @p a is NULL or @p elem_size is 0 or too large.
 */
int da_init(da_array *a, size_t elem_size);

/**
 * @brief Release the storage. The array stays initialised (same
 *        elem_size), empty, with cap 0, and may be reused.
 * @param[in,out] a  the array, or NULL (nothing happens).
 */
void da_free(da_array *a);

/**
 * @brief Remove every element; the capacity is kept (no reallocation).
 * @param[in,out] a  the array, or NULL (nothing happens).
 */
void da_clear(da_array *a);

/**
 * @brief Number of elements.
 * @param[in] a  the array; not NULL.
 * @return a->len.
 */
size_t da_len(const da_array *a);

/**
 * @brief Number of elements the current allocation holds.
 * @param[in] a  the array; not NULL.
 * @return a->cap.
 */
size_t da_cap(const da_array *a);

/**
 * @brief The growth policy, as a pure function.
 *
 * Starting from max(@p cap, DA_MIN_CAP), double until the result is at
 * least @p needed. With @p needed <= @p cap the answer is @p cap (no growth).
 * @param[in] cap     the current capacity.
 * @param[in] needed  the number of elements that must fit.
 * @return the new capacity (>= @p needed), or 0 when doubling would
 *         overflow size_t (no representable capacity).
 */
size_t da_grow_capacity(size_t cap, size_t needed);

/**
 * @brief The shrink policy, as a pure function.
 * @param[in] cap  the current capacity.
 * @param[in] len  the length after a removal.
 * @return `max(cap / 2, DA_MIN_CAP)` when `cap > DA_MIN_CAP` and
 *         `len <= cap / 4`; otherwise @p cap (no shrink).
 */
size_t da_shrink_capacity(size_t cap, size_t len);

/**
 * @brief Set the capacity to exactly @p cap elements (realloc).
 *
 * `da_set_capacity(a, da_len(a))` is "shrink to fit". A capacity of 0
 * frees the storage (data becomes NULL).
 * @param[in,out] a    the array; not NULL.
 * @param[in]     cap  the new capacity, >= a->len.
 * @return 0; -EINVAL (NULL or uninitialised array, @p cap < len);
 *         -EOVERFLOW (cap * elem_size > DA_MAX_BYTES); -ENOMEM.
 *         On failure the array is unchanged.
 */
int da_set_capacity(da_array *a, size_t cap);

/**
 * @brief Make room for at least @p min_cap elements without further
 *        reallocation. Grows to exactly @p min_cap; never shrinks.
 *
 * A later removal may shrink the capacity again (see the shrink policy).
 * @param[in,out] a        the array; not NULL.
 * @param[in]     min_cap  the capacity wanted.
 * @return 0 (also when the capacity is already enough); -EINVAL;
 *         -EOVERFLOW; -ENOMEM. On failure the array is unchanged.
 */
int da_reserve(da_array *a, size_t min_cap);

/**
 * @brief Append a copy of one element, growing by the growth policy.
 * @param[in,out] a     the array; not NULL.
 * @param[in]     elem  elem_size bytes to copy; not NULL; must not point
 *                      into the array's own storage (growth would move it).
 * @return 0; -EINVAL; -EOVERFLOW (the capacity cannot grow any more);
 *         -ENOMEM. On failure the array is unchanged.
 */
int da_push(da_array *a, const void *elem);

/**
 * @brief Remove the last element, copying it out; may shrink.
 * @param[in,out] a    the array; not NULL.
 * @param[out]    out  receives elem_size bytes, or NULL to discard.
 * @return 0; -ERANGE when the array is empty; -EINVAL.
 */
int da_pop(da_array *a, void *out);

/**
 * @brief Insert a copy of one element at index @p idx, moving elements
 *        idx..len-1 one place up. Order is preserved.
 * @param[in,out] a     the array; not NULL.
 * @param[in]     idx   0..len (len appends).
 * @param[in]     elem  elem_size bytes to copy; not NULL; not into the array.
 * @return 0; -ERANGE when @p idx > len; -EINVAL; -EOVERFLOW; -ENOMEM.
 *         On failure the array is unchanged.
 */
int da_insert(da_array *a, size_t idx, const void *elem);

/**
 * @brief Remove the element at index @p idx, moving the later elements one
 *        place down (order preserved); may shrink.
 * @param[in,out] a    the array; not NULL.
 * @param[in]     idx  0..len-1.
 * @param[out]    out  receives the removed element, or NULL to discard.
 * @return 0; -ERANGE when @p idx >= len; -EINVAL.
 */
int da_remove(da_array *a, size_t idx, void *out);

/**
 * @brief Bounds-checked read of element @p idx.
 * @param[in]  a    the array; not NULL.
 * @param[in]  idx  0..len-1.
 * @param[out] out  receives elem_size bytes; not NULL.
 * @return 0; -ERANGE when @p idx >= len (@p out untouched); -EINVAL.
 */
int da_get(const da_array *a, size_t idx, void *out);

/**
 * @brief Bounds-checked overwrite of element @p idx.
 * @param[in,out] a     the array; not NULL.
 * @param[in]     idx   0..len-1.
 * @param[in]     elem  elem_size bytes to copy; not NULL.
 * @return 0; -ERANGE when @p idx >= len; -EINVAL.
 */
int da_set(da_array *a, size_t idx, const void *elem);

/**
 * @brief Address of element @p idx, for in-place access.
 * @param[in] a    the array; not NULL.
 * @param[in] idx  0..len-1.
 * @return a pointer into the array's storage, borrowed and valid only
 *         until the next call that may reallocate; NULL when @p idx >= len.
 */
void *da_at(da_array *a, size_t idx);

#ifdef __cplusplus
}
#endif
#endif /* SPRINT1_DYNARRAY_H */
