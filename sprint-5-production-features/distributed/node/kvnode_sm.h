/*
 * kvnode_sm.h — private to distributed/node/: the replicated state machine
 * of kvnode (kvnode_sm.c), used by the daemon (kvnode.c).
 *
 * The state machine is a map of keyspaces, each a map of keys, kept in one
 * ordered engine (cowbtree in the node's directory, DIR/sm0.cow, rebuilt
 * from the Raft log at every start; model in memory without a directory)
 * under the key [u32 ks_len][ks][key], so
 * keys of different keyspaces never meet and a keyspace is a contiguous
 * range. Beside it, a session table: for each client session the last
 * sequence number applied and its result, so that a command retried after
 * a lost reply is applied once and answered with its first result.
 *
 * A command (a log entry's data) is
 *   [session u64][seq u64][op u8][ks_len u32][ks][klen u32][key][value].
 */
#ifndef KVLABS_KVNODE_SM_H
#define KVLABS_KVNODE_SM_H

#include <stddef.h>
#include <stdint.h>

#include "kvlabs/kv.h"
#include "raft_node.h"

typedef struct ksm_session {
    uint64_t session, seq;
    int result;
} ksm_session;

typedef struct ksm {
    kv_db *db;             /* cowbtree in dir/sm<gen>.cow, or model in memory */
    const kv_env *env;     /* the env of dir */
    char dir[4096];        /* the node's directory ("": in memory) */
    unsigned gen;          /* 0 or 1: where a restored snapshot goes next (1 - gen) */
    ksm_session *sess;     /* open-addressed by session id */
    size_t n_sess, cap_sess;
    uint64_t applied;
    uint64_t read_ctx_seen[64]; /* ring of confirmed ReadIndex rounds: ctx */
    uint64_t read_idx_seen[64]; /* ... and their indexes */
    unsigned read_head;
} ksm;

/* The callbacks raft_node_open() takes. */
extern const raft_sm_ops ksm_ops;

/* An empty state machine in @p dir through @p env (dir NULL: in memory),
 * wiping the stores a previous run left there. */
int ksm_init(ksm *sm, const kv_env *env, const char *dir);
void ksm_free(ksm *sm);

/* Build a command into a kv_malloc'd buffer. */
int ksm_command(uint64_t session, uint64_t seq, uint8_t op, const uint8_t *ks, uint32_t ks_len,
                const uint8_t *key, uint32_t klen, const uint8_t *val, uint32_t vlen,
                uint8_t **out, size_t *len);

/* The session's last applied seq and result (seq 0 when unknown). */
void ksm_session_get(const ksm *sm, uint64_t session, uint64_t *seq, int *result);

/* Local reads of the applied state. */
int ksm_get(ksm *sm, const uint8_t *ks, uint32_t ks_len, const uint8_t *key, uint32_t klen,
            kv_buf *val);
/* Pairs [u32 klen][u32 vlen][key][value] of keys > start (>= when inclusive)
 * in the keyspace, at most limit pairs and about max_bytes, into out. */
int ksm_scan(ksm *sm, const uint8_t *ks, uint32_t ks_len, const uint8_t *start, uint32_t slen,
             int inclusive, uint64_t limit, size_t max_bytes, kv_buf *out);

/* Whether a read round ctx was confirmed; its index in *index. */
int ksm_read_confirmed(const ksm *sm, uint64_t ctx, uint64_t *index);

#endif /* KVLABS_KVNODE_SM_H */
