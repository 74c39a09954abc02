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
 * The values check themselves and every lookup verifies what it got
 * (tests/torn_check.h: key id, writer, sequence, length, checksum).
 *
 * The cases (TN_WRITERS writers, TN_READERS readers, a table created with
 * 64 slots in 2 shards, so shards resize under the readers):
 *   - TN_TORN: both writers overwrite TN_TORN_HOT (16) hot keys with
 *     values whose size changes every write (inline and out of line); every
 *     8th write inserts a new key (the table keeps growing). Every read of
 *     a hot key or an inserted key must hit and verify.
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
 * What catches what: a torn or foreign value fails tn_verify(); a reader
 * touching a freed entry or array is an AddressSanitizer report (the plain
 * run) and a reader racing a writer without synchronisation a
 * ThreadSanitizer report (tsan_stress.sh); a lost key fails a must-hit
 * lookup, a lost write the final check.
 *
 * Bounded: `ops` writes per writer, and each case stops at `secs` seconds
 * of wall clock (not a failure; the detail says so). The first failure
 * stops every thread; tn_run() returns NULL on success, else the failure.
 */
#ifndef TORN_H
#define TORN_H

#include "torn_check.h"

/* Reader i: lookups until the writers are done, each checked (tn_get). */
static void *tn_read_main(void *arg)
{
    struct tn_reader *r = arg;
    struct tn_shared *sh = r->sh;
    uint64_t rng = tk_mix(1000 + r->id);

    for (unsigned op = 1; atomic_load(&sh->writers) > 0 && !tn_stop(sh, op); op++) {
        uint64_t x = rng = tk_mix(rng), n;
        unsigned how = (unsigned)(x >> 40), w = (unsigned)(x >> 20) % TN_WRITERS;
        uint32_t id = (uint32_t)(x % sh->nkeys);
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

/* One write step of writer wr in TN_REUSE on a random own key a: present, a is
 * deleted and another own key inserted with the same entry size (4 in 8), or a
 * again (2 in 8), or nothing (1 in 8); absent, a is inserted. Or (1 in 8) a
 * constant key is overwritten. */
static int tn_reuse_step(struct tn_writer *wr, uint64_t x)
{
    struct tn_shared *sh = wr->sh;
    unsigned char k[TK_MAX];
    const uint32_t own = (TN_HOT - TN_CONST) / TN_WRITERS;
    uint32_t a = TN_CONST + (uint32_t)((x >> 8) % own) * TN_WRITERS + wr->id, b = a;
    size_t len = tn_len(x >> 16) + 12, keep = wr->vlen[a];
    int rc;

    if (x % 8 == 0) { /* a constant key: overwritten, never deleted */
        b = (uint32_t)((x >> 8) % TN_CONST);
        len -= 12;
    } else if (keep) {
        /* the same entry size: another key (it gets the cell just freed), or a again */
        if (x % 8 < 5 && (b = tn_absent_own(wr, x >> 24)) == UINT32_MAX)
            b = a; /* every own key is present */
        if ((rc = tn_del(sh, a)) != HT_OK) {
            tn_fail(sh, "delete of a present key returned %d: key %u", rc, a);
            return rc;
        }
        wr->vlen[a] = 0;
        if (x % 8 == 7)
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
        uint32_t id = (uint32_t)(x % sh->nkeys);
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
            tn_fail(sh,
                    "final state: key %u holds an older write (writer %u seq %llu, its last "
                    "%llu): a lost value",
                    id, w, (unsigned long long)seq, (unsigned long long)sh->w[w].last[id]);
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
    sh->nkeys = kind == TN_RESIZE ? ops + 1 : kind == TN_TORN ? TN_TORN_HOT : TN_HOT;
    sh->deadline = tn_now() + secs;
    for (unsigned w = 0; w <= TN_WRITERS; w++) {
        sh->w[w] = (struct tn_writer){.sh = sh,
                                      .id = w,
                                      .last = calloc(sh->nkeys, 8),
                                      .vlen = calloc(sh->nkeys, sizeof(size_t))};
        ok = ok && sh->w[w].last && sh->w[w].vlen;
    }
    if (!ok)
        abort(); /* out of memory before the case ran: nothing to report */
    /* The loaded keys: every hot or constant key, and half of TN_REUSE's own
     * keys (by their owner: the other half is absent, for the swaps). */
    for (uint32_t id = 0; kind != TN_RESIZE && id < sh->nkeys; id++) {
        bool own = kind == TN_REUSE && id >= TN_CONST;
        struct tn_writer *wr = own ? &sh->w[(id - TN_CONST) % TN_WRITERS] : &sh->w[TN_LOADER];
        size_t len = tn_len(tk_mix(id)) + 12;
        int rc;
        if (own && (id - TN_CONST) / TN_WRITERS % 2)
            continue;
        rc = tn_put(wr, id, len);
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
    else {
        /* core tables: how often a reader met a writer (the retry path ran) */
        ht_stats st = {0};
        if (tg.t)
            ht_get_stats(tg.t, &st);
        snprintf(detail, dlen, "%llu lookups, %llu hits, %llu retries, %llu locked%s",
                 (unsigned long long)reads, (unsigned long long)hits,
                 (unsigned long long)st.read_retries, (unsigned long long)st.read_fallbacks,
                 atomic_load(&sh->capped) ? "; capped by the time" : "");
    }
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
