/*
 * kvnode_admin.h — private to distributed/node/: the membership change a
 * kvnode leader works on (kvnode_admin.c), driven by the event loop
 * (kvnode_loop.c), which receives the admin frames and sends the answers.
 *
 * At most one change is in flight at a node: kvnode_admin_begin() either
 * answers a request at once or makes it the change in flight;
 * kvnode_admin_poll(), called after every ready round, answers it when the
 * configuration reached the goal, the node lost leadership or the
 * request's time ran out.
 */
#ifndef KVLABS_KVNODE_ADMIN_H
#define KVLABS_KVNODE_ADMIN_H

#include <stdbool.h>
#include <stdint.h>

#include "raft.h"
#include "raft_net.h"

typedef struct kvnode_admin {
    bool active;       /* a change is in flight */
    uint8_t op;        /* its kvn_admin_op */
    uint32_t node;     /* the node it concerns */
    uint32_t budget;   /* its timeout_ms */
    uint64_t deadline; /* answer by then (the loop's clock, ms) */
    int slot;          /* the client's connection (set by the loop) */
    uint64_t gen;      /* and its generation */
} kvnode_admin;

typedef struct kvnode_answer {
    uint8_t kind;  /* a kvn_kind */
    int status;    /* with KVN_DONE: a KV status */
    char msg[256]; /* for a person */
} kvnode_answer;

/*
 * Start request q at this node, whose cluster file names n_addrs nodes.
 * Returns true with *ans to send now, or false when q became the change in
 * flight (a->active; the caller sets a->slot and a->gen). A request for
 * the change already in flight takes it over (false: the caller points it
 * at the new client).
 */
bool kvnode_admin_begin(kvnode_admin *a, raft *r, const kvn_admin *q, uint32_t n_addrs,
                        uint64_t now, kvnode_answer *ans);

/* The change in flight: true with *ans when it is answered now (a->active
 * is then false); false while it goes on (or nothing is in flight). */
bool kvnode_admin_poll(kvnode_admin *a, raft *r, uint64_t now, kvnode_answer *ans);

#endif /* KVLABS_KVNODE_ADMIN_H */
