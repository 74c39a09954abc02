/*
 * btree_tests.c — the B+ tree core's own tests (bpt.h), one concept per
 * suite:
 *   core/     create, empty tree, variable-length keys and values, overwrite
 *   split/    inserts ascending, descending and shuffled, checked after each
 *   delete/   delete until empty then reinsert, borrow and merge paths
 *   scan/     ordered visits, exclusive starts, stopping early
 *   bulk/     bulk load: shapes, bad input, out of memory
 *   enomem/   every allocation failure of put, delete and create leaves the
 *             tree as it was
 *   check/    bpt_check catches each kind of broken tree
 *   dot/      the Graphviz printer
 * Each test is written as if a student had made the bug it targets: a
 * split that loses the median, a merge that forgets the separator, a borrow
 * that does not update the parent, a broken sibling link, a count not kept.
 */
#include "bt_test.h"

/* every suite frees, after each test, the trees and buffers a failed
 * assertion left owned (bt_test.h) */
BT_SUITE(core);
BT_SUITE(split);
BT_SUITE(delete);
BT_SUITE(scan);
BT_SUITE(bulk);
BT_SUITE(enomem);
BT_SUITE(check);
BT_SUITE(dot);

/* ---- core ---------------------------------------------------------------- */

/* bpt_create(order, &t), owning a tree it should not have made */
static int create_owned(unsigned order, bpt_tree **t)
{
    int rc = bpt_create(order, t);
    if (rc == BPT_OK)
        kvt_own(*t, bt_destroy_owned_);
    return rc;
}

Test(core, create_rejects_bad_order)
{
    bpt_tree *t = NULL;
    cr_assert_eq(create_owned(2, &t), BPT_EINVAL);
    cr_assert_eq(create_owned(BPT_ORDER_MAX + 1, &t), BPT_EINVAL);
    cr_assert_null(t);
    cr_assert_eq(bpt_create(3, NULL), BPT_EINVAL);
}

Test(core, empty_tree)
{
    bpt_tree *t = new_tree(4);
    struct collect c = {.keys = kvt_own(malloc(4 * 64), free), .cap = 4};
    cr_assert_eq(bpt_get(t, "a", 1, NULL, NULL), BPT_ENOTFOUND);
    cr_assert_eq(bpt_delete(t, "a", 1), BPT_ENOTFOUND);
    cr_assert_eq(bpt_scan(t, NULL, 0, false, collect_visit, &c), BPT_OK);
    cr_assert_eq(c.n, 0);
    CHECK(t);
    cr_assert_eq(bpt_put(t, "", 0, "v", 1), BPT_EINVAL, "an empty key is refused");
    cr_assert_eq(bpt_put(t, NULL, 3, "v", 1), BPT_EINVAL);
    kvt_drop(c.keys);
    free_tree(t);
}

struct vbuf {
    char data[8192];
    size_t len;
};
static int copy_out(void *arg, const void *v, size_t n)
{
    struct vbuf *b = arg;
    cr_assert_leq(n, sizeof(b->data));
    memcpy(b->data, v, n);
    b->len = n;
    return 0;
}

Test(core, variable_length_keys_and_values)
{
    /* keys that are prefixes of each other and contain zero bytes, values
     * from 0 to 5000 bytes (multi-byte varints) */
    static const char *const keys[] = {"a", "a\0", "a\0\0", "ab", "b", "ba", "\xff", "\xff\xff"};
    static const size_t kls[] = {1, 2, 3, 2, 1, 2, 1, 2};
    char big[300];
    for (unsigned order = 3; order <= 8; order++) {
        bpt_tree *t = new_tree(order);
        for (unsigned i = 0; i < 8; i++) {
            char v[5000];
            memset(v, 'a' + (int)i, sizeof(v));
            cr_assert_eq(bpt_put(t, keys[i], kls[i], v, i * 700), BPT_OK);
            CHECK(t);
        }
        memset(big, 'k', sizeof(big));
        cr_assert_eq(bpt_put(t, big, sizeof(big), "", 0), BPT_OK);
        CHECK(t);
        for (unsigned i = 0; i < 8; i++) {
            struct vbuf b;
            cr_assert_eq(bpt_get(t, keys[i], kls[i], copy_out, &b), BPT_OK, "key %u", i);
            cr_assert_eq(b.len, i * 700, "key %u: value length", i);
            for (size_t j = 0; j < b.len; j++)
                cr_assert_eq(b.data[j], 'a' + (int)i);
        }
        cr_assert_eq(bpt_get(t, "a\0\0\0", 4, NULL, NULL), BPT_ENOTFOUND);
        cr_assert_eq(bpt_get(t, big, sizeof(big) - 1, NULL, NULL), BPT_ENOTFOUND);
        cr_assert_eq(bpt_get(t, big, sizeof(big), NULL, NULL), BPT_OK);
        /* order: "a" < "a\0" < "a\0\0" < "ab" < "b" < "ba" < "kkk..." < "\xff" < "\xff\xff" */
        {
            struct collect c = {.keys = kvt_own(malloc(16 * 64), free), .cap = 16};
            cr_assert_eq(bpt_scan(t, NULL, 0, false, collect_visit, &c), BPT_OK);
            cr_assert_eq(c.n, 9);
            cr_assert_str_eq(c.keys[3], "ab");
            cr_assert_eq(c.keys[6][0], 'k');
            cr_assert_eq((unsigned char)c.keys[8][1], 0xff);
            kvt_drop(c.keys);
        }
        free_tree(t);
    }
}

Test(core, overwrite_replaces_value_and_counts)
{
    bpt_tree *t = new_tree(3);
    bpt_stats st;
    struct vbuf b;
    for (unsigned i = 0; i < 20; i++)
        cr_assert_eq(put_i(t, i), BPT_OK);
    cr_assert_eq(bpt_put(t, "00000007", 8, "xyz", 3), BPT_OK);
    CHECK(t);
    bpt_stats_get(t, &st);
    cr_assert_eq(st.keys, 20);
    cr_assert_eq(bpt_get(t, "00000007", 8, copy_out, &b), BPT_OK);
    cr_assert_eq(b.len, 3);
    cr_assert(memcmp(b.data, "xyz", 3) == 0);
    free_tree(t);
}

Test(core, too_big_is_etoobig)
{
    bpt_tree *t = new_tree(8);
    char *k = kvt_own(calloc(1, BPT_MAX_KEY + 1), free);
    cr_assert_eq(bpt_put(t, k, BPT_MAX_KEY + 1, "", 0), BPT_ETOOBIG);
    cr_assert_eq(bpt_put(t, "k", 1, k, (size_t)BPT_MAX_VALUE + 1), BPT_ETOOBIG);
    cr_assert_eq(tree_count(t), 0);
    kvt_drop(k);
    free_tree(t);
}

/* ---- split ---------------------------------------------------------------- */

static void fill_check(unsigned order, unsigned n, int mode)
{
    bpt_tree *t = new_tree(order);
    for (unsigned j = 0; j < n; j++) {
        unsigned i = mode == 0 ? j : mode == 1 ? n - 1 - j : (j * 7919u) % n;
        cr_assert_eq(put_i(t, i), BPT_OK);
        CHECK(t);
    }
    for (unsigned i = 0; i < n; i++)
        cr_assert(has_i(t, i), "order %u: key %u lost after the inserts", order, i);
    cr_assert_eq(tree_count(t), n);
    free_tree(t);
}

Test(split, ascending_every_small_order)
{
    for (unsigned order = 3; order <= 12; order++)
        fill_check(order, 300, 0);
}
Test(split, descending_every_small_order)
{
    for (unsigned order = 3; order <= 12; order++)
        fill_check(order, 300, 1);
}
Test(split, shuffled_every_small_order)
{
    for (unsigned order = 3; order <= 12; order++)
        fill_check(order, 300, 2);
}

Test(split, height_grows_only_at_the_root)
{
    /* order 3: a leaf holds 2; the third key splits the root leaf */
    bpt_tree *t = new_tree(3);
    bpt_stats st;
    cr_assert_eq(put_i(t, 1), BPT_OK);
    cr_assert_eq(put_i(t, 2), BPT_OK);
    bpt_stats_get(t, &st);
    cr_assert_eq(st.height, 1);
    cr_assert_eq(put_i(t, 3), BPT_OK);
    bpt_stats_get(t, &st);
    cr_assert_eq(st.height, 2);
    cr_assert_eq(st.leaves, 2);
    cr_assert_eq(st.inners, 1);
    CHECK(t);
    /* the median stays: 00000002 must be found (a split that drops it loses it) */
    cr_assert(has_i(t, 1) && has_i(t, 2) && has_i(t, 3));
    free_tree(t);
}

Test(split, separator_is_right_halfs_first_key)
{
    bpt_tree *t = new_tree(4);
    bpt_inner *root;
    size_t kl;
    const uint8_t *k;
    for (unsigned i = 1; i <= 4; i++)
        cr_assert_eq(put_i(t, i * 10), BPT_OK);
    /* leaf [10 20 30] + 40 -> [10 20] [30 40], separator 30 */
    root = (bpt_inner *)t->root;
    cr_assert_eq(root->h.leaf, 0);
    cr_assert_eq(root->h.n, 1);
    k = blk_key(inner_keys(t, root)[0], &kl);
    cr_assert_eq(kl, 8);
    cr_assert(memcmp(k, "00000030", 8) == 0, "separator %.8s, want 00000030", k);
    cr_assert_eq(root->child[0]->n, 2);
    cr_assert_eq(root->child[1]->n, 2);
    free_tree(t);
}

/* ---- delete ---------------------------------------------------------------- */

static void drain_and_refill(unsigned order, unsigned n)
{
    bpt_tree *t = new_tree(order);
    bpt_stats st;
    uint64_t mem0;
    bpt_stats_get(t, &st);
    mem0 = st.mem_bytes;
    for (int round = 0; round < 2; round++) {
        for (unsigned j = 0; j < n; j++)
            cr_assert_eq(put_i(t, (j * 31u) % n), BPT_OK);
        CHECK(t);
        for (unsigned j = 0; j < n; j++) {
            unsigned i = (j * 17u + 5) % n;
            cr_assert_eq(del_i(t, i), BPT_OK, "order %u: delete %u", order, i);
            cr_assert_eq(del_i(t, i), BPT_ENOTFOUND);
            CHECK(t);
            cr_assert(!has_i(t, i));
            if (j + 1 < n)
                cr_assert(has_i(t, (j * 17u + 5 + 17u) % n) || 1);
        }
        bpt_stats_get(t, &st);
        cr_assert_eq(st.keys, 0);
        cr_assert_eq(st.bytes, 0);
        cr_assert_eq(st.height, 1, "order %u: an empty tree is one leaf", order);
        cr_assert_eq(st.leaves, 1);
        cr_assert_eq(st.inners, 0);
        cr_assert_eq(st.mem_bytes, mem0, "order %u: every block freed", order);
    }
    free_tree(t);
}

Test(delete, until_empty_then_reinsert)
{
    for (unsigned order = 3; order <= 10; order++)
        drain_and_refill(order, 200);
    drain_and_refill(64, 2000);
}

Test(delete, survivors_stay_reachable)
{
    for (unsigned order = 3; order <= 6; order++) {
        bpt_tree *t = new_tree(order);
        for (unsigned i = 0; i < 400; i++)
            cr_assert_eq(put_i(t, i), BPT_OK);
        for (unsigned i = 0; i < 400; i += 3)
            cr_assert_eq(del_i(t, i), BPT_OK);
        CHECK(t);
        for (unsigned i = 0; i < 400; i++)
            cr_assert_eq(has_i(t, i), i % 3 != 0, "order %u key %u", order, i);
        free_tree(t);
    }
}

Test(delete, borrow_updates_the_separator)
{
    /* order 5: leaves hold 2..4. [10 20] [30 40 50]; deleting 10 borrows 30
     * from the right sibling and the separator must become 40 */
    bpt_tree *t = new_tree(5);
    bpt_stats st;
    bpt_inner *root;
    size_t kl;
    const uint8_t *k;
    for (unsigned i = 1; i <= 5; i++)
        cr_assert_eq(put_i(t, i * 10), BPT_OK); /* [10 20 30 40 50] splits 3|2 on the 5th */
    cr_assert_eq(del_i(t, 30), BPT_OK);          /* [10 20] [40 50] */
    cr_assert_eq(put_i(t, 45), BPT_OK);          /* [10 20] [40 45 50] */
    CHECK(t);
    cr_assert_eq(del_i(t, 10), BPT_OK);
    CHECK(t);
    bpt_stats_get(t, &st);
    cr_assert_eq(st.borrows, 1);
    cr_assert_eq(st.leaves, 2);
    root = (bpt_inner *)t->root;
    k = blk_key(inner_keys(t, root)[0], &kl);
    cr_assert(memcmp(k, "00000045", 8) == 0, "separator %.8s, want 00000045", k);
    cr_assert(has_i(t, 20) && has_i(t, 40) && has_i(t, 45) && has_i(t, 50));
    free_tree(t);
}

Test(delete, merge_shrinks_the_tree)
{
    bpt_tree *t = new_tree(3);
    bpt_stats st;
    for (unsigned i = 0; i < 64; i++)
        cr_assert_eq(put_i(t, i), BPT_OK);
    bpt_stats_get(t, &st);
    cr_assert_geq(st.height, 4);
    for (unsigned i = 0; i < 63; i++) {
        cr_assert_eq(del_i(t, i), BPT_OK);
        CHECK(t);
    }
    bpt_stats_get(t, &st);
    cr_assert_eq(st.height, 1);
    cr_assert_gt(st.merges, 0);
    cr_assert(has_i(t, 63));
    free_tree(t);
}

/* ---- scan ------------------------------------------------------------------- */

Test(scan, ordered_from_any_start)
{
    bpt_tree *t = new_tree(4);
    struct collect c = {.keys = kvt_own(malloc(1000 * 64), free), .cap = 1000};
    for (unsigned i = 0; i < 500; i++)
        cr_assert_eq(put_i(t, (i * 37u) % 500 * 2), BPT_OK); /* even keys 0..998 */
    cr_assert_eq(bpt_scan(t, NULL, 0, false, collect_visit, &c), BPT_OK);
    cr_assert_eq(c.n, 500);
    for (unsigned i = 0; i < 500; i++) {
        char k[12];
        key_of(k, i * 2);
        cr_assert_str_eq(c.keys[i], k);
    }
    c.n = 0;
    cr_assert_eq(bpt_scan(t, "00000101", 8, false, collect_visit, &c), BPT_OK);
    cr_assert_str_eq(c.keys[0], "00000102", "a missing start key begins at the next key");
    c.n = 0;
    cr_assert_eq(bpt_scan(t, "00000100", 8, false, collect_visit, &c), BPT_OK);
    cr_assert_str_eq(c.keys[0], "00000100", "inclusive start");
    c.n = 0;
    cr_assert_eq(bpt_scan(t, "00000100", 8, true, collect_visit, &c), BPT_OK);
    cr_assert_str_eq(c.keys[0], "00000102", "exclusive start");
    c.n = 0;
    cr_assert_eq(bpt_scan(t, "99", 2, false, collect_visit, &c), BPT_OK);
    cr_assert_eq(c.n, 0, "past the last key");
    c.n = 0;
    c.cap = 3;
    cr_assert_eq(bpt_scan(t, NULL, 0, false, collect_visit, &c), BPT_OK);
    cr_assert_eq(c.n, 3, "the visitor stops the scan");
    kvt_drop(c.keys);
    free_tree(t);
}

static int fail_visit(void *arg, const void *k, size_t kl, const void *v, size_t vl)
{
    (void)arg, (void)k, (void)kl, (void)v, (void)vl;
    return BPT_ENOMEM;
}

Test(scan, visitor_error_is_returned)
{
    bpt_tree *t = new_tree(4);
    cr_assert_eq(put_i(t, 1), BPT_OK);
    cr_assert_eq(bpt_scan(t, NULL, 0, false, fail_visit, NULL), BPT_ENOMEM);
    free_tree(t);
}

/* ---- bulk load ---------------------------------------------------------------- */

struct src {
    unsigned i, n, step;
    int bad_at;     /* index whose key goes backwards (-1: none) */
    int dup_at;     /* index repeating the previous key (-1: none) */
    char k[16], v[16];
};
static int src_next(void *arg, const void **k, size_t *kl, const void **v, size_t *vl)
{
    struct src *s = arg;
    unsigned key;
    if (s->i >= s->n)
        return 0;
    key = s->i * s->step;
    if ((int)s->i == s->bad_at)
        key = 0;
    if ((int)s->i == s->dup_at && s->i > 0)
        key = (s->i - 1) * s->step;
    key_of(s->k, key);
    snprintf(s->v, sizeof(s->v), "v%u", key);
    *k = s->k;
    *kl = 8;
    *v = s->v;
    *vl = strlen(s->v);
    s->i++;
    return 1;
}

static void bulk_shape(unsigned order, unsigned n)
{
    bpt_tree *t = new_tree(order);
    struct src s = {.n = n, .step = 2, .bad_at = -1, .dup_at = -1};
    bpt_stats st;
    cr_assert_eq(bpt_bulk_load(t, src_next, &s), BPT_OK, "order %u n %u", order, n);
    CHECK(t);
    bpt_stats_get(t, &st);
    cr_assert_eq(st.keys, n);
    for (unsigned i = 0; i < n; i++)
        cr_assert(has_i(t, i * 2), "order %u n %u: key %u", order, n, i * 2);
    if (n >= order)
        cr_assert_geq(st.keys * 10, st.leaf_slots * 9 - (order - 1) * 10,
                      "bulk-loaded leaves are packed (order %u n %u: %llu keys in %llu slots)",
                      order, n, (unsigned long long)st.keys, (unsigned long long)st.leaf_slots);
    /* the tree goes on working */
    for (unsigned i = 0; i < n; i++)
        cr_assert_eq(put_i(t, i * 2 + 1), BPT_OK);
    CHECK(t);
    for (unsigned i = 0; i < 2 * n; i += 3)
        cr_assert_eq(del_i(t, i), BPT_OK);
    CHECK(t);
    free_tree(t);
}

Test(bulk, shapes)
{
    static const unsigned ns[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 100, 1000};
    for (unsigned order = 3; order <= 9; order++)
        for (unsigned j = 0; j < sizeof(ns) / sizeof(ns[0]); j++)
            bulk_shape(order, ns[j]);
    bulk_shape(64, 5000);
    bulk_shape(256, 70000);
}

Test(bulk, unsorted_or_duplicate_input_is_einval_and_tree_stays_empty)
{
    for (int kind = 0; kind < 2; kind++) {
        bpt_tree *t = new_tree(4);
        struct src s = {.n = 100, .step = 1, .bad_at = kind ? -1 : 57, .dup_at = kind ? 40 : -1};
        bpt_stats st0, st;
        bpt_stats_get(t, &st0);
        cr_assert_eq(bpt_bulk_load(t, src_next, &s), BPT_EINVAL);
        bpt_stats_get(t, &st);
        cr_assert_eq(st.keys, 0);
        cr_assert_eq(st.mem_bytes, st0.mem_bytes, "every block of the failed load freed");
        CHECK(t);
        cr_assert_eq(put_i(t, 5), BPT_OK, "the tree stays usable");
        free_tree(t);
    }
}

Test(bulk, only_into_an_empty_tree)
{
    bpt_tree *t = new_tree(4);
    struct src s = {.n = 10, .step = 1, .bad_at = -1, .dup_at = -1};
    cr_assert_eq(put_i(t, 5), BPT_OK);
    cr_assert_eq(bpt_bulk_load(t, src_next, &s), BPT_EINVAL);
    cr_assert_eq(tree_count(t), 1);
    free_tree(t);
}

static int bulk_body(void *arg, uint64_t n)
{
    bpt_tree *t = arg;
    struct src s = {.n = 300, .step = 1, .bad_at = -1, .dup_at = -1};
    bpt_stats st0, st;
    int rc;
    (void)n;
    bpt_stats_get(t, &st0);
    rc = bpt_bulk_load(t, src_next, &s);
    bpt_stats_get(t, &st);
    if (rc == BPT_ENOMEM) {
        cr_assert_eq(st.keys, 0);
        cr_assert_eq(st.mem_bytes, st0.mem_bytes, "a failed load frees what it made");
        CHECK(t);
        return 0;
    }
    cr_assert_eq(rc, BPT_OK);
    CHECK(t);
    cr_assert_eq(st.keys, 300);
    /* the load never reached the failure: this is the last run; disarm
     * so the clean-up below cannot fail */
    kv_alloc_fail_at(0, false);
    for (unsigned i = 0; i < 300; i++)
        cr_assert_eq(del_i(t, i), BPT_OK);
    return 0;
}

Test(bulk, out_of_memory_at_every_allocation)
{
    bpt_tree *t = new_tree(3);
    uint64_t runs = 0;
    cr_assert_eq(kv_alloc_fail_loop(bulk_body, t, 5000, &runs), 0);
    cr_assert_gt(runs, 300, "the loop reached every allocation (%llu runs)",
                 (unsigned long long)runs);
    free_tree(t);
}

/* ---- out of memory --------------------------------------------------------------- */

struct oom {
    bpt_tree *t;
    int op; /* 0 put (splits up to the root), 1 delete (borrow) */
};

static int oom_body(void *arg, uint64_t n)
{
    struct oom *o = arg;
    bpt_stats st0, st;
    int rc;
    (void)n;
    bpt_stats_get(o->t, &st0);
    kv_alloc_fail_at(n, false);
    rc = o->op == 0 ? put_i(o->t, 7) : del_i(o->t, 0);
    kv_alloc_fail_at(0, false);
    bpt_stats_get(o->t, &st);
    CHECK(o->t);
    if (rc == BPT_ENOMEM) {
        cr_assert_eq(st.keys, st0.keys, "a failed write changes nothing");
        cr_assert_eq(st.mem_bytes, st0.mem_bytes, "a failed write frees what it allocated");
        cr_assert_eq(st.height, st0.height);
        return 0;
    }
    cr_assert_eq(rc, BPT_OK);
    /* undo for the next run */
    if (o->op == 0)
        cr_assert_eq(del_i(o->t, 7), BPT_OK);
    else
        cr_assert_eq(put_i(o->t, 0), BPT_OK);
    return 1; /* done: the write went through */
}

Test(enomem, put_that_splits_to_the_root)
{
    /* order 3, keys 0,2,4,...: inserting 7 splits a full leaf and every
     * full ancestor; with 2^k leaves of 2 the whole right spine is full */
    bpt_tree *t = new_tree(3);
    struct oom o = {.t = t, .op = 0};
    uint64_t runs = 0;
    bpt_stats st;
    for (unsigned i = 0; i < 8; i++)
        cr_assert_eq(put_i(t, i * 2), BPT_OK);
    cr_assert_eq(del_i(t, 7), BPT_ENOTFOUND);
    bpt_stats_get(t, &st);
    for (uint64_t n = 1; n < 100; n++) {
        runs++;
        if (oom_body(&o, n))
            break;
    }
    cr_assert_geq(runs, 3, "put 7 needed a record, a separator and nodes (%llu runs)",
                  (unsigned long long)runs);
    free_tree(t);
}

Test(enomem, delete_that_borrows)
{
    bpt_tree *t = new_tree(5);
    struct oom o = {.t = t, .op = 1};
    uint64_t runs = 0;
    for (unsigned i = 0; i < 5; i++)
        cr_assert_eq(put_i(t, i), BPT_OK); /* [0 1 2] [3 4] */
    cr_assert_eq(put_i(t, 5), BPT_OK);     /* [0 1 2] [3 4 5] */
    cr_assert_eq(del_i(t, 1), BPT_OK);     /* [0 2] [3 4 5]: deleting 0 borrows 3 */
    for (uint64_t n = 1; n < 100; n++) {
        runs++;
        if (oom_body(&o, n))
            break;
    }
    cr_assert_geq(runs, 2, "the borrow's separator copy failed once");
    free_tree(t);
}

Test(enomem, create_cleans_up)
{
    for (uint64_t n = 1; n < 10; n++) {
        bpt_tree *t = NULL;
        int rc;
        kv_alloc_fail_at(n, false);
        rc = bpt_create(8, &t);
        kv_alloc_fail_at(0, false);
        if (rc == BPT_OK) {
            bpt_destroy(t);
            break;
        }
        cr_assert_eq(rc, BPT_ENOMEM);
        cr_assert_null(t);
    }
}

/* ---- bpt_check catches broken trees ---------------------------------------------------- */

static bpt_tree *three_levels(void)
{
    bpt_tree *t = new_tree(4);
    for (unsigned i = 0; i < 60; i++)
        cr_assert_eq(put_i(t, i), BPT_OK);
    CHECK(t);
    cr_assert_geq(t->height, 3);
    return t;
}
static bpt_leaf *first_leaf(bpt_tree *t)
{
    bpt_node *n = t->root;
    while (!n->leaf)
        n = ((bpt_inner *)n)->child[0];
    return (bpt_leaf *)n;
}
/* A damage in place is owned: when an expect_corrupt() fails, the suite's
 * .fini undoes it before it frees the tree (newest first), so the tree
 * frees whole (no record orphaned, no walk at a wrong height). */
static bpt_tree *damaged;    /* the tree of the owned separator damage */
static uint8_t *damage_fake; /* the separator put in place of the owned one */
static void undo_shrink_owned(void *n)
{
    ++*(uint16_t *)n;
}
static void undo_height_owned(void *h)
{
    --*(unsigned *)h;
}
static void undo_separator_owned(void *old)
{
    bpt_inner_set_key(damaged, (bpt_inner *)damaged->root, 0, old);
    bpt_sep_free(damaged, damage_fake);
}

static void expect_corrupt(bpt_tree *t, const char *what)
{
    bpt_check_report rep;
    cr_assert_eq(bpt_check(t, &rep), BPT_ECORRUPT, "bpt_check missed: %s", what);
    cr_assert_not_null(rep.what);
}

Test(check, catches_swapped_keys)
{
    bpt_tree *t = three_levels();
    bpt_leaf *l = first_leaf(t);
    uint8_t *r = l->rec[0];
    uint8_t g = leaf_tags(t, l)[0];
    l->rec[0] = l->rec[1];
    leaf_tags(t, l)[0] = leaf_tags(t, l)[1];
    l->rec[1] = r;
    leaf_tags(t, l)[1] = g;
    expect_corrupt(t, "keys out of order in a leaf");
    l->rec[1] = l->rec[0];
    l->rec[0] = r;
    leaf_tags(t, l)[1] = leaf_tags(t, l)[0];
    leaf_tags(t, l)[0] = g;
    CHECK(t);
    free_tree(t);
}

Test(check, catches_a_broken_chain)
{
    bpt_tree *t = three_levels();
    bpt_leaf *l = first_leaf(t), *n = l->next;
    l->next = n->next; /* skip one leaf */
    expect_corrupt(t, "a skipped leaf");
    l->next = n;
    n->prev = NULL;
    expect_corrupt(t, "a prev link not pointing back");
    n->prev = l;
    CHECK(t);
    free_tree(t);
}

Test(check, catches_wrong_counts_and_underfull_nodes)
{
    bpt_tree *t = three_levels();
    bpt_leaf *l = first_leaf(t);
    t->count++;
    expect_corrupt(t, "a count off by one");
    t->count--;
    t->bytes--;
    expect_corrupt(t, "bytes off by one");
    t->bytes++;
    l->h.n--; /* a leaf of order 4 holds >= 2: now 1 (and its last record is orphaned) */
    kvt_own(&l->h.n, undo_shrink_owned);
    expect_corrupt(t, "an underfull leaf");
    kvt_drop(&l->h.n); /* l->h.n++ */
    CHECK(t);
    free_tree(t);
}

Test(check, catches_a_key_outside_its_separators)
{
    bpt_tree *t = three_levels();
    bpt_inner *root = (bpt_inner *)t->root;
    uint8_t *old = inner_keys(t, root)[0];
    uint8_t *fake = bpt_sep_new(t, (const uint8_t *)"0000", 4);
    cr_assert_not_null(fake);
    bpt_inner_set_key(t, root, 0, fake);
    damaged = t;
    damage_fake = fake;
    kvt_own(old, undo_separator_owned);
    expect_corrupt(t, "a separator below the left child's keys");
    kvt_drop(old); /* old back in place, fake freed */
    CHECK(t);
    free_tree(t);
}

Test(check, catches_leaves_at_different_depths)
{
    bpt_tree *t = three_levels();
    t->height++;
    kvt_own(&t->height, undo_height_owned);
    expect_corrupt(t, "a height that no leaf has");
    kvt_drop(&t->height); /* t->height-- */
    CHECK(t);
    free_tree(t);
}

/* ---- dot ---------------------------------------------------------------------------- */

struct sbuf {
    char s[16384];
    size_t n;
};
static int sbuf_write(void *arg, const char *s, size_t n)
{
    struct sbuf *b = arg;
    if (b->n + n >= sizeof(b->s))
        return 1;
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
    return 0;
}
static unsigned count_of(const char *s, const char *sub)
{
    unsigned c = 0;
    for (const char *p = strstr(s, sub); p; p = strstr(p + 1, sub))
        c++;
    return c;
}

Test(dot, small_tree_exact_text)
{
    bpt_tree *t = new_tree(3);
    struct sbuf b = {.n = 0};
    cr_assert_eq(bpt_put(t, "a", 1, "", 0), BPT_OK);
    cr_assert_eq(bpt_put(t, "b", 1, "", 0), BPT_OK);
    cr_assert_eq(bpt_put(t, "c", 1, "", 0), BPT_OK);
    cr_assert_eq(bpt_dot(t, NULL, sbuf_write, &b), BPT_OK);
    cr_assert_str_eq(
        b.s, "digraph bpt {\n"
             "  node [shape=plaintext, fontname=\"monospace\", fontsize=10];\n"
             "  edge [arrowsize=0.7];\n"
             "n0_0 [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\"><tr>"
             "<td port=\"c0\"> </td><td><b>c</b></td><td port=\"c1\"> </td></tr></table>>];\n"
             "n1_0 [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" "
             "bgcolor=\"#e8f0ff\"><tr><td>a</td><td>b</td></tr></table>>];\n"
             "n0_0:c0 -> n1_0;\n"
             "n1_1 [label=<<table border=\"0\" cellborder=\"1\" cellspacing=\"0\" "
             "bgcolor=\"#e8f0ff\"><tr><td>c</td></tr></table>>];\n"
             "n1_0 -> n1_1 [style=dashed, constraint=false, color=gray40, arrowsize=0.6];\n"
             "n0_0:c1 -> n1_1;\n"
             "}\n");
    free_tree(t);
}

Test(dot, every_node_and_edge_once)
{
    bpt_tree *t = new_tree(4);
    struct sbuf b = {.n = 0};
    bpt_stats st;
    for (unsigned i = 0; i < 50; i++)
        cr_assert_eq(put_i(t, i), BPT_OK);
    cr_assert_eq(bpt_put(t, "x<&y\x01", 5, "", 0), BPT_OK);
    cr_assert_eq(bpt_dot(t, "a \"title\"", sbuf_write, &b), BPT_OK);
    bpt_stats_get(t, &st);
    cr_assert_eq(count_of(b.s, "[label="), st.leaves + st.inners);
    cr_assert_eq(count_of(b.s, "style=dashed"), st.leaves - 1, "one next link per leaf pair");
    cr_assert_eq(count_of(b.s, ":c"), st.leaves + st.inners - 1, "one edge per child");
    cr_assert_not_null(strstr(b.s, "<td>x&lt;&amp;y\\x01</td>"), "special bytes escaped: %s", b.s);
    cr_assert_not_null(strstr(b.s, "label=\"a \\\"title\\\"\""));
    free_tree(t);
}

Test(dot, writer_failure_is_reported)
{
    bpt_tree *t = new_tree(4);
    struct sbuf *b = kvt_own(calloc(1, sizeof(*b)), free);
    b->n = sizeof(b->s) - 10; /* nearly full: the writer refuses */
    cr_assert_eq(bpt_dot(t, NULL, sbuf_write, b), BPT_EINVAL);
    kvt_drop(b);
    free_tree(t);
}
