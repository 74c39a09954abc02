/*
 * bt_test.h — helpers shared by the B+ tree part's Criterion tests:
 * building trees from integer keys, checking invariants after every step,
 * and reading a tree back as a list.
 *
 * Keys made by key_of() are 8 decimal digits ("00000042"), so their
 * bytewise order is their numeric order. CHECK(t) runs bpt_check and fails
 * the test with the invariant, level, node and slot it names (or, from a
 * starter kit's stub, kv_last_error(): "not implemented: walk").
 *
 * A tree from new_tree() is owned by the test (kvtest.h's kvt_own): a
 * test frees it with free_tree(), and a failed assertion leaves it to the
 * suite's .fini (BT_SUITE(name) declares the suite with it), so a failing
 * test reports its failure and no leak. Buffers a test allocates are owned
 * the same way (kvt_own(malloc(n), free), freed with kvt_drop()).
 */
#ifndef BT_TEST_H
#define BT_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpt.h"
#include "btree_int.h"
#include "kvlabs/alloc.h"
#include "kvtest.h"

/** Declare suite @p name with the .fini that frees what a failed test owned. */
#define BT_SUITE(name) TestSuite(name, .fini = kvt_release_owned)

#define CHECK(t)                                                                                   \
    do {                                                                                           \
        bpt_check_report rep_;                                                                     \
        int crc_ = bpt_check((t), &rep_);                                                          \
        cr_assert_eq(crc_, BPT_OK, "bpt_check: %s (level %u, node %llu, slot %u) at %s:%d",        \
                     rep_.what ? rep_.what : kv_last_error(), rep_.level, (unsigned long long)rep_.node,       \
                     rep_.slot, __FILE__, __LINE__);                                               \
    } while (0)

static inline void key_of(char out[12], unsigned i)
{
    snprintf(out, 9, "%08u", i % 100000000u);
}

static inline int put_i(bpt_tree *t, unsigned i)
{
    char k[12], v[32];
    key_of(k, i);
    snprintf(v, sizeof(v), "value-%u", i);
    return bpt_put(t, k, 8, v, strlen(v));
}

static inline int del_i(bpt_tree *t, unsigned i)
{
    char k[12];
    key_of(k, i);
    return bpt_delete(t, k, 8);
}

static inline int has_i(bpt_tree *t, unsigned i)
{
    char k[12];
    key_of(k, i);
    return bpt_get(t, k, 8, NULL, NULL) == BPT_OK;
}

struct collect {
    char (*keys)[64];
    size_t n, cap;
};

static inline int collect_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    struct collect *c = arg;
    (void)v;
    (void)vl;
    if (c->n == c->cap)
        return 1;
    size_t m = kl < 63 ? kl : 63;
    memcpy(c->keys[c->n], k, m);
    c->keys[c->n][m] = 0;
    c->n++;
    return 0;
}

static inline void bt_destroy_owned_(void *t)
{
    bpt_destroy(t);
}

/** A new empty tree of @p order, owned by the test (free it with free_tree()). */
static inline bpt_tree *new_tree(unsigned order)
{
    bpt_tree *t = NULL;
    cr_assert_eq(bpt_create(order, &t), BPT_OK, "bpt_create(%u): %s", order, kv_last_error());
    return kvt_own(t, bt_destroy_owned_);
}

/** Destroy tree @p t, owned (new_tree()) or not. */
static inline void free_tree(bpt_tree *t)
{
    if (!kvt_drop(t))
        bpt_destroy(t);
}

static inline uint64_t tree_count(bpt_tree *t)
{
    bpt_stats st;
    bpt_stats_get(t, &st);
    return st.keys;
}

#endif
