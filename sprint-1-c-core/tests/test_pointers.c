/*
 * test_pointers.c — Criterion tests of the pointer exercises (pointers.h).
 *
 * One suite, "pointers"; run one test with --filter 'pointers/strlcpy_*'.
 * Each test checks values through the public API only, and each can fail
 * against an unfinished function (the starter kit's stubs fail them all).
 * Lists are freed with ptr_list_free() so `make memcheck` sees no leak.
 *
 * The test allocator (alloc_fail.h) makes allocations fail on demand and
 * knows the size of every block, so the tests also check what happens when
 * malloc fails (NULL or -ENOMEM, the list unchanged, nothing leaked) and
 * that a string copy asked for room for its NUL, without a sanitizer.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "pointers.h"

Test(pointers, swap_int)
{
    int a = 1, b = 2;
    ptr_swap_int(&a, &b);
    cr_assert_eq(a, 2);
    cr_assert_eq(b, 1);
    ptr_swap_int(&a, &a); /* same object: unchanged */
    cr_assert_eq(a, 2);
}

Test(pointers, swap_generic)
{
    struct pair {
        double d;
        char tag[5];
    } x = {1.5, "abcd"}, y = {-2.0, "wxyz"};
    ptr_swap(&x, &y, sizeof x);
    cr_assert_float_eq(x.d, -2.0, 0.0);
    cr_assert_str_eq(x.tag, "wxyz");
    cr_assert_float_eq(y.d, 1.5, 0.0);
    cr_assert_str_eq(y.tag, "abcd");
    long p = 7, q = 9;
    ptr_swap(&p, &q, sizeof p);
    cr_assert(p == 9 && q == 7);
}

Test(pointers, reverse_odd_even_and_edges)
{
    int odd[] = {1, 2, 3, 4, 5}, even[] = {1, 2, 3, 4}, one[] = {42};
    ptr_reverse_int(odd, 5);
    ptr_reverse_int(even, 4);
    ptr_reverse_int(one, 1);
    ptr_reverse_int(NULL, 0);
    int want_odd[] = {5, 4, 3, 2, 1}, want_even[] = {4, 3, 2, 1};
    cr_assert_arr_eq(odd, want_odd, sizeof odd);
    cr_assert_arr_eq(even, want_even, sizeof even);
    cr_assert_eq(one[0], 42);
}

Test(pointers, find_max_returns_pointer_into_array)
{
    int arr[] = {3, -1, 9, 4, 9, 0};
    const int *m = ptr_find_max(arr, 6);
    cr_assert_not_null(m);
    cr_assert_eq(*m, 9);
    cr_assert_eq(m, &arr[2], "the first maximum, inside the array (not a copy)");
    cr_assert_eq(m - arr, 2);
    cr_assert_null(ptr_find_max(arr, 0));
    int neg[] = {-5, -3, -8};
    cr_assert_eq(ptr_find_max(neg, 3), &neg[1]);
}

Test(pointers, index_of)
{
    int arr[] = {10, 20, 30, 20};
    cr_assert_eq(ptr_index_of(arr, 4, 10), 0);
    cr_assert_eq(ptr_index_of(arr, 4, 20), 1);
    cr_assert_eq(ptr_index_of(arr, 4, 30), 2);
    cr_assert_eq(ptr_index_of(arr, 4, 99), -1);
    cr_assert_eq(ptr_index_of(NULL, 0, 1), -1);
}

Test(pointers, fill_half_open_range)
{
    int arr[6] = {0};
    ptr_fill_range(arr + 1, arr + 4, 7);
    int want[6] = {0, 7, 7, 7, 0, 0};
    cr_assert_arr_eq(arr, want, sizeof arr);
    ptr_fill_range(arr + 5, arr + 5, 9); /* empty range writes nothing */
    cr_assert_eq(arr[5], 0);
    ptr_fill_range(arr, arr + 6, -1);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(arr[i], -1, "arr[%d]", i);
}

Test(pointers, strlen)
{
    cr_assert_eq(ptr_strlen(""), 0);
    cr_assert_eq(ptr_strlen("a"), 1);
    cr_assert_eq(ptr_strlen("hello, world"), 12);
    char buf[300];
    memset(buf, 'x', sizeof buf - 1);
    buf[sizeof buf - 1] = '\0';
    cr_assert_eq(ptr_strlen(buf), 299);
}

Test(pointers, strlcpy_fits)
{
    char dst[8];
    memset(dst, '#', sizeof dst);
    cr_assert_eq(ptr_strlcpy(dst, "abc", sizeof dst), 3);
    cr_assert_str_eq(dst, "abc");
    cr_assert_eq(ptr_strlcpy(dst, "1234567", sizeof dst), 7, "exactly dstsize-1 fits");
    cr_assert_str_eq(dst, "1234567");
}

Test(pointers, strlcpy_truncates_and_terminates)
{
    char dst[4];
    memset(dst, '#', sizeof dst);
    size_t n = ptr_strlcpy(dst, "abcdef", sizeof dst);
    cr_assert_eq(n, 6, "returns strlen(src)");
    cr_assert_geq(n, sizeof dst, "truncation is ret >= dstsize");
    cr_assert_str_eq(dst, "abc");
    char guard[2] = {'G', 'G'};
    cr_assert_eq(ptr_strlcpy(guard, "xyz", 0), 3, "dstsize 0 writes nothing");
    cr_assert_eq(guard[0], 'G');
    cr_assert_eq(ptr_strlcpy(guard, "xyz", 1), 3);
    cr_assert_eq(guard[0], '\0', "dstsize 1 gives the empty string");
    cr_assert_eq(guard[1], 'G');
}

Test(pointers, basename_points_into_argument)
{
    const char *path = "/usr/local/lib";
    const char *b = ptr_basename(path);
    cr_assert_str_eq(b, "lib");
    cr_assert_eq(b, path + 11, "a pointer into the caller's string, not a copy");
    cr_assert_str_eq(ptr_basename("file.c"), "file.c");
    cr_assert_str_eq(ptr_basename("dir/"), "");
    cr_assert_str_eq(ptr_basename("a/b/c"), "c");
}

Test(pointers, strdup_upper_returns_owned_copy)
{
    const char *s = "Hello, kv 42!";
    char *u = ptr_strdup_upper(s);
    cr_assert_not_null(u);
    cr_assert_str_eq(u, "HELLO, KV 42!");
    cr_assert_neq(u, s);
    cr_assert_str_eq(s, "Hello, kv 42!", "the source is untouched");
    free(u);
    u = ptr_strdup_upper("");
    cr_assert_not_null(u);
    cr_assert_str_eq(u, "");
    free(u);
}

Test(pointers, list_push_front_changes_head)
{
    struct ptr_node *head = NULL;
    for (int v = 1; v <= 3; v++)
        cr_assert_eq(ptr_list_push_front(&head, v), 0);
    cr_assert_not_null(head);
    cr_assert_eq(ptr_list_len(head), 3);
    int want[] = {3, 2, 1}, i = 0;
    for (struct ptr_node *n = head; n; n = n->next)
        cr_assert_eq(n->value, want[i++]);
    cr_assert_eq(i, 3);
    cr_assert_eq(ptr_list_push_front(NULL, 1), -EINVAL);
    ptr_list_free(&head);
    cr_assert_null(head, "ptr_list_free sets the caller's head to NULL");
}

Test(pointers, list_remove_head_middle_tail)
{
    struct ptr_node *head = NULL;
    for (int v = 1; v <= 5; v++)
        cr_assert_eq(ptr_list_push_front(&head, v), 0); /* 5 4 3 2 1 */
    cr_assert_eq(ptr_list_remove(&head, 5), 0, "head");
    cr_assert_eq(head->value, 4);
    cr_assert_eq(ptr_list_remove(&head, 3), 0, "middle");
    cr_assert_eq(ptr_list_remove(&head, 1), 0, "tail");
    cr_assert_eq(ptr_list_remove(&head, 42), -ENOENT);
    cr_assert_eq(ptr_list_len(head), 2);
    cr_assert_eq(head->value, 4);
    cr_assert_eq(head->next->value, 2);
    cr_assert_null(head->next->next);
    cr_assert_eq(ptr_list_remove(&head, 4), 0);
    cr_assert_eq(ptr_list_remove(&head, 2), 0);
    cr_assert_null(head);
    cr_assert_eq(ptr_list_remove(&head, 2), -ENOENT);
    ptr_list_free(&head);
}

Test(pointers, strlcpy_every_size_boundary)
{
    /* Every buffer size from 1 to 10 with sources of every length up to
     * size + 1: in particular size - 1 (fits exactly), size (the NUL would
     * land one byte past the end) and size + 1. The buffer sits at the start
     * of a larger array filled with '#': nothing past dstsize may change. */
    const char *alphabet = "abcdefghijklmnop";
    for (size_t size = 1; size <= 10; size++) {
        for (size_t len = 0; len <= size + 1; len++) {
            char src[32], buf[32];
            memcpy(src, alphabet, len);
            src[len] = '\0';
            memset(buf, '#', sizeof buf);
            size_t r = ptr_strlcpy(buf, src, size);
            cr_assert_eq(r, len, "size %zu, source of %zu bytes: returned %zu", size, len, r);
            size_t kept = len < size ? len : size - 1;
            cr_assert(memcmp(buf, src, kept) == 0 && buf[kept] == '\0',
                      "size %zu, source of %zu bytes: want the first %zu bytes and a NUL", size,
                      len, kept);
            for (size_t i = size; i < sizeof buf; i++)
                cr_assert_eq(buf[i], '#',
                             "size %zu, source of %zu bytes: byte %zu, past the buffer, written",
                             size, len, i);
        }
    }
}

/* ptr_strdup_upper under the failure loop: NULL and nothing leaked, or the copy. */
static int strdup_body(void *arg, uint64_t n)
{
    (void)n;
    size_t live = af_live();
    char *u = ptr_strdup_upper(arg);
    bool hit = af_hit();
    if (u) {
        free(u);
        return hit ? 1 : 0; /* a copy, although an allocation failed */
    }
    if (!hit)
        return 2; /* NULL, although no allocation failed */
    return af_live() != live ? 3 : 0;
}

Test(pointers, strdup_upper_block_size_and_failure)
{
    /* The copy needs strlen + 1 bytes: the test allocator knows how many
     * were asked for, so a missing byte for the NUL is caught even where
     * no sanitizer watches the heap. */
    char longer[100];
    memset(longer, 'q', sizeof longer - 1);
    longer[sizeof longer - 1] = '\0';
    const char *cases[] = {"", "a", "Hello, kv 42!", longer};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = strlen(cases[i]);
        char *u = ptr_strdup_upper(cases[i]);
        cr_assert_not_null(u, "copy of a %zu-byte string", len);
        size_t block = af_size_of(u);
        cr_assert_neq(block, SIZE_MAX, "the copy is a block from malloc");
        cr_assert_geq(block, len + 1, "a %zu-byte block for a %zu-byte string and its NUL", block,
                      len);
        cr_assert_eq(strlen(u), len);
        free(u);
    }
    uint64_t runs = 0;
    int rc = af_fail_loop(strdup_body, "Mixed Case", 10, &runs);
    cr_assert_eq(rc, 0, "allocation failure: %s",
                 rc == 1   ? "a copy returned although malloc failed"
                 : rc == 2 ? "NULL returned although no allocation failed"
                           : "a block leaked");
    cr_assert_geq(runs, 2, "ptr_strdup_upper allocated nothing?");
    NO_LEAKS();
}

/* One push under the failure loop: -ENOMEM with the list unchanged, or the new head. */
static int push_body(void *arg, uint64_t n)
{
    (void)n;
    struct ptr_node **head = arg, *before = *head;
    size_t len = ptr_list_len(before), live = af_live();
    int rc = ptr_list_push_front(head, (int)len);
    bool hit = af_hit();
    if (rc == 0)
        return hit ? 1 : (*head && (*head)->value == (int)len && (*head)->next == before ? 0 : 5);
    if (rc != -ENOMEM || !hit)
        return 2;
    if (*head != before || ptr_list_len(*head) != len)
        return 3;
    return af_live() != live ? 4 : 0;
}

Test(pointers, list_push_front_allocation_failure)
{
    static const char *const why[] = {
        "", "success although malloc failed", "not -ENOMEM, or no allocation failed",
        "a failed push changed the list", "a failed push leaked", "the new node is not the head"};
    struct ptr_node *head = NULL;
    size_t live = af_live();
    for (int i = 0; i < 4; i++) {
        uint64_t runs = 0;
        int rc = af_fail_loop(push_body, &head, 10, &runs);
        cr_assert_eq(rc, 0, "push onto a list of %d: %s", i, why[rc < 6 && rc > 0 ? rc : 0]);
        cr_assert_geq(runs, 2, "the push allocated nothing?");
        cr_assert_eq(ptr_list_len(head), (size_t)i + 1);
    }
    ptr_list_free(&head);
    cr_assert_eq(af_live(), live, "ptr_list_free left %zu blocks", af_live() - live);
    NO_LEAKS();
}
