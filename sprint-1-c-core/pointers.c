/*
 * pointers.c — sprint 1, exercise 1: pointer operations.
 *
 * What this is: the reference solution of the pointer exercises declared in
 * include/pointers.h. Each function is a few lines long on purpose; the
 * point is the idiom, not the algorithm.
 *
 * How it works, idiom by idiom:
 *  - Out-parameters. ptr_swap_int() receives addresses and writes through
 *    them; ptr_swap() does the same for objects of any size through
 *    `unsigned char *`, the one pointer type allowed to alias anything.
 *  - Two-pointer walks. ptr_reverse_int() keeps `lo` and `hi` and moves them
 *    towards each other; ptr_fill_range() walks a half-open range
 *    [begin, end). `end` points one past the last element: forming that
 *    pointer is legal C, dereferencing it is not.
 *  - Pointer differences. `p - arr` is the number of elements between two
 *    pointers into the same array, of type ptrdiff_t (ptr_index_of()).
 *  - Returned pointers and lifetimes. A returned pointer is only as good as
 *    the object it points into:
 *      * ptr_find_max() and ptr_basename() return pointers INTO the
 *        caller's array or string: valid while the caller's object lives;
 *      * ptr_strdup_upper() returns a NEW heap block: valid until the caller
 *        frees it (the caller owns it);
 *      * the third case is the bug. This function compiles (GCC warns with
 *        -Wreturn-local-addr and -Werror makes that fatal, which is why it
 *        is only shown here):
 *
 *            char *dangling_upper(const char *s)
 *            {
 *                char buf[64];                  (an automatic variable)
 *                ptr_strlcpy(buf, s, sizeof buf);
 *                return buf;                    (buf dies on return)
 *            }
 *
 *        `buf` lives in the callee's stack frame, which is reused by the
 *        very next call; the caller receives an address of dead storage and
 *        reading it is undefined behaviour — it often "works" in a small
 *        test and prints garbage later. AddressSanitizer reports it as
 *        stack-use-after-return.
 *  - Pointer to pointer. ptr_list_push_front() must change the caller's
 *    head pointer, so it receives `struct ptr_node **head`. ptr_list_remove()
 *    walks `struct ptr_node **link` — the address of the pointer that
 *    points to the current node — so unlinking the head and unlinking an
 *    inner node are the same assignment `*link = node->next`.
 *
 * Callers must not pass NULL where the header says "not NULL": these are
 * programming errors, caught by assert() in debug builds.
 */
#include "pointers.h"
#include "stub.h" /* the kit's stubs: "not implemented: FN" */

#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

void ptr_swap_int(int *a, int *b)
{
    /* STUB: (void)a; (void)b; */
    /* BEGIN SOLUTION */
    assert(a && b);
    int tmp = *a;
    *a = *b;
    *b = tmp;
    /* END SOLUTION */
}

void ptr_swap(void *a, void *b, size_t size)
{
    /* STUB: (void)a; (void)b; (void)size; */
    /* BEGIN SOLUTION */
    unsigned char *pa = a;
    unsigned char *pb = b;
    if (pa == pb)
        return;
    for (size_t i = 0; i < size; i++) {
        unsigned char tmp = pa[i];
        pa[i] = pb[i];
        pb[i] = tmp;
    }
    /* END SOLUTION */
}

void ptr_reverse_int(int *arr, size_t n)
{
    /* STUB: (void)arr; (void)n; */
    /* BEGIN SOLUTION */
    if (n < 2)
        return;
    int *lo = arr;
    int *hi = arr + n - 1;
    while (lo < hi)
        ptr_swap_int(lo++, hi--);
    /* END SOLUTION */
}

const int *ptr_find_max(const int *arr, size_t n)
{
    /* STUB: (void)arr; (void)n; stub_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    if (n == 0)
        return NULL;
    const int *best = arr;
    for (const int *p = arr + 1; p < arr + n; p++)
        if (*p > *best)
            best = p;
    return best;
    /* END SOLUTION */
}

ptrdiff_t ptr_index_of(const int *arr, size_t n, int value)
{
    /* STUB: (void)arr; (void)n; (void)value; return -2; */
    /* BEGIN SOLUTION */
    for (const int *p = arr; p < arr + n; p++)
        if (*p == value)
            return p - arr;
    return -1;
    /* END SOLUTION */
}

void ptr_fill_range(int *begin, const int *end, int value)
{
    /* STUB: (void)begin; (void)end; (void)value; */
    /* BEGIN SOLUTION */
    assert(begin <= end);
    while (begin < end)
        *begin++ = value;
    /* END SOLUTION */
}

size_t ptr_strlen(const char *s)
{
    /* STUB: (void)s; return 0; */
    /* BEGIN SOLUTION */
    assert(s);
    const char *p = s;
    while (*p)
        p++;
    return (size_t)(p - s);
    /* END SOLUTION */
}

size_t ptr_strlcpy(char *dst, const char *src, size_t dstsize)
{
    /* STUB: (void)dst; (void)src; (void)dstsize; return 0; */
    /* BEGIN SOLUTION */
    size_t len = ptr_strlen(src);
    if (dstsize == 0)
        return len;
    size_t n = len < dstsize - 1 ? len : dstsize - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return len;
    /* END SOLUTION */
}

const char *ptr_basename(const char *path)
{
    /* STUB: return path; */
    /* BEGIN SOLUTION */
    const char *base = path;
    for (const char *p = path; *p; p++)
        if (*p == '/')
            base = p + 1;
    return base;
    /* END SOLUTION */
}

char *ptr_strdup_upper(const char *s)
{
    /* STUB: (void)s; stub_not_implemented(__func__); return NULL; */
    /* BEGIN SOLUTION */
    size_t len = ptr_strlen(s);
    char *copy = malloc(len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i <= len; i++)
        copy[i] = (char)toupper((unsigned char)s[i]);
    return copy;
    /* END SOLUTION */
}

int ptr_list_push_front(struct ptr_node **head, int value)
{
    /* STUB: (void)head; (void)value; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!head)
        return -EINVAL;
    struct ptr_node *node = malloc(sizeof *node);
    if (!node)
        return -ENOMEM;
    node->value = value;
    node->next = *head;
    *head = node;
    return 0;
    /* END SOLUTION */
}

int ptr_list_remove(struct ptr_node **head, int value)
{
    /* STUB: (void)head; (void)value; return -ENOSYS; */
    /* BEGIN SOLUTION */
    if (!head)
        return -EINVAL;
    for (struct ptr_node **link = head; *link; link = &(*link)->next) {
        struct ptr_node *node = *link;
        if (node->value == value) {
            *link = node->next;
            free(node);
            return 0;
        }
    }
    return -ENOENT;
    /* END SOLUTION */
}

size_t ptr_list_len(const struct ptr_node *head)
{
    /* STUB: (void)head; return 0; */
    /* BEGIN SOLUTION */
    size_t n = 0;
    for (const struct ptr_node *p = head; p; p = p->next)
        n++;
    return n;
    /* END SOLUTION */
}

void ptr_list_free(struct ptr_node **head)
{
    /* STUB: (void)head; */
    /* BEGIN SOLUTION */
    if (!head)
        return;
    struct ptr_node *node = *head;
    while (node) {
        struct ptr_node *next = node->next;
        free(node);
        node = next;
    }
    *head = NULL;
    /* END SOLUTION */
}
