/*
 * scenario_kit.h — what the simulator's scenario runners share
 * (scenarios.c: 3A-3C; scenarios_more.c: client histories, snapshots
 * (3D) and lease reads; scenarios_member.c: membership changes): the
 * per-run state T, 6.5840's helpers (one_leader, one, check_terms ...),
 * crash and restart, and the runner scenario_main() with its command line.
 *
 * Each runner is its own program (a plain test of make test, see
 * lab.mk); this header is included by each of them, once: its functions are
 * static inline so that a runner that uses few of them still builds with
 * -Werror.
 *
 * The limits are 6.5840's, in simulated time: a leader within 5 s (ten
 * rounds of 450-550 ms), agreement within 10 s (one(): 2 s per attempt).
 * Callers must not keep a raft pointer across a crash (raft_sim.h).
 */
#ifndef KVLABS_SCENARIO_KIT_H
#define KVLABS_SCENARIO_KIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvlabs/kv.h"
#include "kvlabs/rng.h"
#include "raft_lincheck.h"
#include "raft_sim.h"

typedef struct T {
    raft_sim *s;
    uint32_t n;
    kv_rng rng;
    uint64_t agreements;
} T;

#define BAD(t) (raft_sim_failure((t)->s) != NULL)
#define FAIL(t, ...)                                                                               \
    do {                                                                                           \
        raft_sim_fail((t)->s, __VA_ARGS__);                                                        \
        return;                                                                                    \
    } while (0)
#define CHECK(t)                                                                                   \
    do {                                                                                           \
        if (BAD(t))                                                                                \
            return;                                                                                \
    } while (0)

static inline void setup(T *t, uint32_t n, uint32_t voters, uint64_t seed, bool unreliable,
                  uint64_t snap_every, size_t max_batch, bool lease)
{
    raft_sim_config c = { .n = n, .voters = voters, .seed = seed, .snapshot_every = snap_every,
                          .snapshot_chunk = snap_every ? 64 : 0, .max_batch = max_batch,
                          .lease_read = lease };
    t->s = raft_sim_new(&c);
    t->n = n;
    t->agreements = 0;
    kv_rng_seed(&t->rng, seed ^ 0x5eed);
    raft_sim_set_unreliable(t->s, unreliable);
}

static inline uint64_t rnd(T *t) { return kv_rng_next(&t->rng) >> 1; }
static inline uint64_t below(T *t, uint64_t n) { return kv_rng_below(&t->rng, n); }
static inline void run(T *t, uint64_t ms) { raft_sim_run(t->s, ms); }

static inline bool usable(T *t, uint32_t i)
{
    return raft_sim_up(t->s, i) && raft_sim_connected(t->s, i);
}

/* 6.5840's checkOneLeader: ten rounds of 450-550 ms, i.e. 5 s at most. */
static inline int one_leader(T *t)
{
    for (int it = 0; it < 10 && !BAD(t); it++) {
        run(t, 450 + below(t, 101));
        uint32_t leader_of[64];
        uint64_t best = 0;
        int who = -1;
        memset(leader_of, 0xff, sizeof leader_of);
        for (uint32_t i = 0; i < t->n; i++) {
            raft *r = raft_sim_core(t->s, i);
            if (!usable(t, i) || raft_get_role(r) != RAFT_LEADER)
                continue;
            uint64_t term = raft_get_term(r);
            if (term >= best) {
                if (term == best && who >= 0) {
                    raft_sim_fail(t->s, "term %llu has leaders %d and %u",
                                  (unsigned long long)term, who, i);
                    return -1;
                }
                best = term;
                who = (int)i;
            }
        }
        if (who >= 0)
            return who;
    }
    raft_sim_fail(t->s, "expected one leader within 5 s, got none (t=%llu ms)",
                  (unsigned long long)raft_sim_now(t->s));
    return -1;
}

static inline uint64_t check_terms(T *t)
{
    uint64_t term = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        if (!usable(t, i))
            continue;
        uint64_t x = raft_get_term(raft_sim_core(t->s, i));
        if (term == 0)
            term = x;
        else if (x != term)
            raft_sim_fail(t->s, "servers disagree on term (%llu, %llu)", (unsigned long long)term,
                          (unsigned long long)x);
    }
    return term;
}

static inline void check_no_leader(T *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (usable(t, i) && raft_get_role(raft_sim_core(t->s, i)) == RAFT_LEADER)
            raft_sim_fail(t->s, "expected no leader among connected servers, but %u claims", i);
}

/* 6.5840's one(): submit at some leader, wait up to 2 s for `expected`
 * servers to apply it, retry for up to 10 s. Returns the index or 0. */
static inline uint64_t one_bytes(T *t, const void *cmd, uint32_t len, unsigned expected,
                                 bool retry)
{
    uint64_t d = raft_sim_digest(cmd, len), t0 = raft_sim_now(t->s);
    static uint32_t starts;
    while (raft_sim_now(t->s) - t0 < 10000 && !BAD(t)) {
        uint64_t index = 0;
        for (uint32_t k = 0; k < t->n; k++) {
            uint32_t i = (starts + k) % t->n;
            if (usable(t, i) && raft_sim_propose(t->s, i, cmd, len, &index, NULL) == 0)
                break;
            index = 0;
        }
        starts = (starts + 1) % t->n;
        if (index) {
            uint64_t t1 = raft_sim_now(t->s);
            while (raft_sim_now(t->s) - t1 < 2000 && !BAD(t)) {
                uint64_t got = 0;
                unsigned nd = raft_sim_n_committed(t->s, index, &got);
                if (nd > 0 && nd >= expected && got == d) {
                    t->agreements++;
                    return index;
                }
                run(t, 20);
            }
            if (!retry)
                break;
        } else {
            run(t, 50);
        }
    }
    raft_sim_fail(t->s, "one(%016llx) failed to reach agreement on %u servers (t=%llu ms)",
                  (unsigned long long)d, expected, (unsigned long long)raft_sim_now(t->s));
    return 0;
}

static inline uint64_t one(T *t, uint64_t cmd, unsigned expected, bool retry)
{
    return one_bytes(t, &cmd, sizeof cmd, expected, retry);
}

static inline uint64_t start(T *t, uint32_t i, uint64_t cmd)
{
    uint64_t index = 0;
    if (raft_sim_propose(t->s, i, &cmd, sizeof cmd, &index, NULL) != 0)
        return 0;
    return index;
}

static inline int find_leader(T *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (raft_sim_up(t->s, i) && raft_get_role(raft_sim_core(t->s, i)) == RAFT_LEADER)
            return (int)i;
    return -1;
}

static inline void crash(T *t, uint32_t i)
{
    raft_sim_disconnect(t->s, i);
    raft_sim_crash(t->s, i, below(t, 2) ? KV_CRASH_TORN : KV_CRASH_DROP);
}

static inline void restart(T *t, uint32_t i)
{
    raft_sim_crash(t->s, i, KV_CRASH_DROP);
    raft_sim_restart(t->s, i);
}

typedef struct scenario {
    const char *name;
    void (*fn)(T *);
    uint32_t n;
    bool unreliable;
    uint64_t snap_every;
    unsigned seeds;   /* in `make test` */
    size_t max_batch; /* 0: the default */
    bool lease;       /* lease reads on (raft_config::lease_read) */
    uint32_t voters;  /* the initial voters 0 .. voters-1 (0: all n; the others are spares) */
} scenario;


/* The runner: every scenario of table on its seeds (see the file comment);
 * epilogue (may be NULL) prints a file's own summary before the totals. */
static inline int scenario_main(int argc, char **argv, const scenario *table, size_t n_table,
                                void (*epilogue)(void))
{
    const char *only = NULL;
    long long seed = -1, seeds = -1, first = 1;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--scenario") && i + 1 < argc)
            only = argv[++i];
        else if (!strcmp(argv[i], "--seed") && i + 1 < argc)
            seed = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--seeds") && i + 1 < argc)
            seeds = atoll(argv[++i]);
        else if (!strcmp(argv[i], "--first") && i + 1 < argc)
            first = atoll(argv[++i]);
        else if (!strcmp(argv[i], "-v"))
            verbose = true;
        else {
            fprintf(stderr, "usage: %s [--scenario NAME] [--seed S | --seeds K [--first S]] [-v]\n",
                    argv[0]);
            return 2;
        }
    }
    unsigned passed = 0, failed = 0, matched = 0;
    double sim_total = 0;
    clock_t c0 = clock();
    for (size_t k = 0; k < n_table; k++) {
        const scenario *sc = &table[k];
        if (only && strcmp(only, sc->name))
            continue;
        matched++;
        long long lo = seed >= 0 ? seed : first;
        long long cnt = seed >= 0 ? 1 : seeds >= 0 ? seeds : sc->seeds;
        unsigned ok = 0, bad = 0;
        double sim_s = 0;
        uint64_t rpcs = 0, agreements = 0;
        clock_t t0 = clock();
        for (long long s = lo; s < lo + cnt; s++) {
            T t;
            setup(&t, sc->n, sc->voters, (uint64_t)s, sc->unreliable, sc->snap_every,
                  sc->max_batch, sc->lease);
            sc->fn(&t);
            const char *f = raft_sim_failure(t.s);
            sim_s += raft_sim_now(t.s) / 1000.0;
            rpcs += raft_sim_get_stats(t.s)->rpcs;
            agreements += t.agreements;
            if (f) {
                bad++;
                printf("FAIL %s seed %lld: %s\n  replay: %s --scenario %s --seed %lld\n", sc->name,
                       s, f, argv[0], sc->name, s);
            } else {
                ok++;
                if (verbose)
                    printf("  %s seed %lld ok (%.1f s simulated)\n", sc->name, s,
                           raft_sim_now(t.s) / 1000.0);
            }
            raft_sim_free(t.s);
        }
        double wall = (double)(clock() - t0) / CLOCKS_PER_SEC;
        sim_total += sim_s;
        printf("%-26s seeds %lld..%lld: %u ok, %u failed; %.1f s simulated in %.2f s (%.0fx); "
               "%.1f RPCs per agreement\n",
               sc->name, lo, lo + cnt - 1, ok, bad, sim_s, wall, wall > 0 ? sim_s / wall : 0.0,
               agreements ? (double)rpcs / (double)agreements : 0.0);
        passed += ok;
        failed += bad;
    }
    if (only && matched == 0) {
        fprintf(stderr, "no scenario named %s\n", only);
        return 2;
    }
    double wall = (double)(clock() - c0) / CLOCKS_PER_SEC;
    if (epilogue)
        epilogue();
    printf("total: %.1f s simulated in %.2f s CPU (%.0fx real time)\n", sim_total, wall,
           wall > 0 ? sim_total / wall : 0.0);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}

#endif /* KVLABS_SCENARIO_KIT_H */
