/**
 * @file pointers.h
 * @brief Sprint 1, exercise 1: pointer operations in C.
 *
 * Small functions, each one a pointer idiom that the later labs use all the
 * time: passing an address so a callee can change the caller's variable
 * (ptr_swap_int()), walking an array with two pointers (ptr_reverse_int()),
 * returning a pointer *into* the caller's array (ptr_find_max()), pointer
 * differences (ptr_index_of()), half-open pointer ranges (ptr_fill_range()),
 * C strings as pointers to NUL-terminated bytes (ptr_strlen(),
 * ptr_strlcpy()), a pointer to a pointer so that a callee can change the
 * caller's pointer (ptr_list_push_front(), ptr_list_remove()), and the three
 * lifetimes a returned pointer can have (ptr_basename(): into the caller's
 * buffer; ptr_strdup_upper(): a new heap block the caller frees; and the
 * dangling pointer to a dead local, explained in pointers.c).
 *
 * **Const-correctness.** A `const T *` parameter promises "I only read
 * through this pointer". Every function here that does not write takes
 * `const`, so callers may pass pointers to read-only data, and the compiler
 * rejects an accidental write inside the function.
 *
 * **Errors** are negative errno values (-EINVAL, -ENOMEM, -ENOENT), the
 * convention of the Linux kernel and of this course's sprint-2 device.
 *
 * **Thread safety.** Every function is reentrant: none keeps state between
 * calls. Two threads may not modify the same list or array at once.
 */
#ifndef SPRINT1_POINTERS_H
#define SPRINT1_POINTERS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Swap two ints through their addresses.
 *
 * C passes arguments by value: a function `swap(int a, int b)` swaps its own
 * copies. Passing the addresses lets the callee write the caller's variables.
 * @param[in,out] a  address of the first int; not NULL.
 * @param[in,out] b  address of the second int; not NULL. May equal @p a.
 */
void ptr_swap_int(int *a, int *b);

/**
 * @brief Swap two objects of any type, byte by byte.
 *
 * The generic version of ptr_swap_int(): `void *` carries an address without
 * a type, so the size must be passed. This is how qsort() swaps elements.
 * @param[in,out] a     first object; not NULL.
 * @param[in,out] b     second object; not NULL. The objects must not
 *                      partially overlap (identical is allowed).
 * @param[in]     size  size of each object in bytes (0: nothing happens).
 */
void ptr_swap(void *a, void *b, size_t size);

/**
 * @brief Reverse an array in place with two pointers walking towards each other.
 * @param[in,out] arr  the array; may be NULL only when @p n is 0.
 * @param[in]     n    number of elements.
 */
void ptr_reverse_int(int *arr, size_t n);

/**
 * @brief Find the largest element of an array.
 *
 * Returns a pointer *into* @p arr, not a copy: the result stays valid as
 * long as the array does, and `result - arr` is the index.
 * @param[in] arr  the array; may be NULL only when @p n is 0.
 * @param[in] n    number of elements.
 * @return a pointer to the first maximal element, or NULL when @p n is 0.
 *         The pointer is borrowed from @p arr (do not free it).
 */
const int *ptr_find_max(const int *arr, size_t n);

/**
 * @brief Index of the first element equal to @p value, found by pointer arithmetic.
 * @param[in] arr    the array; may be NULL only when @p n is 0.
 * @param[in] n      number of elements.
 * @param[in] value  the value sought.
 * @return the index (a pointer difference, hence ptrdiff_t), or -1 when absent.
 */
ptrdiff_t ptr_index_of(const int *arr, size_t n, int value);

/**
 * @brief Store @p value in every element of the half-open range [begin, end).
 *
 * A range given by two pointers into the same array, `end` pointing one past
 * the last element (a valid pointer that must never be dereferenced).
 * @param[out] begin  first element to write.
 * @param[in]  end    one past the last element; `end >= begin`, both in the
 *                    same array. `begin == end` writes nothing.
 * @param[in]  value  the value to store.
 */
void ptr_fill_range(int *begin, const int *end, int value);

/**
 * @brief Length of a C string, counted with a moving pointer (own strlen).
 * @param[in] s  a NUL-terminated string; not NULL.
 * @return the number of bytes before the terminating NUL.
 */
size_t ptr_strlen(const char *s);

/**
 * @brief Copy a string into a fixed-size buffer, always NUL-terminating
 *        (the BSD strlcpy contract; strncpy's safe replacement).
 *
 * strncpy() does not NUL-terminate when the source is too long and pads
 * with zeros when it is short; strlcpy copies at most `dstsize - 1` bytes,
 * always terminates, and tells the caller whether the result was cut.
 * @param[out] dst      the destination buffer of @p dstsize bytes; may be
 *                      NULL only when @p dstsize is 0.
 * @param[in]  src      the NUL-terminated source; not NULL; must not overlap @p dst.
 * @param[in]  dstsize  size of @p dst in bytes, NUL included. 0: nothing is written.
 * @return the length of @p src. The copy was truncated exactly when the
 *         result is `>= dstsize`.
 */
size_t ptr_strlcpy(char *dst, const char *src, size_t dstsize);

/**
 * @brief Pointer to the last path component of @p path, inside @p path.
 *
 * The result points into the caller's string: it is valid exactly as long
 * as @p path is, and must not be freed. "a/b/c" gives "c", "c" gives "c",
 * "a/" gives "" (the empty string after the last slash).
 * @param[in] path  a NUL-terminated string; not NULL.
 * @return a pointer into @p path (borrowed).
 */
const char *ptr_basename(const char *path);

/**
 * @brief Upper-case copy of a string in a new heap block.
 * @param[in] s  a NUL-terminated string; not NULL.
 * @return a new string that the **caller owns and must free()**, or NULL
 *         when malloc fails.
 */
char *ptr_strdup_upper(const char *s);

/** @brief A node of a singly linked list of ints (heap-allocated by ptr_list_push_front()). */
struct ptr_node {
    int value;             /**< the payload */
    struct ptr_node *next; /**< the next node, or NULL at the tail */
};

/**
 * @brief Insert a new node at the head of a list.
 *
 * The head pointer itself changes, so the function takes its address: a
 * `struct ptr_node **`. With a plain `struct ptr_node *` the callee could
 * only change its own copy of the head.
 * @param[in,out] head   address of the caller's head pointer (which may be NULL:
 *                       the empty list); not NULL itself.
 * @param[in]     value  the value to store.
 * @return 0, with `*head` pointing to the new node; -ENOMEM when malloc
 *         fails (the list is unchanged); -EINVAL when @p head is NULL.
 *         The list owns its nodes: release them with ptr_list_free().
 */
int ptr_list_push_front(struct ptr_node **head, int value);

/**
 * @brief Remove and free the first node holding @p value.
 *
 * Walking with a `struct ptr_node **` (the address of the link that points
 * to the current node) removes the head and an inner node with the same
 * code: no special case for the head.
 * @param[in,out] head   address of the caller's head pointer; not NULL.
 * @param[in]     value  the value to remove.
 * @return 0 when a node was removed; -ENOENT when no node holds @p value;
 *         -EINVAL when @p head is NULL.
 */
int ptr_list_remove(struct ptr_node **head, int value);

/**
 * @brief Number of nodes in a list.
 * @param[in] head  the first node, or NULL.
 * @return the node count.
 */
size_t ptr_list_len(const struct ptr_node *head);

/**
 * @brief Free every node of a list and set the caller's head to NULL.
 * @param[in,out] head  address of the head pointer; NULL is allowed (nothing happens).
 */
void ptr_list_free(struct ptr_node **head);

#ifdef __cplusplus
}
#endif
#endif /* SPRINT1_POINTERS_H */
