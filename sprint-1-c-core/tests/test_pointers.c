/*
 * test_pointers.c — Criterion tests of the pointer exercises (pointers.h).
 *
 * One suite, "pointers"; run one test with --filter 'pointers/strlcpy_*'.
 * Each test checks values through the public API only, and each can fail
 * against an unfinished function (the starter kit's stubs fail them all).
 * Lists are freed with ptr_list_free() so `make memcheck` sees no leak.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

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
