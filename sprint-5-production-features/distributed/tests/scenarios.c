/*
 * scenarios.c — the MIT 6.5840 Raft scenarios (3A election, 3B agreement,
 * 3C persistence, 3D snapshots) and a few more, run on the deterministic
 * simulator (raft_sim.h) over a fixed set of seeds.
 *
 * Usage: scenarios [--scenario NAME] [--seed S | --seeds K] [--first S] [-v]
 *   no arguments: every scenario on its default seeds (what `make test` runs);
 *   --seeds K: K seeds per scenario starting at --first (`make stress`: 200);
 *   --scenario NAME --seed S: replay one run exactly.
 * Prints one line per scenario (seeds, simulated time, RPCs per agreement),
 * the seed and the replay command of every failure, and "N passed, N failed"
 * (one count per scenario and seed).
 *
 * The limits are 6.5840's, in simulated time: a leader within 5 s (ten
 * rounds of 450-550 ms), agreement within 10 s (one(): 2 s per attempt),
 * at most 10 heartbeats a second per follower, the RPC counts of Count and
 * the byte count of RPCBytes. Differences from 6.5840: a new leader
 * appends an empty entry, so command indexes are not 1, 2, 3 ...: the tests
 * check the index Start returned instead of a fixed one.
 */
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

static void setup(T *t, uint32_t n, uint64_t seed, bool unreliable, uint64_t snap_every,
                  size_t max_batch, bool lease)
{
    raft_sim_config c = { .n = n, .seed = seed, .snapshot_every = snap_every,
                          .snapshot_chunk = snap_every ? 64 : 0, .max_batch = max_batch,
                          .lease_read = lease };
    t->s = raft_sim_new(&c);
    t->n = n;
    t->agreements = 0;
    kv_rng_seed(&t->rng, seed ^ 0x5eed);
    raft_sim_set_unreliable(t->s, unreliable);
}

static uint64_t rnd(T *t) { return kv_rng_next(&t->rng) >> 1; }
static uint64_t below(T *t, uint64_t n) { return kv_rng_below(&t->rng, n); }
static void run(T *t, uint64_t ms) { raft_sim_run(t->s, ms); }

static bool usable(T *t, uint32_t i)
{
    return raft_sim_up(t->s, i) && raft_sim_connected(t->s, i);
}

/* 6.5840's checkOneLeader: ten rounds of 450-550 ms, i.e. 5 s at most. */
static int one_leader(T *t)
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

static uint64_t check_terms(T *t)
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

static void check_no_leader(T *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (usable(t, i) && raft_get_role(raft_sim_core(t->s, i)) == RAFT_LEADER)
            raft_sim_fail(t->s, "expected no leader among connected servers, but %u claims", i);
}

/* 6.5840's one(): submit at some leader, wait up to 2 s for `expected`
 * servers to apply it, retry for up to 10 s. Returns the index or 0. */
static uint64_t one_bytes(T *t, const void *cmd, uint32_t len, unsigned expected, bool retry)
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

static uint64_t one(T *t, uint64_t cmd, unsigned expected, bool retry)
{
    return one_bytes(t, &cmd, sizeof cmd, expected, retry);
}

static uint64_t start(T *t, uint32_t i, uint64_t cmd)
{
    uint64_t index = 0;
    if (raft_sim_propose(t->s, i, &cmd, sizeof cmd, &index, NULL) != 0)
        return 0;
    return index;
}

static int find_leader(T *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        if (raft_sim_up(t->s, i) && raft_get_role(raft_sim_core(t->s, i)) == RAFT_LEADER)
            return (int)i;
    return -1;
}

static void crash(T *t, uint32_t i)
{
    raft_sim_disconnect(t->s, i);
    raft_sim_crash(t->s, i, below(t, 2) ? KV_CRASH_TORN : KV_CRASH_DROP);
}

static void restart(T *t, uint32_t i)
{
    raft_sim_crash(t->s, i, KV_CRASH_DROP);
    raft_sim_restart(t->s, i);
}

/* ---- 3A: election ---------------------------------------------------------- */

static void initial_election(T *t)
{
    one_leader(t);
    CHECK(t);
    run(t, 50);
    uint64_t term1 = check_terms(t);
    CHECK(t);
    if (term1 < 1)
        FAIL(t, "term is %llu, but should be at least 1", (unsigned long long)term1);
    uint64_t hb0 = raft_sim_get_stats(t->s)->msgs[RAFT_MSG_HEARTBEAT];
    run(t, 2000);
    uint64_t hb = raft_sim_get_stats(t->s)->msgs[RAFT_MSG_HEARTBEAT] - hb0;
    if (hb > 2 * 10 * (t->n - 1))
        FAIL(t, "%llu heartbeats in 2 s: more than 10 a second per follower",
             (unsigned long long)hb);
    if (check_terms(t) != term1)
        FAIL(t, "term changed with no failures");
    one_leader(t);
}

static void re_election(T *t)
{
    int l1 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, l1);
    one_leader(t);
    CHECK(t);
    raft_sim_connect(t->s, l1);
    int l2 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, l2);
    raft_sim_disconnect(t->s, (l2 + 1) % t->n);
    run(t, 2000);
    check_no_leader(t);
    CHECK(t);
    raft_sim_connect(t->s, (l2 + 1) % t->n);
    one_leader(t);
    CHECK(t);
    raft_sim_connect(t->s, l2);
    one_leader(t);
}

static void many_elections(T *t)
{
    one_leader(t);
    for (int it = 0; it < 10 && !BAD(t); it++) {
        uint32_t a = below(t, t->n), b = below(t, t->n), c = below(t, t->n);
        raft_sim_disconnect(t->s, a);
        raft_sim_disconnect(t->s, b);
        raft_sim_disconnect(t->s, c);
        one_leader(t); /* a quorum is still connected, or one of them was repeated */
        raft_sim_connect(t->s, a);
        raft_sim_connect(t->s, b);
        raft_sim_connect(t->s, c);
    }
    one_leader(t);
}

/* A follower partitioned away for a long time does not depose the leader
 * when it returns (PreVote), and a one-way cut from the leader to a
 * follower does not make anyone raise the term (PreVote + CheckQuorum). */
static void prevote_rejoin(T *t)
{
    int l = one_leader(t);
    CHECK(t);
    uint64_t term = check_terms(t);
    uint32_t f = (l + 1) % t->n;
    raft_sim_disconnect(t->s, f);
    run(t, 5000);
    raft_sim_connect(t->s, f);
    one(t, 7, t->n, true);
    CHECK(t);
    if (find_leader(t) != l || check_terms(t) != term)
        FAIL(t, "a rejoining follower deposed the leader (term %llu -> %llu)",
             (unsigned long long)term, (unsigned long long)check_terms(t));
    raft_sim_link(t->s, l, f, false);
    run(t, 3000);
    one(t, 8, t->n - 1, true);
    CHECK(t);
    if (find_leader(t) != l || check_terms(t) != term)
        FAIL(t, "a one-way partition changed the leader");
    raft_sim_link(t->s, l, f, true);
    one(t, 9, t->n, true);
}

/* A leader cut off from everyone steps down (CheckQuorum). */
static void check_quorum(T *t)
{
    int l = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, l);
    run(t, 1500);
    if (raft_get_role(raft_sim_core(t->s, l)) == RAFT_LEADER)
        FAIL(t, "an isolated leader still leads after 1.5 s");
    one_leader(t);
    raft_sim_connect(t->s, l);
    one(t, 3, t->n, true);
}

/* ---- 3B: agreement ----------------------------------------------------------- */

static void basic_agree(T *t)
{
    uint64_t prev = 0;
    for (uint64_t k = 1; k <= 3 && !BAD(t); k++) {
        uint64_t idx = one(t, k * 100, t->n, false);
        if (idx && idx <= prev)
            FAIL(t, "index %llu after %llu", (unsigned long long)idx, (unsigned long long)prev);
        prev = idx;
    }
}

static void rpc_bytes(T *t)
{
    one(t, 99, t->n, false);
    uint64_t b0 = raft_sim_get_stats(t->s)->bytes, sent = 0;
    static uint8_t cmd[5000];
    for (int i = 0; i < 10 && !BAD(t); i++) {
        for (size_t k = 0; k < sizeof cmd; k++)
            cmd[k] = (uint8_t)below(t, 256);
        one_bytes(t, cmd, sizeof cmd, t->n, false);
        sent += sizeof cmd;
    }
    CHECK(t);
    uint64_t got = raft_sim_get_stats(t->s)->bytes - b0, expected = sent * (t->n - 1) + 50000;
    if (got > expected)
        FAIL(t, "too many RPC bytes; got %llu, expected %llu", (unsigned long long)got,
             (unsigned long long)expected);
}

static void follower_failure(T *t)
{
    one(t, 101, t->n, false);
    int l1 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, (l1 + 1) % t->n);
    one(t, 102, t->n - 1, false);
    run(t, 1000);
    one(t, 103, t->n - 1, false);
    int l2 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, (l2 + 1) % t->n);
    raft_sim_disconnect(t->s, (l2 + 2) % t->n);
    uint64_t idx = start(t, l2, 104);
    if (idx == 0)
        FAIL(t, "leader rejected Start()");
    run(t, 2000);
    uint64_t d;
    if (raft_sim_n_committed(t->s, idx, &d) > 0)
        FAIL(t, "committed without a majority");
}

static void leader_failure(T *t)
{
    one(t, 101, t->n, false);
    int l1 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, l1);
    one(t, 102, t->n - 1, false);
    run(t, 1000);
    one(t, 103, t->n - 1, false);
    int l2 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, l2);
    uint64_t idx[RAFT_MAX_NODES] = { 0 };
    for (uint32_t i = 0; i < t->n; i++)
        idx[i] = start(t, i, 104);
    run(t, 2000);
    uint64_t d;
    for (uint32_t i = 0; i < t->n; i++)
        if (idx[i] && raft_sim_n_committed(t->s, idx[i], &d) > 0 && d == raft_sim_digest(&(uint64_t){ 104 }, 8))
            FAIL(t, "%u committed without a majority", i);
}

static void fail_agree(T *t)
{
    one(t, 101, t->n, false);
    int l = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, (l + 1) % t->n);
    for (uint64_t c = 102; c <= 105 && !BAD(t); c++) {
        one(t, c, t->n - 1, false);
        if (c == 103)
            run(t, 1000);
    }
    raft_sim_connect(t->s, (l + 1) % t->n);
    one(t, 106, t->n, true);
    run(t, 1000);
    one(t, 107, t->n, true);
}

static void fail_no_agree(T *t)
{
    one(t, 10, t->n, false);
    int l = one_leader(t);
    CHECK(t);
    for (uint32_t k = 1; k <= 3; k++)
        raft_sim_disconnect(t->s, (l + k) % t->n);
    uint64_t idx = start(t, l, 20);
    if (idx == 0)
        FAIL(t, "leader rejected Start()");
    run(t, 2000);
    uint64_t d;
    if (raft_sim_n_committed(t->s, idx, &d) > 0)
        FAIL(t, "%llu committed but no majority", (unsigned long long)idx);
    for (uint32_t k = 1; k <= 3; k++)
        raft_sim_connect(t->s, (l + k) % t->n);
    int l2 = one_leader(t);
    CHECK(t);
    if (start(t, l2, 30) == 0)
        FAIL(t, "leader2 rejected Start()");
    one(t, 1000, t->n, true);
}

static void concurrent_starts(T *t)
{
    int l = one_leader(t);
    CHECK(t);
    uint64_t idx[5], d;
    for (int i = 0; i < 5; i++)
        if ((idx[i] = start(t, l, 100 + i)) == 0)
            FAIL(t, "leader rejected Start() %d", i);
    uint64_t t0 = raft_sim_now(t->s);
    for (int i = 0; i < 5 && !BAD(t); i++) {
        while (raft_sim_n_committed(t->s, idx[i], &d) < t->n && raft_sim_now(t->s) - t0 < 10000)
            run(t, 10);
        if (d != raft_sim_digest(&(uint64_t){ 100 + (uint64_t)i }, 8))
            FAIL(t, "command %d missing or wrong at index %llu", i, (unsigned long long)idx[i]);
        t->agreements++;
    }
}

static void rejoin(T *t)
{
    one(t, 101, t->n, true);
    int l1 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, l1);
    start(t, l1, 102);
    start(t, l1, 103);
    start(t, l1, 104);
    one(t, 103, 2, true);
    int l2 = one_leader(t);
    CHECK(t);
    raft_sim_disconnect(t->s, l2);
    raft_sim_connect(t->s, l1);
    one(t, 104, 2, true);
    raft_sim_connect(t->s, l2);
    one(t, 105, t->n, true);
}

static void backup(T *t)
{
    one(t, rnd(t), t->n, true);
    int l1 = one_leader(t);
    CHECK(t);
    for (uint32_t k = 2; k <= 4; k++)
        raft_sim_disconnect(t->s, (l1 + k) % t->n);
    for (int i = 0; i < 50; i++)
        start(t, l1, rnd(t));
    run(t, 500);
    raft_sim_disconnect(t->s, l1);
    raft_sim_disconnect(t->s, (l1 + 1) % t->n);
    for (uint32_t k = 2; k <= 4; k++)
        raft_sim_connect(t->s, (l1 + k) % t->n);
    for (int i = 0; i < 50 && !BAD(t); i++)
        one(t, rnd(t), 3, true);
    int l2 = one_leader(t);
    CHECK(t);
    uint32_t other = (l1 + 2) % t->n;
    if ((int)other == l2)
        other = (l2 + 1) % t->n;
    raft_sim_disconnect(t->s, other);
    for (int i = 0; i < 50; i++)
        start(t, l2, rnd(t));
    run(t, 500);
    for (uint32_t i = 0; i < t->n; i++)
        raft_sim_disconnect(t->s, i);
    raft_sim_connect(t->s, l1);
    raft_sim_connect(t->s, (l1 + 1) % t->n);
    raft_sim_connect(t->s, other);
    for (int i = 0; i < 50 && !BAD(t); i++)
        one(t, rnd(t), 3, true);
    for (uint32_t i = 0; i < t->n; i++)
        raft_sim_connect(t->s, i);
    one(t, rnd(t), t->n, true);
}

static void count(T *t)
{
    int l = one_leader(t);
    CHECK(t);
    uint64_t total1 = raft_sim_get_stats(t->s)->rpcs;
    if (total1 > 30 || total1 < 1)
        FAIL(t, "too many or few RPCs (%llu) to elect initial leader", (unsigned long long)total1);
    bool ok = false;
    uint64_t total2 = 0;
    for (int tries = 0; tries < 5 && !ok && !BAD(t); tries++) {
        if (tries > 0)
            run(t, 3000);
        l = one_leader(t);
        CHECK(t);
        total1 = raft_sim_get_stats(t->s)->rpcs;
        uint64_t term = raft_get_term(raft_sim_core(t->s, l));
        uint64_t idx[11];
        int iters = 10;
        bool lost = false;
        for (int i = 0; i <= iters && !lost; i++)
            lost = (idx[i] = start(t, l, 1000 + i)) == 0;
        if (lost)
            continue;
        uint64_t t0 = raft_sim_now(t->s), d;
        for (int i = 0; i <= iters; i++)
            while (raft_sim_n_committed(t->s, idx[i], &d) < t->n &&
                   raft_sim_now(t->s) - t0 < 5000)
                run(t, 10);
        if (raft_get_term(raft_sim_core(t->s, l)) != term)
            continue;
        total2 = raft_sim_get_stats(t->s)->rpcs;
        if (total2 - total1 > (uint64_t)(iters + 1 + 3) * 3)
            FAIL(t, "too many RPCs (%llu) for %d entries", (unsigned long long)(total2 - total1),
                 iters);
        t->agreements += 11;
        ok = true;
    }
    if (!ok)
        FAIL(t, "term changed too often");
    run(t, 1000);
    uint64_t total3 = raft_sim_get_stats(t->s)->rpcs;
    if (total3 - total2 > 3 * 20)
        FAIL(t, "too many RPCs (%llu) for 1 second of idleness",
             (unsigned long long)(total3 - total2));
}

/* Steady state: one command at a time, each waited for. 6.5840's one()
 * waits for every follower to apply it, so followers learn the commit
 * index from the next APPEND or heartbeat; the cost is one APPEND per
 * entry per follower, plus heartbeats. At most 3 requests per committed
 * entry per follower. Bursts of 10 commands at once show the batching. */
static double steady_per_entry, burst_per_entry;

static void steady_state(T *t)
{
    one(t, 1, t->n, true);
    CHECK(t);
    uint64_t r0 = raft_sim_get_stats(t->s)->rpcs;
    for (int i = 0; i < 100 && !BAD(t); i++)
        one(t, rnd(t), t->n, false);
    CHECK(t);
    double per = (double)(raft_sim_get_stats(t->s)->rpcs - r0) / (100.0 * (t->n - 1));
    steady_per_entry = per;
    if (per > 3)
        FAIL(t, "%.2f RPCs per committed entry per follower (at most 3)", per);
    int l = one_leader(t);
    CHECK(t);
    r0 = raft_sim_get_stats(t->s)->rpcs;
    uint64_t last = 0, d;
    for (int b = 0; b < 20; b++) {
        for (int i = 0; i < 10; i++)
            last = start(t, l, rnd(t));
        run(t, 10);
    }
    uint64_t t0 = raft_sim_now(t->s);
    while (raft_sim_n_committed(t->s, last, &d) < t->n && raft_sim_now(t->s) - t0 < 5000)
        run(t, 10);
    if (raft_sim_n_committed(t->s, last, &d) < t->n)
        FAIL(t, "bursts were not all committed");
    burst_per_entry = (double)(raft_sim_get_stats(t->s)->rpcs - r0) / (200.0 * (t->n - 1));
    t->agreements += 200;
}

/* Client histories. Five clients issue puts, gets and deletes on three
 * keys through the log while the network is unreliable and servers are
 * disconnected, crashed and restarted. An operation is invoked when it is
 * proposed and returns when its client sees it applied at its index (a
 * different command there: it never happened, the client moves on; no
 * answer in 2 s: its outcome is unknown). Results come from running the
 * committed log in order; the history is then checked for
 * linearizability (raft_lincheck.h): real-time order must agree with the
 * log's. */
typedef struct kv_op {
    uint8_t cmd[18]; /* kind, key, value (8), unique id (8) */
    uint64_t digest, index, call, ret, val;
    int result;
    bool done, lost;
} kv_op;

static void kv_history(T *t)
{
    enum { CLIENTS = 5, MAXOPS = 600 };
    static kv_op ops[MAXOPS];
    static char keys[3][2] = { "a", "b", "c" };
    size_t n = 0;
    int cur[CLIENTS];
    for (int c = 0; c < CLIENTS; c++)
        cur[c] = -1;
    uint64_t end = raft_sim_now(t->s) + 4000;
    while (raft_sim_now(t->s) < end && !BAD(t)) {
        for (int c = 0; c < CLIENTS; c++) {
            uint64_t d;
            if (cur[c] >= 0) {
                kv_op *o = &ops[cur[c]];
                if (raft_sim_n_committed(t->s, o->index, &d) > 0) {
                    if (d == o->digest) {
                        o->done = true;
                        o->ret = raft_sim_now(t->s);
                    } else {
                        o->lost = true;
                    }
                    cur[c] = -1;
                } else if (raft_sim_now(t->s) - o->call > 2000) {
                    o->ret = RAFT_LC_UNKNOWN;
                    cur[c] = -1;
                }
            }
            if (cur[c] < 0 && n < MAXOPS) {
                kv_op *o = &ops[n];
                memset(o, 0, sizeof *o);
                o->cmd[0] = (uint8_t)below(t, 3);
                o->cmd[1] = (uint8_t)below(t, 3);
                o->val = n + 1;
                memcpy(o->cmd + 2, &o->val, 8);
                uint64_t id = rnd(t);
                memcpy(o->cmd + 10, &id, 8);
                o->digest = raft_sim_digest(o->cmd, sizeof o->cmd);
                for (uint32_t k = 0; k < t->n; k++) {
                    uint32_t i = (uint32_t)below(t, t->n);
                    if (usable(t, i) &&
                        raft_sim_propose(t->s, i, o->cmd, sizeof o->cmd, &o->index, NULL) == 0) {
                        o->call = raft_sim_now(t->s);
                        cur[c] = (int)n++;
                        break;
                    }
                }
            }
        }
        uint64_t r = below(t, 1000);
        uint32_t i = below(t, t->n);
        if (r < 10)
            raft_sim_disconnect(t->s, i);
        else if (r < 80)
            raft_sim_connect(t->s, i);
        else if (r < 85 && raft_sim_up(t->s, i))
            crash(t, i);
        else if (r < 150 && !raft_sim_up(t->s, i)) {
            raft_sim_restart(t->s, i);
            raft_sim_connect(t->s, i);
        }
        run(t, 1 + below(t, 20));
    }
    for (uint32_t i = 0; i < t->n; i++) {
        if (!raft_sim_up(t->s, i))
            raft_sim_restart(t->s, i);
        raft_sim_connect(t->s, i);
    }
    raft_sim_set_unreliable(t->s, false);
    uint64_t last = one(t, rnd(t), t->n, true);
    CHECK(t);
    for (int c = 0; c < CLIENTS; c++)
        if (cur[c] >= 0)
            ops[cur[c]].ret = RAFT_LC_UNKNOWN;
    /* Run the committed log in order to get each operation's result. */
    bool present[3] = { false, false, false };
    uint64_t value[3] = { 0, 0, 0 };
    size_t completed = 0;
    for (uint64_t idx = 1; idx <= last; idx++) {
        uint64_t d;
        if (raft_sim_n_committed(t->s, idx, &d) == 0)
            FAIL(t, "index %llu never applied", (unsigned long long)idx);
        for (size_t k = 0; k < n; k++) {
            kv_op *o = &ops[k];
            if (o->digest != d || o->lost)
                continue;
            int key = o->cmd[1];
            if (o->cmd[0] == RAFT_LC_PUT) {
                present[key] = true;
                value[key] = o->val;
            } else if (o->cmd[0] == RAFT_LC_GET) {
                o->result = present[key] ? 0 : KV_ENOTFOUND;
                o->val = value[key];
            } else {
                o->result = present[key] ? 0 : KV_ENOTFOUND;
                present[key] = false;
            }
            completed += o->done;
            break;
        }
    }
    static raft_lc_op h[MAXOPS];
    size_t m = 0;
    for (size_t k = 0; k < n; k++) {
        kv_op *o = &ops[k];
        if (o->lost || (!o->done && o->ret != RAFT_LC_UNKNOWN))
            continue;
        h[m++] = (raft_lc_op){ .kind = o->cmd[0], .key = keys[o->cmd[1]], .klen = 1,
                               .val = &o->val, .vlen = 8, .result = o->result,
                               .call = o->call, .ret = o->ret };
    }
    raft_lc_result res;
    if (raft_lincheck(h, m, 0, &res) != 0 || !res.linearizable)
        FAIL(t, "client history of %zu operations is not linearizable%s", m,
             res.exhausted ? " (search budget exhausted)" : "");
    if (completed < 10)
        FAIL(t, "only %zu operations completed: the check saw too little", completed);
    t->agreements += completed;
}

/* ---- 3C: persistence ------------------------------------------------------------- */

static void persist1(T *t)
{
    one(t, 11, t->n, true);
    for (uint32_t i = 0; i < t->n; i++)
        restart(t, i);
    for (uint32_t i = 0; i < t->n; i++)
        raft_sim_connect(t->s, i);
    one(t, 12, t->n, true);
    int l1 = one_leader(t);
    CHECK(t);
    restart(t, l1);
    raft_sim_connect(t->s, l1);
    one(t, 13, t->n, true);
    int l2 = one_leader(t);
    CHECK(t);
    crash(t, l2);
    one(t, 14, t->n - 1, true);
    raft_sim_restart(t->s, l2);
    raft_sim_connect(t->s, l2);
    one(t, 15, t->n, true);
}

static void persist2(T *t)
{
    uint64_t index = 1;
    for (int it = 0; it < 5 && !BAD(t); it++) {
        one(t, 10 + index++, t->n, true);
        int l = one_leader(t);
        CHECK(t);
        crash(t, (l + 1) % t->n);
        crash(t, (l + 2) % t->n);
        one(t, 10 + index++, t->n - 2, true);
        crash(t, (l + 0) % t->n);
        crash(t, (l + 3) % t->n);
        crash(t, (l + 4) % t->n);
        raft_sim_restart(t->s, (l + 1) % t->n);
        raft_sim_connect(t->s, (l + 1) % t->n);
        raft_sim_restart(t->s, (l + 2) % t->n);
        raft_sim_connect(t->s, (l + 2) % t->n);
        run(t, 1000);
        raft_sim_restart(t->s, (l + 3) % t->n);
        raft_sim_connect(t->s, (l + 3) % t->n);
        one(t, 10 + index++, t->n - 2, true);
        raft_sim_restart(t->s, (l + 4) % t->n);
        raft_sim_connect(t->s, (l + 4) % t->n);
        raft_sim_restart(t->s, (l + 0) % t->n);
        raft_sim_connect(t->s, (l + 0) % t->n);
    }
    one(t, 1000, t->n, true);
}

static void persist3(T *t)
{
    one(t, 101, 3, true);
    int l = one_leader(t);
    CHECK(t);
    crash(t, (l + 2) % t->n);
    one(t, 102, 2, true);
    crash(t, l);
    crash(t, (l + 1) % t->n);
    raft_sim_restart(t->s, (l + 2) % t->n);
    raft_sim_connect(t->s, (l + 2) % t->n);
    raft_sim_restart(t->s, l);
    raft_sim_connect(t->s, l);
    one(t, 103, 2, true);
    raft_sim_restart(t->s, (l + 1) % t->n);
    raft_sim_connect(t->s, (l + 1) % t->n);
    one(t, 104, t->n, true);
}

static void figure8(T *t)
{
    one(t, rnd(t), 1, true);
    uint32_t nup = t->n;
    for (int it = 0; it < 1000 && !BAD(t); it++) {
        int leader = -1;
        for (uint32_t i = 0; i < t->n; i++)
            if (usable(t, i) && start(t, i, rnd(t)))
                leader = (int)i;
        run(t, below(t, 1000) < 100 ? below(t, 500) : below(t, 13));
        if (leader != -1) {
            crash(t, leader);
            nup--;
        }
        if (nup < 3) {
            uint32_t s = below(t, t->n);
            if (!raft_sim_up(t->s, s)) {
                raft_sim_restart(t->s, s);
                raft_sim_connect(t->s, s);
                nup++;
            }
        }
    }
    for (uint32_t i = 0; i < t->n; i++)
        if (!raft_sim_up(t->s, i)) {
            raft_sim_restart(t->s, i);
            raft_sim_connect(t->s, i);
        }
    one(t, rnd(t), t->n, true);
}

/* ---- 3B/3C unreliable ------------------------------------------------------------- */

static void unreliable_agree(T *t)
{
    for (uint64_t it = 1; it < 50 && !BAD(t); it++) {
        for (uint64_t j = 0; j < 4; j++)
            for (uint32_t i = 0; i < t->n; i++)
                if (usable(t, i) && start(t, i, 100 * it + j))
                    break;
        one(t, it, 1, true);
    }
    raft_sim_set_unreliable(t->s, false);
    one(t, 100, t->n, true);
}

static void figure8_unreliable(T *t)
{
    one(t, rnd(t) % 10000, 1, true);
    uint32_t nup = t->n;
    for (int it = 0; it < 1000 && !BAD(t); it++) {
        if (it == 200)
            raft_sim_set_long_reordering(t->s, true);
        int leader = -1;
        for (uint32_t i = 0; i < t->n; i++)
            if (usable(t, i) && start(t, i, rnd(t) % 10000))
                leader = (int)i;
        run(t, below(t, 1000) < 100 ? below(t, 500) : below(t, 13));
        if (leader != -1 && below(t, 1000) < 500) {
            raft_sim_disconnect(t->s, leader);
            nup--;
        }
        if (nup < 3) {
            uint32_t s = below(t, t->n);
            if (!raft_sim_connected(t->s, s)) {
                raft_sim_connect(t->s, s);
                nup++;
            }
        }
    }
    for (uint32_t i = 0; i < t->n; i++)
        raft_sim_connect(t->s, i);
    one(t, rnd(t) % 10000, t->n, true);
}

/* Churn: clients keep submitting while servers are disconnected, crashed
 * and restarted at random; at the end everything must agree. */
static void churn(T *t)
{
    uint64_t end = raft_sim_now(t->s) + 5000;
    while (raft_sim_now(t->s) < end && !BAD(t)) {
        for (uint32_t i = 0; i < t->n; i++)
            if (usable(t, i) && below(t, 4) == 0)
                start(t, i, rnd(t));
        uint64_t r = below(t, 1000);
        uint32_t i = below(t, t->n);
        if (r < 100)
            raft_sim_disconnect(t->s, i);
        else if (r < 300)
            raft_sim_connect(t->s, i);
        else if (r < 350 && raft_sim_up(t->s, i))
            crash(t, i);
        else if (r < 500 && !raft_sim_up(t->s, i)) {
            raft_sim_restart(t->s, i);
            raft_sim_connect(t->s, i);
        }
        run(t, below(t, 70));
    }
    raft_sim_set_unreliable(t->s, false);
    for (uint32_t i = 0; i < t->n; i++) {
        if (!raft_sim_up(t->s, i))
            raft_sim_restart(t->s, i);
        raft_sim_connect(t->s, i);
    }
    run(t, 1000);
    uint64_t last = one(t, rnd(t), t->n, true);
    CHECK(t);
    for (uint32_t i = 0; i < t->n; i++)
        if (raft_sim_applied(t->s, i) < last)
            FAIL(t, "node %u applied %llu of %llu", i, (unsigned long long)raft_sim_applied(t->s, i),
                 (unsigned long long)last);
}

static void transfer(T *t)
{
    one(t, 1, t->n, true);
    int l = one_leader(t);
    CHECK(t);
    uint32_t target = (l + 1) % t->n;
    raft_transfer_leader(raft_sim_core(t->s, l), target);
    run(t, 1000);
    if (find_leader(t) != (int)target)
        FAIL(t, "leadership did not move from %d to %u within 1 s", l, target);
    one(t, 2, t->n, true);
}

static void slow_disk(T *t)
{
    for (uint32_t i = 0; i < t->n; i++)
        raft_sim_set_disk_delay(t->s, i, 5 + 20 * i);
    for (int i = 0; i < 20 && !BAD(t); i++)
        one(t, rnd(t), t->n, true);
    int l = one_leader(t);
    CHECK(t);
    crash(t, l);
    one(t, rnd(t), t->n - 1, true);
    raft_sim_restart(t->s, l);
    raft_sim_connect(t->s, l);
    one(t, rnd(t), t->n, true);
}

/* ---- 3D: snapshots ---------------------------------------------------------------- */

static void snapshot_basic(T *t)
{
    one(t, rnd(t), t->n, true);
    for (int i = 0; i < 30 && !BAD(t); i++)
        one(t, rnd(t), t->n, true);
    CHECK(t);
    for (uint32_t i = 0; i < t->n; i++)
        if (raft_get_snap_index(raft_sim_core(t->s, i)) == 0)
            FAIL(t, "node %u never took a snapshot", i);
}

static void snap_common(T *t, bool disconnect, bool crashit)
{
    one(t, rnd(t), t->n, true);
    int l = one_leader(t);
    for (int i = 0; i < 30 && !BAD(t); i++) {
        uint32_t victim = (l + 1) % t->n, sender = l;
        if (i % 3 == 1) {
            sender = (l + 1) % t->n;
            victim = l;
        }
        if (disconnect) {
            raft_sim_disconnect(t->s, victim);
            one(t, rnd(t), t->n - 1, true);
        }
        if (crashit) {
            crash(t, victim);
            one(t, rnd(t), t->n - 1, true);
        }
        for (int k = 0; k < 11; k++)
            start(t, sender, rnd(t));
        one(t, rnd(t), t->n - 1, true);
        if (disconnect)
            raft_sim_connect(t->s, victim);
        if (crashit) {
            raft_sim_restart(t->s, victim);
            raft_sim_connect(t->s, victim);
        }
        one(t, rnd(t), t->n, true);
        l = one_leader(t);
    }
}

static void snapshot_install(T *t) { snap_common(t, true, false); }
static void snapshot_install_crash(T *t) { snap_common(t, false, true); }

static void snapshot_all_crash(T *t)
{
    one(t, rnd(t), t->n, true);
    uint64_t prev = 0;
    for (int i = 0; i < 5 && !BAD(t); i++) {
        for (int k = 0; k < 11; k++)
            one(t, rnd(t), t->n, true);
        uint64_t idx1 = one(t, rnd(t), t->n, true);
        for (uint32_t j = 0; j < t->n; j++)
            crash(t, j);
        for (uint32_t j = 0; j < t->n; j++) {
            raft_sim_restart(t->s, j);
            raft_sim_connect(t->s, j);
        }
        uint64_t idx2 = one(t, rnd(t), t->n, true);
        if (idx2 < idx1 + 1 || idx1 < prev)
            FAIL(t, "index decreased from %llu to %llu", (unsigned long long)idx1,
                 (unsigned long long)idx2);
        prev = idx2;
    }
}

static void snapshot_init(T *t)
{
    one(t, rnd(t), t->n, true);
    for (int k = 0; k < 11; k++)
        one(t, rnd(t), t->n, true);
    for (int round = 0; round < 2 && !BAD(t); round++) {
        for (uint32_t j = 0; j < t->n; j++)
            crash(t, j);
        for (uint32_t j = 0; j < t->n; j++) {
            raft_sim_restart(t->s, j);
            raft_sim_connect(t->s, j);
        }
        one(t, rnd(t), t->n, true);
    }
}

/* ---- lease reads ------------------------------------------------------------------- */

/* Every node that grants a lease read now must be up to date: its commit
 * index (the index the read waits for) at least the highest commit index of
 * any running node. An older one is a stale read: a write committed
 * elsewhere that the read would miss. Counts the reads served. */
static void lease_probe(T *t, uint64_t *served)
{
    uint64_t top = 0, idx;
    for (uint32_t i = 0; i < t->n; i++)
        if (raft_sim_up(t->s, i) && raft_get_commit(raft_sim_core(t->s, i)) > top)
            top = raft_get_commit(raft_sim_core(t->s, i));
    for (uint32_t i = 0; i < t->n; i++) {
        if (!raft_sim_up(t->s, i) || raft_lease_read(raft_sim_core(t->s, i), &idx) != 0)
            continue;
        ++*served;
        if (idx < top)
            FAIL(t, "stale lease read: node %u serves at index %llu, %llu is committed (t=%llu ms)",
                 i, (unsigned long long)idx, (unsigned long long)top,
                 (unsigned long long)raft_sim_now(t->s));
    }
}

/* Propose at whichever running node leads (no wait). */
static void propose_any(T *t)
{
    uint64_t cmd = rnd(t), index;
    for (uint32_t i = 0; i < t->n; i++)
        if (usable(t, i) && raft_sim_propose(t->s, i, &cmd, sizeof cmd, &index, NULL) == 0)
            return;
}

/* The leader is cut off while the others elect a new leader and commit:
 * the old leader must stop serving lease reads before the new one commits.
 * Probed every 5 ms for 1.5 s, four times over. */
static void lease_read(T *t)
{
    uint64_t served = 0;
    for (int round = 0; round < 4 && !BAD(t); round++) {
        int l = one_leader(t);
        CHECK(t);
        one(t, rnd(t), t->n, true);
        raft_sim_disconnect(t->s, (uint32_t)l);
        for (int k = 0; k < 300 && !BAD(t); k++) {
            run(t, 5);
            lease_probe(t, &served);
            if (k % 10 == 0)
                propose_any(t);
        }
        raft_sim_connect(t->s, (uint32_t)l);
        one(t, rnd(t), t->n, true);
    }
    if (!BAD(t) && served == 0)
        FAIL(t, "no lease read was served in 6 s");
}

/* A leader hands leadership over (TIMEOUT_NOW: the target's forced election
 * ignores the followers' lease) and at once hears nobody (the links into it
 * cut, its own still up): it must not serve lease reads while the target
 * wins and commits. Four times over. */
static void lease_read_transfer(T *t)
{
    uint64_t served = 0;
    for (int round = 0; round < 4 && !BAD(t); round++) {
        one(t, rnd(t), t->n, true);
        int l = one_leader(t);
        CHECK(t);
        uint32_t target = (uint32_t)(l + 1 + below(t, t->n - 1)) % t->n;
        run(t, 20);
        lease_probe(t, &served); /* a lease is held before the transfer */
        raft_transfer_leader(raft_sim_core(t->s, (uint32_t)l), target);
        for (uint32_t j = 0; j < t->n; j++)
            if (j != (uint32_t)l)
                raft_sim_link(t->s, j, (uint32_t)l, false);
        for (int k = 0; k < 100 && !BAD(t); k++) {
            run(t, 5);
            lease_probe(t, &served);
            if (k % 10 == 0)
                propose_any(t);
        }
        for (uint32_t j = 0; j < t->n; j++)
            raft_sim_link(t->s, j, (uint32_t)l, true);
    }
    one(t, rnd(t), t->n, true);
    if (!BAD(t) && served == 0)
        FAIL(t, "no lease read was served");
}

/* Lease reads on an unreliable network with crashes, restarts, partitions
 * and leader transfers, probed every 5 ms. */
static void lease_read_churn(T *t)
{
    uint64_t served = 0;
    for (int k = 0; k < 1600 && !BAD(t); k++) {
        run(t, 5);
        lease_probe(t, &served);
        if (k % 8 == 0)
            propose_any(t);
        if (k % 100 == 99) {
            uint32_t i = (uint32_t)below(t, t->n);
            switch (below(t, 4)) {
            case 0:
                if (raft_sim_up(t->s, i))
                    crash(t, i);
                break;
            case 1:
                if (!raft_sim_up(t->s, i))
                    raft_sim_restart(t->s, i);
                raft_sim_connect(t->s, i);
                break;
            case 2:
                raft_sim_disconnect(t->s, i);
                break;
            default:
                for (uint32_t j = 0; j < t->n; j++)
                    if (raft_sim_up(t->s, j) && raft_get_role(raft_sim_core(t->s, j)) == RAFT_LEADER)
                        raft_transfer_leader(raft_sim_core(t->s, j), i);
            }
        }
    }
    for (uint32_t i = 0; i < t->n; i++) {
        if (!raft_sim_up(t->s, i))
            raft_sim_restart(t->s, i);
        raft_sim_connect(t->s, i);
    }
    one(t, rnd(t), t->n, true);
    if (!BAD(t) && served == 0)
        FAIL(t, "no lease read was served in 8 s");
}

/* ---- the table and the runner ------------------------------------------------------- */

typedef struct scenario {
    const char *name;
    void (*fn)(T *);
    uint32_t n;
    bool unreliable;
    uint64_t snap_every;
    unsigned seeds;   /* in `make test` */
    size_t max_batch; /* 0: the default */
    bool lease;       /* lease reads on (raft_config::lease_read) */
} scenario;

static const scenario table[] = {
    { "InitialElection", initial_election, 3, false, 0, 20, 0, false },
    { "ReElection", re_election, 3, false, 0, 20, 0, false },
    { "ManyElections", many_elections, 7, false, 0, 20, 0, false },
    { "PreVoteRejoin", prevote_rejoin, 3, false, 0, 20, 0, false },
    { "CheckQuorum", check_quorum, 3, false, 0, 20, 0, false },
    { "BasicAgree", basic_agree, 3, false, 0, 20, 0, false },
    { "RPCBytes", rpc_bytes, 3, false, 0, 20, 0, false },
    { "FollowerFailure", follower_failure, 3, false, 0, 20, 0, false },
    { "LeaderFailure", leader_failure, 3, false, 0, 20, 0, false },
    { "FailAgree", fail_agree, 3, false, 0, 20, 0, false },
    { "FailNoAgree", fail_no_agree, 5, false, 0, 20, 0, false },
    { "ConcurrentStarts", concurrent_starts, 3, false, 0, 20, 0, false },
    { "Rejoin", rejoin, 3, false, 0, 20, 0, false },
    { "Backup", backup, 5, false, 0, 20, 0, false },
    { "Count", count, 3, false, 0, 20, 0, false },
    { "Persist1", persist1, 3, false, 0, 20, 0, false },
    { "Persist2", persist2, 5, false, 0, 20, 0, false },
    { "Persist3", persist3, 3, false, 0, 20, 0, false },
    { "Figure8", figure8, 5, false, 0, 60, 0, false },
    { "Figure8OneByOne", figure8, 5, false, 0, 60, 1, false },
    { "UnreliableAgree", unreliable_agree, 5, true, 0, 20, 0, false },
    { "Figure8Unreliable", figure8_unreliable, 5, true, 0, 60, 0, false },
    { "Figure8UnreliableOneByOne", figure8_unreliable, 5, true, 0, 60, 1, false },
    { "ReliableChurn", churn, 5, false, 0, 20, 0, false },
    { "UnreliableChurn", churn, 5, true, 0, 20, 0, false },
    { "UnreliableChurnOneByOne", churn, 5, true, 0, 20, 1, false },
    { "SteadyState", steady_state, 3, false, 0, 20, 0, false },
    { "KVHistory", kv_history, 5, true, 0, 20, 0, false },
    { "KVHistorySnapshots", kv_history, 3, true, 10, 20, 0, false },
    { "LeaderTransfer", transfer, 3, false, 0, 20, 0, false },
    { "SlowDisk", slow_disk, 3, false, 0, 20, 0, false },
    { "LeaseRead", lease_read, 5, false, 0, 20, 0, true },
    { "LeaseReadTransfer", lease_read_transfer, 5, false, 0, 20, 0, true },
    { "LeaseReadChurn", lease_read_churn, 5, true, 0, 20, 0, true },
    { "SnapshotBasic", snapshot_basic, 3, false, 10, 20, 0, false },
    { "SnapshotInstall", snapshot_install, 3, false, 10, 20, 0, false },
    { "SnapshotInstallUnreliable", snapshot_install, 3, true, 10, 20, 0, false },
    { "SnapshotInstallCrash", snapshot_install_crash, 3, false, 10, 20, 0, false },
    { "SnapshotInstallUnCrash", snapshot_install_crash, 3, true, 10, 20, 0, false },
    { "SnapshotAllCrash", snapshot_all_crash, 3, false, 10, 20, 0, false },
    { "SnapshotInit", snapshot_init, 3, false, 10, 20, 0, false },
};

int main(int argc, char **argv)
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
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++) {
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
            setup(&t, sc->n, (uint64_t)s, sc->unreliable, sc->snap_every, sc->max_batch,
                  sc->lease);
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
    if (steady_per_entry > 0)
        printf("steady state (last seed): %.2f RPCs per committed entry per follower one at a "
               "time, %.2f in bursts of 10\n", steady_per_entry, burst_per_entry);
    printf("total: %.1f s simulated in %.2f s CPU (%.0fx real time)\n", sim_total, wall,
           wall > 0 ? sim_total / wall : 0.0);
    printf("%u passed, %u failed\n", passed, failed);
    return failed ? 1 : 0;
}
