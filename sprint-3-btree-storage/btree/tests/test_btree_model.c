/*
 * test_btree_model.c — the B+ tree engine against `model`, the oracle, for
 * every order from 3 to 256.
 *
 * For each order, a seeded random sequence of puts (new keys and
 * overwrites), deletes (present and absent keys), gets and iterator seeks
 * runs on engine `btree:order=N` and on `model`; every answer must agree,
 * and bpt_check runs every k operations (k grows with the order so the
 * run stays short). The key space is about 3*order keys, so every order
 * grows to at least three levels and shrinks again (a phase deletes most
 * keys), exercising splits, borrows and merges at each level. Each
 * checkpoint also compares a full iteration.
 *
 * Four suites split the orders (3-16, 17-64, 65-128, 129-256) so the
 * runner spreads them over its jobs.
 *
 * The stores and iterators a test opens are owned (kvtest.h's kvt_own) and
 * the value buffers are this file's: the suite's .fini closes and frees
 * what a failed assertion left open, so a failing test reports no leak.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "bpt.h"
#include "btree.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"
#include "kvtest.h"

static kv_buf got_bt, got_m; /* the values read back; freed after each test */

static void close_db_owned(void *db)
{
    kv_close(db);
}

static void close_iter_owned(void *it)
{
    kv_iter_close(it);
}

static void model_fini(void)
{
    kvt_release_owned();
    kv_buf_free(&got_bt);
    kv_buf_free(&got_m);
}

TestSuite(model, .fini = model_fini);

/* open iterator *it on db, owned until closed with iter_close() */
static void iter_open(kv_db *db, kv_iter **it)
{
    cr_assert_eq(kv_iter_open(db, it), KV_OK, "%s", kv_last_error());
    kvt_own(*it, close_iter_owned);
}

static void iter_close(kv_iter *it)
{
    if (!kvt_drop(it))
        kv_iter_close(it);
}

static void expect_same_iteration(kv_db *a, kv_db *b, unsigned order)
{
    kv_iter *ia, *ib;
    size_t n = 0;
    iter_open(a, &ia);
    iter_open(b, &ib);
    kv_iter_first(ia);
    kv_iter_first(ib);
    while (kv_iter_valid(ib)) {
        const void *ka, *kb, *va, *vb;
        size_t kal, kbl, val, vbl;
        cr_assert(kv_iter_valid(ia), "order %u: btree iteration ends early at %zu", order, n);
        kv_iter_key(ia, &ka, &kal);
        kv_iter_key(ib, &kb, &kbl);
        kv_iter_value(ia, &va, &val);
        kv_iter_value(ib, &vb, &vbl);
        cr_assert(kal == kbl && memcmp(ka, kb, kal) == 0, "order %u: key %zu differs", order, n);
        cr_assert(val == vbl && memcmp(va, vb, val) == 0, "order %u: value %zu differs", order,
                  n);
        kv_iter_next(ia);
        kv_iter_next(ib);
        n++;
    }
    cr_assert(!kv_iter_valid(ia), "order %u: btree iteration has extra keys", order);
    cr_assert_eq(kv_iter_status(ia), KV_OK);
    iter_close(ia);
    iter_close(ib);
}

static void check_tree(kv_db *db, unsigned order, unsigned op)
{
    bpt_check_report rep;
    int rc = bpt_check(btree_engine_tree(db), &rep);
    cr_assert_eq(rc, BPT_OK, "order %u, after op %u: bpt_check: %s (level %u, node %llu, slot %u)",
                 order, op, rep.what ? rep.what : kv_last_error(), rep.level, (unsigned long long)rep.node, rep.slot);
}

static void run_order(unsigned order)
{
    char opts[32];
    kv_db *bt, *m;
    kv_rng rng;
    unsigned space = 3 * order + 20, ops = 6 * space + 200;
    unsigned every = order < 16 ? 7 : order < 64 ? 31 : 97;

    snprintf(opts, sizeof(opts), "order=%u", order);
    cr_assert_eq(kv_open("btree", NULL, opts, &bt), KV_OK, "%s", kv_last_error());
    kvt_own(bt, close_db_owned);
    cr_assert_eq(kv_open("model", NULL, NULL, &m), KV_OK);
    kvt_own(m, close_db_owned);
    kv_rng_seed(&rng, 1000 + order);
    for (unsigned op = 0; op < ops; op++) {
        char k[24], v[48];
        unsigned r = (unsigned)kv_rng_below(&rng, 100);
        unsigned key = (unsigned)kv_rng_below(&rng, space);
        /* three phases: grow (mostly puts), churn, shrink (mostly deletes) */
        unsigned phase = op * 3 / ops, put_pct = phase == 0 ? 75 : phase == 1 ? 45 : 15;
        size_t kl = (size_t)snprintf(k, sizeof(k), "k%0*u", 1 + (int)(key % 7), key * 7919u);
        size_t vl = (size_t)kv_rng_below(&rng, sizeof(v));
        memset(v, 'a' + (int)(op % 26), vl);
        if (r < put_pct) {
            cr_assert_eq(kv_put(bt, k, kl, v, vl), kv_put(m, k, kl, v, vl));
        } else if (r < put_pct + 35) {
            int ra = kv_delete(bt, k, kl), rb = kv_delete(m, k, kl);
            cr_assert_eq(ra, rb, "order %u op %u: delete %s: btree %d, model %d", order, op, k,
                         ra, rb);
        } else if (r < 97) {
            int ra = kv_get(bt, k, kl, &got_bt), rb = kv_get(m, k, kl, &got_m);
            cr_assert_eq(ra, rb, "order %u op %u: get %s", order, op, k);
            if (ra == KV_OK)
                cr_assert(got_bt.len == got_m.len && memcmp(got_bt.data, got_m.data, got_bt.len) == 0);
        } else {
            kv_iter *ia, *ib;
            iter_open(bt, &ia);
            iter_open(m, &ib);
            kv_iter_seek(ia, k, kl);
            kv_iter_seek(ib, k, kl);
            for (int s = 0; s < 40 && kv_iter_valid(ib); s++) {
                const void *ka, *kb;
                size_t kal, kbl;
                cr_assert(kv_iter_valid(ia), "order %u op %u: seek", order, op);
                kv_iter_key(ia, &ka, &kal);
                kv_iter_key(ib, &kb, &kbl);
                cr_assert(kal == kbl && memcmp(ka, kb, kal) == 0, "order %u op %u: seek step %d",
                          order, op, s);
                kv_iter_next(ia);
                kv_iter_next(ib);
            }
            iter_close(ia);
            iter_close(ib);
        }
        if (op % every == 0)
            check_tree(bt, order, op);
        if (op % (every * 16) == 0)
            expect_same_iteration(bt, m, order);
    }
    check_tree(bt, order, ops);
    expect_same_iteration(bt, m, order);
    kvt_drop(m);
    kvt_drop(bt);
}

Test(model, orders_3_to_16)
{
    for (unsigned o = 3; o <= 16; o++)
        run_order(o);
}
Test(model, orders_17_to_64)
{
    for (unsigned o = 17; o <= 64; o++)
        run_order(o);
}
Test(model, orders_65_to_128)
{
    for (unsigned o = 65; o <= 128; o++)
        run_order(o);
}
Test(model, orders_129_to_256)
{
    for (unsigned o = 129; o <= 256; o++)
        run_order(o);
}
