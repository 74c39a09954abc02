/*
 * torn_check.h — the self-checking values and the checked lookups of the
 * lookup-safety tests (tests/torn.h, which includes this file; see there
 * for the cases).
 *
 * Values check themselves. A value is [key id u32][writer u16][length u16]
 * [seq u64][filler derived from (key, writer, seq)][xxh3 of all previous
 * bytes, u64]: 24..324 bytes (inline in a shard's arena), or 600..1500 (out
 * of line, above HT_INLINE_MAX). tn_verify(): a hit must be the key's own
 * value, checksum and filler intact, its length the one in its header,
 * written by a real writer that had already started that sequence (each
 * writer publishes its sequence before the put).
 *
 * tn_get() looks a key up one of five ways and verifies what it got:
 * ht_get_copy() with a large buffer (and a canary after it), ht_get_copy()
 * with a 16-byte cap (it must copy exactly cap bytes and set *vlen to the
 * full length, the one in the header), ht_get() with a callback that copies
 * and verifies (called exactly once per hit, never on a miss), ht_get() as
 * an existence test, and, through the engine, kv_get() into a kv_buf. The
 * first problem any thread sees is recorded once (tn_fail) and stops every
 * thread of the case.
 */
#ifndef TORN_CHECK_H
#define TORN_CHECK_H

#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "ht_test.h"
#include "kvlabs/kv.h"

#define TN_WRITERS 2
#define TN_READERS 2
#define TN_LOADER  TN_WRITERS /* the writer id of values loaded before the threads */
#define TN_HOT     64         /* keys of TN_REUSE */
#ifndef TN_TORN_HOT
#define TN_TORN_HOT 16 /* keys of TN_TORN: few, so readers and writers meet */
#endif
#define TN_CONST       16        /* TN_REUSE: keys 0..15 are never deleted */
#define TN_GROW_BASE   10000000u /* TN_TORN: writer w's n-th new key is base + w * 1e6 + n */
#define TN_ABSENT_BASE 90000000u /* never inserted */
#define TN_HDR         16        /* id, writer, length, seq */
#define TN_MIN         24        /* header + checksum */
#define TN_VMAX        1536      /* longest value (a same-size swap adds up to 12 bytes) */
#define TN_BUF         2048

enum tn_case { TN_TORN, TN_REUSE, TN_RESIZE };

/* What a case runs against: the core API (t) or the engine (db). */
struct tn_target {
    ht_table *t;
    kv_db *db;
};

struct tn_shared;

struct tn_writer {
    struct tn_shared *sh;
    unsigned id;
    uint64_t seq;   /* last sequence written */
    uint64_t *last; /* per key: the sequence of this writer's last write (0: none) */
    size_t *vlen;   /* TN_REUSE, own keys: value length (0: absent) */
};

struct tn_reader {
    struct tn_shared *sh;
    unsigned id;
    uint64_t reads, hits; /* concurrent lookups done, and hits among them */
    kv_buf kb;
    unsigned char buf[TN_BUF + 16]; /* + a canary */
    unsigned calls;                 /* ht_get callback: calls, length, first problem */
    size_t len;
    const char *bad;
    uint32_t want;
};

struct tn_shared {
    struct tn_target tg;
    enum tn_case kind;
    unsigned ops;
    size_t nkeys; /* size of the models */
    double deadline;
    atomic_int failed, capped, writers, go;   /* go: every thread has started */
    atomic_uint_fast64_t seq[TN_WRITERS + 1]; /* the last sequence each writer started */
    atomic_uint_fast64_t grown[TN_WRITERS];   /* keys inserted (TN_TORN, TN_RESIZE) */
    struct tn_writer w[TN_WRITERS + 1];
    struct tn_reader r[TN_READERS];
    char detail[256];
};

static double tn_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void tn_fail(struct tn_shared *sh, const char *fmt, ...)
{
    int zero = 0;
    va_list ap;

    if (!atomic_compare_exchange_strong(&sh->failed, &zero, 1))
        return;
    va_start(ap, fmt);
    vsnprintf(sh->detail, sizeof(sh->detail), fmt, ap);
    va_end(ap);
}

/* Whether a thread should stop: a failure, or the wall-clock cap (every 64 ops). */
static bool tn_stop(struct tn_shared *sh, unsigned op)
{
    while (op == 1 && !atomic_load(&sh->go))
        sched_yield(); /* start together: readers must meet the writers */
    if (atomic_load(&sh->failed))
        return true;
    if (op % 64 == 0 && tn_now() > sh->deadline) {
        atomic_store(&sh->capped, 1);
        return true;
    }
    return atomic_load(&sh->capped) != 0;
}

/* A value length from a random number: mostly inline sizes, 1 in 8 out of line. */
static size_t tn_len(uint64_t r)
{
    return r % 8 == 0 ? 600 + (size_t)(r >> 8) % 901 : TN_MIN + (size_t)(r >> 8) % 301;
}

/* The value (id, writer, seq) of len bytes into v. */
static void tn_make(uint32_t id, unsigned w, uint64_t seq, size_t len, unsigned char *v)
{
    uint16_t w16 = (uint16_t)w, l16 = (uint16_t)len;
    uint64_t x = tk_mix(id * 0x9E3779B97F4A7C15ULL ^ (uint64_t)w << 56 ^ seq), sum;

    memcpy(v, &id, 4);
    memcpy(v + 4, &w16, 2);
    memcpy(v + 6, &l16, 2);
    memcpy(v + 8, &seq, 8);
    for (size_t j = TN_HDR; j < len - 8; j += 8) {
        uint64_t m = tk_mix(x + j);
        memcpy(v + j, &m, len - 8 - j < 8 ? len - 8 - j : 8);
    }
    sum = kv_xxh3_64(v, len - 8);
    memcpy(v + len - 8, &sum, 8);
}

/* The header of a value (at least TN_HDR bytes). */
static void tn_header(const unsigned char *v, uint32_t *id, unsigned *w, size_t *len, uint64_t *seq)
{
    uint16_t w16, l16;

    memcpy(id, v, 4);
    memcpy(&w16, v + 4, 2);
    memcpy(&l16, v + 6, 2);
    memcpy(seq, v + 8, 8);
    *w = w16;
    *len = l16;
}

/* NULL when the header of a hit on key id names a write that happened, else what is wrong. */
static const char *tn_check_header(struct tn_shared *sh, uint32_t id, const unsigned char *v,
                                   unsigned *w, uint64_t *seq, size_t *hlen)
{
    uint32_t vid;

    tn_header(v, &vid, w, hlen, seq);
    if (vid != id)
        return "a hit carries another key's value";
    if (*w > TN_WRITERS || *seq == 0 || *seq > atomic_load(&sh->seq[*w]))
        return "a value nobody wrote (bad writer or sequence from the future)";
    return NULL;
}

/* NULL when v (len bytes) is a well-formed value of key id, else what is wrong. */
static const char *tn_verify(struct tn_shared *sh, uint32_t id, const unsigned char *v, size_t len,
                             unsigned *w, uint64_t *seq)
{
    unsigned char want[TN_BUF];
    const char *bad;
    size_t hlen;
    uint64_t sum;

    if (len < TN_MIN || len > TN_VMAX)
        return "a value of impossible length";
    if ((bad = tn_check_header(sh, id, v, w, seq, &hlen)) != NULL)
        return bad;
    if (hlen != len)
        return "the value's length differs from its header";
    memcpy(&sum, v + len - 8, 8);
    if (sum != kv_xxh3_64(v, len - 8))
        return "the checksum fails (a torn value)";
    tn_make(id, *w, *seq, len, want);
    return memcmp(v, want, len) ? "the filler is not its writer's (a torn value)" : NULL;
}

/* Write key id with a fresh sequence of writer wr; the model is the caller's. */
static int tn_put(struct tn_writer *wr, uint32_t id, size_t len)
{
    struct tn_shared *sh = wr->sh;
    unsigned char k[TK_MAX], v[TN_BUF];
    size_t kl = tk_key(id, k);

    atomic_store(&sh->seq[wr->id], ++wr->seq);
    tn_make(id, wr->id, wr->seq, len, v);
    return sh->tg.t ? ht_put(sh->tg.t, k, kl, v, len) : kv_put(sh->tg.db, k, kl, v, len);
}

static int tn_del(struct tn_shared *sh, uint32_t id)
{
    unsigned char k[TK_MAX];
    size_t kl = tk_key(id, k);

    return sh->tg.t ? ht_delete(sh->tg.t, k, kl) : kv_delete(sh->tg.db, k, kl);
}

/* ht_get's callback: copies and verifies; a hit must call it exactly once. */
static int tn_cb(void *arg, const void *v, size_t n)
{
    struct tn_reader *r = arg;
    unsigned w;
    uint64_t seq;

    if (r->calls++)
        return 0;
    r->len = n;
    if (n > TN_VMAX) {
        r->bad = "the callback got a value of impossible length";
        return 0;
    }
    memcpy(r->buf, v, n);
    r->bad = tn_verify(r->sh, r->want, r->buf, n, &w, &seq);
    return 0;
}

#define TN_BROKEN (-100) /* tn_get: a failure was recorded */

/* Look key id up the way `how` selects and verify a hit: HT_OK, HT_ENOTFOUND or
 * TN_BROKEN. *w and *seq receive the value's writer and sequence (full copies). */
static int tn_get(struct tn_reader *r, uint32_t id, unsigned how, unsigned *w, uint64_t *seq)
{
    static const char *const how_name[] = {"ht_get_copy, cap 16", "ht_get, no callback", "ht_get",
                                           "ht_get_copy", "kv_get"};
    struct tn_shared *sh = r->sh;
    unsigned char k[TK_MAX], canary[16];
    size_t kl = tk_key(id, k), vl = (size_t)-1, hlen = 0;
    const char *bad = NULL;
    int rc;

    *w = TN_WRITERS + 1;
    *seq = 0;
    memset(canary, 0xA5, sizeof(canary));
    if (sh->tg.db) {
        how = 4;
        rc = kv_get(sh->tg.db, k, kl, &r->kb);
        if (rc == KV_OK)
            bad = tn_verify(sh, id, r->kb.data, r->kb.len, w, seq);
        vl = r->kb.len;
    } else if ((how %= 8) == 0) { /* a cut-short copy: cap bytes, the full *vlen */
        memset(r->buf, 0xA5, TN_HDR + 16);
        rc = ht_get_copy(sh->tg.t, k, kl, r->buf, TN_HDR, &vl);
        if (rc == HT_OK && !(bad = tn_check_header(sh, id, r->buf, w, seq, &hlen)))
            bad = memcmp(r->buf + TN_HDR, canary, 16) ? "ht_get_copy wrote past cap"
                  : vl != hlen ? "ht_get_copy's *vlen is not the value's length"
                               : NULL;
    } else if (how == 1) {
        rc = ht_get(sh->tg.t, k, kl, NULL, NULL);
    } else if (how < 5) {
        how = 2;
        r->calls = 0;
        r->bad = NULL;
        r->want = id;
        rc = ht_get(sh->tg.t, k, kl, tn_cb, r);
        bad = rc == HT_OK && r->calls != 1     ? "a hit did not call the callback exactly once"
              : rc == HT_ENOTFOUND && r->calls ? "a miss called the callback"
              : rc == HT_OK                    ? r->bad
                                               : NULL;
        vl = rc == HT_OK ? r->len : vl;
    } else {
        how = 3;
        memcpy(r->buf + TN_BUF, canary, 16);
        rc = ht_get_copy(sh->tg.t, k, kl, r->buf, TN_BUF, &vl);
        if (rc == HT_OK)
            bad = memcmp(r->buf + TN_BUF, canary, 16) ? "ht_get_copy wrote past cap"
                  : vl > TN_VMAX                      ? "a value of impossible length"
                                                      : tn_verify(sh, id, r->buf, vl, w, seq);
    }
    if (rc != HT_OK && rc != HT_ENOTFOUND)
        bad = "the lookup failed";
    r->reads++;
    r->hits += rc == HT_OK;
    if (!bad)
        return rc;
    tn_fail(sh, "%s: key %u via %s (status %d, len %zu, writer %u, seq %llu)", bad, id,
            how_name[how], rc, vl, *w, (unsigned long long)*seq);
    return TN_BROKEN;
}

/* A lookup that must hit (want HT_OK) or miss (HT_ENOTFOUND); false after a failure. */
static bool tn_expect(struct tn_reader *r, uint32_t id, unsigned how, int want)
{
    unsigned w;
    uint64_t seq;
    int rc = tn_get(r, id, how, &w, &seq);

    if (rc == TN_BROKEN)
        return false;
    if (rc == want)
        return true;
    tn_fail(r->sh, "%s: key %u",
            want == HT_OK ? "a key that must be present was not found" : "an absent key was found",
            id);
    return false;
}

#endif /* TORN_CHECK_H */
