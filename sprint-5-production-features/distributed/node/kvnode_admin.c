/*
 * kvnode_admin.c — membership changes on a kvnode leader: what `kvctl
 * cluster add NODE` and `kvctl cluster remove NODE` ask for (an admin
 * frame, KVN_ADMIN), carried out through the core's raft_change_conf().
 *
 * How it works. A request names a goal, not a step: ADD "node N is a
 * voter", REMOVE "node N is not a member". The leader compares the goal
 * with its latest configuration (raft_get_membership()) and takes the next
 * step the core allows, one at a time, as raft.h demands:
 *
 *   ADD:    not a member ──ADD_LEARNER──► learner ──PROMOTE (once caught
 *           up: the core answers ENOTREADY until then)──► voter
 *   REMOVE: voter or learner ──REMOVE──► not a member
 *
 * and answers when the goal holds in a committed configuration. A request
 * for the change already in flight takes it over (a client that retried
 * after a lost reply), so a retry at a new leader finishes the change
 * instead of repeating it: a learner left behind by an old leader is
 * promoted, a removal already in the log is waited for. A second, different
 * change while one is in flight (here or in the log) is refused with
 * KV_EBUSY. A node that loses leadership answers RETRY (the client finds
 * the new leader and asks again); when the request's time runs out the
 * answer is KV_EBUSY with what is left undone (a learner that never caught
 * up: its kvnode is most likely not running).
 *
 * Callers (kvnode_loop.c) must call kvnode_admin_poll() after every ready
 * round, with the core that kvnode_admin_begin() was given.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "kvlabs/kv.h"
#include "kvnode_admin.h"

/* 'v' voter, 'l' learner, 0 not a member. */
static char member(const raft_membership *c, uint32_t node)
{
    if (c->voters >> node & 1u)
        return 'v';
    return c->learners >> node & 1u ? 'l' : 0;
}

static bool answer(kvnode_answer *ans, uint8_t kind, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool answer(kvnode_answer *ans, uint8_t kind, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ans->kind = kind;
    ans->status = status;
    vsnprintf(ans->msg, sizeof ans->msg, fmt, ap);
    va_end(ap);
    return true;
}

static const char *op_name(uint8_t op) { return op == KVN_ADMIN_ADD ? "add" : "remove"; }

/* The core refused a step: the answer, or false (rc 0: the step is under way). */
static bool refused(kvnode_answer *ans, int rc, bool in_flight, uint32_t node)
{
    switch (rc) {
    case 0:
        return false;
    case RAFT_CONF_EBUSY:
        if (in_flight)
            return answer(ans, KVN_DONE, KV_EBUSY,
                          "another membership change is in flight (not committed yet): "
                          "try again when it is done");
        return answer(ans, KVN_RETRY, KV_OK,
                      "the new leader has not committed an entry of its term yet");
    case RAFT_CONF_EINVAL:
        return answer(ans, KVN_DONE, KV_EINVAL,
                      "the leader's core refused the change of node %u (the last voter "
                      "cannot be removed)", node);
    default: /* ENOTLEADER: a leadership transfer is under way */
        return answer(ans, KVN_RETRY, KV_OK, "leadership is being transferred");
    }
}

bool kvnode_admin_begin(kvnode_admin *a, raft *r, const kvn_admin *q, uint32_t n_addrs,
                        uint64_t now, kvnode_answer *ans)
{
    if (raft_get_role(r) != RAFT_LEADER)
        return answer(ans, KVN_NOTLEADER, KV_OK, "not the leader");
    if (q->node >= n_addrs)
        return answer(ans, KVN_DONE, KV_EINVAL,
                      "node %u has no address: the leader's cluster file names %u nodes; add "
                      "its host:port line first", q->node, n_addrs);
    if (a->active && (a->op != q->op || a->node != q->node))
        return answer(ans, KVN_DONE, KV_EBUSY,
                      "another membership change is in flight (%s node %u): try again when it "
                      "is done", op_name(a->op), a->node);
    raft_membership conf;
    bool in_flight = raft_get_membership(r, &conf) > raft_get_commit(r);
    char m = member(&conf, q->node);
    int rc = 0;
    if (!a->active) {
        if (q->op == KVN_ADMIN_ADD && m == 'v' && !in_flight)
            return answer(ans, KVN_DONE, KV_OK, "node %u is already a voter", q->node);
        if (q->op == KVN_ADMIN_REMOVE && m == 0 && !in_flight)
            return answer(ans, KVN_DONE, KV_ENOTFOUND, "node %u is not a member", q->node);
        if (q->op == KVN_ADMIN_ADD && m == 0)
            rc = raft_change_conf(r, RAFT_CONF_ADD_LEARNER, q->node, NULL);
        else if (q->op == KVN_ADMIN_REMOVE && m != 0)
            rc = raft_change_conf(r, RAFT_CONF_REMOVE, q->node, NULL);
        /* else the goal's step is in the log already: wait for it */
        if (refused(ans, rc, in_flight, q->node))
            return true;
    }
    a->active = true;
    a->op = q->op;
    a->node = q->node;
    a->budget = q->timeout_ms;
    a->deadline = now + q->timeout_ms;
    return false;
}

bool kvnode_admin_poll(kvnode_admin *a, raft *r, uint64_t now, kvnode_answer *ans)
{
    if (!a->active)
        return false;
    raft_membership conf;
    bool committed = raft_get_membership(r, &conf) <= raft_get_commit(r);
    bool leader = raft_get_role(r) == RAFT_LEADER;
    char m = member(&conf, a->node);
    bool done = false;
    if (a->op == KVN_ADMIN_ADD && committed && m == 'v')
        done = answer(ans, KVN_DONE, KV_OK, "node %u is a voter", a->node);
    else if (a->op == KVN_ADMIN_REMOVE && committed && m == 0)
        done = answer(ans, KVN_DONE, KV_OK, "node %u is removed", a->node);
    else if (!leader)
        done = answer(ans, KVN_RETRY, KV_OK, "the leader changed");
    else if (now > a->deadline && a->op == KVN_ADMIN_ADD && m == 'l')
        done = answer(ans, KVN_DONE, KV_EBUSY,
                      "node %u is a learner but did not catch up within %u ms: is its kvnode "
                      "running (started with --join)? Run cluster add again to promote it",
                      a->node, a->budget);
    else if (now > a->deadline)
        done = answer(ans, KVN_DONE, KV_EBUSY,
                      "the change of node %u did not commit within %u ms", a->node, a->budget);
    else if (committed && a->op == KVN_ADMIN_ADD) {
        /* the next step: a learner is promoted once caught up (ENOTREADY until
         * then); a node removed meanwhile is added again */
        int rc = raft_change_conf(r, m == 'l' ? RAFT_CONF_PROMOTE : RAFT_CONF_ADD_LEARNER,
                                  a->node, NULL);
        if (rc == RAFT_CONF_EINVAL)
            done = refused(ans, rc, false, a->node);
    } else if (committed && a->op == KVN_ADMIN_REMOVE) {
        /* the removal was lost with an old leader's log: propose it again */
        int rc = raft_change_conf(r, RAFT_CONF_REMOVE, a->node, NULL);
        if (rc == RAFT_CONF_EINVAL)
            done = refused(ans, rc, false, a->node);
    }
    if (done)
        a->active = false;
    return done;
}
