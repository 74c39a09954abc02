/*
 * peer_lmdb_int.h — what the three files of the LMDB peer share (internal,
 * not a public header): peer_lmdb.c (options, environments, reads,
 * counters, the engine table), peer_lmdb_txn.c (errors, the pool of read
 * transactions, the writes and the writer thread of batches) and
 * peer_lmdb_iter.c (iterators: a read-only transaction and a cursor).
 * The design is described at the top of peer_lmdb.c.
 *
 * Callers must not include it outside these three files.
 */
#ifndef KVLABS_PEER_LMDB_INT_H
#define KVLABS_PEER_LMDB_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <sys/stat.h>

#include <lmdb.h>

#include "kvlabs/engine.h"

#define LM_MAXKEY     511 /* MDB_MAXKEYSIZE of the default build; checked at open */
#define LM_POOL       32
#define LM_MAXREADERS 510

enum lm_op { LM_PUT, LM_DEL, LM_FLUSH, LM_STOP };

/* One operation handed to the batch writer thread. */
struct lm_req {
    enum lm_op op;
    const void *key, *val;
    size_t klen, vlen;
    bool sync; /* LM_FLUSH: also mdb_env_sync */
    int rc;
    char err[KV_ERROR_MAX];
    bool done;
};

/* One open MDB_env, shared by every handle of its directory in this process. */
struct lm_env {
    struct lm_env *next;
    dev_t dev;
    ino_t ino;
    unsigned refs; /* under lm_reg_lock */
    MDB_env *env;
    MDB_dbi dbi;
    size_t map_size, max_key;
    unsigned batch;
    kv_sync_mode sync;
    uint64_t sync_ms;
    _Atomic uint64_t last_sync_ms;
    bool exact;
    _Atomic int64_t bytes; /* exact_stats */
    pthread_mutex_t pool_lock;
    MDB_txn *pool[LM_POOL]; /* reset read-only transactions */
    unsigned npool;
    /* batch > 1: the writer thread and its mailbox */
    bool has_writer;
    pthread_t writer;
    pthread_mutex_t call_lock; /* one request in flight */
    pthread_mutex_t w_lock;
    pthread_cond_t w_cv;
    struct lm_req *req;
    atomic_bool batch_open;
    MDB_txn *btxn; /* writer thread only, from here on */
    unsigned bpending;
    int64_t bdelta;
};

struct lm_db {
    kv_db base;
    struct lm_env *e;
    char *path;
};

struct lm_iter {
    kv_iter base;
    struct lm_env *e;
    MDB_txn *txn;
    MDB_cursor *cur;
    MDB_val k, v;
    bool live; /* the transaction holds a snapshot */
    bool valid;
    int status;
};

/* ---- peer_lmdb_txn.c: errors, read transactions, writes ------------------- */

/* Set the detail "lmdb: WHAT: <LMDB's text>"; the KV_E* code of m. */
int lm_fail(const struct lm_env *e, int m, const char *what);
/* A renewed read-only transaction from the pool (or a new one). */
int lm_rtxn(struct lm_env *e, MDB_txn **out);
/* Reset t and give it back to the pool (abort it when the pool is full). */
void lm_rtxn_done(struct lm_env *e, MDB_txn *t);
/* Commit an open batch (and mdb_env_sync when sync): reads then see it. */
int lm_flush(struct lm_env *e, bool sync);
/* A put (LM_PUT) or delete (LM_DEL): its own transaction, or into the batch. */
int lm_write(struct lm_env *e, enum lm_op op, const void *key, size_t klen, const void *val,
             size_t vlen);
/* Hand request r to the writer thread and wait for its answer. */
int lm_call(struct lm_env *e, struct lm_req *r);
/* The writer thread of batch > 1 (arg: the struct lm_env). */
void *lm_writer_main(void *arg);

/* ---- peer_lmdb_iter.c: the iterator operations of the engine table ---------- */

int lm_iter_open(kv_db *db, kv_iter **out);
void lm_iter_first(kv_iter *base);
void lm_iter_seek(kv_iter *base, const void *key, size_t klen);
bool lm_iter_valid(const kv_iter *base);
void lm_iter_next(kv_iter *base);
void lm_iter_key(const kv_iter *base, const void **k, size_t *n);
void lm_iter_value(const kv_iter *base, const void **v, size_t *n);
int lm_iter_status(const kv_iter *base);
void lm_iter_close(kv_iter *base);

#endif /* KVLABS_PEER_LMDB_INT_H */
