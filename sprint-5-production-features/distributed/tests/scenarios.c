/*
 * scenarios.c — the MIT 6.5840 Raft scenarios (3A election, 3B agreement,
 * 3C persistence) and a few more (churn, leadership transfer, a slow
 * disk), run on the deterministic simulator (raft_sim.h) over a fixed set
 * of seeds. The 3D snapshot tests, lease reads and client histories are in
 * scenarios_more.c, membership changes in scenarios_member.c; the three
 * share scenario_kit.h (helpers and the runner).
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
#include "scenario_kit.h"

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

/* ---- the table --------------------------------------------------------------------- */

static void print_steady(void)
{
    if (steady_per_entry > 0)
        printf("steady state (last seed): %.2f RPCs per committed entry per follower one at a "
               "time, %.2f in bursts of 10\n", steady_per_entry, burst_per_entry);
}

static const scenario table[] = {
    { "InitialElection", initial_election, 3, false, 0, 20, 0, false, 0 },
    { "ReElection", re_election, 3, false, 0, 20, 0, false, 0 },
    { "ManyElections", many_elections, 7, false, 0, 20, 0, false, 0 },
    { "PreVoteRejoin", prevote_rejoin, 3, false, 0, 20, 0, false, 0 },
    { "CheckQuorum", check_quorum, 3, false, 0, 20, 0, false, 0 },
    { "BasicAgree", basic_agree, 3, false, 0, 20, 0, false, 0 },
    { "RPCBytes", rpc_bytes, 3, false, 0, 20, 0, false, 0 },
    { "FollowerFailure", follower_failure, 3, false, 0, 20, 0, false, 0 },
    { "LeaderFailure", leader_failure, 3, false, 0, 20, 0, false, 0 },
    { "FailAgree", fail_agree, 3, false, 0, 20, 0, false, 0 },
    { "FailNoAgree", fail_no_agree, 5, false, 0, 20, 0, false, 0 },
    { "ConcurrentStarts", concurrent_starts, 3, false, 0, 20, 0, false, 0 },
    { "Rejoin", rejoin, 3, false, 0, 20, 0, false, 0 },
    { "Backup", backup, 5, false, 0, 20, 0, false, 0 },
    { "Count", count, 3, false, 0, 20, 0, false, 0 },
    { "Persist1", persist1, 3, false, 0, 20, 0, false, 0 },
    { "Persist2", persist2, 5, false, 0, 20, 0, false, 0 },
    { "Persist3", persist3, 3, false, 0, 20, 0, false, 0 },
    { "Figure8", figure8, 5, false, 0, 60, 0, false, 0 },
    { "Figure8OneByOne", figure8, 5, false, 0, 60, 1, false, 0 },
    { "UnreliableAgree", unreliable_agree, 5, true, 0, 20, 0, false, 0 },
    { "Figure8Unreliable", figure8_unreliable, 5, true, 0, 60, 0, false, 0 },
    { "Figure8UnreliableOneByOne", figure8_unreliable, 5, true, 0, 60, 1, false, 0 },
    { "ReliableChurn", churn, 5, false, 0, 20, 0, false, 0 },
    { "UnreliableChurn", churn, 5, true, 0, 20, 0, false, 0 },
    { "UnreliableChurnOneByOne", churn, 5, true, 0, 20, 1, false, 0 },
    { "SteadyState", steady_state, 3, false, 0, 20, 0, false, 0 },
    { "LeaderTransfer", transfer, 3, false, 0, 20, 0, false, 0 },
    { "SlowDisk", slow_disk, 3, false, 0, 20, 0, false, 0 },
};

int main(int argc, char **argv)
{
    return scenario_main(argc, argv, table, sizeof table / sizeof table[0], print_steady);
}
