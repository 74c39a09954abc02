/*
 * raft_engine.c — engine "raftsim": an in-process simulated Raft cluster
 * behind kv.h, so the conformance suite and kvbench run on replication.
 *
 *   kv_open("raftsim", DIR, "nodes=3,seed=N", &db)
 *
 * DIR holds one directory per node (DIR/n0, DIR/n1, ...), each a Raft
 * node's storage (raft_node.h) through the env the engine was opened with;
 * a fresh DIR is a fresh cluster and reopening DIR restarts every node from
 * its disk (DIR/LOCK makes a second opener KV_EBUSY).
 *
 * The state machine. Each node's is an instance of an iterable engine
 * (option sm=, default cowbtree). A durable engine (KV_CAP_DURABLE, such as
 * cowbtree) lives in the node's directory, DIR/nN/sm0.cow or DIR/nN/sm1.cow
 * (the other one is where an InstallSnapshot is loaded before it replaces
 * the current one); an engine without files (model) lives in memory. Its
 * files are a working copy, not a second source of truth: Raft's snapshot
 * and log are the only durable state, and every open wipes the node's
 * state-machine directories and rebuilds the state machine from them (the
 * node restores its snapshot and re-applies the log after it). So the
 * applied index can never disagree with the state machine's contents after
 * a crash, whatever each file kept of its unsynced writes; the price is a
 * replay of at most snapshot_every entries per node at open. The
 * state machine's own writes never need an fsync (it is opened with
 * sync=none). A Raft snapshot (every snapshot_every applied entries) is
 * taken through the engine's iterator: on cowbtree that is a read snapshot
 * of one committed version, so writes could go on meanwhile, as etcd's
 * snapshots of bbolt do.
 *
 * Limits. The cluster's max_key and max_value are those of its state
 * machine when smaller than raftsim's own (cowbtree: 512 and 4096 by
 * default, at most 1024 and key + value <= 8164); explicit max_key= and
 * max_value= are passed on to the state machine, which refuses what it
 * cannot hold with KV_EINVAL.
 *
 * How an operation runs. The whole cluster lives under one mutex: the
 * network is a FIFO queue of copied messages, delivered until empty (a
 * reliable network with no delay), and time advances by ticking every node
 * when the caller has to wait (an election). A put or delete becomes a log
 * entry [client u64][seq u64][op u8][klen u32][key][value] proposed at the
 * leader; the caller's result is the one the state machine recorded for
 * (client, seq) in its session table when it applied the entry, so a
 * retried command (the entry was lost with a leader change) is applied
 * exactly once. A get is a ReadIndex read: the leader confirms its
 * leadership with a heartbeat round, then reads its own state machine once
 * it has applied the read index.
 *
 * Durability follows the common sync= option. sync=always: every ready is
 * fsynced before its messages are sent, as Raft demands (a put is durable
 * on a quorum when it returns). sync=none (the default) and sync=batch: the
 * nodes' storage defers its fsyncs (raft_storage_set_deferred()): the
 * writes reach the OS before any message is sent, so a reopen sees them,
 * and kv_sync and kv_close fsync every node; sync=batch also does so after
 * an operation once sync_ms have passed since the last flush. A machine
 * crash between flushes may lose a vote or an append on every replica at
 * once (they share one disk); that is the contract of sync=none for every
 * kvlabs engine, and what lets the conformance suite's thousands of writes
 * run in seconds instead of an fsync per replica per write.
 *
 * Memory. The nodes stand for other machines: their allocations (the
 * cores, messages, storage, state machines) run under
 * kv_alloc_hook_suspend(), out of the sight of the test allocator, as an
 * engine in a kernel allocates out of its sight. What the client side
 * allocates (the handle, the command it proposes, the caller's value
 * buffer, the iterator) fails with KV_ENOMEM before anything reaches the
 * cluster, so a failed call changes nothing. A real allocation failure
 * inside a node aborts the process, as the core documents.
 *
 * The client id is (term << 20 | last log index) of the leader at open:
 * the term rises at each open (a new election), so ids never repeat.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/opts.h"
#include "raft_node.h"

#define RS_PUT 1
#define RS_DEL 2
#define RS_MAX_WAIT_TICKS 3000 /* 30 s of simulated time */
#define RS_DEFAULT_MAX_KEY 65536
#define RS_DEFAULT_MAX_VALUE (1u << 20)

typedef struct rs_session {
    uint64_t client, seq;
    int result;
} rs_session;

typedef struct rs_sm {
    kv_db *db;
    const char *engine;
    const char *opts;  /* the options of every instance */
    const kv_env *env; /* NULL: the engine lives in memory */
    char dir[4096];    /* the node's directory (a durable engine's home) */
    unsigned gen;      /* db is DIR/nN/sm<gen>.cow */
    rs_session *sess;
    size_t n_sess, cap_sess;
    uint64_t applied;
    uint64_t read_ctx, read_index; /* the last read confirmed */
} rs_sm;

typedef struct rs_db {
    kv_db base;
    pthread_mutex_t mu;
    uint32_t n;
    raft_node *nodes[RAFT_MAX_NODES];
    rs_sm sm[RAFT_MAX_NODES];
    raft_msg *q;
    size_t q_head, q_n, q_cap;
    uint64_t client, seq, read_ctx;
    kv_file *lock;
    char sm_engine[64];
    char sm_opts[96];
    int broken; /* a node failed to persist: every call fails with it */
    kv_sync_mode sync;
    uint64_t sync_ms, last_flush_ms;
} rs_db;

typedef struct rs_iter {
    kv_iter base;
    kv_iter *inner;
} rs_iter;

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ---- the state machine ---------------------------------------------------- */

static rs_session *session(rs_sm *sm, uint64_t client, bool create)
{
    for (size_t i = 0; i < sm->n_sess; i++)
        if (sm->sess[i].client == client)
            return &sm->sess[i];
    if (!create)
        return NULL;
    if (sm->n_sess == sm->cap_sess) {
        size_t cap = sm->cap_sess ? 2 * sm->cap_sess : 8;
        rs_session *s = kv_realloc(sm->sess, cap * sizeof *s);
        if (s == NULL)
            abort();
        sm->sess = s;
        sm->cap_sess = cap;
    }
    sm->sess[sm->n_sess] = (rs_session){ .client = client };
    return &sm->sess[sm->n_sess++];
}

/* Remove the state-machine directory of generation @p gen, if any. */
static int sm_wipe(const rs_sm *sm, unsigned gen)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/sm%u.cow", sm->dir, gen);
    return kv_env_remove_dir(sm->env, p);
}

/* An empty state machine of generation @p gen (wiping what was there). */
static int sm_open_empty(const rs_sm *sm, unsigned gen, kv_db **out)
{
    if (sm->env == NULL)
        return kv_open(sm->engine, NULL, sm->opts, out);
    char p[4200];
    int rc = sm_wipe(sm, gen);
    if (rc)
        return rc;
    snprintf(p, sizeof p, "%s/sm%u.cow", sm->dir, gen);
    return kv_open_env(sm->engine, p, sm->opts, sm->env, out);
}

static void sm_apply(void *p, const raft_entry *e)
{
    rs_sm *sm = p;
    sm->applied = e->index;
    if (e->type != RAFT_ENTRY_NORMAL || e->len < 21)
        return;
    uint64_t client = get64(e->data), seq = get64(e->data + 8);
    uint8_t op = e->data[16];
    uint32_t klen = get32(e->data + 17);
    if (klen > e->len - 21)
        return;
    rs_session *s = session(sm, client, true);
    if (seq <= s->seq)
        return; /* a duplicate: applied once already */
    const uint8_t *key = e->data + 21;
    int rc;
    if (op == RS_PUT)
        rc = kv_put(sm->db, key, klen, key + klen, e->len - 21 - klen);
    else
        rc = kv_delete(sm->db, key, klen);
    s->seq = seq;
    s->result = rc;
}

/* Snapshot: [u32 n_sessions]{client, seq, i32 result}* then {u32 klen,
 * u32 vlen, key, value}* through the state machine's iterator. */
static int sm_snapshot(void *p, uint8_t **data, size_t *len)
{
    rs_sm *sm = p;
    size_t cap = 4 + sm->n_sess * 20 + 256, n = 0;
    uint8_t *b = kv_malloc(cap);
    kv_iter *it = NULL;
    if (b == NULL || kv_iter_open(sm->db, &it) != KV_OK)
        goto out_fail;
    put32(b, (uint32_t)sm->n_sess);
    n = 4;
    for (size_t i = 0; i < sm->n_sess; i++) {
        put64(b + n, sm->sess[i].client);
        put64(b + n + 8, sm->sess[i].seq);
        put32(b + n + 16, (uint32_t)sm->sess[i].result);
        n += 20;
    }
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it)) {
        const void *k, *v;
        size_t kl, vl;
        kv_iter_key(it, &k, &kl);
        kv_iter_value(it, &v, &vl);
        if (n + 8 + kl + vl > cap) {
            cap = 2 * (n + 8 + kl + vl);
            uint8_t *nb = kv_realloc(b, cap);
            if (nb == NULL)
                goto out_fail;
            b = nb;
        }
        put32(b + n, (uint32_t)kl);
        put32(b + n + 4, (uint32_t)vl);
        memcpy(b + n + 8, k, kl);
        if (vl)
            memcpy(b + n + 8 + kl, v, vl);
        n += 8 + kl + vl;
    }
    if (kv_iter_status(it) != KV_OK)
        goto out_fail;
    kv_iter_close(it);
    *data = b;
    *len = n;
    return 0;
out_fail:
    if (it)
        kv_iter_close(it);
    kv_free(b);
    return -1;
}

static int sm_restore(void *p, const uint8_t *data, size_t len, uint64_t index)
{
    rs_sm *sm = p;
    kv_db *fresh;
    if (len < 4 || sm_open_empty(sm, sm->gen ^ 1, &fresh) != KV_OK)
        return -1;
    size_t ns = get32(data), off = 4;
    if (ns > (len - 4) / 20)
        goto out_bad;
    off += ns * 20; /* the pairs are loaded (and checked) before the sessions change */
    while (off < len) {
        if (len - off < 8)
            goto out_bad;
        uint32_t kl = get32(data + off), vl = get32(data + off + 4);
        if (kl > len - off - 8 || vl > len - off - 8 - kl)
            goto out_bad;
        if (kv_put(fresh, data + off + 8, kl, data + off + 8 + kl, vl) != KV_OK)
            goto out_bad;
        off += 8 + (size_t)kl + vl;
    }
    sm->n_sess = 0;
    for (size_t i = 0, at = 4; i < ns; i++, at += 20) {
        rs_session *s = session(sm, get64(data + at), true);
        s->seq = get64(data + at + 8);
        s->result = (int)get32(data + at + 16);
    }
    kv_close(sm->db);
    sm->db = fresh;
    sm->applied = index;
    if (sm->env) { /* the old generation's files go */
        sm->gen ^= 1;
        sm_wipe(sm, sm->gen ^ 1);
    }
    return 0;
out_bad:
    kv_close(fresh);
    if (sm->env)
        sm_wipe(sm, sm->gen ^ 1);
    return -1;
}

static void sm_read_ready(void *p, uint64_t ctx, uint64_t index)
{
    rs_sm *sm = p;
    sm->read_ctx = ctx;
    sm->read_index = index;
}

static const raft_sm_ops rs_sm_ops = { sm_apply, sm_snapshot, sm_restore, sm_read_ready };

/* ---- the network and time -------------------------------------------------- */

static void rs_send(void *ctx, const raft_msg *m)
{
    rs_db *d = ctx;
    if (d->q_head + d->q_n == d->q_cap) {
        if (d->q_head) { /* slide down before growing */
            memmove(d->q, d->q + d->q_head, d->q_n * sizeof *d->q);
            d->q_head = 0;
        } else {
            size_t cap = d->q_cap ? 2 * d->q_cap : 64;
            raft_msg *q = kv_realloc(d->q, cap * sizeof *q);
            if (q == NULL)
                abort();
            d->q = q;
            d->q_cap = cap;
        }
    }
    raft_msg_copy(&d->q[d->q_head + d->q_n++], m);
}

static int process(rs_db *d, uint32_t i)
{
    int rc = raft_node_process(d->nodes[i], rs_send, d);
    if (rc && !d->broken)
        d->broken = rc;
    return rc;
}

static int pump(rs_db *d)
{
    while (d->q_n && !d->broken) {
        raft_msg m = d->q[d->q_head++];
        d->q_n--;
        if (d->q_n == 0)
            d->q_head = 0;
        if (m.to < d->n) {
            raft_step(raft_node_core(d->nodes[m.to]), &m);
            process(d, m.to);
        }
        raft_msg_free(&m);
    }
    return d->broken;
}

static int tick(rs_db *d)
{
    for (uint32_t i = 0; i < d->n && !d->broken; i++) {
        raft_tick(raft_node_core(d->nodes[i]));
        process(d, i);
    }
    return pump(d);
}

static int leader(rs_db *d)
{
    for (uint32_t i = 0; i < d->n; i++)
        if (raft_get_role(raft_node_core(d->nodes[i])) == RAFT_LEADER)
            return (int)i;
    return -1;
}

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Fsync what every node's storage wrote since its last flush. */
static int flush_all(rs_db *d)
{
    for (uint32_t i = 0; i < d->n && !d->broken; i++) {
        int rc = raft_storage_flush(raft_node_storage(d->nodes[i]));
        if (rc)
            d->broken = rc;
    }
    d->last_flush_ms = now_ms();
    return d->broken;
}

/* sync=batch: flush once sync_ms have passed since the last flush. */
static int maybe_flush(rs_db *d)
{
    if (d->sync == KV_SYNC_BATCH && now_ms() - d->last_flush_ms >= d->sync_ms)
        return flush_all(d);
    return d->broken;
}

/* Wait for a leader that may serve reads; returns its id or an error. */
static int read_barrier(rs_db *d, int *who)
{
    uint64_t ctx = ++d->read_ctx;
    for (int t = 0; t < RS_MAX_WAIT_TICKS; t++) {
        int l = leader(d);
        if (l >= 0 && raft_read_index(raft_node_core(d->nodes[l]), ctx) == 0) {
            process(d, (uint32_t)l);
            int rc = pump(d);
            if (rc)
                return rc;
            rs_sm *sm = &d->sm[l];
            if (sm->read_ctx == ctx && sm->applied >= sm->read_index &&
                leader(d) == l) {
                *who = l;
                return KV_OK;
            }
        }
        int rc = tick(d);
        if (rc)
            return rc;
    }
    return kv_fail(KV_EIO, "raftsim: no leader could serve a read");
}

/* read_barrier() as the cluster's work, out of the allocation hook's sight. */
static int barrier(rs_db *d, int *who)
{
    kv_alloc_hook_suspend();
    int rc = read_barrier(d, who);
    kv_alloc_hook_resume();
    return rc;
}

static int submit(rs_db *d, uint8_t op, const void *key, size_t klen, const void *val, size_t vlen)
{
    if (d->broken)
        return kv_fail(d->broken, "raftsim: a node failed to persist earlier");
    size_t len = 21 + klen + vlen;
    if (len > UINT32_MAX)
        return kv_fail(KV_ETOOBIG, "raftsim: command too large");
    uint8_t *cmd = kv_malloc(len);
    if (cmd == NULL)
        return kv_fail(KV_ENOMEM, "raftsim: out of memory");
    uint64_t seq = ++d->seq;
    put64(cmd, d->client);
    put64(cmd + 8, seq);
    cmd[16] = op;
    put32(cmd + 17, (uint32_t)klen);
    memcpy(cmd + 21, key, klen);
    if (vlen)
        memcpy(cmd + 21 + klen, val, vlen);
    int rc = KV_EIO;
    uint64_t index = 0;
    int at = -1;
    kv_alloc_hook_suspend(); /* from here on the cluster's work (see the top) */
    for (int t = 0; t < RS_MAX_WAIT_TICKS; t++) {
        if (index == 0) {
            at = leader(d);
            if (at >= 0 && raft_propose(raft_node_core(d->nodes[at]), cmd, (uint32_t)len,
                                        &index, NULL) == 0) {
                process(d, (uint32_t)at);
            } else {
                index = 0;
            }
        }
        if ((rc = pump(d)))
            goto out_free_cmd;
        if (index) {
            rs_session *s = session(&d->sm[at], d->client, false);
            if (s && s->seq >= seq) {
                rc = s->result;
                goto out_free_cmd;
            }
            if (d->sm[at].applied >= index)
                index = 0; /* another entry took its place: propose again */
        }
        if ((rc = tick(d)))
            goto out_free_cmd;
    }
    rc = kv_fail(KV_EIO, "raftsim: the command was not committed in time");
out_free_cmd:
    if (maybe_flush(d) && rc == KV_OK)
        rc = kv_fail(d->broken, "raftsim: a node failed to sync");
    kv_alloc_hook_resume();
    kv_free(cmd);
    return rc;
}

/* ---- the engine ------------------------------------------------------------ */

static const kv_opt_spec rs_options[] = {
    { "nodes", KV_OPT_UINT, "3", NULL, 1, RAFT_MAX_NODES, "cluster size" },
    { "seed", KV_OPT_UINT, "1", NULL, 0, 0, "seed of the election timeouts" },
    { "sm", KV_OPT_STRING, "cowbtree", NULL, 0, 0,
      "state machine: any engine that iterates (a durable one in DIR/nN/sm0.cow, "
      "rebuilt from the Raft log at open; model in memory)" },
    { "snapshot_every", KV_OPT_UINT, "10000", NULL, 0, 0,
      "snapshot every this many applied entries (0: never)" },
    { 0 },
};

static void rs_free(rs_db *d)
{
    for (uint32_t i = 0; i < d->n; i++) {
        raft_node_close(d->nodes[i]);
        if (d->sm[i].db)
            kv_close(d->sm[i].db);
        kv_free(d->sm[i].sess);
    }
    for (size_t i = 0; i < d->q_n; i++)
        raft_msg_free(&d->q[d->q_head + i]);
    kv_free(d->q);
    if (d->lock)
        kv_file_close(d->lock);
    pthread_mutex_destroy(&d->mu);
    kv_free(d);
}

static int rs_open(const kv_open_args *a, kv_db **out)
{
    if (a->path == NULL)
        return kv_fail(KV_EINVAL, "raftsim: needs a directory");
    rs_db *d = kv_calloc(1, sizeof *d);
    if (d == NULL)
        return kv_fail(KV_ENOMEM, "raftsim: out of memory");
    pthread_mutex_init(&d->mu, NULL);
    d->n = (uint32_t)kv_opts_u64(a->opts, "nodes");
    snprintf(d->sm_engine, sizeof d->sm_engine, "%s", kv_opts_str(a->opts, "sm"));
    const kv_engine_ops *smops = kv_engine_find(d->sm_engine, strlen(d->sm_engine));
    int rc;
    if (smops == NULL || strcmp(d->sm_engine, "raftsim") == 0) {
        rc = kv_fail(KV_EINVAL, "raftsim: sm=%s is not an engine it can replicate",
                     d->sm_engine);
        goto out_free;
    }
    /* sync=none: the state machine is rebuilt from the log at open (see the top) */
    int sl = snprintf(d->sm_opts, sizeof d->sm_opts, "sync=none,mode=0%o", a->file_mode);
    if (kv_opts_given(a->opts, "max_key"))
        sl += snprintf(d->sm_opts + sl, sizeof d->sm_opts - (size_t)sl, ",max_key=%llu",
                       (unsigned long long)a->common->max_key);
    if (kv_opts_given(a->opts, "max_value"))
        snprintf(d->sm_opts + sl, sizeof d->sm_opts - (size_t)sl, ",max_value=%llu",
                 (unsigned long long)a->common->max_value);
    uint64_t seed = kv_opts_u64(a->opts, "seed"), every = kv_opts_u64(a->opts, "snapshot_every");
    char p[4200];
    if ((rc = kv_env_mkdir_durable_mode(a->env, a->path, a->dir_mode)))
        goto out_free;
    snprintf(p, sizeof p, "%s/LOCK", a->path);
    if ((rc = kv_env_open_mode(a->env, p, KV_O_RDWR | KV_O_CREAT, a->file_mode, &d->lock)))
        goto out_free;
    if ((rc = kv_file_lock(d->lock)))
        goto out_free;
    d->sync = a->common->sync;
    d->sync_ms = a->common->sync_ms;
    d->last_flush_ms = now_ms();
    kv_alloc_hook_suspend(); /* the nodes start: their memory (see the top) */
    for (uint32_t i = 0; i < d->n; i++) {
        rs_sm *sm = &d->sm[i];
        sm->engine = d->sm_engine;
        sm->opts = d->sm_opts;
        snprintf(p, sizeof p, "%s/n%u", a->path, i);
        if (smops->caps & KV_CAP_DURABLE) { /* in the node's directory */
            sm->env = a->env;
            snprintf(sm->dir, sizeof sm->dir, "%s/n%u", a->path, i);
            if ((rc = kv_env_mkdir_durable_mode(a->env, p, a->dir_mode)) ||
                (rc = sm_wipe(sm, 1)))
                goto out_resume_hook;
        }
        if ((rc = sm_open_empty(sm, 0, &sm->db)))
            goto out_resume_hook;
        if (i == 0 && !(kv_caps(sm->db) & KV_CAP_ORDERED)) {
            rc = kv_fail(KV_EINVAL, "raftsim: state machine %s cannot be iterated", d->sm_engine);
            goto out_resume_hook;
        }
        raft_config c;
        raft_config_default(&c, i, d->n, seed);
        if ((rc = raft_node_open_mode(a->env, p, a->file_mode, &c, &rs_sm_ops, sm, every,
                                      &d->nodes[i]))) {
            d->n = i + 1; /* rs_free closes sm[i].db; nodes[i] is NULL */
            goto out_resume_hook;
        }
        raft_storage_set_deferred(raft_node_storage(d->nodes[i]), d->sync != KV_SYNC_ALWAYS);
    }
    for (uint32_t i = 0; i < d->n; i++)
        if ((rc = process(d, i)))
            goto out_resume_hook;
    int l;
    if ((rc = read_barrier(d, &l)))
        goto out_resume_hook;
    kv_alloc_hook_resume();
    raft *lr = raft_node_core(d->nodes[l]);
    d->client = raft_get_term(lr) << 20 | (raft_get_last_index(lr) & 0xfffff);
    d->base.caps = KV_CAP_DURABLE | (kv_caps(d->sm[0].db) & KV_CAP_ORDERED);
    /* the state machine's limits when smaller (the front end lowers them to
     * explicit options; see the top) */
    size_t mk = a->common->max_key ? (size_t)a->common->max_key : RS_DEFAULT_MAX_KEY;
    size_t mv = a->common->max_value ? (size_t)a->common->max_value : RS_DEFAULT_MAX_VALUE;
    d->base.max_key = d->sm[0].db->max_key < mk ? d->sm[0].db->max_key : mk;
    d->base.max_value = d->sm[0].db->max_value < mv ? d->sm[0].db->max_value : mv;
    d->base.limits_set = true;
    *out = &d->base;
    return KV_OK;
out_resume_hook:
    kv_alloc_hook_resume();
out_free:
    kv_alloc_hook_suspend(); /* a node frees what it allocated unseen */
    rs_free(d);
    kv_alloc_hook_resume();
    return rc;
}

static int rs_close(kv_db *db)
{
    rs_db *d = (rs_db *)db;
    kv_alloc_hook_suspend();
    int rc = flush_all(d);
    rs_free(d);
    kv_alloc_hook_resume();
    return rc ? kv_fail(KV_EIO, "raftsim: a node failed to persist") : KV_OK;
}

static int rs_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    rs_db *d = (rs_db *)db;
    pthread_mutex_lock(&d->mu);
    int rc = submit(d, RS_PUT, key, klen, val, vlen);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static int rs_del(kv_db *db, const void *key, size_t klen)
{
    rs_db *d = (rs_db *)db;
    pthread_mutex_lock(&d->mu);
    int rc = submit(d, RS_DEL, key, klen, NULL, 0);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static int rs_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    rs_db *d = (rs_db *)db;
    pthread_mutex_lock(&d->mu);
    int l, rc = d->broken ? kv_fail(KV_EIO, "raftsim: a node failed to persist earlier")
                          : barrier(d, &l);
    if (rc == KV_OK) /* into the caller's buffer: the client's memory */
        rc = kv_get(d->sm[l].db, key, klen, val);
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static int rs_sync(kv_db *db)
{
    rs_db *d = (rs_db *)db;
    pthread_mutex_lock(&d->mu);
    int rc = flush_all(d);
    pthread_mutex_unlock(&d->mu);
    return rc ? kv_fail(KV_EIO, "raftsim: a node failed to persist") : KV_OK;
}

static int rs_stats(kv_db *db, kv_stats *out)
{
    rs_db *d = (rs_db *)db;
    pthread_mutex_lock(&d->mu);
    int l, rc = barrier(d, &l);
    if (rc == KV_OK) {
        kv_stats s;
        memset(&s, 0, sizeof s);
        rc = kv_db_stats(d->sm[l].db, &s);
        out->keys = s.keys;
        out->bytes = s.bytes;
        out->mem_bytes = s.mem_bytes * d->n;
        kv_stats_add_extra(out, "nodes", d->n);
        kv_stats_add_extra(out, "term", (double)raft_get_term(raft_node_core(d->nodes[l])));
        kv_stats_add_extra(out, "commit", (double)raft_get_commit(raft_node_core(d->nodes[l])));
    }
    pthread_mutex_unlock(&d->mu);
    return rc;
}

static int rs_iter_open(kv_db *db, kv_iter **out)
{
    rs_db *d = (rs_db *)db;
    rs_iter *it = kv_calloc(1, sizeof *it);
    if (it == NULL)
        return kv_fail(KV_ENOMEM, "raftsim: out of memory");
    pthread_mutex_lock(&d->mu);
    int l, rc = barrier(d, &l);
    if (rc == KV_OK)
        rc = kv_iter_open(d->sm[l].db, &it->inner);
    pthread_mutex_unlock(&d->mu);
    if (rc) {
        kv_free(it);
        return rc;
    }
    *out = &it->base;
    return KV_OK;
}

static void rs_iter_first(kv_iter *it) { kv_iter_first(((rs_iter *)it)->inner); }
static void rs_iter_seek(kv_iter *it, const void *k, size_t n) { kv_iter_seek(((rs_iter *)it)->inner, k, n); }
static bool rs_iter_valid(const kv_iter *it) { return kv_iter_valid(((const rs_iter *)it)->inner); }
static void rs_iter_next(kv_iter *it) { kv_iter_next(((rs_iter *)it)->inner); }
static void rs_iter_key(const kv_iter *it, const void **k, size_t *n) { kv_iter_key(((const rs_iter *)it)->inner, k, n); }
static void rs_iter_value(const kv_iter *it, const void **v, size_t *n) { kv_iter_value(((const rs_iter *)it)->inner, v, n); }
static int rs_iter_status(const kv_iter *it) { return kv_iter_status(((const rs_iter *)it)->inner); }

static void rs_iter_close(kv_iter *it)
{
    kv_iter_close(((rs_iter *)it)->inner);
    kv_free(it);
}

const kv_engine_ops kv_engine_raftsim = {
    .name = "raftsim",
    .summary = "an in-process simulated Raft cluster (nodes=, seed=) replicating an engine",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE,
    .options = rs_options,
    .default_max_key = RS_DEFAULT_MAX_KEY,
    .limit_max_key = 1u << 20,
    .default_max_value = RS_DEFAULT_MAX_VALUE,
    .limit_max_value = 16u << 20,
    .open = rs_open,
    .close = rs_close,
    .put = rs_put,
    .get = rs_get,
    .del = rs_del,
    .sync = rs_sync,
    .stats = rs_stats,
    .iter_open = rs_iter_open,
    .iter_first = rs_iter_first,
    .iter_seek = rs_iter_seek,
    .iter_valid = rs_iter_valid,
    .iter_next = rs_iter_next,
    .iter_key = rs_iter_key,
    .iter_value = rs_iter_value,
    .iter_status = rs_iter_status,
    .iter_close = rs_iter_close,
};
