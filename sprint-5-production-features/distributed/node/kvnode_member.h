/*
 * kvnode_member.h — private to distributed/node/: this node's own place in
 * the cluster (kvnode_member.c): its first configuration (DIR/voters), the
 * address book it reads again as nodes are added, the status line it
 * reports, and learning that it was removed.
 *
 * Removal. A node taken out by `kvctl cluster remove` is not sent the
 * entry that removes it (the leader stops sending to it at once), so it
 * learns it in one of two ways, and then stops (exit 0, with a log line):
 *
 *   - told by a peer: it campaigns (PreVote), and a peer whose committed
 *     configuration names it neither voter nor learner, and whose
 *     configuration entry lies beyond the campaigner's last log index,
 *     answers "not a member" (kvnode_member_refuse(); a type 3 response on
 *     the connection the Raft message came on, docs/formats/kvnode.md);
 *   - by its own log: a configuration it has committed no longer names it,
 *     after a committed one since this process started did (a removed
 *     leader, which hands over and steps down first). A --join node waiting
 *     to be added has never been named, so the old configurations it
 *     replays do not stop it.
 */
#ifndef KVLABS_KVNODE_MEMBER_H
#define KVLABS_KVNODE_MEMBER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "kvlabs/env.h"
#include "kvnode_int.h"
#include "raft.h"
#include "raft_net.h"

/* What a node knows of its own membership. Zero it before the loop starts. */
typedef struct kvnode_member {
    bool was_member; /* a committed configuration named it since this process started */
    uint64_t stop_at; /* the loop's clock (ms) when it stops: it was removed (0: not) */
    char why[200];   /* the log line's reason */
} kvnode_member;

/*
 * The cluster's first configuration (voters 0 .. *voters-1), fixed in
 * DIR/voters at the node's first start (the file's n_addrs lines, or with
 * --join the node's own id). KV_OK, or an error with kv_last_error() set.
 */
int kvnode_initial_voters(const kv_env *env, const kvnode_opts *o, uint32_t n_addrs,
                          uint32_t *voters);

/*
 * Read cluster file `path` again for lines appended since (*n grows, addrs
 * filled): at most once a second (*reread_at) unless force. True when the
 * file named more nodes.
 */
bool kvnode_reread_cluster(const char *path, uint32_t id, char addrs[RAFT_MAX_NODES][128],
                           uint32_t *n, uint64_t *reread_at, uint64_t now, bool force);

/* The `cluster status` line of node id: role, term, ..., match (match[0..n-1]
 * at a leader), voters, learners. */
void kvnode_status_text(const raft *r, uint32_t id, uint64_t applied, const uint64_t *match,
                        uint32_t n, char *buf, size_t cap);

/*
 * Raft message m arrived for this node: true with *why (for the sender's
 * log) when its sender campaigns (PREVOTE or VOTE) but is not a member:
 * the caller answers it "not a member" (KVN_RESP, KVN_DONE, KV_ENOTFOUND).
 * Only when this node's latest configuration is committed, names the
 * sender neither voter nor learner, and was set at an index above the
 * sender's last log index (so a node added by entries this node has not
 * received yet is never told).
 */
bool kvnode_member_refuse(const raft *r, const raft_msg *m, char *why, size_t cap);

/* A response arrived on our connection to peer `from`: if it says we are not
 * a member and we campaign as a voter, stop at once (s->stop_at, s->why). */
void kvnode_member_told(kvnode_member *s, const raft *r, uint32_t id, uint32_t from,
                        const kvn_resp *resp, uint64_t now);

/* After each ready round: note whether a committed configuration still names
 * node id; once one no longer does, stop after grace_ms (time to answer the
 * admin request and hand over leadership). */
void kvnode_member_check(kvnode_member *s, const raft *r, uint32_t id, uint64_t now,
                         unsigned grace_ms);

#endif /* KVLABS_KVNODE_MEMBER_H */
