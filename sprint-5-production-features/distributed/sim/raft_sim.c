/*
 * raft_sim.c — the deterministic cluster simulator (raft_sim.h): nodes,
 * network, disks and crashes on simulated time.
 *
 * How it works
 * ------------
 * Time advances by events. The next event is either the next 10 ms tick
 * (every running node ticks) or the earliest message in a binary heap
 * keyed by (delivery time, sequence number); the sequence number makes ties
 * deterministic. After each event the affected node runs its ready loop
 * (raft_node_process(): persist through its fault env, send, apply), the
 * messages it sends are deep-copied into the heap with their random delay,
 * and the checker (raft_sim_check.c) looks at the node.
 *
 * Each node keeps its disk in a private fault env at path "/n". A crash
 * freezes that env's durable image (kv_env_fault_crash), frees the node
 * and its state machine; a restart reboots the env and opens the node
 * again, which restores its state machine from the snapshot and re-applies
 * the committed entries it knows of.
 *
 * Callers must not keep raft pointers (raft_sim_core()) across a crash.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/rng.h"
#include "raft_sim_int.h"

#define TICK_MS 10

typedef struct sim_event {
    uint64_t at, seq;
    raft_msg m;
} sim_event;

typedef struct sim_node {
    kv_env *env;
    raft_node *node;
    sim_sm sm;
    unsigned disk_delay;
    bool connected;
    bool was_leader;
    uint64_t leader_term;
    uint64_t checked_upto, checked_term; /* log matching checked up to this index */
} sim_node;

struct raft_sim {
    raft_sim_config cfg;
    sim_node nodes[RAFT_MAX_NODES];
    bool cut[RAFT_MAX_NODES][RAFT_MAX_NODES];
    kv_rng rng;
    uint64_t now, next_tick, seq;
    sim_event *heap;
    size_t n_heap, cap_heap;
    bool unreliable, long_reorder;
    raft_sim_stats stats;
    sim_checker check;
    uint32_t sending;       /* the node whose messages are being sent */
    uint64_t persists_before;
    uint32_t restarts[RAFT_MAX_NODES];
};

static void *xrealloc(void *p, size_t n)
{
    void *q = kv_realloc(p, n ? n : 1);
    if (q == NULL)
        abort();
    return q;
}

/* ---- the state machine: the applied digests ------------------------------- */

static void sm_push(sim_sm *sm, uint64_t d)
{
    if (sm->n == sm->cap) {
        sm->cap = sm->cap ? 2 * sm->cap : 64;
        sm->dig = xrealloc(sm->dig, sm->cap * sizeof *sm->dig);
    }
    sm->dig[sm->n++] = d;
}

static void sm_apply(void *p, const raft_entry *e)
{
    sim_sm *sm = p;
    raft_sim *s = sm->sim;
    if (e->index != sm->n + 1)
        sim_check_fail(&s->check, "node %u applied index %llu after %zu (out of order)", sm->id,
                       (unsigned long long)e->index, sm->n);
    uint64_t d = sim_entry_digest(e);
    sim_check_apply(&s->check, sm->id, e->index, e->term, d);
    sm_push(sm, d);
}

static int sm_snapshot(void *p, uint8_t **data, size_t *len)
{
    sim_sm *sm = p;
    *len = sm->n * 8;
    *data = kv_malloc(*len ? *len : 1);
    if (*data == NULL)
        return -1;
    for (size_t i = 0; i < sm->n; i++)
        for (int b = 0; b < 8; b++)
            (*data)[i * 8 + b] = (uint8_t)(sm->dig[i] >> (8 * b));
    return 0;
}

static int sm_restore(void *p, const uint8_t *data, size_t len, uint64_t index)
{
    sim_sm *sm = p;
    if (len % 8 || len / 8 != index)
        return -1;
    sm->n = 0;
    for (size_t i = 0; i < len / 8; i++) {
        uint64_t d = 0;
        for (int b = 7; b >= 0; b--)
            d = d << 8 | data[i * 8 + b];
        sim_check_apply(&sm->sim->check, sm->id, i + 1, 0, d);
        sm_push(sm, d);
    }
    return 0;
}

static const raft_sm_ops sim_sm_ops = { sm_apply, sm_snapshot, sm_restore, NULL };

/* ---- the network ------------------------------------------------------------- */

static bool link_up(const raft_sim *s, uint32_t from, uint32_t to)
{
    return s->nodes[from].connected && s->nodes[to].connected && !s->cut[from][to];
}

static bool ev_less(const sim_event *a, const sim_event *b)
{
    return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void heap_push(raft_sim *s, uint64_t at, const raft_msg *m)
{
    if (s->n_heap == s->cap_heap) {
        s->cap_heap = s->cap_heap ? 2 * s->cap_heap : 256;
        s->heap = xrealloc(s->heap, s->cap_heap * sizeof *s->heap);
    }
    size_t i = s->n_heap++;
    sim_event ev = { .at = at, .seq = s->seq++ };
    raft_msg_copy(&ev.m, m);
    while (i > 0 && ev_less(&ev, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = ev;
}

static sim_event heap_pop(raft_sim *s)
{
    sim_event top = s->heap[0];
    sim_event last = s->heap[--s->n_heap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= s->n_heap)
            break;
        if (c + 1 < s->n_heap && ev_less(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!ev_less(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->n_heap)
        s->heap[i] = last;
    return top;
}

static bool is_request(unsigned t)
{
    return t == RAFT_MSG_PREVOTE || t == RAFT_MSG_VOTE || t == RAFT_MSG_APPEND ||
           t == RAFT_MSG_HEARTBEAT || t == RAFT_MSG_SNAPSHOT || t == RAFT_MSG_TIMEOUT_NOW;
}

static uint64_t draw_delay(raft_sim *s)
{
    uint64_t d = kv_rng_below(&s->rng, s->cfg.max_delay_ms + 1);
    if (s->long_reorder && kv_rng_below(&s->rng, 3) == 0)
        d = 200 + kv_rng_below(&s->rng, 2001);
    return d;
}

static void sim_send(void *ctx, const raft_msg *m)
{
    raft_sim *s = ctx;
    s->stats.msgs[m->type & 15]++;
    s->stats.rpcs += is_request(m->type);
    s->stats.bytes += raft_msg_size(m);
    if (m->to >= s->cfg.n || !link_up(s, m->from, m->to))
        return;
    if (s->unreliable && kv_rng_below(&s->rng, 10) == 0)
        return; /* dropped */
    uint64_t disk = 0;
    sim_node *sn = &s->nodes[s->sending];
    if (sn->disk_delay && raft_node_persists(sn->node) != s->persists_before)
        disk = sn->disk_delay;
    heap_push(s, s->now + disk + draw_delay(s), m);
    if (s->unreliable && kv_rng_below(&s->rng, 20) == 0)
        heap_push(s, s->now + disk + draw_delay(s), m); /* duplicated */
}

/* ---- nodes --------------------------------------------------------------------- */

static void node_config(const raft_sim *s, uint32_t i, raft_config *rc)
{
    raft_config_default(rc, i, s->cfg.voters, s->cfg.seed * 1000003u + s->restarts[i]);
    if (s->cfg.snapshot_chunk)
        rc->snapshot_chunk = s->cfg.snapshot_chunk;
    if (s->cfg.max_batch)
        rc->max_batch = s->cfg.max_batch;
    rc->lease_read = s->cfg.lease_read;
}

static void sm_reset(sim_sm *sm)
{
    sm->n = 0;
}

static void after_step(raft_sim *s, uint32_t i)
{
    sim_node *sn = &s->nodes[i];
    if (sn->node == NULL)
        return;
    s->sending = i;
    s->persists_before = raft_node_persists(sn->node);
    int rc = raft_node_process(sn->node, sim_send, s);
    s->stats.steps++;
    if (rc) {
        sim_check_fail(&s->check, "node %u failed to persist: %s", i, kv_strerror(rc));
        return;
    }
    raft *r = raft_node_core(sn->node);
    bool lead = raft_get_role(r) == RAFT_LEADER;
    bool new_leader = lead && (!sn->was_leader || sn->leader_term != raft_get_term(r));
    sn->was_leader = lead;
    sn->leader_term = lead ? raft_get_term(r) : 0;
    /* Log matching: re-check from the last checked index unless the log
     * changed below it (a truncation), then from the start of the log. */
    uint64_t from = sn->checked_upto + 1;
    if (sn->checked_upto && (raft_get_last_index(r) < sn->checked_upto ||
                             raft_get_term_at(r, sn->checked_upto) != sn->checked_term))
        from = 0;
    sim_check_node(&s->check, r, new_leader, from);
    sn->checked_upto = raft_get_last_index(r);
    sn->checked_term = raft_get_term_at(r, sn->checked_upto);
}

static int open_node(raft_sim *s, uint32_t i)
{
    sim_node *sn = &s->nodes[i];
    raft_config rc;
    node_config(s, i, &rc);
    sm_reset(&sn->sm);
    sn->was_leader = false;
    sn->checked_upto = sn->checked_term = 0;
    int st = raft_node_open(sn->env, "/n", &rc, &sim_sm_ops, &sn->sm, s->cfg.snapshot_every,
                            &sn->node);
    if (st)
        sim_check_fail(&s->check, "node %u failed to open its storage: %s (%s)", i,
                       kv_strerror(st), kv_last_error());
    else
        after_step(s, i);
    return st;
}

raft_sim *raft_sim_new(const raft_sim_config *cfg)
{
    raft_sim *s = kv_calloc(1, sizeof *s);
    if (s == NULL)
        abort();
    s->cfg = *cfg;
    if (s->cfg.max_delay_ms == 0)
        s->cfg.max_delay_ms = 27;
    if (s->cfg.voters == 0 || s->cfg.voters > s->cfg.n)
        s->cfg.voters = s->cfg.n;
    kv_rng_seed(&s->rng, cfg->seed);
    sim_check_init(&s->check);
    s->next_tick = TICK_MS;
    for (uint32_t i = 0; i < cfg->n; i++) {
        sim_node *sn = &s->nodes[i];
        sn->env = kv_env_fault_new(cfg->seed * 31 + i);
        if (sn->env == NULL)
            abort();
        sn->connected = true;
        sn->sm.sim = s;
        sn->sm.id = i;
    }
    for (uint32_t i = 0; i < cfg->n; i++)
        open_node(s, i);
    return s;
}

void raft_sim_free(raft_sim *s)
{
    if (s == NULL)
        return;
    for (uint32_t i = 0; i < s->cfg.n; i++) {
        raft_node_close(s->nodes[i].node);
        kv_env_free(s->nodes[i].env);
        kv_free(s->nodes[i].sm.dig);
    }
    for (size_t i = 0; i < s->n_heap; i++)
        raft_msg_free(&s->heap[i].m);
    kv_free(s->heap);
    sim_check_free(&s->check);
    kv_free(s);
}

void raft_sim_run(raft_sim *s, uint64_t ms)
{
    uint64_t end = s->now + ms;
    for (;;) {
        bool msg = s->n_heap && s->heap[0].at < s->next_tick;
        uint64_t t = msg ? s->heap[0].at : s->next_tick;
        if (t > end)
            break;
        s->now = t;
        if (msg) {
            sim_event ev = heap_pop(s);
            uint32_t to = ev.m.to;
            if (s->nodes[to].node && link_up(s, ev.m.from, to)) {
                s->stats.delivered++;
                raft_step(raft_node_core(s->nodes[to].node), &ev.m);
                after_step(s, to);
            }
            raft_msg_free(&ev.m);
        } else {
            s->next_tick += TICK_MS;
            for (uint32_t i = 0; i < s->cfg.n; i++)
                if (s->nodes[i].node) {
                    raft_tick(raft_node_core(s->nodes[i].node));
                    after_step(s, i);
                }
        }
    }
    s->now = end;
}

uint64_t raft_sim_now(const raft_sim *s) { return s->now; }
void raft_sim_set_unreliable(raft_sim *s, bool on) { s->unreliable = on; }
void raft_sim_set_long_reordering(raft_sim *s, bool on) { s->long_reorder = on; }
void raft_sim_connect(raft_sim *s, uint32_t i) { s->nodes[i].connected = true; }
void raft_sim_disconnect(raft_sim *s, uint32_t i) { s->nodes[i].connected = false; }
bool raft_sim_connected(const raft_sim *s, uint32_t i) { return s->nodes[i].connected; }
void raft_sim_link(raft_sim *s, uint32_t from, uint32_t to, bool up) { s->cut[from][to] = !up; }
void raft_sim_set_disk_delay(raft_sim *s, uint32_t i, unsigned ms) { s->nodes[i].disk_delay = ms; }
bool raft_sim_up(const raft_sim *s, uint32_t i) { return s->nodes[i].node != NULL; }

void raft_sim_crash(raft_sim *s, uint32_t i, kv_crash_mode mode)
{
    sim_node *sn = &s->nodes[i];
    if (sn->node == NULL)
        return;
    kv_env_fault_crash(sn->env, mode);
    raft_node_close(sn->node);
    sn->node = NULL;
    sm_reset(&sn->sm);
}

int raft_sim_restart(raft_sim *s, uint32_t i)
{
    sim_node *sn = &s->nodes[i];
    if (sn->node)
        return KV_OK;
    if (kv_env_fault_crashed(sn->env))
        kv_env_fault_reboot(sn->env);
    s->restarts[i]++;
    return open_node(s, i);
}

int raft_sim_propose(raft_sim *s, uint32_t i, const void *cmd, uint32_t len, uint64_t *index,
                     uint64_t *term)
{
    if (s->nodes[i].node == NULL)
        return -1;
    if (raft_propose(raft_node_core(s->nodes[i].node), cmd, len, index, term) != 0)
        return -1;
    after_step(s, i);
    return 0;
}

int raft_sim_change_conf(raft_sim *s, uint32_t i, int op, uint32_t node, uint64_t *index)
{
    if (s->nodes[i].node == NULL)
        return RAFT_CONF_ENOTLEADER;
    int rc = raft_change_conf(raft_node_core(s->nodes[i].node), op, node, index);
    if (rc == 0)
        after_step(s, i);
    return rc;
}

unsigned raft_sim_n_committed(raft_sim *s, uint64_t index, uint64_t *digest)
{
    unsigned n = 0;
    bool have = false;
    for (uint32_t i = 0; i < s->cfg.n; i++) {
        const sim_sm *sm = &s->nodes[i].sm;
        if (index == 0 || index > sm->n)
            continue;
        uint64_t d = sm->dig[index - 1];
        if (have && d != *digest)
            sim_check_fail(&s->check, "committed values differ at index %llu",
                           (unsigned long long)index);
        *digest = d;
        have = true;
        n++;
    }
    return n;
}

raft *raft_sim_core(raft_sim *s, uint32_t i)
{
    return s->nodes[i].node ? raft_node_core(s->nodes[i].node) : NULL;
}

uint64_t raft_sim_applied(const raft_sim *s, uint32_t i)
{
    return s->nodes[i].sm.n;
}

const raft_sim_stats *raft_sim_get_stats(const raft_sim *s) { return &s->stats; }

const char *raft_sim_failure(const raft_sim *s)
{
    return s->check.failed ? s->check.failure : NULL;
}

void raft_sim_fail(raft_sim *s, const char *fmt, ...)
{
    if (s->check.failed)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    sim_check_fail(&s->check, "%s", buf);
}
