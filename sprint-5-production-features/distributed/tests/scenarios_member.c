/*
 * scenarios_member.c — membership changes on the simulator (raft.h
 * "Membership", raft_sim.h): a learner that catches up before it may vote,
 * adding and removing servers under partitions, crashes and an unreliable
 * network, removing the leader, and a change that a snapshot must carry to
 * a new node and across restarts. Same command line and output as
 * scenarios.c (scenario_kit.h); `make stress` runs it on 200 seeds too.
 *
 * The simulator checks the safety properties after every step, plus two of
 * membership: a node that is not a voter of its configuration is never
 * elected, and a leader whose removal is committed leads no longer. The
 * scenarios check liveness: each change commits within 10 s of simulated
 * time while a majority of the voters is up, and commands keep committing.
 *
 * Nodes voters .. n-1 of a scenario start as spares: running, empty,
 * outside the cluster, until a change adds them.
 */
#include "scenario_kit.h"

/* The running leader with the highest term, or -1. */
static int leader(T *t)
{
    int who = -1;
    uint64_t best = 0;
    for (uint32_t i = 0; i < t->n; i++) {
        raft *r = raft_sim_core(t->s, i);
        if (usable(t, i) && raft_get_role(r) == RAFT_LEADER && raft_get_term(r) >= best) {
            best = raft_get_term(r);
            who = (int)i;
        }
    }
    return who;
}

/* Whether the current leader's configuration shows the change committed. */
static bool change_done(T *t, int op, uint32_t node)
{
    int l = leader(t);
    if (l < 0)
        return false;
    raft *r = raft_sim_core(t->s, (uint32_t)l);
    raft_membership c;
    uint64_t ci = raft_get_membership(r, &c);
    bool in = op == RAFT_CONF_REMOVE ? !((c.voters | c.learners) >> node & 1)
            : op == RAFT_CONF_PROMOTE ? (c.voters >> node & 1) != 0
                                      : ((c.voters | c.learners) >> node & 1) != 0;
    return in && ci <= raft_get_commit(r);
}

/* Propose a change at whichever node leads until one accepts it, then wait
 * until a leader has it committed (the one that took it, or a later one
 * that inherited it; a lost proposal is made again). Returns 0 when done,
 * or `allowed` (a raft_conf_err; 0: none) as soon as a leader answers it
 * before any proposal was taken; a change not done after 10 s fails the
 * run. */
static int change(T *t, int op, uint32_t node, int allowed)
{
    uint64_t t0 = raft_sim_now(t->s);
    int rc = RAFT_CONF_ENOTLEADER;
    bool taken = false;
    while (raft_sim_now(t->s) - t0 < 10000 && !BAD(t)) {
        if (taken && change_done(t, op, node))
            return 0;
        int l = leader(t);
        uint64_t index = 0;
        if (l < 0 || (rc = raft_sim_change_conf(t->s, (uint32_t)l, op, node, &index)) != 0) {
            if (l >= 0 && !taken && allowed != 0 && rc == allowed)
                return rc;
            run(t, 50);
            continue;
        }
        taken = true;
        uint64_t term = raft_get_term(raft_sim_core(t->s, (uint32_t)l));
        for (int w = 0; w < 100 && !BAD(t); w++) { /* 2 s */
            run(t, 20);
            raft *r = raft_sim_core(t->s, (uint32_t)l);
            if (r && raft_get_commit(r) >= index && raft_get_term_at(r, index) == term)
                return 0; /* still the entry proposed (a new leader may have replaced it) */
            if (r == NULL || raft_get_role(r) != RAFT_LEADER)
                break;
        }
    }
    if (!BAD(t))
        raft_sim_fail(t->s, "change %d of node %u not committed within 10 s (last answer %d)", op,
                      node, rc);
    return rc;
}

/* Every running node's configuration, once it has applied everything. */
static void expect_conf(T *t, uint32_t voters, uint32_t learners)
{
    for (uint32_t i = 0; i < t->n && !BAD(t); i++) {
        raft *r = raft_sim_core(t->s, i);
        raft_membership c;
        if (r == NULL || !((voters | learners) >> i & 1))
            continue;
        raft_get_membership(r, &c);
        if (c.voters != voters || c.learners != learners)
            FAIL(t, "node %u has voters %#x learners %#x, expected %#x and %#x", i, c.voters,
                 c.learners, voters, learners);
    }
}

/* Wait until the current leader shows the change committed (10 s). */
static void wait_done(T *t, int op, uint32_t node)
{
    uint64_t t0 = raft_sim_now(t->s);
    while (!change_done(t, op, node) && !BAD(t)) {
        if (raft_sim_now(t->s) - t0 > 10000)
            FAIL(t, "change %d of node %u not committed within 10 s", op, node);
        run(t, 50);
    }
}

/* A learner is added while cut off; a second change must wait for the
 * first. The learner cannot be promoted until it has caught up, and its
 * copy never stands in for a voter's; once promoted it votes, and the
 * cluster survives losing an old voter. */
static void learner_catch_up(T *t)
{
    one(t, 1, 3, true);
    CHECK(t);
    raft_sim_disconnect(t->s, 3);
    int l = leader(t), rc;
    if (l < 0 || (rc = raft_sim_change_conf(t->s, (uint32_t)l, RAFT_CONF_ADD_LEARNER, 3, NULL)))
        FAIL(t, "the leader refused to add a learner");
    rc = raft_sim_change_conf(t->s, (uint32_t)l, RAFT_CONF_REMOVE, (uint32_t)(l + 1) % 3, NULL);
    if (rc != RAFT_CONF_EBUSY)
        FAIL(t, "a second change while the first is in flight answered %d, not EBUSY", rc);
    wait_done(t, RAFT_CONF_ADD_LEARNER, 3);
    for (uint64_t k = 0; k < 20 && !BAD(t); k++)
        one(t, 100 + k, 3, true);
    CHECK(t);
    if ((l = leader(t)) < 0)
        FAIL(t, "no leader");
    rc = raft_sim_change_conf(t->s, (uint32_t)l, RAFT_CONF_PROMOTE, 3, NULL);
    if (rc != RAFT_CONF_ENOTREADY)
        FAIL(t, "promoting a learner that holds nothing answered %d, not ENOTREADY", rc);
    raft_sim_connect(t->s, 3);
    run(t, 1000);
    /* The leader and the caught-up learner alone: two nodes, one voter. */
    if ((l = leader(t)) < 0)
        FAIL(t, "no leader");
    uint32_t a = (uint32_t)(l + 1) % 3, b = (uint32_t)(l + 2) % 3;
    raft_sim_disconnect(t->s, a);
    raft_sim_disconnect(t->s, b);
    uint64_t idx = start(t, (uint32_t)l, 55);
    run(t, 1000);
    raft *rl = raft_sim_core(t->s, (uint32_t)l);
    if (idx && raft_get_commit(rl) >= idx && raft_get_term_at(rl, idx) != 0)
        FAIL(t, "index %llu committed by the leader and a learner alone",
             (unsigned long long)idx);
    raft_sim_connect(t->s, a);
    raft_sim_connect(t->s, b);
    one_leader(t);
    CHECK(t);
    change(t, RAFT_CONF_PROMOTE, 3, 0);
    CHECK(t);
    idx = one(t, 7, 4, true);
    CHECK(t);
    if (raft_sim_applied(t->s, 3) < idx)
        FAIL(t, "the promoted node did not apply index %llu", (unsigned long long)idx);
    expect_conf(t, 0xf, 0);
    uint32_t gone = (uint32_t)((leader(t) + 1) % 4); /* four voters: three make a quorum */
    raft_sim_disconnect(t->s, gone);
    one(t, 8, 3, true);
    raft_sim_connect(t->s, gone);
    one(t, 9, 4, true);
}

/* The leader removes itself: it commits the change without counting
 * itself, steps down, and the others elect a leader among themselves. */
static void remove_leader(T *t)
{
    one(t, 1, 5, true);
    int l = leader(t);
    CHECK(t);
    change(t, RAFT_CONF_REMOVE, (uint32_t)l, 0);
    CHECK(t);
    run(t, 1000);
    int l2 = one_leader(t);
    CHECK(t);
    if (l2 == l)
        FAIL(t, "the removed leader %d leads again", l);
    uint32_t voters = 0x1f & ~(1u << l);
    one(t, 2, 4, true);
    expect_conf(t, voters, 0);
    /* The removed node, cut off and back, disturbs no one. */
    raft_sim_disconnect(t->s, (uint32_t)l);
    run(t, 2000);
    raft_sim_connect(t->s, (uint32_t)l);
    one(t, 3, 4, true);
}

/* Random adds, promotions and removals while nodes are cut off, crash and
 * restart on an unreliable network; at least three voters stay. */
static void churn_changes(T *t)
{
    one(t, 1, 3, true);
    uint32_t voters = (1u << 5) - 1, learners = 0, all = (1u << t->n) - 1;
    for (int it = 0; it < 8 && !BAD(t); it++) {
        uint32_t victim = (uint32_t)below(t, t->n);
        bool cut = below(t, 2), crashit = !cut && below(t, 2);
        if (cut)
            raft_sim_disconnect(t->s, victim);
        else if (crashit)
            crash(t, victim);
        uint32_t spare = all & ~(voters | learners), node;
        int op;
        if (learners) {
            op = RAFT_CONF_PROMOTE;
            for (node = 0; !(learners >> node & 1); node++)
                ;
        } else if (spare && below(t, 2)) {
            op = RAFT_CONF_ADD_LEARNER;
            for (node = 0; !(spare >> node & 1); node++)
                ;
        } else if (__builtin_popcount(voters) > 3) {
            op = RAFT_CONF_REMOVE;
            do
                node = (uint32_t)below(t, t->n);
            while (!(voters >> node & 1));
        } else {
            op = RAFT_CONF_ADD_LEARNER;
            for (node = 0; !(spare >> node & 1); node++)
                ;
        }
        /* The victim may be the node being promoted: heal it first then. */
        if (op == RAFT_CONF_PROMOTE && node == victim) {
            if (!raft_sim_up(t->s, victim))
                raft_sim_restart(t->s, victim);
            raft_sim_connect(t->s, victim);
        }
        if (change(t, op, node, 0) != 0)
            return;
        if (op == RAFT_CONF_ADD_LEARNER)
            learners |= 1u << node;
        else if (op == RAFT_CONF_PROMOTE) {
            learners &= ~(1u << node);
            voters |= 1u << node;
        } else
            voters &= ~(1u << node);
        one(t, rnd(t), 2, true);
        if (!raft_sim_up(t->s, victim))
            raft_sim_restart(t->s, victim);
        raft_sim_connect(t->s, victim);
    }
    CHECK(t);
    raft_sim_set_unreliable(t->s, false);
    one(t, 2, (unsigned)__builtin_popcount(voters), true);
    run(t, 1000);
    expect_conf(t, voters, learners);
}

/* A node joins after the log was compacted: the configuration reaches it
 * in the snapshot, and every node restarts into the same configuration. */
static void change_across_snapshot(T *t)
{
    for (uint64_t k = 0; k < 35 && !BAD(t); k++)
        one(t, 100 + k, 3, true);
    CHECK(t);
    change(t, RAFT_CONF_ADD_LEARNER, 3, 0);
    for (uint64_t k = 0; k < 25 && !BAD(t); k++)
        one(t, 200 + k, 3, true);
    CHECK(t);
    change(t, RAFT_CONF_PROMOTE, 3, 0);
    uint64_t idx = one(t, 300, 4, true);
    CHECK(t);
    raft *r3 = raft_sim_core(t->s, 3);
    if (raft_get_snap_index(r3) == 0)
        FAIL(t, "node 3 holds no snapshot: the scenario missed InstallSnapshot");
    for (uint64_t k = 0; k < 25 && !BAD(t); k++)
        one(t, 400 + k, 4, true);
    for (uint32_t i = 0; i < 4; i++)
        crash(t, i);
    for (uint32_t i = 0; i < 4; i++) {
        raft_sim_restart(t->s, i);
        raft_sim_connect(t->s, i);
    }
    run(t, 100);
    expect_conf(t, 0xf, 0);
    one_leader(t);
    idx = one(t, 500, 4, true);
    (void)idx;
}

/* ---- the table --------------------------------------------------------------------- */

static const scenario table[] = {
    { "MemberLearnerCatchUp", learner_catch_up, 4, false, 0, 20, 0, false, 3 },
    { "MemberRemoveLeader", remove_leader, 5, false, 0, 20, 0, false, 0 },
    { "MemberChurn", churn_changes, 7, false, 0, 10, 0, false, 5 },
    { "MemberChurnUnreliable", churn_changes, 7, true, 0, 10, 0, false, 5 },
    { "MemberSnapshot", change_across_snapshot, 4, false, 10, 10, 0, false, 3 },
};

int main(int argc, char **argv)
{
    return scenario_main(argc, argv, table, sizeof table / sizeof table[0], NULL);
}
