/*
 * scenarios_more.c — the simulator's scenarios beyond 3A-3C (raft_sim.h):
 * client histories checked for linearizability, the 6.5840 snapshot tests
 * (3D) and lease reads. Same command line and output as scenarios.c
 * (scenario_kit.h); `make stress` runs it on 200 seeds too.
 */
#include "scenario_kit.h"

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

/* ---- the table --------------------------------------------------------------------- */

static const scenario table[] = {
    { "KVHistory", kv_history, 5, true, 0, 20, 0, false, 0 },
    { "KVHistorySnapshots", kv_history, 3, true, 10, 20, 0, false, 0 },
    { "LeaseRead", lease_read, 5, false, 0, 20, 0, true, 0 },
    { "LeaseReadTransfer", lease_read_transfer, 5, false, 0, 20, 0, true, 0 },
    { "LeaseReadChurn", lease_read_churn, 5, true, 0, 20, 0, true, 0 },
    { "SnapshotBasic", snapshot_basic, 3, false, 10, 20, 0, false, 0 },
    { "SnapshotInstall", snapshot_install, 3, false, 10, 20, 0, false, 0 },
    { "SnapshotInstallUnreliable", snapshot_install, 3, true, 10, 20, 0, false, 0 },
    { "SnapshotInstallCrash", snapshot_install_crash, 3, false, 10, 20, 0, false, 0 },
    { "SnapshotInstallUnCrash", snapshot_install_crash, 3, true, 10, 20, 0, false, 0 },
    { "SnapshotAllCrash", snapshot_all_crash, 3, false, 10, 20, 0, false, 0 },
    { "SnapshotInit", snapshot_init, 3, false, 10, 20, 0, false, 0 },
};

int main(int argc, char **argv)
{
    return scenario_main(argc, argv, table, sizeof table / sizeof table[0], NULL);
}
