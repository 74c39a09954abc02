/*
 * test_node.c — raft_node_process()'s order of persisting and sending, on
 * three nodes over a hand-driven network, each node on its own fault env:
 * a steady leader sends its APPENDs before its fsync (raft.h's exception:
 * the followers write while it writes), a follower acknowledges only after
 * its fsync (one whose persist fails sends nothing), and a leader that
 * crashes after sending but before persisting loses nothing committed: the
 * followers commit its entry without it, and it catches up after a restart.
 *
 * The network is a FIFO of message copies; every message records how many
 * fsyncs its sender's env had made when it was sent, which is how the
 * tests see "before" and "after" the fsync. The net, the nodes and the
 * envs are owned by the test (kvtest.h's kvt_own): the suite's .fini frees
 * what a failed assertion left (nodes first), so a failing test reports no
 * leak.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvtest.h"
#include "raft_node.h"

#define N 3
#define NET_MAX 512
#define MAX_IDX 64

typedef struct sent {
    raft_msg m;
    uint64_t syncs; /* the sender's env's fsyncs when it was sent */
} sent;

typedef struct sm {
    uint64_t applied;
    char val[MAX_IDX]; /* the one-byte command applied at each index (0: NOOP) */
} sm;

typedef struct net {
    sent q[NET_MAX];
    size_t head, n;
    kv_env *env[N];
    raft_node *node[N];
    sm sms[N];
    uint32_t sender;
} net;

static void net_free_owned(void *p)
{
    net *t = p;
    for (size_t i = 0; i < t->n; i++)
        raft_msg_free(&t->q[(t->head + i) % NET_MAX].m);
    kv_free(t);
}

static void node_close_owned(void *n)
{
    raft_node_close(n);
}

static void env_free_owned(void *env)
{
    kv_env_free(env);
}

TestSuite(node, .fini = kvt_release_owned);

static void sm_apply(void *p, const raft_entry *e)
{
    sm *s = p;
    cr_assert_eq(e->index, s->applied + 1, "applied out of order");
    s->applied = e->index;
    if (e->index < MAX_IDX)
        s->val[e->index] = e->type == RAFT_ENTRY_NORMAL && e->len == 1 ? (char)e->data[0] : 0;
}

static int sm_snapshot(void *p, uint8_t **data, size_t *len)
{
    (void)p, (void)data, (void)len;
    return 1; /* never */
}

static int sm_restore(void *p, const uint8_t *data, size_t len, uint64_t index)
{
    (void)p, (void)data, (void)len, (void)index;
    return 1; /* no snapshot is ever taken */
}

static const raft_sm_ops ops = { sm_apply, sm_snapshot, sm_restore, NULL };

static uint64_t syncs(const kv_env *env)
{
    kv_env_counters c;
    kv_env_get_counters(env, &c);
    return c.syncs;
}

static void net_send(void *ctx, const raft_msg *m)
{
    net *t = ctx;
    cr_assert_lt(t->n, NET_MAX);
    sent *s = &t->q[(t->head + t->n++) % NET_MAX];
    raft_msg_copy(&s->m, m);
    s->syncs = syncs(t->env[t->sender]);
}

static int process(net *t, uint32_t i)
{
    t->sender = i;
    return raft_node_process(t->node[i], net_send, t);
}

static void open_node(net *t, uint32_t i)
{
    raft_config c;
    raft_config_default(&c, i, N, 7);
    memset(&t->sms[i], 0, sizeof t->sms[i]);
    int rc = raft_node_open(t->env[i], "/n", &c, &ops, &t->sms[i], 0, &t->node[i]);
    cr_assert_eq(rc, KV_OK, "open node %u: %s", i, kv_last_error());
    kvt_own(t->node[i], node_close_owned);
}

static void close_node(net *t, uint32_t i)
{
    kvt_disown(t->node[i]);
    raft_node_close(t->node[i]);
    t->node[i] = NULL;
}

static net *mk(void)
{
    net *t = kvt_own(kv_calloc(1, sizeof(net)), net_free_owned);
    cr_assert(t);
    for (uint32_t i = 0; i < N; i++) {
        t->env[i] = kvt_own(kv_env_fault_new(i + 1), env_free_owned);
        cr_assert(t->env[i]);
        open_node(t, i);
    }
    return t;
}

static sent pop(net *t)
{
    sent s = t->q[t->head];
    t->head = (t->head + 1) % NET_MAX;
    t->n--;
    return s;
}

/* Deliver everything in flight, and what that causes, to the nodes up. */
static void pump(net *t)
{
    while (t->n) {
        sent s = pop(t);
        uint32_t to = s.m.to;
        if (to < N && t->node[to]) {
            raft_step(raft_node_core(t->node[to]), &s.m);
            cr_assert_eq(process(t, to), KV_OK);
        }
        raft_msg_free(&s.m);
    }
}

/* Tick every node up, delivering after each round, until a leader holds a
 * quorum's acknowledgement of its first entry; returns its id. */
static uint32_t run(net *t, int rounds)
{
    for (int k = 0; k < rounds; k++) {
        for (uint32_t i = 0; i < N; i++)
            if (t->node[i]) {
                raft_tick(raft_node_core(t->node[i]));
                cr_assert_eq(process(t, i), KV_OK);
            }
        pump(t);
    }
    for (uint32_t i = 0; i < N; i++)
        if (t->node[i] && raft_get_role(raft_node_core(t->node[i])) == RAFT_LEADER)
            return i;
    return N;
}

static uint32_t elect(net *t)
{
    uint32_t l = N;
    for (int k = 0; k < 200 && l == N; k++)
        l = run(t, 1);
    cr_assert_lt(l, N, "no leader elected");
    run(t, 20); /* heartbeats: every node applies the leader's first entry */
    return l;
}

Test(node, leader_sends_appends_before_its_fsync_followers_ack_after)
{
    net *t = mk();
    uint32_t l = elect(t);
    raft *r = raft_node_core(t->node[l]);
    uint64_t idx, term;
    cr_assert_eq(raft_propose(r, "x", 1, &idx, &term), 0);
    uint64_t before = syncs(t->env[l]);
    cr_assert_eq(process(t, l), KV_OK);
    cr_assert_gt(syncs(t->env[l]), before, "the leader did not fsync its entry");
    cr_assert_eq(t->n, 2, "one APPEND per follower");
    for (size_t i = 0; i < t->n; i++) {
        const sent *s = &t->q[(t->head + i) % NET_MAX];
        cr_assert_eq(s->m.type, RAFT_MSG_APPEND);
        cr_assert_eq(s->syncs, before, "the leader's APPEND waited for its own fsync");
    }
    /* Each follower acknowledges only after its own fsync. */
    for (int k = 0; k < 2; k++) {
        sent s = pop(t);
        uint32_t f = s.m.to;
        uint64_t fb = syncs(t->env[f]);
        raft_step(raft_node_core(t->node[f]), &s.m);
        raft_msg_free(&s.m);
        size_t n0 = t->n;
        cr_assert_eq(process(t, f), KV_OK);
        cr_assert_gt(t->n, n0, "no acknowledgement");
        const sent *a = &t->q[(t->head + t->n - 1) % NET_MAX];
        cr_assert_eq(a->m.type, RAFT_MSG_APPEND_RESP);
        cr_assert_eq(a->m.index, idx);
        cr_assert_gt(a->syncs, fb, "a follower acknowledged before its fsync");
    }
    pump(t);
    run(t, 20);
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(t->sms[i].val[idx], 'x', "node %u did not apply the entry", i);
}

Test(node, follower_that_cannot_persist_sends_nothing)
{
    net *t = mk();
    uint32_t l = elect(t);
    uint64_t idx, term;
    cr_assert_eq(raft_propose(raft_node_core(t->node[l]), "y", 1, &idx, &term), 0);
    cr_assert_eq(process(t, l), KV_OK);
    sent s = pop(t);
    uint32_t f = s.m.to;
    kv_env_fault_crash_after(t->env[f], 1, KV_CRASH_DROP);
    raft_step(raft_node_core(t->node[f]), &s.m);
    raft_msg_free(&s.m);
    size_t n0 = t->n;
    cr_assert_neq(process(t, f), KV_OK, "the persist should have failed");
    cr_assert_eq(t->n, n0, "a follower answered what it could not make durable");
}

Test(node, leader_crash_before_its_fsync_loses_nothing_committed)
{
    net *t = mk();
    uint32_t l = elect(t);
    uint64_t idx, term;
    cr_assert_eq(raft_propose(raft_node_core(t->node[l]), "z", 1, &idx, &term), 0);
    kv_env_fault_crash_after(t->env[l], 1, KV_CRASH_DROP);
    cr_assert_neq(process(t, l), KV_OK, "the leader's persist should have failed");
    cr_assert_eq(t->n, 2, "only the leader's APPENDs may precede its fsync");
    for (size_t i = 0; i < t->n; i++)
        cr_assert_eq(t->q[(t->head + i) % NET_MAX].m.type, RAFT_MSG_APPEND);
    close_node(t, l);
    pump(t); /* the followers persist and acknowledge; the leader is down */
    kv_env_fault_reboot(t->env[l]);
    open_node(t, l);
    cr_assert_lt(raft_get_last_index(raft_node_core(t->node[l])), idx,
                 "the entry was not durable on the old leader");
    uint32_t nl = N;
    for (int k = 0; k < 300 && (nl == N || nl == l); k++)
        nl = run(t, 1);
    cr_assert(nl < N && nl != l, "a follower holding the entry should lead");
    run(t, 30);
    for (uint32_t i = 0; i < N; i++)
        cr_assert_eq(t->sms[i].val[idx], 'z', "node %u lost the entry", i);
}
