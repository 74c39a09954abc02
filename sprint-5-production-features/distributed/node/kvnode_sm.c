/*
 * kvnode_sm.c — kvnode's replicated state machine: keyspaces of keys in a
 * cowbtree store in the node's directory (DIR/sm0.cow; model in memory when
 * no directory is given), and the session table that makes retries
 * exactly-once (see kvnode_sm.h for the layout of keys and commands).
 *
 * The store is a working copy, not a second source of truth: Raft's
 * snapshot and log (DIR/raft) are the node's durable state, and ksm_init()
 * wipes DIR/sm0.cow and DIR/sm1.cow, so the node rebuilds the state
 * machine from them at every start (the snapshot restored, the log after
 * it re-applied). The applied index thus always matches the contents,
 * whatever a crash left of the store's unsynced writes; the store never
 * fsyncs (sync=none). A snapshot is loaded into the other directory
 * (sm1.cow, then sm0.cow again) and replaces the current one only once
 * whole. Raft snapshots read the store through its iterator: a cowbtree
 * read snapshot of one version, as etcd reads bbolt. Pairs are bounded by
 * the store: internal keys up to 1024 bytes (4 + keyspace + key) and values
 * up to 7140; a larger put is applied by every replica alike as KV_ETOOBIG.
 *
 * apply() is deterministic: every replica applies the same commands in the
 * same order and reaches the same map and the same session table, which is
 * what lets any of them answer a retried command with the result its first
 * application gave. A command whose (session, seq) is not above the
 * session's last is a duplicate and changes nothing. Malformed commands
 * (they passed the leader's checks, so only a bug makes one) are skipped
 * by every replica alike.
 *
 * The snapshot is [u32 n_sessions]{session u64, seq u64, result i32}* then
 * {u32 klen, u32 vlen, key, value}* of the internal keys in order; restore
 * rebuilds both tables from it and refuses a malformed one.
 *
 * Callers must not read the model engine while apply() runs (one thread).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvnode_sm.h"
#include "raft_net.h"

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* ---- the session table (open addressing, never shrinks) ------------------- */

static size_t slot_of(uint64_t s, size_t cap)
{
    s ^= s >> 33;
    s *= 0xff51afd7ed558ccdULL;
    s ^= s >> 33;
    return (size_t)s & (cap - 1);
}

static ksm_session *session_find(const ksm *sm, uint64_t s)
{
    if (sm->cap_sess == 0)
        return NULL;
    for (size_t i = slot_of(s, sm->cap_sess);; i = (i + 1) & (sm->cap_sess - 1)) {
        if (sm->sess[i].session == s)
            return &sm->sess[i];
        if (sm->sess[i].session == 0)
            return NULL;
    }
}

static ksm_session *session_add(ksm *sm, uint64_t s)
{
    ksm_session *f = session_find(sm, s);
    if (f)
        return f;
    if (2 * (sm->n_sess + 1) > sm->cap_sess) {
        size_t cap = sm->cap_sess ? 2 * sm->cap_sess : 64;
        ksm_session *t = kv_calloc(cap, sizeof *t);
        if (t == NULL)
            abort(); /* a replica that cannot apply must stop, not diverge */
        for (size_t i = 0; i < sm->cap_sess; i++) {
            if (sm->sess[i].session == 0)
                continue;
            size_t j = slot_of(sm->sess[i].session, cap);
            while (t[j].session)
                j = (j + 1) & (cap - 1);
            t[j] = sm->sess[i];
        }
        kv_free(sm->sess);
        sm->sess = t;
        sm->cap_sess = cap;
    }
    size_t j = slot_of(s, sm->cap_sess);
    while (sm->sess[j].session)
        j = (j + 1) & (sm->cap_sess - 1);
    sm->sess[j] = (ksm_session){ .session = s };
    sm->n_sess++;
    return &sm->sess[j];
}

void ksm_session_get(const ksm *sm, uint64_t session, uint64_t *seq, int *result)
{
    const ksm_session *s = session_find(sm, session);
    *seq = s ? s->seq : 0;
    *result = s ? s->result : KV_OK;
}

/* ---- keys ------------------------------------------------------------------ */

static uint8_t *ikey(const uint8_t *ks, uint32_t ks_len, const uint8_t *key, uint32_t klen,
                     size_t *len)
{
    uint8_t *k = kv_malloc(4 + (size_t)ks_len + klen + 1);
    if (k == NULL)
        return NULL;
    put32(k, ks_len);
    if (ks_len)
        memcpy(k + 4, ks, ks_len);
    if (klen)
        memcpy(k + 4 + ks_len, key, klen);
    *len = 4 + (size_t)ks_len + klen;
    return k;
}

int ksm_command(uint64_t session, uint64_t seq, uint8_t op, const uint8_t *ks, uint32_t ks_len,
                const uint8_t *key, uint32_t klen, const uint8_t *val, uint32_t vlen,
                uint8_t **out, size_t *len)
{
    size_t n = 8 + 8 + 1 + 4 + (size_t)ks_len + 4 + klen + vlen;
    uint8_t *c = kv_malloc(n);
    if (c == NULL)
        return kv_fail(KV_ENOMEM, "kvnode: out of memory");
    put64(c, session);
    put64(c + 8, seq);
    c[16] = op;
    put32(c + 17, ks_len);
    memcpy(c + 21, ks, ks_len);
    put32(c + 21 + ks_len, klen);
    memcpy(c + 25 + ks_len, key, klen);
    if (vlen)
        memcpy(c + 25 + ks_len + klen, val, vlen);
    *out = c;
    *len = n;
    return KV_OK;
}

/* ---- the callbacks --------------------------------------------------------- */

static void sm_apply(void *p, const raft_entry *e)
{
    ksm *sm = p;
    sm->applied = e->index;
    if (e->type != RAFT_ENTRY_NORMAL || e->len < 25)
        return;
    const uint8_t *d = e->data;
    uint64_t session = get64(d), seq = get64(d + 8);
    uint8_t op = d[16];
    uint32_t ks_len = get32(d + 17);
    if (ks_len > e->len - 25)
        return;
    uint32_t klen = get32(d + 21 + ks_len);
    if (klen > e->len - 25 - ks_len || klen == 0)
        return;
    ksm_session *s = session_add(sm, session);
    if (seq <= s->seq)
        return; /* a duplicate: applied once already */
    size_t ilen;
    uint8_t *k = ikey(d + 21, ks_len, d + 25 + ks_len, klen, &ilen);
    int rc = KV_ENOMEM;
    if (k != NULL) {
        if (op == KVN_PUT)
            rc = kv_put(sm->db, k, ilen, d + 25 + ks_len + klen, e->len - 25 - ks_len - klen);
        else
            rc = kv_delete(sm->db, k, ilen);
        kv_free(k);
    }
    if (rc == KV_ENOMEM)
        abort(); /* replicas must not diverge on an allocation failure */
    s->seq = seq;
    s->result = rc;
}

static int grow(kv_buf *b, size_t need)
{
    if (b->len + need <= b->cap)
        return 0;
    size_t cap = 2 * (b->len + need) + 256;
    void *q = kv_realloc(b->data, cap);
    if (q == NULL)
        return -1;
    b->data = q;
    b->cap = cap;
    return 0;
}

static int sm_snapshot(void *p, uint8_t **data, size_t *len)
{
    ksm *sm = p;
    kv_buf b = { 0 };
    kv_iter *it = NULL;
    if (grow(&b, 4 + sm->n_sess * 20) || kv_iter_open(sm->db, &it) != KV_OK)
        goto out_fail;
    uint8_t *q = b.data;
    put32(q, (uint32_t)sm->n_sess);
    b.len = 4;
    for (size_t i = 0; i < sm->cap_sess; i++) {
        if (sm->sess[i].session == 0)
            continue;
        q = (uint8_t *)b.data + b.len;
        put64(q, sm->sess[i].session);
        put64(q + 8, sm->sess[i].seq);
        put32(q + 16, (uint32_t)sm->sess[i].result);
        b.len += 20;
    }
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it)) {
        const void *k, *v;
        size_t kl, vl;
        kv_iter_key(it, &k, &kl);
        kv_iter_value(it, &v, &vl);
        if (grow(&b, 8 + kl + vl))
            goto out_fail;
        q = (uint8_t *)b.data + b.len;
        put32(q, (uint32_t)kl);
        put32(q + 4, (uint32_t)vl);
        memcpy(q + 8, k, kl);
        if (vl)
            memcpy(q + 8 + kl, v, vl);
        b.len += 8 + kl + vl;
    }
    if (kv_iter_status(it) != KV_OK)
        goto out_fail;
    kv_iter_close(it);
    *data = b.data;
    *len = b.len;
    return 0;
out_fail:
    if (it)
        kv_iter_close(it);
    kv_free(b.data);
    return -1;
}

/* Remove the store of generation @p gen in @p dir, if any. */
static int sm_wipe(const kv_env *env, const char *dir, unsigned gen)
{
    char p[4200];
    snprintf(p, sizeof p, "%s/sm%u.cow", dir, gen);
    return kv_env_remove_dir(env, p);
}

/* An empty state machine in generation @p gen of @p dir (NULL: in memory). */
static int sm_open(ksm *sm, const kv_env *env, const char *dir, unsigned gen)
{
    memset(sm, 0, sizeof *sm);
    sm->env = env;
    sm->gen = gen;
    char p[4200];
    if (dir == NULL) {
        snprintf(p, sizeof p, "max_key=%u,max_value=%u", KVN_MAX_KEY + KVN_MAX_KEYSPACE + 4,
                 KVN_MAX_VALUE);
        return kv_open("model", NULL, p, &sm->db);
    }
    snprintf(sm->dir, sizeof sm->dir, "%s", dir);
    snprintf(p, sizeof p, "%s/sm%u.cow", dir, gen);
    int rc = sm_wipe(env, dir, gen);
    char opts[96];
    snprintf(opts, sizeof opts, "sync=none,max_key=%u,max_value=%u", KVN_SM_MAX_KEY,
             KVN_SM_MAX_VALUE);
    return rc ? rc : kv_open_env("cowbtree", p, opts, env, &sm->db);
}

static int sm_restore(void *p, const uint8_t *data, size_t len, uint64_t index)
{
    ksm *sm = p;
    ksm fresh;
    if (len < 4 || sm_open(&fresh, sm->env, sm->dir[0] ? sm->dir : NULL, sm->gen ^ 1) != KV_OK)
        return -1; /* (a failed open leaves fresh.db NULL) */
    size_t ns = get32(data), off = 4;
    if (ns > (len - 4) / 20)
        goto out_bad;
    for (size_t i = 0; i < ns; i++, off += 20) {
        ksm_session *s = session_add(&fresh, get64(data + off));
        s->seq = get64(data + off + 8);
        s->result = (int)get32(data + off + 16);
    }
    while (off < len) {
        if (len - off < 8)
            goto out_bad;
        uint32_t kl = get32(data + off), vl = get32(data + off + 4);
        if (kl > len - off - 8 || vl > len - off - 8 - kl)
            goto out_bad;
        if (kv_put(fresh.db, data + off + 8, kl, data + off + 8 + kl, vl) != KV_OK)
            goto out_bad;
        off += 8 + (size_t)kl + vl;
    }
    ksm_free(sm); /* keeps sm->dir */
    if (sm->dir[0])
        sm_wipe(sm->env, sm->dir, sm->gen);
    *sm = fresh;
    sm->applied = index;
    return 0;
out_bad:
    ksm_free(&fresh);
    if (fresh.dir[0])
        sm_wipe(fresh.env, fresh.dir, fresh.gen);
    return -1;
}

static void sm_read_ready(void *p, uint64_t ctx, uint64_t index)
{
    ksm *sm = p;
    unsigned i = sm->read_head++ % 64;
    sm->read_ctx_seen[i] = ctx;
    sm->read_idx_seen[i] = index;
}

const raft_sm_ops ksm_ops = { sm_apply, sm_snapshot, sm_restore, sm_read_ready };

int ksm_read_confirmed(const ksm *sm, uint64_t ctx, uint64_t *index)
{
    for (unsigned i = 0; i < 64; i++)
        if (sm->read_ctx_seen[i] == ctx) {
            *index = sm->read_idx_seen[i];
            return 1;
        }
    return 0;
}

int ksm_init(ksm *sm, const kv_env *env, const char *dir)
{
    memset(sm, 0, sizeof *sm);
    int rc = dir ? sm_wipe(env, dir, 1) : KV_OK; /* a restore's leftover */
    return rc ? rc : sm_open(sm, env, dir, 0);
}

void ksm_free(ksm *sm)
{
    if (sm->db)
        kv_close(sm->db);
    kv_free(sm->sess);
    sm->db = NULL;
    sm->sess = NULL;
}

/* ---- local reads ------------------------------------------------------------ */

int ksm_get(ksm *sm, const uint8_t *ks, uint32_t ks_len, const uint8_t *key, uint32_t klen,
            kv_buf *val)
{
    size_t ilen;
    uint8_t *k = ikey(ks, ks_len, key, klen, &ilen);
    if (k == NULL)
        return kv_fail(KV_ENOMEM, "kvnode: out of memory");
    int rc = kv_get(sm->db, k, ilen, val);
    kv_free(k);
    return rc;
}

int ksm_scan(ksm *sm, const uint8_t *ks, uint32_t ks_len, const uint8_t *start, uint32_t slen,
             int inclusive, uint64_t limit, size_t max_bytes, kv_buf *out)
{
    size_t ilen, plen = 4 + (size_t)ks_len;
    uint8_t *k = ikey(ks, ks_len, start, slen, &ilen);
    kv_iter *it = NULL;
    int rc = KV_ENOMEM;
    out->len = 0;
    if (k == NULL || (rc = kv_iter_open(sm->db, &it)) != KV_OK)
        goto out_free_key;
    kv_iter_seek(it, k, ilen);
    for (uint64_t n = 0; kv_iter_valid(it) && n < limit && out->len < max_bytes;) {
        const void *ik, *v;
        size_t kl, vl;
        kv_iter_key(it, &ik, &kl);
        if (kl < plen || memcmp(ik, k, plen) != 0)
            break; /* past the keyspace */
        if (!inclusive && kl == ilen && memcmp(ik, k, kl) == 0) {
            kv_iter_next(it);
            continue;
        }
        kv_iter_value(it, &v, &vl);
        if (grow(out, 8 + kl - plen + vl)) {
            rc = kv_fail(KV_ENOMEM, "kvnode: out of memory");
            goto out_close_iter;
        }
        uint8_t *q = (uint8_t *)out->data + out->len;
        put32(q, (uint32_t)(kl - plen));
        put32(q + 4, (uint32_t)vl);
        memcpy(q + 8, (const uint8_t *)ik + plen, kl - plen);
        if (vl)
            memcpy(q + 8 + kl - plen, v, vl);
        out->len += 8 + kl - plen + vl;
        n++;
        kv_iter_next(it);
    }
    rc = kv_iter_status(it);
out_close_iter:
    kv_iter_close(it);
out_free_key:
    kv_free(k);
    return rc;
}
