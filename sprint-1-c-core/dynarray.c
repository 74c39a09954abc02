/*
 * dynarray.c — sprint 1, exercise 2: a generic dynamic array.
 *
 * What this is: the reference solution of include/dynarray.h, a growable
 * array of fixed-size elements stored contiguously in one malloc'd block.
 * The header states the contract (error codes, growth and shrink policies,
 * invalidation of pointers); this file is how it is done.
 *
 * How it works.
 *  - Addressing. Element i lives at `(unsigned char *)data + i * elem_size`
 *    (elem_ptr()). Arithmetic on `void *` is not standard C, hence the cast
 *    to a byte pointer. `i * elem_size` cannot overflow for i <= cap,
 *    because cap * elem_size was checked when the block was allocated.
 *  - Every size in bytes goes through bytes_for(), which refuses a product
 *    above DA_MAX_BYTES by testing `n > DA_MAX_BYTES / size` BEFORE
 *    multiplying: once `n * size` has wrapped around, the damage is done
 *    and a small, wrong size would be allocated (a classic heap overflow).
 *  - da_set_capacity() is the only place that calls realloc. It assigns
 *    realloc's result to a temporary: `a->data = realloc(a->data, n)` would
 *    lose (leak) the old block when realloc fails and returns NULL. Only
 *    after success are data and cap updated, so a failure changes nothing.
 *    realloc(p, 0) is implementation-defined (and undefined in C23), so a
 *    capacity of 0 is a free().
 *  - Insert and remove shift the tail with memmove, which, unlike memcpy,
 *    is correct for overlapping source and destination.
 *  - Growth happens in da_insert() (da_push() is an insert at len), before
 *    anything is moved; shrinking happens at the end of da_remove() (da_pop()
 *    is a remove at len-1) and is best-effort: if the smaller realloc fails
 *    the array simply keeps its larger block.
 *
 * Callers must not keep pointers into the storage across calls that may
 * reallocate, and must not pass an element that lives inside the array to
 * da_push()/da_insert().
 */
#include "dynarray.h"
#include "stub.h" /* the kit's stubs: "not implemented: FN" */

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/*
 * Helpers for the exercises. They are marked unused because the starter
 * kit's stubs do not call them yet (clang would warn about an unused
 * static inline function and -Werror would stop the build).
 */

/* Whether a looks like an initialised array (the da_* entry check). */
__attribute__((unused)) static inline bool da_valid(const da_array *a)
{
    return a && a->elem_size > 0 && a->len <= a->cap;
}

/* *out = n * size, or -EOVERFLOW when that exceeds DA_MAX_BYTES. */
__attribute__((unused)) static inline int bytes_for(size_t n, size_t size, size_t *out)
{
    if (size != 0 && n > DA_MAX_BYTES / size)
        return -EOVERFLOW;
    *out = n * size;
    return 0;
}

/* Address of element i (i <= cap). */
__attribute__((unused)) static inline unsigned char *elem_ptr(const da_array *a, size_t i)
{
    return (unsigned char *)a->data + i * a->elem_size;
}

int da_init(da_array *a, size_t elem_size)
{
    if (!a || elem_size == 0 || elem_size > DA_MAX_BYTES)
        return -EINVAL;
    a->data = NULL;
    a->len = 0;
    a->cap = 0;
    a->elem_size = elem_size;
    return 0;
}

void da_free(da_array *a)
{
    if (!a)
        return;
    free(a->data);
    a->data = NULL;
    a->len = 0;
    a->cap = 0;
}

void da_clear(da_array *a)
{
    if (a)
        a->len = 0;
}

size_t da_len(const da_array *a)
{
    return a->len;
}

size_t da_cap(const da_array *a)
{
    return a->cap;
}

size_t da_grow_capacity(size_t cap, size_t needed)
{
    /* STUB: (void)cap; (void)needed; return 0; */
    /* BEGIN SOLUTION */
    if (needed <= cap)
        return cap;
    size_t c = cap < DA_MIN_CAP ? DA_MIN_CAP : cap;
    while (c < needed) {
        if (c > SIZE_MAX / 2)
            return 0;
        c *= 2;
    }
    return c;
    /* END SOLUTION */
}

size_t da_shrink_capacity(size_t cap, size_t len)
{
    /* STUB: (void)len; return cap; */
    /* BEGIN SOLUTION */
    if (cap <= DA_MIN_CAP || len > cap / 4)
        return cap;
    return cap / 2 < DA_MIN_CAP ? DA_MIN_CAP : cap / 2;
    /* END SOLUTION */
}

int da_set_capacity(da_array *a, size_t cap)
{
    /* STUB: (void)a; (void)cap; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a) || cap < a->len)
        return -EINVAL;
    size_t bytes;
    if (bytes_for(cap, a->elem_size, &bytes) != 0)
        return -EOVERFLOW;
    if (cap == a->cap)
        return 0;
    if (cap == 0) {
        free(a->data);
        a->data = NULL;
        a->cap = 0;
        return 0;
    }
    void *p = realloc(a->data, bytes);
    if (!p)
        return -ENOMEM;
    a->data = p;
    a->cap = cap;
    return 0;
    /* END SOLUTION */
}

int da_reserve(da_array *a, size_t min_cap)
{
    /* STUB: (void)a; (void)min_cap; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a))
        return -EINVAL;
    if (min_cap <= a->cap)
        return 0;
    return da_set_capacity(a, min_cap);
    /* END SOLUTION */
}

int da_insert(da_array *a, size_t idx, const void *elem)
{
    /* STUB: (void)a; (void)idx; (void)elem; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a) || !elem)
        return -EINVAL;
    if (idx > a->len)
        return -ERANGE;
    if (a->len == a->cap) {
        if (a->len == SIZE_MAX)
            return -EOVERFLOW;
        size_t cap = da_grow_capacity(a->cap, a->len + 1);
        if (cap == 0)
            return -EOVERFLOW;
        int rc = da_set_capacity(a, cap);
        if (rc != 0)
            return rc;
    }
    memmove(elem_ptr(a, idx + 1), elem_ptr(a, idx), (a->len - idx) * a->elem_size);
    memcpy(elem_ptr(a, idx), elem, a->elem_size);
    a->len++;
    return 0;
    /* END SOLUTION */
}

int da_push(da_array *a, const void *elem)
{
    /* STUB: (void)a; (void)elem; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a))
        return -EINVAL;
    return da_insert(a, a->len, elem);
    /* END SOLUTION */
}

int da_remove(da_array *a, size_t idx, void *out)
{
    /* STUB: (void)a; (void)idx; (void)out; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a))
        return -EINVAL;
    if (idx >= a->len)
        return -ERANGE;
    if (out)
        memcpy(out, elem_ptr(a, idx), a->elem_size);
    memmove(elem_ptr(a, idx), elem_ptr(a, idx + 1), (a->len - idx - 1) * a->elem_size);
    a->len--;
    size_t cap = da_shrink_capacity(a->cap, a->len);
    if (cap != a->cap)
        (void)da_set_capacity(a, cap); /* best effort: keep the big block on failure */
    return 0;
    /* END SOLUTION */
}

int da_pop(da_array *a, void *out)
{
    /* STUB: (void)a; (void)out; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a))
        return -EINVAL;
    if (a->len == 0)
        return -ERANGE;
    return da_remove(a, a->len - 1, out);
    /* END SOLUTION */
}

int da_get(const da_array *a, size_t idx, void *out)
{
    /* STUB: (void)a; (void)idx; (void)out; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a) || !out)
        return -EINVAL;
    if (idx >= a->len)
        return -ERANGE;
    memcpy(out, elem_ptr(a, idx), a->elem_size);
    return 0;
    /* END SOLUTION */
}

int da_set(da_array *a, size_t idx, const void *elem)
{
    /* STUB: (void)a; (void)idx; (void)elem; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!da_valid(a) || !elem)
        return -EINVAL;
    if (idx >= a->len)
        return -ERANGE;
    memcpy(elem_ptr(a, idx), elem, a->elem_size);
    return 0;
    /* END SOLUTION */
}

void *da_at(da_array *a, size_t idx)
{
    /* STUB: (void)a; (void)idx; stub_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    if (!da_valid(a) || idx >= a->len)
        return NULL;
    return elem_ptr(a, idx);
    /* END SOLUTION */
}
