/*
 * limits_check.h — one check of a store's key and value limits at every
 * boundary: max - 1, max and max + 1 (header-only, for the Criterion
 * tests of the hash, shm and bitcask engines).
 *
 * The bug it is after: a limit compared with `>=` where `>` was meant (the
 * longest allowed key refused), or `>` where `>=` was (one byte too many
 * accepted, and somewhere a buffer of exactly the limit's size overrun),
 * or a too-long put that changes something before it fails. So: keys of
 * max_key - 1 and max_key bytes and values of max_value - 1 and max_value
 * bytes are stored and read back whole; a key of max_key + 1 bytes is
 * KV_ETOOBIG for put, get and delete, and a value of max_value + 1 bytes
 * is KV_ETOOBIG for a new key and for an overwrite, which leaves the old
 * value; the key count is right at the end.
 */
#ifndef LIMITS_CHECK_H
#define LIMITS_CHECK_H

#include <criterion/criterion.h>
#include "kv_assert.h"
#include <stdlib.h>
#include <string.h>

#include "kvlabs/kv.h"
#include "kvtest.h" /* kvt_own: the buffers are freed even when an assertion fails */

static inline void lc_fill(unsigned char *p, size_t n, unsigned seed)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (unsigned char)(seed * 151 + i * 31 + (i >> 9));
}

static inline void lc_expect(kv_db *db, const unsigned char *k, size_t klen,
                             const unsigned char *want, size_t vlen, const char *what)
{
    kv_buf v = {0};
    int rc = kv_get(db, k, klen, &v);

    cr_assert_eq(rc, KV_OK, "%s: get of a %zu-byte key: %d (%s)", what, klen, rc,
                 kv_strerror(rc));
    cr_assert(v.len == vlen && memcmp(v.data, want, vlen) == 0,
              "%s: the %zu-byte key reads back %zu bytes, not its %zu-byte value", what, klen,
              v.len, vlen);
    kv_buf_free(&v);
}

/*
 * Store the boundary pairs in @p db, whose limits are @p maxk and @p maxv
 * (maxk >= 2, maxv >= 1), check them and the refusals; returns the keys
 * it stored (4). When @p check_only, nothing is written: the pairs an
 * earlier call stored are read back (after a reopen).
 */
static inline uint64_t lc_limits(kv_db *db, size_t maxk, size_t maxv, bool check_only,
                                 const char *what)
{
    unsigned char *k = kvt_own(malloc(maxk + 1), free), *v = kvt_own(malloc(maxv + 1), free),
                  *w = kvt_own(malloc(maxv + 1), free);
    int rc;

    cr_assert(k && v && w);
    for (int i = 0; i < 4; i++) { /* key max-1 or max, value max-1 or max */
        size_t kl = maxk - 1 + (size_t)(i & 1), vl = maxv - 1 + (size_t)(i >> 1);
        lc_fill(k, kl, (unsigned)i);
        k[0] = (unsigned char)i; /* four distinct keys even when maxk is small */
        lc_fill(v, vl, 10 + (unsigned)i);
        if (!check_only) {
            rc = kv_put(db, k, kl, v, vl);
            cr_assert_eq(rc, KV_OK, "%s: put of a %zu-byte key and a %zu-byte value (limits "
                         "%zu, %zu): %d (%s): %s", what, kl, vl, maxk, maxv, rc,
                         kv_strerror(rc), kv_last_error());
        }
        lc_expect(db, k, kl, v, vl, what);
    }
    /* one byte over: refused, and nothing changes */
    lc_fill(k, maxk + 1, 3);
    k[0] = 3;
    lc_fill(v, maxv + 1, 20);
    if (!check_only) {
        cr_assert_eq(kv_put(db, k, maxk + 1, "v", 1), KV_ETOOBIG, "%s: a %zu-byte key", what,
                     maxk + 1);
        cr_assert_eq(kv_get(db, k, maxk + 1, NULL), KV_ETOOBIG, "%s: get, %zu-byte key", what,
                     maxk + 1);
        cr_assert_eq(kv_delete(db, k, maxk + 1), KV_ETOOBIG, "%s: delete, %zu-byte key", what,
                     maxk + 1);
        cr_assert_eq(kv_put(db, "n", 1, v, maxv + 1), KV_ETOOBIG, "%s: a %zu-byte value",
                     what, maxv + 1);
        cr_assert_eq(kv_get(db, "n", 1, NULL), KV_ENOTFOUND, "%s: the refused put stored "
                     "its key", what);
        cr_assert_eq(kv_put(db, k, maxk, v, maxv + 1), KV_ETOOBIG, "%s: overwrite with a "
                     "%zu-byte value", what, maxv + 1);
    }
    lc_fill(w, maxv, 13); /* key 3 (max, max) keeps its value */
    lc_expect(db, k, maxk, w, maxv, what);
    kvt_drop(k);
    kvt_drop(v);
    kvt_drop(w);
    return 4;
}

#endif /* LIMITS_CHECK_H */
