/*
 * conf_diff.c — differential testing against the model engine.
 *
 * A random sequence of operations (put, overwrite, delete, get, existence
 * test, operations on keys never written, sync, stats, and for ordered
 * engines seeks with a few steps) is applied to the engine under test and
 * to "model", the oracle; every status code and every value must agree.
 * Keys come from a small pool of variable-length binary keys (prefixes of
 * each other, 0x00 and 0xff bytes), so the same keys are hit again and
 * again; values are 0 to 300 random bytes. Durable engines are closed and
 * reopened halfway and must come back equal to the model; ordered engines
 * end with a full iteration compared with the model's.
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

CONF_SUITE(conf_diff);

enum { POOL = 400, KMAX = 24, VMAX = 300 };

struct pool {
    unsigned char k[POOL][KMAX];
    size_t n[POOL];
};

static void make_pool(struct pool *p, kv_rng *r)
{
    for (size_t i = 0; i < POOL; i++) {
        bool dup;
        do {
            if (i > 0 && kv_rng_below(r, 3) == 0) { /* derive from an earlier key */
                size_t j = (size_t)kv_rng_below(r, i);
                memcpy(p->k[i], p->k[j], p->n[j]);
                p->n[i] = p->n[j];
                if (p->n[i] > 1 && kv_rng_below(r, 2))
                    p->n[i]--;
                else if (p->n[i] < KMAX)
                    p->k[i][p->n[i]++] = (unsigned char)(kv_rng_below(r, 2) ? 0x00 : 0xff);
            } else {
                p->n[i] = 1 + (size_t)kv_rng_below(r, KMAX);
                for (size_t b = 0; b < p->n[i]; b++) {
                    uint64_t x = kv_rng_below(r, 6);
                    p->k[i][b] = x == 0 ? 0x00 : x == 1 ? 0xff : (unsigned char)('a' + x);
                }
            }
            dup = false;
            for (size_t j = 0; j < i && !dup; j++)
                dup = p->n[j] == p->n[i] && !memcmp(p->k[j], p->k[i], p->n[i]);
        } while (dup);
    }
}

static void compare_key(kv_db *db, kv_db *oracle, const void *k, size_t kl, kv_buf *a, kv_buf *b,
                        const char *when, size_t op)
{
    int ra = kv_get(db, k, kl, a), rb = kv_get(oracle, k, kl, b);

    cr_assert_eq(ra, rb, "%s (op %zu): get of a %zu-byte key: engine %d (%s), model %d; %s", when,
                 op, kl, ra, kv_strerror(ra), rb, kv_last_error());
    cr_assert_eq(a->len, b->len, "%s (op %zu): value of %zu bytes, model has %zu", when, op, a->len,
                 b->len);
    cr_assert(a->len == 0 || !memcmp(a->data, b->data, a->len),
              "%s (op %zu): value bytes differ from the model's", when, op);
}

static void compare_all(kv_db *db, kv_db *oracle, const struct pool *p, const char *when, size_t op)
{
    kv_buf a = {0}, b = {0};
    kv_stats sa, sb;

    for (size_t i = 0; i < POOL; i++)
        compare_key(db, oracle, p->k[i], p->n[i], &a, &b, when, op);
    OK(kv_db_stats(db, &sa));
    OK(kv_db_stats(oracle, &sb));
    cr_assert_eq(sa.keys, sb.keys, "%s (op %zu): stats.keys %llu, model %llu", when, op,
                 (unsigned long long)sa.keys, (unsigned long long)sb.keys);
    cr_assert_eq(sa.bytes, sb.bytes, "%s (op %zu): stats.bytes %llu, model %llu", when, op,
                 (unsigned long long)sa.bytes, (unsigned long long)sb.bytes);
    kv_buf_free(&a);
    kv_buf_free(&b);
}

/* Step two positioned iterators together for up to @p steps keys (all when 0). */
static void compare_iters(kv_iter *x, kv_iter *y, size_t steps, const char *when, size_t op)
{
    for (size_t s = 0; steps == 0 || s < steps; s++) {
        const void *ka, *kb, *va, *vb;
        size_t kla, klb, vla, vlb;
        bool a = kv_iter_valid(x), b = kv_iter_valid(y);

        cr_assert_eq(a, b, "%s (op %zu): step %zu: engine iterator %s, model's %s", when, op, s,
                     a ? "valid" : "at the end", b ? "valid" : "at the end");
        if (!a)
            break;
        kv_iter_key(x, &ka, &kla);
        kv_iter_key(y, &kb, &klb);
        cr_assert(kla == klb && !memcmp(ka, kb, kla),
                  "%s (op %zu): step %zu: iterator key differs from the model's", when, op, s);
        kv_iter_value(x, &va, &vla);
        kv_iter_value(y, &vb, &vlb);
        cr_assert(vla == vlb && (vla == 0 || !memcmp(va, vb, vla)),
                  "%s (op %zu): step %zu: iterator value differs from the model's", when, op, s);
        kv_iter_next(x);
        kv_iter_next(y);
    }
    cr_assert_eq(kv_iter_status(x), KV_OK, "%s: iterator status %d", when, kv_iter_status(x));
}

static void full_iteration(kv_db *db, kv_db *oracle, const char *when, size_t op)
{
    kv_iter *x, *y;

    OK(kv_iter_open(db, &x));
    OK(kv_iter_open(oracle, &y));
    kv_iter_first(x);
    kv_iter_first(y);
    compare_iters(x, y, 0, when, op);
    kv_iter_close(x);
    kv_iter_close(y);
}

static void run_diff(uint64_t seed)
{
    size_t nops = conf_scale(20000);
    struct pool *p = malloc(sizeof(*p));
    unsigned char val[VMAX], odd[KMAX + 8];
    kv_buf a = {0}, b = {0};
    kv_db *db, *oracle;
    kv_iter *ix = NULL, *iy = NULL;
    kv_rng r;
    unsigned caps;
    bool reopened = false;

    cr_assert_not_null(p);
    kv_rng_seed(&r, seed);
    make_pool(p, &r);
    db = conf_open(NULL);
    caps = kv_caps(db);
    OK(kv_open("model", NULL, NULL, &oracle));
    if (caps & KV_CAP_ORDERED) {
        OK(kv_iter_open(db, &ix));
        OK(kv_iter_open(oracle, &iy));
    }

    for (size_t op = 0; op < nops; op++) {
        uint64_t dice = kv_rng_below(&r, 100);
        size_t i = (size_t)kv_rng_below(&r, POOL);
        const unsigned char *k = p->k[i];
        size_t kl = p->n[i];

        if (dice < 30) { /* put / overwrite */
            size_t vl = kv_rng_below(&r, 20) == 0 ? 0 : (size_t)kv_rng_below(&r, VMAX + 1);
            for (size_t j = 0; j < vl; j++)
                val[j] = (unsigned char)kv_rng_next(&r);
            int ra = kv_put(db, k, kl, val, vl), rb = kv_put(oracle, k, kl, val, vl);
            cr_assert_eq(ra, rb, "op %zu: put: engine %d (%s), model %d; %s", op, ra,
                         kv_strerror(ra), rb, kv_last_error());
        } else if (dice < 45) { /* delete */
            int ra = kv_delete(db, k, kl), rb = kv_delete(oracle, k, kl);
            cr_assert_eq(ra, rb, "op %zu: delete: engine %d (%s), model %d; %s", op, ra,
                         kv_strerror(ra), rb, kv_last_error());
        } else if (dice < 75) { /* get */
            compare_key(db, oracle, k, kl, &a, &b, "get", op);
        } else if (dice < 85) { /* existence test */
            int ra = kv_get(db, k, kl, NULL), rb = kv_get(oracle, k, kl, NULL);
            cr_assert_eq(ra, rb, "op %zu: existence test: engine %d, model %d", op, ra, rb);
        } else if (dice < 90) { /* keys never written: longer than any pool key */
            size_t ol = KMAX + 1 + (size_t)kv_rng_below(&r, 8);
            memcpy(odd, k, kl);
            for (size_t j = kl; j < ol; j++)
                odd[j] = (unsigned char)kv_rng_next(&r);
            RC(kv_get(db, odd, ol, &a), KV_ENOTFOUND);
            RC(kv_delete(db, odd, ol), KV_ENOTFOUND);
        } else if (dice < 93) {
            OK(kv_sync(db));
        } else if (dice < 95) {
            kv_stats sa, sb;
            OK(kv_db_stats(db, &sa));
            OK(kv_db_stats(oracle, &sb));
            cr_assert_eq(sa.keys, sb.keys, "op %zu: stats.keys %llu, model %llu", op,
                         (unsigned long long)sa.keys, (unsigned long long)sb.keys);
            cr_assert_eq(sa.bytes, sb.bytes, "op %zu: stats.bytes differ", op);
        } else if (ix) { /* seek to a pool key or to random bytes, then a few steps */
            if (kv_rng_below(&r, 2)) {
                kv_iter_seek(ix, k, kl);
                kv_iter_seek(iy, k, kl);
            } else {
                size_t ol = (size_t)kv_rng_below(&r, 6);
                for (size_t j = 0; j < ol; j++)
                    odd[j] = (unsigned char)kv_rng_next(&r);
                kv_iter_seek(ix, odd, ol);
                kv_iter_seek(iy, odd, ol);
            }
            compare_iters(ix, iy, 1 + (size_t)kv_rng_below(&r, 5), "seek", op);
        }

        if (!reopened && op == nops / 2 && (caps & KV_CAP_DURABLE)) {
            kv_iter_close(ix);
            ix = NULL;
            conf_close(db);
            db = conf_open(NULL);
            compare_all(db, oracle, p, "after reopen", op);
            if (caps & KV_CAP_ORDERED) {
                full_iteration(db, oracle, "after reopen", op);
                OK(kv_iter_open(db, &ix));
            }
            reopened = true;
        }
    }
    kv_iter_close(ix);
    kv_iter_close(iy);
    compare_all(db, oracle, p, "at the end", nops);
    if (caps & KV_CAP_ORDERED)
        full_iteration(db, oracle, "at the end", nops);
    if (caps & KV_CAP_DURABLE)
        cr_assert(reopened);
    kv_buf_free(&a);
    kv_buf_free(&b);
    free(p);
    OK(kv_close(oracle));
    conf_close(db);
}

Test(conf_diff, seed_1)
{
    run_diff(conf_seed(1));
}
Test(conf_diff, seed_2)
{
    run_diff(conf_seed(2) + 1000);
}
Test(conf_diff, seed_3)
{
    run_diff(conf_seed(3) + 2000);
}
Test(conf_diff, seed_4)
{
    run_diff(conf_seed(4) + 3000);
}
