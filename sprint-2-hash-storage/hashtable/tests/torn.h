/*
 * torn.h — the lookup-safety tests of the sprint-2 table: torn reads,
 * reused cells, retired memory and lost values, shared by the plain
 * program (torn_tsan.c: ASan in `make test`, ThreadSanitizer in
 * tests/tsan_stress.sh) and the Criterion test (test_concurrency.c).
 *
 * Why. Lookups may read a shard without its lock (optimistically, under a
 * sequence counter), small entries live in arena cells that the next entry
 * of the same size reuses at once, and large entries and old arrays are
 * freed by epoch. Each of these breaks silently when done wrong: a reader
 * copies half of one value and half of the next, returns another key's
 * value from a reused cell, reads an array or entry already freed, or a
 * write is lost. These cases are built to see exactly that.
 *
 * Values check themselves. A value is [key id u32][writer u16][length u16]
 * [seq u64][filler derived from (key, writer, seq)][xxh3 of all previous
 * bytes, u64]: 24..324 bytes (inline in the arena), or 600..1500 (out of
 * line, above HT_INLINE_MAX). Every hit must be the key's own value,
 * checksum and filler intact, its length the one in its header, written by
 * a real writer that had started that sequence. Lookups alternate between
 * ht_get_copy() with a large buffer, ht_get_copy() with a 16-byte cap (the
 * copy stops at cap, *vlen is the full length), ht_get() with a callback
 * that copies and verifies (called exactly once per hit), ht_get() as an
 * existence test, and, through the engine, kv_get().
 *
 * The cases (TN_WRITERS writers, TN_READERS readers, a table created with
 * 64 slots in 2 shards, so shards resize under the readers):
 *   - TN_TORN: both writers overwrite 64 hot keys with values of varying
 *     size; every 8th write inserts a new key (the table keeps growing).
 *     Every read of a hot key or an inserted key must hit and verify.
 *   - TN_REUSE: keys 0..15 are constant (overwritten, never deleted: must
 *     always hit); each writer owns half of keys 16..63 and deletes one and
 *     inserts another of the SAME entry size (its freed cell goes to the
 *     other key), or deletes and re-inserts the same key. A hit must carry
 *     the key's own id.
 *   - TN_RESIZE: one writer inserts `ops` new keys in order (and overwrites
 *     earlier ones now and then), publishing its progress; readers look up
 *     inserted keys (must hit) and absent keys (must miss).
 * The end of each: every key is checked against the writers' models (its
 * value must be the LAST write of the writer that wrote it: a resurrected
 * older value is a lost write), the key count is exact, ht_check() holds.
 * tn_fastpath(): single-threaded lookups must leave read_retries and
 * read_fallbacks at 0 (no writer ran, so no reader had a reason to retry).
 *
 * Bounded: `ops` writes per writer, and each case stops at `secs` seconds
 * of wall clock (not a failure; the detail says so). The first failure
 * stops every thread; tn_run() returns NULL on success, else the failure.
 */
#ifndef TORN_H
#define TORN_H

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
#define TN_LOADER TN_WRITERS       /* the writer id of values loaded before the threads */
#define TN_HOT 64                  /* keys of TN_TORN and TN_REUSE */
#define TN_CONST 16                /* TN_REUSE: keys 0..15 are never deleted */
#define TN_GROW_BASE 10000000u     /* TN_TORN: writer w's n-th new key is base + w * 1e6 + n */
#define TN_ABSENT_BASE 90000000u   /* never inserted */
#define TN_HDR 16                  /* id, writer, length, seq */
#define TN_MIN 24                  /* header + checksum */
#define TN_VMAX 1536               /* longest value (a same-size swap adds up to 12 bytes) */
#define TN_BUF 2048

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
    size_t nkeys;  /* size of the models */
    double deadline;
    atomic_int failed, capped, writers, go; /* go: every thread has started */
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
    static const char *const how_name[] = {"ht_get_copy, cap 16", "ht_get, no callback",
                                           "ht_get", "ht_get_copy", "kv_get"};
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
                  : vl != hlen ? "ht_get_copy's *vlen is not the value's length" : NULL;
    } else if (how == 1) {
        rc = ht_get(sh->tg.t, k, kl, NULL, NULL);
    } else if (how < 5) {
        how = 2;
        r->calls = 0;
        r->bad = NULL;
        r->want = id;
        rc = ht_get(sh->tg.t, k, kl, tn_cb, r);
        bad = rc == HT_OK && r->calls != 1 ? "a hit did not call the callback exactly once"
              : rc == HT_ENOTFOUND && r->calls ? "a miss called the callback"
              : rc == HT_OK ? r->bad : NULL;
        vl = rc == HT_OK ? r->len : vl;
    } else {
        how = 3;
        memcpy(r->buf + TN_BUF, canary, 16);
        rc = ht_get_copy(sh->tg.t, k, kl, r->buf, TN_BUF, &vl);
        if (rc == HT_OK)
            bad = memcmp(r->buf + TN_BUF, canary, 16) ? "ht_get_copy wrote past cap"
                  : vl > TN_VMAX ? "a value of impossible length"
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
    tn_fail(r->sh, "%s: key %u", want == HT_OK ? "a key that must be present was not found"
                                                : "an absent key was found", id);
    return false;
}

static void *tn_read_main(void *arg)
{
    struct tn_reader *r = arg;
    struct tn_shared *sh = r->sh;
    uint64_t rng = tk_mix(1000 + r->id);

    for (unsigned op = 1; atomic_load(&sh->writers) > 0 && !tn_stop(sh, op); op++) {
        uint64_t x = rng = tk_mix(rng), n;
        unsigned how = (unsigned)(x >> 40), w = (unsigned)(x >> 20) % TN_WRITERS;
        uint32_t id = (uint32_t)(x % TN_HOT);
        bool ok = true;

        if (sh->kind == TN_TORN) {
            n = atomic_load(&sh->grown[w]);
            if (x % 4 == 0 && n)
                id = TN_GROW_BASE + w * 1000000u + (uint32_t)((x >> 8) % n);
            ok = tn_expect(r, id, how, HT_OK);
        } else if (sh->kind == TN_REUSE) {
            unsigned ww;
            uint64_t seq;
            ok = id < TN_CONST ? tn_expect(r, id, how, HT_OK) : tn_get(r, id, how, &ww, &seq) >= -1;
        } else if (x % 4 == 0) {
            ok = tn_expect(r, TN_ABSENT_BASE + (uint32_t)((x >> 8) % 1000000), how, HT_ENOTFOUND);
        } else if ((n = atomic_load(&sh->grown[0])) != 0) {
            ok = tn_expect(r, (uint32_t)((x >> 8) % n), how, HT_OK);
        } else {
            sched_yield(); /* nothing inserted yet: let the writer run */
        }
        if (!ok)
            break;
    }
    return NULL;
}

/* TN_REUSE: an own key of writer wr that is absent, starting the search at r; UINT32_MAX: none. */
static uint32_t tn_absent_own(struct tn_writer *wr, uint64_t r)
{
    const uint32_t own = (TN_HOT - TN_CONST) / TN_WRITERS;

    for (uint32_t i = 0; i < own; i++) {
        uint32_t k = TN_CONST + (uint32_t)((r + i) % own) * TN_WRITERS + wr->id;
        if (!wr->vlen[k])
            return k;
    }
    return UINT32_MAX;
}

/* One write step of writer wr in TN_REUSE: swap an own key for another of the same
 * entry size, delete and re-insert one, or overwrite a constant key. */
static int tn_reuse_step(struct tn_writer *wr, uint64_t x)
{
    struct tn_shared *sh = wr->sh;
    unsigned char k[TK_MAX];
    uint32_t a = TN_CONST + (uint32_t)((x >> 8) % ((TN_HOT - TN_CONST) / TN_WRITERS)) *
                 TN_WRITERS + wr->id, b = a;
    size_t len = tn_len(x >> 16) + 12, keep = wr->vlen[a];
    int rc;

    if (x % 8 == 0) { /* a constant key: overwritten, never deleted */
        b = (uint32_t)((x >> 8) % TN_CONST);
        len -= 12;
    } else if (keep) {
        if ((rc = tn_del(sh, a)) != HT_OK) {
            tn_fail(sh, "delete of a present key returned %d: key %u", rc, a);
            return rc;
        }
        wr->vlen[a] = 0;
        /* the same entry size: another key (its cell is the one just freed), or a again */
        if (x % 8 < 5 && (b = tn_absent_own(wr, x >> 24)) == UINT32_MAX)
            return HT_OK;
        len = keep + tk_key(a, k) - tk_key(b, k);
        if (len < TN_MIN || len > TN_VMAX) { /* sizes drift over swaps: a again */
            b = a;
            len = keep;
        }
    }
    if ((rc = tn_put(wr, b, len)) != HT_OK) {
        tn_fail(sh, "put failed with %d: key %u", rc, b);
        return rc;
    }
    wr->last[b] = wr->seq;
    if (b >= TN_CONST)
        wr->vlen[b] = len;
    return HT_OK;
}

static void *tn_write_main(void *arg)
{
    struct tn_writer *wr = arg;
    struct tn_shared *sh = wr->sh;
    uint64_t rng = tk_mix(100 + wr->id);
    uint32_t n = 0;
    int rc = HT_OK;

    for (unsigned op = 1; op <= sh->ops && !tn_stop(sh, op) && rc == HT_OK; op++) {
        uint64_t x = rng = tk_mix(rng);
        uint32_t id = (uint32_t)(x % TN_HOT);
        bool fresh = false; /* a new key, published in grown[] once inserted */

        if (sh->kind == TN_REUSE) {
            rc = tn_reuse_step(wr, x);
            continue;
        }
        if (sh->kind == TN_RESIZE) { /* the next new key, or overwrite an earlier one */
            fresh = x % 4 || n == 0;
            id = fresh ? n : (uint32_t)((x >> 8) % n);
        } else if (x % 8 == 0) {
            fresh = true;
            id = TN_GROW_BASE + wr->id * 1000000u + n;
        }
        if ((rc = tn_put(wr, id, tn_len(x >> 12))) != HT_OK) {
            tn_fail(sh, "put failed with %d: key %u", rc, id);
            break;
        }
        if (id < sh->nkeys)
            wr->last[id] = wr->seq;
        if (fresh)
            atomic_store(&sh->grown[wr->id], ++n);
    }
    atomic_fetch_sub(&sh->writers, 1);
    return NULL;
}

/* The end: every key against the models, the key count, the invariants. */
static void tn_final(struct tn_shared *sh)
{
    struct tn_reader *r = &sh->r[0];
    uint64_t keys = 0, want = 0;
    kv_stats ks;

    for (uint32_t id = 0; id < sh->nkeys && !atomic_load(&sh->failed); id++) {
        unsigned w, owner = (id - TN_CONST) % TN_WRITERS;
        bool present = sh->kind != TN_REUSE || id < TN_CONST || sh->w[owner].vlen[id];
        uint64_t seq;
        int rc;

        if (sh->kind == TN_RESIZE && id >= atomic_load(&sh->grown[0]))
            break;
        rc = tn_get(r, id, 5, &w, &seq);
        want += present;
        if (rc == TN_BROKEN)
            break;
        if (rc != (present ? HT_OK : HT_ENOTFOUND))
            tn_fail(sh, "final state: key %u is %s", id, present ? "missing" : "present");
        else if (present && seq != sh->w[w].last[id])
            tn_fail(sh, "final state: key %u holds an older write (writer %u seq %llu, its last "
                    "%llu): a lost value", id, w, (unsigned long long)seq,
                    (unsigned long long)sh->w[w].last[id]);
        else if (present && w == TN_LOADER && (sh->w[0].last[id] || sh->w[1].last[id]))
            tn_fail(sh, "final state: key %u holds its loaded value, a later write was lost", id);
    }
    for (unsigned w = 0; w < TN_WRITERS && sh->kind == TN_TORN; w++) { /* the new keys */
        uint64_t n = atomic_load(&sh->grown[w]);
        want += n;
        for (uint32_t i = 0; i < n && !atomic_load(&sh->failed); i++)
            if (!tn_expect(r, TN_GROW_BASE + w * 1000000u + i, 5, HT_OK))
                break;
    }
    for (uint32_t i = 0; i < 100 && !atomic_load(&sh->failed); i++)
        if (!tn_expect(r, TN_ABSENT_BASE + i * 7919, 5, HT_ENOTFOUND))
            break;
    if (atomic_load(&sh->failed))
        return;
    if (sh->tg.t) {
        const char *what = "";
        keys = tt_stats(sh->tg.t).keys;
        if (ht_check(sh->tg.t, &what) != 0)
            tn_fail(sh, "final state: an invariant is broken: %s", what);
    } else if (kv_db_stats(sh->tg.db, &ks) == KV_OK) {
        keys = ks.keys;
    }
    if (keys != want)
        tn_fail(sh, "final state: %llu keys, the model has %llu", (unsigned long long)keys,
                (unsigned long long)want);
}

/* Run a case; NULL on success, else the failure (detail: what, or "capped" notes). */
static const char *tn_run(struct tn_target tg, enum tn_case kind, unsigned ops, double secs,
                          char *detail, size_t dlen)
{
    struct tn_shared *sh = calloc(1, sizeof(*sh));
    unsigned nw = kind == TN_RESIZE ? 1 : TN_WRITERS;
    pthread_t wt[TN_WRITERS], rt[TN_READERS];
    const char *failure = NULL;
    uint64_t reads = 0, hits = 0;
    bool ok = sh != NULL;

    if (!ok)
        return "out of memory";
    sh->tg = tg;
    sh->kind = kind;
    sh->ops = ops;
    sh->nkeys = kind == TN_RESIZE ? ops + 1 : TN_HOT;
    sh->deadline = tn_now() + secs;
    for (unsigned w = 0; w <= TN_WRITERS; w++) {
        sh->w[w] = (struct tn_writer){.sh = sh, .id = w, .last = calloc(sh->nkeys, 8),
                                      .vlen = calloc(sh->nkeys, sizeof(size_t))};
        ok = ok && sh->w[w].last && sh->w[w].vlen;
    }
    if (!ok)
        abort(); /* out of memory before the case ran: nothing to report */
    for (uint32_t id = 0; kind != TN_RESIZE && id < TN_HOT; id++) { /* the loaded keys */
        struct tn_writer *wr = kind == TN_REUSE && id >= TN_CONST
                                   ? &sh->w[(id - TN_CONST) % TN_WRITERS] : &sh->w[TN_LOADER];
        size_t len = tn_len(tk_mix(id)) + 12;
        int rc = tn_put(wr, id, len);
        if (rc != HT_OK)
            tn_fail(sh, "loading key %u failed with %d", id, rc);
        wr->last[id] = wr->seq;
        wr->vlen[id] = len;
    }
    for (unsigned i = 0; i < TN_READERS; i++) {
        sh->r[i].sh = sh;
        sh->r[i].id = i;
    }
    if (!atomic_load(&sh->failed)) {
        atomic_store(&sh->writers, (int)nw);
        for (unsigned i = 0; i < TN_READERS; i++)
            if (pthread_create(&rt[i], NULL, tn_read_main, &sh->r[i]) != 0)
                abort();
        for (unsigned w = 0; w < nw; w++)
            if (pthread_create(&wt[w], NULL, tn_write_main, &sh->w[w]) != 0)
                abort();
        atomic_store(&sh->go, 1);
        for (unsigned w = 0; w < nw; w++)
            pthread_join(wt[w], NULL);
        for (unsigned i = 0; i < TN_READERS; i++) {
            pthread_join(rt[i], NULL);
            reads += sh->r[i].reads;
            hits += sh->r[i].hits;
        }
        tn_final(sh);
    }
    failure = atomic_load(&sh->failed) ? "failed" : NULL;
    if (failure)
        snprintf(detail, dlen, "%s", sh->detail);
    else
        snprintf(detail, dlen, "%llu lookups, %llu hits%s", (unsigned long long)reads,
                 (unsigned long long)hits, atomic_load(&sh->capped) ? "; capped by the time" : "");
    for (unsigned w = 0; w <= TN_WRITERS; w++) {
        free(sh->w[w].last);
        free(sh->w[w].vlen);
    }
    for (unsigned i = 0; i < TN_READERS; i++)
        kv_buf_free(&sh->r[i].kb);
    free(sh);
    return failure;
}

/* Single-threaded lookups of n loaded keys (hits every way, and misses) must
 * leave read_retries and read_fallbacks at 0. NULL on success. */
static const char *tn_fastpath(ht_table *t, uint32_t n, char *detail, size_t dlen)
{
    struct tn_shared *sh = calloc(1, sizeof(*sh));
    const char *failure = NULL, *what = "";
    ht_stats st;

    if (!sh)
        return "out of memory";
    sh->tg.t = t;
    sh->r[0].sh = sh;
    sh->w[0] = (struct tn_writer){.sh = sh, .id = 0};
    for (uint32_t id = 0; id < n && !atomic_load(&sh->failed); id++)
        if (tn_put(&sh->w[0], id, tn_len(tk_mix(id))) != HT_OK)
            tn_fail(sh, "loading key %u failed", id);
    for (unsigned how = 0; how < 8; how++)
        for (uint32_t id = 0; id < n && !atomic_load(&sh->failed); id++)
            if (!tn_expect(&sh->r[0], id, how, HT_OK) ||
                !tn_expect(&sh->r[0], TN_ABSENT_BASE + id, how, HT_ENOTFOUND))
                break;
    ht_get_stats(t, &st);
    if (!atomic_load(&sh->failed) && (st.read_retries || st.read_fallbacks))
        tn_fail(sh, "lookups with no writer left read_retries %llu, read_fallbacks %llu (want 0)",
                (unsigned long long)st.read_retries, (unsigned long long)st.read_fallbacks);
    else if (!atomic_load(&sh->failed) && (st.keys != n || st.arena_mem > st.mem_bytes))
        tn_fail(sh, "stats: %llu keys (want %u), arena_mem %llu above mem_bytes %llu",
                (unsigned long long)st.keys, n, (unsigned long long)st.arena_mem,
                (unsigned long long)st.mem_bytes);
    else if (!atomic_load(&sh->failed) && ht_check(t, &what) != 0)
        tn_fail(sh, "an invariant is broken: %s", what);
    failure = atomic_load(&sh->failed) ? "failed" : NULL;
    snprintf(detail, dlen, "%s", failure ? sh->detail : "");
    free(sh);
    return failure;
}

#endif /* TORN_H */
