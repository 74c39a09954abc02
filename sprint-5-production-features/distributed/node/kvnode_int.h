/*
 * kvnode_int.h — private to distributed/node/: the options of one node and
 * the entry point of its event loop (kvnode_loop.c), called by the
 * program's main (kvnode.c) after it parsed flags or a config file.
 */
#ifndef KVLABS_KVNODE_INT_H
#define KVLABS_KVNODE_INT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct kvnode_opts {
    uint32_t id;              /* this node: line id+1 of the cluster file */
    char cluster[4096];       /* the cluster file */
    char dir[4096];           /* the node's data directory */
    unsigned tick_ms;         /* one Raft tick (default 10) */
    unsigned election_ticks;  /* minimum election timeout in ticks (default 30) */
    unsigned heartbeat_ticks; /* heartbeat interval in ticks (default 10) */
    uint64_t snapshot_every;  /* snapshot every this many applied entries (default 10000) */
    uint32_t max_frame;       /* largest frame payload accepted (default KVN_MAX_FRAME) */
    bool join;                /* first start outside the cluster, waiting to be added */
} kvnode_opts;

/* Serve until SIGTERM/SIGINT (KV_OK) or a fatal error (its status). */
int kvnode_serve(const kvnode_opts *o);

#endif /* KVLABS_KVNODE_INT_H */
