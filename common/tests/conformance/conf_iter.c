/*
 * conf_iter.c — ordered engines: memcmp order with shorter-first ties,
 * kv_iter_first/seek/next, and the iteration guarantee of kv.h: a key
 * present and unchanged for the whole iteration is returned exactly once,
 * in order, even while the iterating thread writes other keys; keys
 * written meanwhile may or may not appear; nothing deadlocks (the suite's
 * timeout would fire).
 */
#include <stdlib.h>
#include <string.h>

#include "conf.h"

CONF_SUITE(conf_iter);

struct rkey {
    unsigned char b[24];
    size_t n;
};

static int rkey_cmp(const void *a, const void *b)
{
    const struct rkey *x = a, *y = b;

    return conf_key_cmp(x->b, x->n, y->b, y->n);
}

/* n distinct random keys (1..20 bytes, heavy on 0x00/0xff and prefixes), sorted. */
static struct rkey *random_keys(kv_rng *r, size_t n)
{
    struct rkey *k = calloc(n, sizeof(*k));
    size_t have = 0;

    cr_assert_not_null(k);
    while (have < n) {
        struct rkey c = {.n = 1 + (size_t)kv_rng_below(r, 20)};
        for (size_t i = 0; i < c.n; i++) {
            uint64_t x = kv_rng_below(r, 8);
            c.b[i] = x == 0 ? 0x00 : x == 1 ? 0xff : (unsigned char)kv_rng_below(r, 256);
        }
        if (have && kv_rng_below(r, 4) == 0) { /* a prefix or an extension of an earlier key */
            const struct rkey *p = &k[kv_rng_below(r, have)];
            c = *p;
            if (c.n > 1 && kv_rng_below(r, 2))
                c.n--;
            else if (c.n < 20)
                c.b[c.n++] = (unsigned char)kv_rng_below(r, 3) * 0x7f;
        }
        bool dup = false;
        for (size_t i = 0; i < have && !dup; i++)
            dup = rkey_cmp(&k[i], &c) == 0;
        if (!dup)
            k[have++] = c;
    }
    qsort(k, n, sizeof(*k), rkey_cmp);
    return k;
}

/* Value of key i of a random_keys() set. */
static size_t rval(const struct rkey *k, size_t i, unsigned char *out)
{
    size_t n = (i * 7) % 40;

    for (size_t j = 0; j < n; j++)
        out[j] = (unsigned char)(k->b[j % k->n] ^ (i + j));
    return n;
}

/*
 * From the current position, the iterator must yield exactly k[from..to)
 * (values included); when to == n it must then be at the end.
 */
static void expect_steps(kv_iter *it, const struct rkey *k, size_t from, size_t to, size_t n,
                         const char *what)
{
    unsigned char val[64];

    for (size_t i = from; i < to; i++) {
        const void *p, *vp;
        size_t pl, vl, wl;
        cr_assert(kv_iter_valid(it), "%s: iteration ended after %zu of %zu keys (status %d)", what,
                  i - from, to - from, kv_iter_status(it));
        kv_iter_key(it, &p, &pl);
        cr_assert(pl == k[i].n && !memcmp(p, k[i].b, pl),
                  "%s: position %zu: wrong key (%zu bytes, want %zu)", what, i, pl, k[i].n);
        kv_iter_value(it, &vp, &vl);
        wl = rval(&k[i], i, val);
        cr_assert(vl == wl && (wl == 0 || !memcmp(vp, val, wl)), "%s: position %zu: wrong value",
                  what, i);
        kv_iter_next(it);
    }
    if (to < n)
        return;
    cr_assert(!kv_iter_valid(it), "%s: iteration goes past the last key", what);
    cr_assert_eq(kv_iter_status(it), KV_OK, "%s: status %d at the end", what, kv_iter_status(it));
}

static void expect_run(kv_iter *it, const struct rkey *k, size_t from, size_t n, const char *what)
{
    expect_steps(it, k, from, n, n, what);
}

static void load(kv_db *db, const struct rkey *k, size_t n)
{
    unsigned char val[64];

    for (size_t i = 0; i < n; i++)
        OK(kv_put(db, k[i].b, k[i].n, val, rval(&k[i], i, val)));
}

Test(conf_iter, not_ordered_is_enotsup)
{
    kv_db *db;
    kv_iter *it = (kv_iter *)&it;

    if (conf_caps() & (KV_CAP_ORDERED | KV_CAP_SCAN))
        cr_skip_test("%s is ordered or scannable: kv_iter_open is supported", conf_engine());
    db = conf_open(NULL);
    RC(kv_iter_open(db, &it), KV_ENOTSUP);
    cr_assert_eq(it, (kv_iter *)&it, "kv_iter_open must not set *out on failure");
    conf_close(db);
}

Test(conf_iter, empty_store)
{
    kv_db *db;
    kv_iter *it;

    conf_need(KV_CAP_ORDERED);
    db = conf_open(NULL);
    OK(kv_iter_open(db, &it));
    kv_iter_first(it);
    cr_assert(!kv_iter_valid(it), "kv_iter_first on an empty store is valid");
    cr_assert_eq(kv_iter_status(it), KV_OK);
    kv_iter_seek(it, "a", 1);
    cr_assert(!kv_iter_valid(it));
    cr_assert_eq(kv_iter_status(it), KV_OK);
    kv_iter_close(it);
    /* and after everything was deleted again */
    OK(kv_put(db, "x", 1, "1", 1));
    OK(kv_delete(db, "x", 1));
    OK(kv_iter_open(db, &it));
    kv_iter_first(it);
    cr_assert(!kv_iter_valid(it), "a store whose only key was deleted iterates that key");
    cr_assert_eq(kv_iter_status(it), KV_OK);
    kv_iter_close(it);
    kv_iter_close(NULL);
    conf_close(db);
}

/* Fixed keys whose order a strcmp, a signed char or a longer-first tie gets wrong. */
Test(conf_iter, memcmp_order_shorter_first)
{
    static const struct rkey fixed[] = {
        {{0x00}, 1},       {{0x00, 0x00}, 2}, {{0x00, 0xff}, 2},       {{0x01}, 1},
        {{'a'}, 1},        {{'a', 0x00}, 2},  {{'a', 0x00, 0x00}, 3},  {{'a', 'a'}, 2},
        {{'a', 0x7f}, 2},  {{'a', 0x80}, 2},  {{'a', 0xff}, 2},        {{'b'}, 1},
        {{0x7f}, 1},       {{0x80}, 1},       {{0xfe, 0xff}, 2},       {{0xff}, 1},
        {{0xff, 0x00}, 2}, {{0xff, 0xff}, 2}, {{0xff, 0xff, 0xff}, 3},
    };
    size_t n = sizeof(fixed) / sizeof(fixed[0]);
    kv_db *db;
    kv_iter *it;

    conf_need(KV_CAP_ORDERED);
    db = conf_open(NULL);
    /* insert in a scrambled order */
    for (size_t j = 0; j < n; j++) {
        size_t i = (j * 7) % n;
        unsigned char val[64];
        OK(kv_put(db, fixed[i].b, fixed[i].n, val, rval(&fixed[i], i, val)));
    }
    OK(kv_iter_open(db, &it));
    kv_iter_first(it);
    expect_run(it, fixed, 0, n, "fixed keys");
    kv_iter_close(it);
    conf_close(db);
}

Test(conf_iter, random_keys_each_once_in_order)
{
    size_t n = conf_scale(1000);
    kv_rng r;
    struct rkey *k;
    kv_db *db;
    kv_iter *it;

    conf_need(KV_CAP_ORDERED);
    kv_rng_seed(&r, conf_seed(1234));
    k = random_keys(&r, n);
    db = conf_open(NULL);
    /* insert in random order: shuffle indices */
    {
        size_t *perm = malloc(n * sizeof(*perm));
        unsigned char val[64];
        cr_assert_not_null(perm);
        for (size_t i = 0; i < n; i++)
            perm[i] = i;
        for (size_t i = n; i > 1; i--) {
            size_t j = (size_t)kv_rng_below(&r, i), t = perm[i - 1];
            perm[i - 1] = perm[j];
            perm[j] = t;
        }
        for (size_t i = 0; i < n; i++)
            OK(kv_put(db, k[perm[i]].b, k[perm[i]].n, val, rval(&k[perm[i]], perm[i], val)));
        free(perm);
    }
    OK(kv_iter_open(db, &it));
    kv_iter_first(it);
    expect_run(it, k, 0, n, "random keys");
    /* kv_iter_first again restarts */
    kv_iter_first(it);
    expect_run(it, k, 0, n, "second pass");
    kv_iter_close(it);
    free(k);
    conf_close(db);
}

/* A key strictly between a and b in key order, if one is easy to make. */
static bool between(const struct rkey *a, const struct rkey *b, struct rkey *out)
{
    /* a + "\0" is the smallest key above a; it is below b unless b == a + "\0". */
    if (a->n >= sizeof(out->b))
        return false;
    *out = *a;
    out->b[out->n++] = 0x00;
    return conf_key_cmp(out->b, out->n, b->b, b->n) < 0;
}

Test(conf_iter, seek_positions)
{
    size_t n = 300;
    kv_rng r;
    struct rkey *k, mid;
    kv_db *db;
    kv_iter *it;
    size_t tested_between = 0;

    conf_need(KV_CAP_ORDERED);
    kv_rng_seed(&r, conf_seed(99));
    k = random_keys(&r, n);
    db = conf_open(NULL);
    load(db, k, n);
    OK(kv_iter_open(db, &it));

    for (size_t i = 0; i < n; i++) {
        /* exact key: positioned on it, then the next few follow */
        kv_iter_seek(it, k[i].b, k[i].n);
        expect_steps(it, k, i, i + 3 < n ? i + 3 : n, n, "seek to an existing key");
        /* between k[i] and k[i+1]: positioned on k[i+1] */
        if (i + 1 < n && between(&k[i], &k[i + 1], &mid)) {
            kv_iter_seek(it, mid.b, mid.n);
            expect_steps(it, k, i + 1, i + 3 < n ? i + 3 : n, n, "seek between keys");
            tested_between++;
        }
    }
    cr_assert_gt(tested_between, n / 2);

    /* before the first key: the smallest possible key is one 0x00 byte */
    if (!(k[0].n == 1 && k[0].b[0] == 0)) {
        kv_iter_seek(it, "\0", 1);
        expect_steps(it, k, 0, 3, n, "seek before the first key");
    }
    /* klen 0 and NULL: the first key */
    kv_iter_seek(it, "ignored", 0);
    expect_steps(it, k, 0, 3, n, "seek with klen 0");
    kv_iter_seek(it, NULL, 0);
    expect_run(it, k, 0, n, "seek to NULL");
    /* after the last key */
    {
        struct rkey past = k[n - 1];
        past.b[past.n++] = 0x00;
        kv_iter_seek(it, past.b, past.n);
        cr_assert(!kv_iter_valid(it), "seek past the last key is valid");
        cr_assert_eq(kv_iter_status(it), KV_OK);
        kv_iter_seek(
            it,
            "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
            21);
        cr_assert(!kv_iter_valid(it), "seek to 21 x 0xff is valid");
        cr_assert_eq(kv_iter_status(it), KV_OK);
        /* a seek after the end repositions */
        kv_iter_seek(it, k[n - 1].b, k[n - 1].n);
        expect_run(it, k, n - 1, n, "seek to the last key");
    }
    kv_iter_close(it);
    free(k);
    conf_close(db);
}

/* Two cursors on one store move independently. */
Test(conf_iter, two_iterators_independent)
{
    size_t n = 100;
    kv_rng r;
    struct rkey *k;
    kv_db *db;
    kv_iter *a, *b;

    conf_need(KV_CAP_ORDERED);
    kv_rng_seed(&r, conf_seed(5));
    k = random_keys(&r, n);
    db = conf_open(NULL);
    load(db, k, n);
    OK(kv_iter_open(db, &a));
    OK(kv_iter_open(db, &b));
    kv_iter_first(a);
    kv_iter_seek(b, k[50].b, k[50].n);
    expect_steps(a, k, 0, 10, n, "iterator a");
    expect_steps(b, k, 50, 60, n, "iterator b");
    expect_run(a, k, 10, n, "iterator a to the end");
    expect_run(b, k, 60, n, "iterator b to the end");
    kv_iter_close(b);
    kv_iter_close(a);
    free(k);
    conf_close(db);
}

/*
 * kv_iter_key/kv_iter_value pointers stay valid until the next move: read
 * them, do other calls that are not moves (repeat the accessors, a kv_get,
 * an unrelated iterator's moves), then compare the bytes.
 */
Test(conf_iter, pointers_valid_until_next_move)
{
    size_t n = 200;
    kv_rng r;
    struct rkey *k;
    kv_db *db;
    kv_iter *it, *other;
    kv_buf v = {0};
    unsigned char val[64];
    size_t i = 0;

    conf_need(KV_CAP_ORDERED);
    kv_rng_seed(&r, conf_seed(77));
    k = random_keys(&r, n);
    db = conf_open(NULL);
    load(db, k, n);
    OK(kv_iter_open(db, &it));
    OK(kv_iter_open(db, &other));
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it), i++) {
        const void *kp, *vp, *kp2, *vp2;
        size_t kl, vl, kl2, vl2, wl = rval(&k[i], i, val);
        kv_iter_key(it, &kp, &kl);
        kv_iter_value(it, &vp, &vl);
        kv_iter_key(it, &kp2, &kl2);
        kv_iter_value(it, &vp2, &vl2);
        cr_assert(kl2 == kl && !memcmp(kp2, k[i].b, kl2), "repeated kv_iter_key differs");
        cr_assert(vl2 == vl && (vl == 0 || !memcmp(vp2, val, vl)),
                  "repeated kv_iter_value differs");
        OK(kv_get(db, k[(i * 13) % n].b, k[(i * 13) % n].n, &v));
        kv_iter_seek(other, k[(i * 31) % n].b, k[(i * 31) % n].n);
        if (kv_iter_valid(other))
            kv_iter_next(other);
        cr_assert(kl == k[i].n && !memcmp(kp, k[i].b, kl),
                  "key pointer no longer valid after non-moving calls (position %zu)", i);
        cr_assert(vl == wl && (wl == 0 || !memcmp(vp, val, wl)),
                  "value pointer no longer valid after non-moving calls (position %zu)", i);
    }
    cr_assert_eq(i, n);
    kv_iter_close(other);
    kv_iter_close(it);
    kv_buf_free(&v);
    free(k);
    conf_close(db);
}

/*
 * The guarantee of kv.h under writes from the iterating thread.
 *
 * Keys are conf_key(id): ids = 0 mod 2 are the stable set, written before
 * the iteration and never touched during it. Odd ids are volatile: some
 * present before, and during the iteration the same thread inserts,
 * overwrites and deletes them (including the key the cursor is on, and
 * keys just ahead of it), plus new ids past the stable range. Required:
 * the returned keys strictly increase (so none twice), every stable key is
 * returned with its value, every returned key is one that was written,
 * every volatile value returned is a well-formed version of that key.
 */
static void writes_during_iteration(uint64_t seed, bool use_seek)
{
    uint32_t nstable = (uint32_t)conf_scale(2000), span = 2 * nstable;
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX], prev[CONF_KEY_MAX];
    size_t prevlen = 0;
    uint64_t ver = 1, seen_stable = 0, steps = 0, got;
    kv_rng r;
    kv_db *db;
    kv_iter *it;
    bool *seen = calloc(span, sizeof(bool));

    cr_assert_not_null(seen);
    kv_rng_seed(&r, seed);
    db = conf_open(NULL);
    for (uint32_t id = 0; id < span; id++) {
        if (id % 2 == 1 && id % 4 != 1)
            continue; /* odd ids = 3 mod 4 start absent */
        size_t kl = conf_key(id, key);
        OK(kv_put(db, key, kl, val, conf_val(id, id % 2 ? ver++ : 0, val)));
    }
    OK(kv_iter_open(db, &it));
    if (use_seek)
        kv_iter_seek(it, "k", 1);
    else
        kv_iter_first(it);
    while (kv_iter_valid(it)) {
        const void *kp, *vp;
        size_t kl, vl;
        int64_t id;

        kv_iter_key(it, &kp, &kl);
        kv_iter_value(it, &vp, &vl);
        id = conf_key_id(kp, kl);
        cr_assert(id >= 0 && id < 2 * (int64_t)span,
                  "iteration returned a key that was never written (%zu bytes)", kl);
        cr_assert(!steps || conf_key_cmp(prev, prevlen, kp, kl) < 0,
                  "iteration not strictly increasing at id %lld (previous id %lld)", (long long)id,
                  (long long)conf_key_id(prev, prevlen));
        memcpy(prev, kp, kl);
        prevlen = kl;
        cr_assert(conf_val_check((uint32_t)id, vp, vl, &got),
                  "id %lld: the iterator's value is not one written to that key", (long long)id);
        if (id % 2 == 0 && id < span) {
            cr_assert_eq(got, 0, "stable id %lld changed value", (long long)id);
            cr_assert(!seen[id], "stable id %lld returned twice", (long long)id);
            seen[id] = true;
            seen_stable++;
        }
        /* writes: overwrite or delete the current key if volatile */
        if (id % 2 == 1) {
            size_t cl = conf_key((uint32_t)id, key);
            /* The iterator may show a key deleted meanwhile (keys written
             * during the iteration may or may not appear), so the delete
             * may find it gone already. */
            if (kv_rng_below(&r, 2)) {
                int rc = kv_delete(db, key, cl);
                cr_assert(rc == KV_OK || rc == KV_ENOTFOUND, "delete of the cursor's key: %d: %s",
                          rc, kv_last_error());
            } else
                OK(kv_put(db, key, cl, val, conf_val((uint32_t)id, ver++, val)));
        }
        for (int w = 0; w < 3; w++) {
            uint32_t t;
            size_t tl;
            uint64_t pick = kv_rng_below(&r, 4);
            if (pick == 0) /* a new key past the stable range */
                t = span + (uint32_t)kv_rng_below(&r, span);
            else if (pick == 1) /* just ahead of the cursor */
                t = (uint32_t)((id | 1) + 2 * kv_rng_below(&r, 3));
            else
                t = 2 * (uint32_t)kv_rng_below(&r, nstable) + 1;
            if (t % 2 == 0 || t >= 2 * span)
                continue;
            tl = conf_key(t, key);
            if (kv_rng_below(&r, 3) == 0) {
                int rc = kv_delete(db, key, tl);
                cr_assert(rc == KV_OK || rc == KV_ENOTFOUND, "delete during iteration: %d: %s", rc,
                          kv_last_error());
            } else {
                OK(kv_put(db, key, tl, val, conf_val(t, ver++, val)));
            }
        }
        steps++;
        kv_iter_next(it);
    }
    cr_assert_eq(kv_iter_status(it), KV_OK, "iteration ended with status %d: %s",
                 kv_iter_status(it), kv_last_error());
    kv_iter_close(it);
    for (uint32_t id = 0; id < span; id += 2)
        cr_assert(seen[id], "stable id %u (present and unchanged throughout) was not returned", id);
    cr_assert_eq(seen_stable, nstable);
    free(seen);
    conf_close(db);
}

Test(conf_iter, writes_during_iteration_first)
{
    conf_need(KV_CAP_ORDERED);
    writes_during_iteration(conf_seed(2024), false);
}

Test(conf_iter, writes_during_iteration_seek)
{
    conf_need(KV_CAP_ORDERED);
    writes_during_iteration(conf_seed(4048), true);
}
