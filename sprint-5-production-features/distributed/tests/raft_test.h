/*
 * raft_test.h — the hand-driven Raft test kit shared by test_raft.c and
 * test_membership.c: an owned core's free, the box that collects what the
 * core hands out (messages, hard state, entries to persist and apply,
 * snapshots, reads), drain(), clear(), find() and elect().
 *
 * How it works: a test steps one core by hand and calls drain() after each
 * input; drain() runs the ready loop (raft_ready_get, record, copy the
 * messages into the box, raft_advance) until the core has nothing left, as
 * a node would, minus the disk and the network. The test then looks for
 * the message it expects with find() and empties the box with clear().
 *
 * Each core a test makes should be owned (kvtest.h's kvt_own with
 * raft_free_owned): the suite's .fini frees what a failed assertion left,
 * so a failing test reports no leak. After this header, raft_free() of an
 * owned core forgets it first (a macro over free_raft()).
 *
 * Everything here is static inline: each test file includes it once, and
 * a helper one file does not use costs nothing. What callers must not do:
 * collect more than RAFT_TEST_MAXM messages in a box without clear()
 * (drain() asserts), or use a box's messages after clear().
 */
#ifndef KVLABS_RAFT_TEST_H
#define KVLABS_RAFT_TEST_H

#include <criterion/criterion.h>
#include <string.h>

#include "kvtest.h"
#include "raft.h"

/* kvt_own's release for a core. */
static inline void raft_free_owned(void *r)
{
    raft_free(r);
}

/* raft_free of an owned core: forget it, then free it. */
static inline void free_raft(raft *r)
{
    kvt_disown(r);
    raft_free(r);
}
#define raft_free(r) free_raft(r)

#define RAFT_TEST_MAXM 256

/* What a core handed out through its readies since the last clear(). */
typedef struct box {
    raft_msg m[RAFT_TEST_MAXM]; /* copies of the messages, in order */
    size_t n;
    raft_hard_state hs; /* the last hard state marked changed */
    bool hs_changed;
    size_t persisted;  /* entries handed out to persist */
    size_t applied;    /* committed entries handed over */
    uint64_t last_applied;
    bool snap;         /* a snapshot was handed out: the last one's index, term, configuration */
    uint64_t snap_index, snap_term;
    raft_membership snap_conf;
    raft_read_state reads[8];
    size_t n_reads;
} box;

/* Run the core's ready loop until it has nothing left, recording it in b. */
static inline void drain(raft *r, box *b)
{
    while (raft_has_ready(r)) {
        raft_ready rd;
        raft_ready_get(r, &rd);
        if (rd.hs_changed) {
            b->hs_changed = true;
            b->hs = rd.hs;
        }
        b->persisted += rd.n_entries;
        if (rd.snap) {
            b->snap = true;
            b->snap_index = rd.snap->index;
            b->snap_term = rd.snap->term;
            b->snap_conf = rd.snap->conf;
        }
        for (size_t i = 0; i < rd.n_msgs; i++) {
            cr_assert_lt(b->n, RAFT_TEST_MAXM);
            raft_msg_copy(&b->m[b->n++], &rd.msgs[i]);
        }
        b->applied += rd.n_committed;
        if (rd.n_committed)
            b->last_applied = rd.committed[rd.n_committed - 1].index;
        for (size_t i = 0; i < rd.n_reads && b->n_reads < 8; i++)
            b->reads[b->n_reads++] = rd.reads[i];
        raft_advance(r, &rd);
    }
}

/* Free the box's messages and empty it. */
static inline void clear(box *b)
{
    for (size_t i = 0; i < b->n; i++)
        raft_msg_free(&b->m[i]);
    memset(b, 0, sizeof *b);
}

/* The first message of type to node `to` in the box, or NULL. */
static inline const raft_msg *find(const box *b, unsigned type, uint32_t to)
{
    for (size_t i = 0; i < b->n; i++)
        if (b->m[i].type == type && b->m[i].to == to)
            return &b->m[i];
    return NULL;
}

/* Elect node 0 of the voters 0 .. n-1 by ticking it and granting every
 * (pre)vote request; the box keeps what the campaign and the new leader
 * sent (its first APPENDs). */
static inline void elect(raft *r, uint32_t n, box *b)
{
    for (int i = 0; i < 100 && raft_get_role(r) == RAFT_FOLLOWER; i++)
        raft_tick(r);
    drain(r, b);
    for (int round = 0; round < 2 && raft_get_role(r) != RAFT_LEADER; round++) {
        raft_role role = raft_get_role(r);
        unsigned type = role == RAFT_PRECANDIDATE ? RAFT_MSG_PREVOTE_RESP : RAFT_MSG_VOTE_RESP;
        uint64_t term = role == RAFT_PRECANDIDATE ? raft_get_term(r) + 1 : raft_get_term(r);
        for (uint32_t p = 1; p < n; p++) {
            raft_msg m = { .type = (uint8_t)type, .from = p, .to = 0, .term = term };
            raft_step(r, &m);
        }
        drain(r, b);
    }
    cr_assert_eq(raft_get_role(r), RAFT_LEADER);
}

#endif /* KVLABS_RAFT_TEST_H */
