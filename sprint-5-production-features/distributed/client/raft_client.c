/*
 * raft_client.c — engine "raft": kv.h over the network, to a cluster of
 * kvnode processes.
 *
 *   kv_open("raft", KEYSPACE, "cluster=DIR/cluster.conf", &db)
 *
 * The path names a keyspace inside the cluster (any bytes but NUL, at most
 * 1024): a fresh name is an empty store, and the keys of two keyspaces
 * never meet (the state machine prefixes each key with its keyspace).
 * Options: cluster= (the file `kvnode cluster up` writes, one host:port a
 * line), timeout_ms= (how long one call may try, default 5000),
 * rpc_timeout_ms= (one attempt on one node, default 1000). The limits are
 * the nodes' state machine's (a cowbtree store, raft_net.h's KVN_SM_*):
 * keys up to 1020 - keyspace bytes, values up to 7140; a larger max_key=
 * or max_value= is KV_EINVAL at open.
 *
 * How a call runs. The handle keeps a pool of lanes: a TCP connection and a
 * session (a random 64-bit id and a sequence number). A call takes a free
 * lane (or makes one: concurrent threads get their own lanes), sends its
 * request to the node believed to be leader and follows the answers: a
 * redirect (NOTLEADER with the leader's id) goes there, an unknown leader or
 * a broken or silent connection moves to the next node after a short pause,
 * RETRY asks the same node again. A put or delete keeps its (session, seq)
 * across every retry, and the state machine applies a (session, seq) once,
 * so the call takes effect exactly once even when a reply was lost. When
 * timeout_ms runs out the call returns KV_EBUSY with the last reason in
 * kv_last_error(); a write that returned KV_EBUSY may or may not have taken
 * effect (it takes effect at most once). A cluster never gives a wrong
 * answer: reads are ReadIndex reads at the leader.
 *
 * Iterators read the keyspace in pages of up to 256 pairs (each page a
 * linearizable read; keys written between pages may or may not appear,
 * as the contract allows). kv_sync has nothing to do: a write has been
 * fsynced by a majority when it returns. kv_db_stats counts keys and bytes
 * by walking the keyspace (O(keys): meant for tests and small stores).
 *
 * Membership changes (kv_raft_change_member(), `kvctl cluster add/remove`)
 * travel as admin frames along the same path: redirects followed, RETRY
 * asked again; an attempt waits for the leader's answer as long as the
 * change's budget. A removal answered "not a member" after an attempt that
 * may have reached a leader is counted done.
 *
 * Callers must not share one lane between threads (the pool does that) nor
 * use a handle after kv_close.
 */
#define _GNU_SOURCE /* SOCK_CLOEXEC */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "raft_net.h"

#define SCAN_PAGE 256

typedef struct lane {
    struct lane *next;
    int fd, target;
    uint64_t session, seq;
    uint8_t *buf; /* frames out and in */
    size_t cap;
} lane;

typedef struct rc_db {
    kv_db base;
    pthread_mutex_t mu;
    lane *free;
    char addrs[RAFT_MAX_NODES][128];
    uint32_t n, leader;
    char *ks;
    uint32_t ks_len;
    unsigned timeout_ms, rpc_timeout_ms;
} rc_db;

typedef struct rc_iter {
    kv_iter base;
    kv_buf page;
    size_t pos;
    int status;
    const uint8_t *k, *v;
    uint32_t kl, vl;
} rc_iter;

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void pause_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- lanes ------------------------------------------------------------------ */

static lane *lane_take(rc_db *d)
{
    pthread_mutex_lock(&d->mu);
    lane *l = d->free;
    if (l)
        d->free = l->next;
    pthread_mutex_unlock(&d->mu);
    if (l)
        return l;
    l = kv_calloc(1, sizeof *l);
    if (l == NULL)
        return NULL;
    l->fd = -1;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed[4] = { (uint64_t)ts.tv_sec, (uint64_t)ts.tv_nsec, (uint64_t)getpid(),
                         (uint64_t)(uintptr_t)l };
    l->session = kv_xxh64(seed, sizeof seed, (uint64_t)(uintptr_t)d) | 1;
    return l;
}

static void lane_disconnect(lane *l)
{
    if (l->fd >= 0)
        close(l->fd);
    l->fd = -1;
}

static void lane_give(rc_db *d, lane *l)
{
    pthread_mutex_lock(&d->mu);
    l->next = d->free;
    d->free = l;
    pthread_mutex_unlock(&d->mu);
}

static int lane_connect(rc_db *d, lane *l, int target)
{
    struct sockaddr_in sa;
    int rc = kvn_addr_parse(d->addrs[target], &sa);
    if (rc)
        return rc;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return kv_fail_errno(KV_EIO, errno, "socket");
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        struct pollfd p = { .fd = fd, .events = POLLOUT };
        int err = 0;
        socklen_t el = sizeof err;
        if (errno != EINPROGRESS || poll(&p, 1, (int)d->rpc_timeout_ms) != 1 ||
            getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) || err) {
            close(fd);
            return kv_fail(KV_EIO, "raft: cannot connect to node %d (%s): %s", target,
                           d->addrs[target], err ? strerror(err) : "timed out");
        }
    }
    l->fd = fd;
    l->target = target;
    return KV_OK;
}

/* Move n bytes through a non-blocking socket, waiting until deadline. */
static int io_all(int fd, uint8_t *p, size_t n, bool out, uint64_t deadline)
{
    while (n) {
        ssize_t r = out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0)
            return -1;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -1;
        uint64_t now = now_ms();
        struct pollfd pf = { .fd = fd, .events = out ? POLLOUT : POLLIN };
        if (now >= deadline || poll(&pf, 1, (int)(deadline - now)) != 1)
            return -1;
    }
    return 0;
}

static int lane_grow(lane *l, size_t need)
{
    if (need <= l->cap)
        return KV_OK;
    uint8_t *q = kv_realloc(l->buf, need);
    if (q == NULL)
        return kv_fail(KV_ENOMEM, "raft: out of memory");
    l->buf = q;
    l->cap = need;
    return KV_OK;
}

/* One attempt on the lane's node: 1 and *resp (pointing into l->buf), or
 * 0 with kv_last_error() set (the connection is then closed). An admin
 * request (adm non-NULL) is sent instead of q and may take rpc_ms. */
static int attempt_frame(rc_db *d, lane *l, const kvn_req *q, const kvn_admin *adm,
                         unsigned rpc_ms, kvn_resp *resp)
{
    size_t len = adm ? KVN_ADMIN_LEN : kvn_req_size(q);
    if (lane_grow(l, KVN_HDR + len) != KV_OK)
        return 0;
    if (adm)
        kvn_admin_encode(adm, l->buf + KVN_HDR);
    else
        kvn_req_encode(q, l->buf + KVN_HDR);
    kvn_frame_seal(l->buf, adm ? KVN_ADMIN : KVN_REQ, (uint32_t)len);
    uint64_t deadline = now_ms() + rpc_ms;
    const char *what = "send";
    if (io_all(l->fd, l->buf, KVN_HDR + len, true, deadline))
        goto out_broken;
    what = "receive";
    if (io_all(l->fd, l->buf, KVN_HDR, false, deadline))
        goto out_broken;
    kvn_frame f;
    size_t used;
    uint32_t plen = (uint32_t)l->buf[4] | (uint32_t)l->buf[5] << 8 | (uint32_t)l->buf[6] << 16 |
                    (uint32_t)l->buf[7] << 24;
    if (plen > KVN_MAX_FRAME) {
        kv_fail(KV_ECORRUPT, "raft: node %d sent a %u-byte frame", l->target, plen);
        goto out_close;
    }
    if (lane_grow(l, KVN_HDR + (size_t)plen) != KV_OK)
        goto out_close;
    if (io_all(l->fd, l->buf + KVN_HDR, plen, false, deadline))
        goto out_broken;
    if (kvn_frame_parse(l->buf, KVN_HDR + (size_t)plen, KVN_MAX_FRAME, &f, &used) != 1 ||
        f.type != KVN_RESP || kvn_resp_decode(f.payload, f.len, resp) != KV_OK) {
        kv_fail(KV_ECORRUPT, "raft: node %d sent a bad response", l->target);
        goto out_close;
    }
    return 1;
out_broken:
    kv_fail(KV_EIO, "raft: node %d (%s): %s failed or timed out after %u ms", l->target,
            d->addrs[l->target], what, rpc_ms);
out_close:
    lane_disconnect(l);
    return 0;
}

static int attempt(rc_db *d, lane *l, const kvn_req *q, kvn_resp *resp)
{
    return attempt_frame(d, l, q, NULL, d->rpc_timeout_ms, resp);
}

/*
 * One call: the request until a final answer or timeout_ms. On KV_OK (or
 * the operation's own status) *resp points into the lane's buffer, valid
 * until the lane is given back.
 */
static int call_frame(rc_db *d, lane *l, kvn_req *q, kvn_admin *adm, unsigned timeout_ms,
                      bool *maybe_done, kvn_resp *resp)
{
    uint64_t deadline = now_ms() + timeout_ms;
    char last[256] = "no node tried";
    int target = (int)__atomic_load_n(&d->leader, __ATOMIC_RELAXED);
    if (q) {
        q->ks = (const uint8_t *)d->ks;
        q->ks_len = d->ks_len;
    }
    for (unsigned tries = 0;; tries++) {
        if (tries && now_ms() >= deadline)
            break;
        if (l->fd >= 0 && l->target != target)
            lane_disconnect(l);
        if (l->fd < 0 && lane_connect(d, l, target) != KV_OK) {
            snprintf(last, sizeof last, "%s", kv_last_error());
            target = (target + 1) % (int)d->n;
            pause_ms(10);
            continue;
        }
        unsigned rpc_ms = d->rpc_timeout_ms;
        if (adm) { /* the leader answers within the budget left: wait for it */
            uint64_t now = now_ms();
            adm->timeout_ms = deadline > now + 1 ? (unsigned)(deadline - now) : 1;
            rpc_ms = adm->timeout_ms + d->rpc_timeout_ms;
        }
        if (!attempt_frame(d, l, q, adm, rpc_ms, resp)) {
            snprintf(last, sizeof last, "%s", kv_last_error());
            target = (target + 1) % (int)d->n;
            *maybe_done = true; /* the request may have reached a leader */
            continue;
        }
        if (resp->kind == KVN_DONE) {
            __atomic_store_n(&d->leader, (uint32_t)target, __ATOMIC_RELAXED);
            if (resp->status != KV_OK && resp->status != KV_ENOTFOUND)
                return kv_fail(resp->status, "raft: node %d: %.*s", target, (int)resp->vlen,
                               (const char *)resp->val);
            return resp->status;
        }
        if (resp->kind == KVN_RETRY) {
            snprintf(last, sizeof last, "node %d asked to retry (leader change or busy)%s%.*s",
                     target, resp->vlen ? ": " : "", (int)(resp->vlen > 120 ? 120 : resp->vlen),
                     (const char *)resp->val);
            *maybe_done = true;
            pause_ms(5);
        } else if (resp->leader < d->n && (int)resp->leader != target) {
            target = (int)resp->leader;
        } else {
            snprintf(last, sizeof last, "node %d knows no leader (election under way?)", target);
            target = (target + 1) % (int)d->n;
            pause_ms(20);
        }
    }
    return kv_fail(KV_EBUSY, "raft: no answer within timeout_ms=%u (last: %s)", timeout_ms, last);
}

static int call(rc_db *d, lane *l, kvn_req *q, kvn_resp *resp)
{
    bool maybe_done = false;
    return call_frame(d, l, q, NULL, d->timeout_ms, &maybe_done, resp);
}

/* ---- the engine -------------------------------------------------------------- */

static const kv_opt_spec rc_options[] = {
    { "cluster", KV_OPT_STRING, "", NULL, 0, 0, "the cluster file (one host:port a line)" },
    { "timeout_ms", KV_OPT_UINT, "5000", NULL, 1, 3600000, "how long one call may try" },
    { "rpc_timeout_ms", KV_OPT_UINT, "1000", NULL, 1, 600000, "one attempt on one node" },
    { 0 },
};

static void rc_free(rc_db *d)
{
    while (d->free) {
        lane *l = d->free;
        d->free = l->next;
        lane_disconnect(l);
        kv_free(l->buf);
        kv_free(l);
    }
    kv_free(d->ks);
    pthread_mutex_destroy(&d->mu);
    kv_free(d);
}

static int rc_open(const kv_open_args *a, kv_db **out)
{
    const char *cluster = kv_opts_str(a->opts, "cluster");
    if (a->path == NULL || a->path[0] == '\0')
        return kv_fail(KV_EINVAL, "raft: the path names a keyspace and may not be empty");
    if (strlen(a->path) > KVN_MAX_KEYSPACE)
        return kv_fail(KV_EINVAL, "raft: keyspace longer than %u bytes", KVN_MAX_KEYSPACE);
    if (cluster == NULL || cluster[0] == '\0')
        return kv_fail(KV_EINVAL, "raft: needs cluster=FILE (written by `kvnode cluster up`)");
    rc_db *d = kv_calloc(1, sizeof *d);
    if (d == NULL)
        return kv_fail(KV_ENOMEM, "raft: out of memory");
    pthread_mutex_init(&d->mu, NULL);
    int rc = kvn_cluster_read(cluster, d->addrs, &d->n);
    if (rc)
        goto out_free;
    d->ks_len = (uint32_t)strlen(a->path);
    d->ks = kv_malloc(d->ks_len + 1);
    if (d->ks == NULL) {
        rc = kv_fail(KV_ENOMEM, "raft: out of memory");
        goto out_free;
    }
    memcpy(d->ks, a->path, d->ks_len + 1);
    /* the nodes' state machine bounds the pairs (raft_net.h, KVN_SM_*) */
    size_t mk = d->ks_len + 4 < KVN_SM_MAX_KEY ? KVN_SM_MAX_KEY - 4 - d->ks_len : 0;
    if (mk == 0 || (a->common->max_key && a->common->max_key > mk) ||
        a->common->max_value > KVN_SM_MAX_VALUE) {
        rc = kv_fail(KV_EINVAL,
                     "raft: max_key=%llu/max_value=%llu over the state machine's %zu/%u "
                     "(keyspace of %u bytes)",
                     (unsigned long long)a->common->max_key,
                     (unsigned long long)a->common->max_value, mk, KVN_SM_MAX_VALUE, d->ks_len);
        goto out_free;
    }
    d->base.max_key = a->common->max_key ? (size_t)a->common->max_key : mk;
    d->base.max_value = a->common->max_value ? (size_t)a->common->max_value : KVN_SM_MAX_VALUE;
    d->base.limits_set = true;
    d->timeout_ms = (unsigned)kv_opts_u64(a->opts, "timeout_ms");
    d->rpc_timeout_ms = (unsigned)kv_opts_u64(a->opts, "rpc_timeout_ms");
    d->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_MULTIPROC | KV_CAP_REMOTE;
    *out = &d->base;
    return KV_OK;
out_free:
    rc_free(d);
    return rc;
}

static int rc_close(kv_db *db)
{
    rc_free((rc_db *)db);
    return KV_OK;
}

static int rc_write(kv_db *db, uint8_t op, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    rc_db *d = (rc_db *)db;
    lane *l = lane_take(d);
    if (l == NULL)
        return kv_fail(KV_ENOMEM, "raft: out of memory");
    kvn_req q = { .op = op, .session = l->session, .seq = ++l->seq, .key = key,
                  .klen = (uint32_t)klen, .val = val, .vlen = (uint32_t)vlen };
    kvn_resp r;
    int rc = call(d, l, &q, &r);
    lane_give(d, l);
    return rc;
}

static int rc_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return rc_write(db, KVN_PUT, key, klen, val, vlen);
}

static int rc_del(kv_db *db, const void *key, size_t klen)
{
    return rc_write(db, KVN_DEL, key, klen, NULL, 0);
}

static int rc_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    rc_db *d = (rc_db *)db;
    lane *l = lane_take(d);
    if (l == NULL)
        return kv_fail(KV_ENOMEM, "raft: out of memory");
    kvn_req q = { .op = KVN_GET, .key = key, .klen = (uint32_t)klen };
    kvn_resp r;
    int rc = call(d, l, &q, &r);
    if (rc == KV_OK && val)
        rc = kv_buf_set(val, r.val, r.vlen);
    lane_give(d, l);
    return rc;
}

int kv_raft_node_status(kv_db *db, uint32_t node, char *out, size_t cap)
{
    rc_db *d = (rc_db *)db;
    if (node >= d->n)
        return kv_fail(KV_EINVAL, "raft: no node %u", node);
    lane *l = lane_take(d);
    if (l == NULL)
        return kv_fail(KV_ENOMEM, "raft: out of memory");
    lane_disconnect(l);
    kvn_req q = { .op = KVN_STATUS };
    kvn_resp r;
    int rc = lane_connect(d, l, (int)node);
    if (rc == KV_OK && !attempt(d, l, &q, &r))
        rc = KV_EIO;
    if (rc == KV_OK)
        snprintf(out, cap, "%.*s", (int)r.vlen, (const char *)r.val);
    lane_disconnect(l);
    lane_give(d, l);
    return rc;
}

int kv_raft_change_member(kv_db *db, int op, uint32_t node, unsigned timeout_ms, char *msg,
                          size_t cap)
{
    rc_db *d = (rc_db *)db;
    if (msg && cap)
        msg[0] = '\0';
    if (op != KVN_ADMIN_ADD && op != KVN_ADMIN_REMOVE)
        return kv_fail(KV_EINVAL, "raft: membership change %d: not add (1) or remove (2)", op);
    if (node >= d->n)
        return kv_fail(KV_EINVAL,
                       "raft: no node %u: the cluster file names nodes 0 .. %u (add the new "
                       "node's host:port as its line %u first)", node, d->n - 1, node + 1);
    if (timeout_ms == 0)
        return kv_fail(KV_EINVAL, "raft: membership change: timeout_ms must be at least 1");
    lane *l = lane_take(d);
    if (l == NULL)
        return kv_fail(KV_ENOMEM, "raft: out of memory");
    kvn_admin adm = { .op = (uint8_t)op, .node = node, .timeout_ms = timeout_ms };
    kvn_resp r;
    bool maybe_done = false;
    int rc = call_frame(d, l, NULL, &adm, timeout_ms, &maybe_done, &r);
    if (rc == KV_OK || rc == KV_ENOTFOUND) {
        if (msg && cap)
            snprintf(msg, cap, "%.*s", (int)r.vlen, (const char *)r.val);
        /* "not a member" after an attempt that may have removed it: done */
        if (rc == KV_ENOTFOUND && op == KVN_ADMIN_REMOVE && maybe_done)
            rc = KV_OK;
        else if (rc == KV_ENOTFOUND)
            rc = kv_fail(KV_ENOTFOUND, "raft: %.*s", (int)r.vlen, (const char *)r.val);
    }
    lane_give(d, l);
    return rc;
}

static int rc_iter_open(kv_db *db, kv_iter **out);
static void rc_iter_first(kv_iter *i);
static bool rc_iter_valid(const kv_iter *i);
static void rc_iter_next(kv_iter *i);
static int rc_iter_status(const kv_iter *i);
static void rc_iter_close(kv_iter *i);

/* keys and bytes: a walk over the keyspace (pages of SCAN), so O(keys). */
static int rc_stats(kv_db *db, kv_stats *out)
{
    rc_db *d = (rc_db *)db;
    kv_iter *it = NULL;
    int rc = rc_iter_open(db, &it);
    if (rc)
        return rc;
    it->db = db;
    uint64_t keys = 0, bytes = 0;
    for (rc_iter_first(it); rc_iter_valid(it); rc_iter_next(it)) {
        const rc_iter *ri = (const rc_iter *)it;
        keys++;
        bytes += ri->kl + ri->vl;
    }
    rc = rc_iter_status(it);
    rc_iter_close(it);
    if (rc)
        return rc;
    out->keys = keys;
    out->bytes = bytes;
    kv_stats_add_extra(out, "nodes", d->n);
    return KV_OK;
}

/* ---- iterators: pages of SCAN ----------------------------------------------------- */

static void it_fetch(rc_iter *it, const uint8_t *start, size_t slen, bool inclusive)
{
    rc_db *d = (rc_db *)it->base.db;
    lane *l = lane_take(d);
    it->pos = 0;
    it->page.len = 0;
    if (l == NULL) {
        it->status = kv_fail(KV_ENOMEM, "raft: out of memory");
        return;
    }
    uint8_t incl = inclusive;
    kvn_req q = { .op = KVN_SCAN, .seq = SCAN_PAGE, .key = start, .klen = (uint32_t)slen,
                  .val = &incl, .vlen = 1 };
    kvn_resp r;
    it->status = call(d, l, &q, &r);
    if (it->status == KV_OK)
        it->status = kv_buf_set(&it->page, r.val, r.vlen);
    lane_give(d, l);
}

/* Decode the pair at pos; an empty page ends the iteration. */
static void it_load(rc_iter *it)
{
    it->k = NULL;
    if (it->status || it->pos >= it->page.len)
        return;
    const uint8_t *p = (const uint8_t *)it->page.data + it->pos;
    size_t left = it->page.len - it->pos;
    uint32_t kl, vl;
    memcpy(&kl, p, 4);
    memcpy(&vl, p + 4, 4);
    if (left < 8 || kl > left - 8 || vl > left - 8 - kl) {
        it->status = kv_fail(KV_ECORRUPT, "raft: malformed scan page");
        return;
    }
    it->k = p + 8;
    it->kl = kl;
    it->v = p + 8 + kl;
    it->vl = vl;
}

static int rc_iter_open(kv_db *db, kv_iter **out)
{
    (void)db;
    rc_iter *it = kv_calloc(1, sizeof *it);
    if (it == NULL)
        return kv_fail(KV_ENOMEM, "raft: out of memory");
    *out = &it->base;
    return KV_OK;
}

static void rc_iter_first(kv_iter *i)
{
    rc_iter *it = (rc_iter *)i;
    it->status = KV_OK;
    it_fetch(it, NULL, 0, true);
    it_load(it);
}

static void rc_iter_seek(kv_iter *i, const void *k, size_t n)
{
    rc_iter *it = (rc_iter *)i;
    it->status = KV_OK;
    it_fetch(it, k, n, true);
    it_load(it);
}

static bool rc_iter_valid(const kv_iter *i) { return ((const rc_iter *)i)->k != NULL; }

static void rc_iter_next(kv_iter *i)
{
    rc_iter *it = (rc_iter *)i;
    if (it->k == NULL)
        return;
    it->pos += 8 + (size_t)it->kl + it->vl;
    if (it->pos >= it->page.len) {
        uint8_t *last = kv_malloc(it->kl ? it->kl : 1);
        if (last == NULL) {
            it->k = NULL;
            it->status = kv_fail(KV_ENOMEM, "raft: out of memory");
            return;
        }
        memcpy(last, it->k, it->kl);
        size_t n = it->kl;
        it_fetch(it, last, n, false);
        kv_free(last);
    }
    it_load(it);
}

static void rc_iter_key(const kv_iter *i, const void **k, size_t *n)
{
    *k = ((const rc_iter *)i)->k;
    *n = ((const rc_iter *)i)->kl;
}

static void rc_iter_value(const kv_iter *i, const void **v, size_t *n)
{
    *v = ((const rc_iter *)i)->v;
    *n = ((const rc_iter *)i)->vl;
}

static int rc_iter_status(const kv_iter *i) { return ((const rc_iter *)i)->status; }

static void rc_iter_close(kv_iter *i)
{
    kv_free(((rc_iter *)i)->page.data);
    kv_free(i);
}

const kv_engine_ops kv_engine_raft = {
    .name = "raft",
    .summary = "a client of a kvnode Raft cluster (path = keyspace, cluster=FILE)",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_MULTIPROC | KV_CAP_REMOTE,
    .options = rc_options,
    .default_max_key = KVN_MAX_KEY,
    .limit_max_key = KVN_MAX_KEY,
    .default_max_value = KVN_MAX_VALUE,
    .limit_max_value = KVN_MAX_VALUE,
    .open = rc_open,
    .close = rc_close,
    .put = rc_put,
    .get = rc_get,
    .del = rc_del,
    .stats = rc_stats,
    .iter_open = rc_iter_open,
    .iter_first = rc_iter_first,
    .iter_seek = rc_iter_seek,
    .iter_valid = rc_iter_valid,
    .iter_next = rc_iter_next,
    .iter_key = rc_iter_key,
    .iter_value = rc_iter_value,
    .iter_status = rc_iter_status,
    .iter_close = rc_iter_close,
};
