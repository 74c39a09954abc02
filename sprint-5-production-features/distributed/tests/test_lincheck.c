/*
 * test_lincheck.c — the linearizability checker on hand-made histories that
 * must pass and must fail (a stale read among them), unknown outcomes,
 * per-key partitioning, the search budget, and random sequential histories
 * (always linearizable) with one corrupted read (never).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kvlabs/kv.h"
#include "kvlabs/rng.h"
#include "raft_lincheck.h"

#define U RAFT_LC_UNKNOWN
#define PUT(k, v, c, r) { RAFT_LC_PUT, k, sizeof k - 1, v, sizeof v - 1, 0, c, r }
#define GET(k, v, c, r) { RAFT_LC_GET, k, sizeof k - 1, v, sizeof v - 1, 0, c, r }
#define MISS(k, c, r) { RAFT_LC_GET, k, sizeof k - 1, NULL, 0, KV_ENOTFOUND, c, r }
#define DEL(k, c, r) { RAFT_LC_DELETE, k, sizeof k - 1, NULL, 0, 0, c, r }
#define DELMISS(k, c, r) { RAFT_LC_DELETE, k, sizeof k - 1, NULL, 0, KV_ENOTFOUND, c, r }

static bool lin(const raft_lc_op *ops, size_t n)
{
    raft_lc_result res;
    cr_assert_eq(raft_lincheck(ops, n, 0, &res), 0);
    cr_assert_not(res.exhausted);
    return res.linearizable;
}
#define LIN(a) lin(a, sizeof a / sizeof a[0])

Test(lincheck, empty_history_passes)
{
    raft_lc_result res;
    cr_assert_eq(raft_lincheck(NULL, 0, 0, &res), 0);
    cr_assert(res.linearizable);
}

Test(lincheck, sequential_put_get_passes)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 1), GET("x", "1", 2, 3), MISS("y", 4, 5) };
    cr_assert(LIN(h));
}

Test(lincheck, read_concurrent_with_put_may_see_either)
{
    raft_lc_op old[] = { PUT("x", "1", 0, 10), MISS("x", 5, 6) };
    raft_lc_op neu[] = { PUT("x", "1", 0, 10), GET("x", "1", 5, 6) };
    cr_assert(LIN(old));
    cr_assert(LIN(neu));
}

Test(lincheck, concurrent_puts_any_order_then_stable)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 10), PUT("x", "2", 1, 9), GET("x", "1", 11, 12),
                       GET("x", "1", 13, 14) };
    cr_assert(LIN(h));
}

Test(lincheck, closed_intervals_touching_may_swap)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 5), MISS("x", 5, 6) };
    cr_assert(LIN(h));
}

Test(lincheck, delete_semantics)
{
    raft_lc_op ok[] = { PUT("x", "1", 0, 1), DEL("x", 2, 3), MISS("x", 4, 5), DELMISS("x", 6, 7) };
    raft_lc_op bad[] = { DEL("x", 0, 1) };
    raft_lc_op bad2[] = { PUT("x", "1", 0, 1), DELMISS("x", 2, 3) };
    cr_assert(LIN(ok));
    cr_assert_not(LIN(bad), "delete found an absent key");
    cr_assert_not(LIN(bad2), "delete missed a present key");
}

Test(lincheck, stale_read_fails)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 1), PUT("x", "2", 2, 3), GET("x", "1", 4, 5) };
    cr_assert_not(LIN(h));
}

Test(lincheck, read_of_value_never_written_fails)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 1), GET("x", "9", 2, 3) };
    cr_assert_not(LIN(h));
}

Test(lincheck, lost_write_fails)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 1), MISS("x", 2, 3) };
    cr_assert_not(LIN(h));
}

Test(lincheck, reads_going_back_in_time_fail)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 10), PUT("x", "2", 0, 10), GET("x", "2", 11, 12),
                       GET("x", "1", 13, 14) };
    cr_assert_not(LIN(h));
}

Test(lincheck, read_from_the_future_fails)
{
    raft_lc_op h[] = { GET("x", "1", 0, 1), PUT("x", "1", 2, 3) };
    cr_assert_not(LIN(h));
}

Test(lincheck, unknown_put_may_or_may_not_happen)
{
    raft_lc_op seen[] = { PUT("x", "1", 0, 1), PUT("x", "2", 2, U), GET("x", "2", 50, 51) };
    raft_lc_op unseen[] = { PUT("x", "1", 0, 1), PUT("x", "2", 2, U), GET("x", "1", 50, 51) };
    raft_lc_op late[] = { PUT("x", "1", 0, 1), PUT("x", "2", 2, U), GET("x", "1", 50, 51),
                          GET("x", "2", 60, 61) };
    cr_assert(LIN(seen));
    cr_assert(LIN(unseen));
    cr_assert(LIN(late), "a timed-out put may take effect late");
}

Test(lincheck, unknown_put_cannot_be_undone)
{
    raft_lc_op h[] = { PUT("x", "1", 0, 1), PUT("x", "2", 2, U), GET("x", "2", 50, 51),
                       GET("x", "1", 60, 61) };
    cr_assert_not(LIN(h));
}

Test(lincheck, unknown_put_not_before_its_call)
{
    raft_lc_op h[] = { GET("x", "2", 0, 1), PUT("x", "2", 2, U) };
    cr_assert_not(LIN(h));
}

Test(lincheck, keys_are_independent_and_bad_key_reported)
{
    raft_lc_op h[] = { PUT("a", "1", 0, 1), PUT("b", "1", 0, 1), GET("a", "1", 2, 3),
                       PUT("b", "2", 4, 5), GET("b", "1", 6, 7) };
    raft_lc_result res;
    cr_assert_eq(raft_lincheck(h, 5, 0, &res), 0);
    cr_assert_not(res.linearizable);
    cr_assert_eq(h[res.bad_op].klen, 1);
    cr_assert_eq(((const char *)h[res.bad_op].key)[0], 'b');
    cr_assert_eq(res.partitions, 2, "a passes, b is checked second and fails");
}

Test(lincheck, bad_arguments)
{
    raft_lc_op h[] = { PUT("x", "1", 5, 1) };
    raft_lc_result res;
    cr_assert_eq(raft_lincheck(h, 1, 0, &res), KV_EINVAL);
    h[0].ret = 6;
    h[0].kind = 7;
    cr_assert_eq(raft_lincheck(h, 1, 0, &res), KV_EINVAL);
}

Test(lincheck, budget_exhaustion_is_reported)
{
    raft_lc_op h[40];
    static char vals[40][12];
    for (int i = 0; i < 40; i++) {
        snprintf(vals[i], sizeof vals[i], "%d", i);
        h[i] = (raft_lc_op){ RAFT_LC_PUT, "x", 1, vals[i], strlen(vals[i]), 0, 0, 100 };
    }
    h[39] = (raft_lc_op){ RAFT_LC_GET, "x", 1, "zz", 2, 0, 0, 100 }; /* impossible */
    raft_lc_result res;
    cr_assert_eq(raft_lincheck(h, 40, 50, &res), 0);
    cr_assert_not(res.linearizable);
    cr_assert(res.exhausted);
}

/* Random sequential histories run against a tiny map are linearizable; the
 * same history with one read's answer changed is not. */
Test(lincheck, random_sequential_histories)
{
    static char keys[4][2] = { "a", "b", "c", "d" };
    static char vals[8][2] = { "0", "1", "2", "3", "4", "5", "6", "7" };
    kv_rng rng;
    kv_rng_seed(&rng, 7);
    for (int round = 0; round < 200; round++) {
        raft_lc_op h[60];
        int present[4] = { -1, -1, -1, -1 };
        int gets[60], ng = 0;
        for (int i = 0; i < 60; i++) {
            int k = (int)kv_rng_below(&rng, 4), kind = (int)kv_rng_below(&rng, 3);
            raft_lc_op op = { .key = keys[k], .klen = 1, .call = 10u * i, .ret = 10u * i + 5 };
            if (kind == 0) {
                int v = (int)kv_rng_below(&rng, 8);
                op.kind = RAFT_LC_PUT;
                op.val = vals[v];
                op.vlen = 1;
                present[k] = v;
            } else if (kind == 1) {
                op.kind = RAFT_LC_GET;
                if (present[k] >= 0) {
                    op.val = vals[present[k]];
                    op.vlen = 1;
                } else {
                    op.result = KV_ENOTFOUND;
                }
                gets[ng++] = i;
            } else {
                op.kind = RAFT_LC_DELETE;
                op.result = present[k] >= 0 ? 0 : KV_ENOTFOUND;
                present[k] = -1;
            }
            h[i] = op;
        }
        cr_assert(lin(h, 60), "round %d", round);
        if (ng == 0)
            continue;
        raft_lc_op *g = &h[gets[kv_rng_below(&rng, (uint64_t)ng)]];
        if (g->result == 0) {
            g->val = vals[(g->val == vals[0]) ? 1 : 0]; /* wrong value... */
            if (kv_rng_below(&rng, 2)) {                /* ...or not found */
                g->result = KV_ENOTFOUND;
                g->vlen = 0;
            }
        } else {
            g->result = 0;
            g->val = vals[3];
            g->vlen = 1;
        }
        cr_assert_not(lin(h, 60), "round %d: a corrupted read passed", round);
    }
}
