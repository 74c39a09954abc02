/*
 * raft_lincheck.c — linearizability checking of key-value histories
 * (raft_lincheck.h): Wing & Gong's backtracking search with Lowe's cache of
 * visited (linearized set, state) pairs, per key, as in Porcupine.
 *
 * How it works
 * ------------
 * For one key, every operation becomes two events, its call and its return,
 * sorted by time (calls first on ties: closed intervals). The events form a
 * doubly linked list. The search walks the list from the front:
 *
 * - at a call, it tries to linearize that operation now: apply it to the
 *   model state (present?, hash of the value); if the model accepts the
 *   observed result and the pair (set of linearized operations + this one,
 *   new state) was never seen before, it records the choice on a stack,
 *   removes the operation's two events from the list and starts again at
 *   the front; otherwise it moves on to the next event;
 * - at a return, the operation that returns here was never linearized
 *   before its response: undo the last choice (pop, re-insert its events)
 *   and try the event after it; an empty stack means no order works.
 *
 * Reaching an empty list is success. Operations with an unknown outcome
 * return at "infinity", after every known one: reaching such a return means
 * every known operation found a place, and the unknown ones left may simply
 * never have happened, so that is success too.
 *
 * The cache makes the search polynomial in practice (Lowe): two paths that
 * linearized the same operations and reached the same state have the same
 * future.
 */
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"
#include "raft_lincheck.h"

typedef struct lc_ev {
    size_t op;  /* index in the partition */
    bool call;
    uint64_t t;
    struct lc_ev *prev, *next, *match;
} lc_ev;

typedef struct lc_state {
    uint64_t present, vh;
} lc_state;

typedef struct lc_cache {
    size_t words;     /* words per bitset */
    uint64_t *arena;  /* entries: state (2 words) + bitset */
    size_t n, cap;    /* entries */
    size_t *slots;    /* open addressing: entry index + 1, 0 empty */
    size_t n_slots;
} lc_cache;

static uint64_t hash_words(const uint64_t *w, size_t n)
{
    return kv_xxh64(w, n * sizeof *w, 0x1c);
}

static int cache_grow(lc_cache *c)
{
    size_t ns = c->n_slots ? 2 * c->n_slots : 1024;
    size_t *slots = kv_calloc(ns, sizeof *slots);
    if (slots == NULL)
        return KV_ENOMEM;
    size_t ew = 2 + c->words;
    for (size_t e = 0; e < c->n; e++) {
        size_t h = (size_t)hash_words(c->arena + e * ew, ew) & (ns - 1);
        while (slots[h])
            h = (h + 1) & (ns - 1);
        slots[h] = e + 1;
    }
    kv_free(c->slots);
    c->slots = slots;
    c->n_slots = ns;
    return KV_OK;
}

/* Add (state, bits); 1 if new, 0 if seen, KV_ENOMEM. */
static int cache_add(lc_cache *c, const lc_state *s, const uint64_t *bits)
{
    size_t ew = 2 + c->words;
    if ((c->n + 1) * 2 > c->n_slots && cache_grow(c))
        return KV_ENOMEM;
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        uint64_t *a = kv_realloc(c->arena, cap * ew * sizeof *a);
        if (a == NULL)
            return KV_ENOMEM;
        c->arena = a;
        c->cap = cap;
    }
    uint64_t *e = c->arena + c->n * ew;
    e[0] = s->present;
    e[1] = s->vh;
    memcpy(e + 2, bits, c->words * sizeof *bits);
    size_t h = (size_t)hash_words(e, ew) & (c->n_slots - 1);
    while (c->slots[h]) {
        if (!memcmp(c->arena + (c->slots[h] - 1) * ew, e, ew * sizeof *e))
            return 0;
        h = (h + 1) & (c->n_slots - 1);
    }
    c->slots[h] = ++c->n;
    return 1;
}

static uint64_t vhash(const raft_lc_op *op)
{
    return kv_xxh64(op->val, op->vlen, op->vlen);
}

/* The model: apply op to s; false when the observed result is impossible. */
static bool step(const raft_lc_op *op, const lc_state *s, lc_state *out)
{
    *out = *s;
    bool unknown = op->ret == RAFT_LC_UNKNOWN;
    switch (op->kind) {
    case RAFT_LC_PUT:
        out->present = 1;
        out->vh = vhash(op);
        return true;
    case RAFT_LC_GET:
        if (unknown)
            return true;
        if (op->result == 0)
            return s->present && s->vh == vhash(op);
        return !s->present;
    default:
        if (unknown || op->result == 0) {
            out->present = 0;
            out->vh = 0;
            return unknown || s->present;
        }
        return !s->present;
    }
}

static int ev_cmp(const void *a, const void *b)
{
    const lc_ev *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return (int)y->call - (int)x->call; /* calls first */
}

static void lift(lc_ev *e)
{
    e->prev->next = e->next;
    if (e->next)
        e->next->prev = e->prev;
    lc_ev *m = e->match;
    m->prev->next = m->next;
    if (m->next)
        m->next->prev = m->prev;
}

static void unlift(lc_ev *e)
{
    lc_ev *m = e->match;
    m->prev->next = m;
    if (m->next)
        m->next->prev = m;
    e->prev->next = e;
    if (e->next)
        e->next->prev = e;
}

typedef struct frame {
    lc_ev *ev;
    lc_state state;
} frame;

/* Check one key's operations (part: indexes into ops). 1 ok, 0 not, 2
 * exhausted, <0 error. */
static int check_partition(const raft_lc_op *ops, const size_t *part, size_t m,
                           uint64_t max_states, uint64_t *states)
{
    int rc = KV_ENOMEM;
    lc_ev *evs = kv_calloc(2 * m + 1, sizeof *evs);
    frame *stack = kv_calloc(m + 1, sizeof *stack);
    lc_cache cache = { .words = (m + 63) / 64 };
    uint64_t *bits = kv_calloc(cache.words ? cache.words : 1, sizeof *bits);
    size_t *order = kv_calloc(2 * m + 1, sizeof *order);
    if (!evs || !stack || !bits || !order)
        goto out_free;
    lc_ev *sorted = evs + 1;
    for (size_t i = 0; i < m; i++) {
        sorted[2 * i] = (lc_ev){ .op = i, .call = true, .t = ops[part[i]].call };
        sorted[2 * i + 1] = (lc_ev){ .op = i, .call = false, .t = ops[part[i]].ret };
    }
    qsort(sorted, 2 * m, sizeof *sorted, ev_cmp);
    /* pair calls with returns after sorting */
    for (size_t i = 0; i < 2 * m; i++)
        order[i] = SIZE_MAX;
    size_t *call_at = order; /* reuse: call_at[op] = position of its call */
    for (size_t i = 0; i < 2 * m; i++)
        if (sorted[i].call)
            call_at[sorted[i].op] = i;
    for (size_t i = 0; i < 2 * m; i++)
        if (!sorted[i].call) {
            lc_ev *c = &sorted[call_at[sorted[i].op]];
            c->match = &sorted[i];
        }
    lc_ev *head = &evs[0];
    head->prev = NULL;
    head->next = m ? &sorted[0] : NULL;
    for (size_t i = 0; i < 2 * m; i++) {
        sorted[i].prev = i ? &sorted[i - 1] : head;
        sorted[i].next = i + 1 < 2 * m ? &sorted[i + 1] : NULL;
    }
    lc_state state = { 0, 0 };
    size_t depth = 0;
    lc_ev *e = head->next;
    rc = 1;
    while (head->next) {
        if (++*states > max_states) {
            rc = 2;
            break;
        }
        if (e == NULL) { /* cannot happen: a return always ends the walk */
            rc = 0;
            break;
        }
        if (e->call) {
            lc_state ns;
            const raft_lc_op *op = &ops[part[e->op]];
            if (step(op, &state, &ns)) {
                bits[e->op / 64] |= 1ull << (e->op % 64);
                int added = cache_add(&cache, &ns, bits);
                if (added < 0) {
                    rc = added;
                    break;
                }
                if (added) {
                    stack[depth++] = (frame){ e, state };
                    state = ns;
                    lift(e);
                    e = head->next;
                    continue;
                }
                bits[e->op / 64] &= ~(1ull << (e->op % 64));
            }
            e = e->next;
        } else {
            if (e->t == RAFT_LC_UNKNOWN)
                break; /* every known operation is placed */
            if (depth == 0) {
                rc = 0;
                break;
            }
            frame f = stack[--depth];
            state = f.state;
            bits[f.ev->op / 64] &= ~(1ull << (f.ev->op % 64));
            unlift(f.ev);
            e = f.ev->next;
        }
    }
out_free:
    kv_free(evs);
    kv_free(stack);
    kv_free(bits);
    kv_free(order);
    kv_free(cache.arena);
    kv_free(cache.slots);
    return rc;
}

typedef struct keyed {
    const void *key;
    size_t klen, i;
} keyed;

static int key_cmp(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    size_t n = x->klen < y->klen ? x->klen : y->klen;
    int c = n ? memcmp(x->key, y->key, n) : 0;
    if (c)
        return c;
    if (x->klen != y->klen)
        return x->klen < y->klen ? -1 : 1;
    return x->i < y->i ? -1 : 1;
}

static bool same_key(const keyed *x, const keyed *y)
{
    return x->klen == y->klen && (x->klen == 0 || !memcmp(x->key, y->key, x->klen));
}

int raft_lincheck(const raft_lc_op *ops, size_t n, uint64_t max_states, raft_lc_result *res)
{
    memset(res, 0, sizeof *res);
    res->linearizable = true;
    if (max_states == 0)
        max_states = 10000000;
    for (size_t i = 0; i < n; i++)
        if (ops[i].ret < ops[i].call || ops[i].kind > RAFT_LC_DELETE)
            return KV_EINVAL;
    keyed *ks = kv_calloc(n ? n : 1, sizeof *ks);
    size_t *idx = kv_calloc(n ? n : 1, sizeof *idx);
    int rc = KV_ENOMEM;
    if (ks == NULL || idx == NULL)
        goto out_free;
    for (size_t i = 0; i < n; i++)
        ks[i] = (keyed){ ops[i].key, ops[i].klen, i };
    qsort(ks, n, sizeof *ks, key_cmp);
    for (size_t i = 0; i < n; i++)
        idx[i] = ks[i].i;
    rc = 0;
    for (size_t lo = 0; lo < n;) {
        size_t hi = lo + 1;
        while (hi < n && same_key(&ks[hi], &ks[lo]))
            hi++;
        res->partitions++;
        int v = check_partition(ops, idx + lo, hi - lo, max_states, &res->states);
        if (v < 0) {
            rc = v;
            break;
        }
        if (v != 1) {
            res->linearizable = false;
            res->exhausted = v == 2;
            res->bad_op = idx[lo];
            break;
        }
        lo = hi;
    }
out_free:
    kv_free(ks);
    kv_free(idx);
    return rc;
}
