/*
 * conf_corrupt.c — durable engines never trust their files: a flipped bit
 * or a cut file gives KV_ECORRUPT (at open, from a kv_get, or as an
 * iterator's status) or the right data, never a crash, an assertion or a
 * wrong value. Each trial builds a small data set on a fresh fault env
 * (files reachable through env.h), damages one file, and reopens.
 *
 *   bit_flips   one random bit of one file; half the flips land in the
 *               first 64 bytes of a file (headers, superblocks), half
 *               anywhere (weighted by size). The data set has overwrites
 *               and deletes, so old versions are on disk too. Rule: open
 *               fails with KV_ECORRUPT, or every key reads back exactly
 *               right (deleted keys absent) or KV_ECORRUPT, and an
 *               iteration returns exactly the right pairs unless its
 *               status becomes KV_ECORRUPT. A key silently missing or an
 *               old value is a failure: a checksum should have caught it.
 *   truncation  one file cut to a random length (open through the env,
 *               kv_file_truncate). For a log, a cut is indistinguishable
 *               from a torn tail, which recovery is allowed to drop, so
 *               here the rule is weaker: KV_ECORRUPT, or each key either
 *               correct or missing (or KV_ECORRUPT from its get). The data
 *               set for this case is unique puts only (no overwrites or
 *               deletes), so "missing" can never hide a resurrected older
 *               value: any value that reads back must be the one written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"

CONF_SUITE(conf_corrupt);

enum { DKEYS = 40, MAXFILES = 256 };

struct files {
    char path[MAXFILES][256];
    uint64_t size[MAXFILES];
    size_t n;
    uint64_t total;
};

static void list_files(const kv_env *env, const char *dir, struct files *f)
{
    char **names;
    size_t n;

    OK(kv_env_list(env, dir, &names, &n));
    for (size_t i = 0; i < n; i++) {
        char p[256];
        uint64_t size;
        bool is_dir;
        snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
        OK(kv_env_stat(env, p, &size, &is_dir));
        if (is_dir) {
            list_files(env, p, f);
        } else if (size > 0 && f->n < MAXFILES) {
            snprintf(f->path[f->n], sizeof(f->path[f->n]), "%s", p);
            f->size[f->n] = size;
            f->total += size;
            f->n++;
        }
    }
    kv_env_list_free(names, n);
}

/* Build the data set on a fresh fault env; the expected final state in @p h. */
static kv_env *build(uint64_t seed, bool unique_puts, conf_hist *h)
{
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    kv_env *env = kv_env_fault_new(seed);
    kv_db *db;
    kv_rng r;
    uint64_t ver = 1;

    cr_assert_not_null(env);
    kv_rng_seed(&r, 12345); /* the same data set every time */
    conf_hist_init(h, DKEYS);
    OK(conf_open_env(env, "/db", NULL, &db));
    for (uint32_t id = 0; id < DKEYS; id++) {
        size_t kl = conf_key(id, key);
        OK(kv_put(db, key, kl, val, conf_val(id, ver, val)));
        conf_hist_add(h, id, ver++, false);
        if (id % 10 == 9)
            OK(kv_sync(db));
    }
    for (size_t i = 0; !unique_puts && i < DKEYS; i++) {
        uint32_t id = (uint32_t)kv_rng_below(&r, DKEYS);
        size_t kl = conf_key(id, key);
        if (kv_rng_below(&r, 3) == 0) {
            if (conf_hist_present(h, id, NULL)) {
                OK(kv_delete(db, key, kl));
                conf_hist_add(h, id, 0, true);
            }
        } else {
            OK(kv_put(db, key, kl, val, conf_val(id, ver, val)));
            conf_hist_add(h, id, ver++, false);
        }
    }
    OK(kv_sync(db));
    conf_close(db);
    return env;
}

/*
 * Check a reopened damaged store. @p allow_missing: a key that should be
 * present may be absent. @return whether corruption was reported.
 */
static bool check_damaged(kv_db *db, const conf_hist *h, bool allow_missing, const char *what)
{
    unsigned char key[CONF_KEY_MAX];
    kv_buf v = {0};
    bool reported = false;

    for (uint32_t id = 0; id < DKEYS + 4; id++) {
        size_t kl = conf_key(id, key);
        uint64_t want = 0, got = 0;
        bool present = id < DKEYS && conf_hist_present(h, id, &want);
        int rc = kv_get(db, key, kl, &v);

        if (rc == KV_ECORRUPT) {
            reported = true;
            continue;
        }
        if (present && rc == KV_OK) {
            cr_assert(conf_val_check(id, v.data, v.len, &got) && got == want,
                      "%s: key %u reads back a wrong value", what, id);
        } else if (present) {
            cr_assert(allow_missing && rc == KV_ENOTFOUND, "%s: key %u: %d (%s), want its value%s",
                      what, id, rc, kv_strerror(rc),
                      allow_missing ? ", absence or KV_ECORRUPT" : " or KV_ECORRUPT");
        } else {
            cr_assert_eq(rc, KV_ENOTFOUND, "%s: absent key %u: %d (%s), want KV_ENOTFOUND", what,
                         id, rc, kv_strerror(rc));
        }
    }
    if (kv_caps(db) & KV_CAP_ORDERED) {
        kv_iter *it;
        int rc = kv_iter_open(db, &it);
        uint32_t next = 0; /* every present id below `next` has been returned */

        cr_assert(rc == KV_OK || rc == KV_ECORRUPT, "%s: kv_iter_open: %d", what, rc);
        if (rc == KV_OK) {
            for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it)) {
                const void *kp, *vp;
                size_t kl, vl;
                uint64_t want = 0, got = 0;
                kv_iter_key(it, &kp, &kl);
                kv_iter_value(it, &vp, &vl);
                int64_t id = conf_key_id(kp, kl);
                cr_assert(id >= 0 && id < DKEYS && id >= next,
                          "%s: iteration returns an unknown, repeated or out-of-order key", what);
                cr_assert(conf_hist_present(h, (uint32_t)id, &want),
                          "%s: iteration returns deleted key %lld", what, (long long)id);
                cr_assert(conf_val_check((uint32_t)id, vp, vl, &got) && got == want,
                          "%s: iteration returns a wrong value for key %lld", what, (long long)id);
                for (uint32_t skipped = next; skipped < (uint32_t)id && !allow_missing; skipped++)
                    cr_assert(!conf_hist_present(h, skipped, NULL), "%s: iteration skips key %u",
                              what, skipped);
                next = (uint32_t)id + 1;
            }
            rc = kv_iter_status(it);
            cr_assert(rc == KV_OK || rc == KV_ECORRUPT, "%s: iterator status %d", what, rc);
            if (rc == KV_ECORRUPT)
                reported = true;
            for (uint32_t id = next; rc == KV_OK && !allow_missing && id < DKEYS; id++)
                cr_assert(!conf_hist_present(h, id, NULL), "%s: iteration ends before key %u", what,
                          id);
            kv_iter_close(it);
        } else {
            reported = true;
        }
    }
    kv_buf_free(&v);
    return reported;
}

Test(conf_corrupt, bit_flips)
{
    size_t trials = conf_valgrind() ? 20 : 300, at_open = 0, later = 0, harmless = 0;
    uint64_t seed = conf_seed(9000);
    kv_rng r;

    conf_need(KV_CAP_DURABLE);
    conf_need_local("damage to the engine's files");
    kv_rng_seed(&r, seed);
    for (size_t t = 0; t < trials; t++) {
        conf_hist h;
        struct files f = {0};
        kv_env *env = build(seed + t, false, &h);
        size_t which;
        uint64_t off;
        unsigned bit = (unsigned)kv_rng_below(&r, 8);
        char what[400];
        kv_db *db = NULL;
        int rc;

        list_files(env, "/db", &f);
        cr_assert_gt(f.n, 0, "the engine wrote no file under its directory");
        if (t % 2 == 0) {
            which = (size_t)kv_rng_below(&r, f.n);
            off = kv_rng_below(&r, f.size[which] < 64 ? f.size[which] : 64);
        } else {
            off = kv_rng_below(&r, f.total);
            for (which = 0; off >= f.size[which]; which++)
                off -= f.size[which];
        }
        OK(kv_env_fault_flip(env, f.path[which], off, bit));
        snprintf(what, sizeof(what), "trial %zu: bit %u of byte %llu of %s (%llu bytes) flipped", t,
                 bit, (unsigned long long)off, f.path[which], (unsigned long long)f.size[which]);
        rc = kv_open_env(conf_engine(), "/db", NULL, env, &db);
        if (rc == KV_ECORRUPT) {
            at_open++;
        } else {
            cr_assert_eq(rc, KV_OK, "%s: open returned %d (%s), want KV_OK or KV_ECORRUPT: %s",
                         what, rc, kv_strerror(rc), kv_last_error());
            if (check_damaged(db, &h, false, what))
                later++;
            else
                harmless++;
            kv_close(db);
        }
        conf_hist_free(&h);
        kv_env_free(env);
    }
    cr_log_info("%zu flips: %zu detected at open, %zu later, %zu harmless", trials, at_open, later,
                harmless);
    cr_assert_eq(at_open + later + harmless, trials);
}

Test(conf_corrupt, truncation)
{
    size_t trials = conf_valgrind() ? 10 : 150, at_open = 0, later = 0, harmless = 0;
    uint64_t seed = conf_seed(9500);
    kv_rng r;

    conf_need(KV_CAP_DURABLE);
    conf_need_local("damage to the engine's files");
    kv_rng_seed(&r, seed);
    for (size_t t = 0; t < trials; t++) {
        conf_hist h;
        struct files f = {0};
        kv_env *env = build(seed + t, true, &h);
        size_t which;
        uint64_t len;
        char what[400];
        kv_file *file;
        kv_db *db = NULL;
        int rc;

        list_files(env, "/db", &f);
        cr_assert_gt(f.n, 0, "the engine wrote no file under its directory");
        which = (size_t)kv_rng_below(&r, f.n);
        len = t % 10 == 0 ? 0 : t % 10 == 1 ? f.size[which] - 1 : kv_rng_below(&r, f.size[which]);
        OK(kv_env_open(env, f.path[which], KV_O_RDWR, &file));
        OK(kv_file_truncate(file, len));
        OK(kv_file_sync(file));
        OK(kv_file_close(file));
        snprintf(what, sizeof(what), "trial %zu: %s cut from %llu to %llu bytes", t, f.path[which],
                 (unsigned long long)f.size[which], (unsigned long long)len);
        rc = kv_open_env(conf_engine(), "/db", NULL, env, &db);
        if (rc == KV_ECORRUPT) {
            at_open++;
        } else {
            cr_assert_eq(rc, KV_OK, "%s: open returned %d (%s), want KV_OK or KV_ECORRUPT: %s",
                         what, rc, kv_strerror(rc), kv_last_error());
            if (check_damaged(db, &h, true, what))
                later++;
            else
                harmless++;
            kv_close(db);
        }
        conf_hist_free(&h);
        kv_env_free(env);
    }
    cr_log_info("%zu truncations: %zu reported at open, %zu later, %zu accepted", trials, at_open,
                later, harmless);
}

/* The undamaged data set reopens exactly (so the trials above test damage, not the build). */
Test(conf_corrupt, undamaged_baseline)
{
    conf_hist h;
    kv_env *env;
    kv_db *db;

    conf_need(KV_CAP_DURABLE);
    conf_need_local("damage to the engine's files");
    env = build(conf_seed(9900), false, &h);
    OK(conf_open_env(env, "/db", NULL, &db));
    conf_hist_check(db, &h, true);
    cr_assert(!check_damaged(db, &h, false, "undamaged"));
    conf_close(db);
    conf_hist_free(&h);
    kv_env_free(env);
}
