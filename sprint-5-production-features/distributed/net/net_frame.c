/*
 * net_frame.c — the wire of kvnode (include/raft_net.h): frames, Raft
 * messages, client requests and responses, admin requests (membership
 * changes), the cluster file.
 *
 * Every decoder here reads bytes from a socket, that is from anyone: it
 * walks a cursor (struct rd) that refuses to move past the end of the
 * payload, so a truncated or lying length field becomes KV_ECORRUPT and
 * never an out-of-bounds read. Sizes are checked before they are
 * multiplied or allocated (an entry count is bounded by the bytes left,
 * each entry taking at least its 21-byte header). Encoders trust their
 * input (it comes from this process) and write little-endian integers.
 *
 * Callers must not hand the decoders a payload whose frame failed its CRC:
 * kvn_frame_parse() is the only gate.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kvlabs/alloc.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"
#include "raft_net.h"

/* ---- little-endian cursors ------------------------------------------------ */

static void w8(uint8_t **p, uint8_t v) { *(*p)++ = v; }
static void w32(uint8_t **p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}
static void w64(uint8_t **p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        *(*p)++ = (uint8_t)(v >> (8 * i));
}
static void wbytes(uint8_t **p, const void *b, size_t n)
{
    if (n)
        memcpy(*p, b, n);
    *p += n;
}

typedef struct rd {
    const uint8_t *p;
    size_t left;
    int bad;
} rd;

static uint64_t rn(rd *r, int bytes)
{
    if (r->bad || r->left < (size_t)bytes) {
        r->bad = 1;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)r->p[i] << (8 * i);
    r->p += bytes;
    r->left -= (size_t)bytes;
    return v;
}
static const uint8_t *rbytes(rd *r, size_t n)
{
    if (r->bad || r->left < n) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p;
    r->p += n;
    r->left -= n;
    return q;
}

/* ---- frames ----------------------------------------------------------------- */

int kvn_frame_parse(const uint8_t *buf, size_t n, uint32_t max_len, kvn_frame *f, size_t *used)
{
    if (n < 1)
        return 0;
    if (buf[0] != KVN_VERSION)
        return kv_fail(KV_ECORRUPT, "frame: version %u (this node speaks %u)", buf[0], KVN_VERSION);
    if (n < KVN_HDR)
        return 0;
    rd r = { buf + 1, KVN_HDR - 1, 0 };
    uint8_t type = (uint8_t)rn(&r, 1);
    uint16_t reserved = (uint16_t)rn(&r, 2);
    uint32_t len = (uint32_t)rn(&r, 4), crc = (uint32_t)rn(&r, 4);
    if (reserved != 0 || type < KVN_RAFT || type > KVN_ADMIN)
        return kv_fail(KV_ECORRUPT, "frame: bad header (type %u, reserved %u)", type, reserved);
    if (len > max_len)
        return kv_fail(KV_ETOOBIG, "frame: %u bytes exceed the limit of %u", len, max_len);
    if (n - KVN_HDR < len)
        return 0;
    if (kv_crc32c(0, buf + KVN_HDR, len) != crc)
        return kv_fail(KV_ECORRUPT, "frame: CRC mismatch");
    f->type = type;
    f->len = len;
    f->payload = buf + KVN_HDR;
    *used = KVN_HDR + (size_t)len;
    return 1;
}

void kvn_frame_seal(uint8_t *hdr, uint8_t type, uint32_t len)
{
    uint8_t *p = hdr;
    w8(&p, KVN_VERSION);
    w8(&p, type);
    w8(&p, 0);
    w8(&p, 0);
    w32(&p, len);
    w32(&p, kv_crc32c(0, hdr + KVN_HDR, len));
}

/* ---- Raft messages ------------------------------------------------------------ */

#define MSG_FIXED (1 + 4 + 4 + 56 + 1 + 4 + 16 + 4)
#define ENTRY_HDR (8 + 8 + 1 + 4)

size_t kvn_msg_size(const raft_msg *m)
{
    return raft_msg_size(m);
}

void kvn_msg_encode(const raft_msg *m, uint8_t *out)
{
    uint8_t *p = out;
    w8(&p, m->type);
    w32(&p, m->from);
    w32(&p, m->to);
    w64(&p, m->term);
    w64(&p, m->index);
    w64(&p, m->log_term);
    w64(&p, m->commit);
    w64(&p, m->hint_index);
    w64(&p, m->hint_term);
    w64(&p, m->ctx);
    w8(&p, (uint8_t)((m->reject ? 1 : 0) | (m->force ? 2 : 0)));
    w32(&p, (uint32_t)m->n_entries);
    w64(&p, m->snap_offset);
    w64(&p, m->snap_size);
    w32(&p, m->snap_data ? m->snap_len : 0);
    for (size_t i = 0; i < m->n_entries; i++) {
        const raft_entry *e = &m->entries[i];
        w64(&p, e->term);
        w64(&p, e->index);
        w8(&p, e->type);
        w32(&p, e->len);
        wbytes(&p, e->data, e->len);
    }
    if (m->snap_data)
        wbytes(&p, m->snap_data, m->snap_len);
}

int kvn_msg_decode(const uint8_t *p, size_t n, raft_msg *m)
{
    memset(m, 0, sizeof *m);
    rd r = { p, n, 0 };
    m->type = (uint8_t)rn(&r, 1);
    m->from = (uint32_t)rn(&r, 4);
    m->to = (uint32_t)rn(&r, 4);
    m->term = rn(&r, 8);
    m->index = rn(&r, 8);
    m->log_term = rn(&r, 8);
    m->commit = rn(&r, 8);
    m->hint_index = rn(&r, 8);
    m->hint_term = rn(&r, 8);
    m->ctx = rn(&r, 8);
    uint8_t flags = (uint8_t)rn(&r, 1);
    uint32_t n_entries = (uint32_t)rn(&r, 4);
    m->snap_offset = rn(&r, 8);
    m->snap_size = rn(&r, 8);
    uint32_t snap_len = (uint32_t)rn(&r, 4);
    if (r.bad || m->type < RAFT_MSG_PREVOTE || m->type > RAFT_MSG_TIMEOUT_NOW || flags > 3)
        goto out_corrupt;
    m->reject = flags & 1;
    m->force = (flags & 2) != 0;
    /* each entry takes at least ENTRY_HDR bytes: bound the count first */
    if (n_entries > r.left / ENTRY_HDR || snap_len > r.left)
        goto out_corrupt;
    if (n_entries) {
        m->entries = kv_calloc(n_entries, sizeof *m->entries);
        if (m->entries == NULL)
            return kv_fail(KV_ENOMEM, "frame: out of memory");
    }
    for (uint32_t i = 0; i < n_entries; i++) {
        raft_entry *e = &m->entries[i];
        m->n_entries = i + 1; /* raft_msg_free() frees entries[0 .. i] */
        e->term = rn(&r, 8);
        e->index = rn(&r, 8);
        e->type = (uint8_t)rn(&r, 1);
        e->len = (uint32_t)rn(&r, 4);
        const uint8_t *d = rbytes(&r, e->len);
        if (r.bad || e->type > RAFT_ENTRY_CONF)
            goto out_free;
        e->data = kv_malloc(e->len ? e->len : 1);
        if (e->data == NULL)
            goto out_nomem;
        if (e->len)
            memcpy(e->data, d, e->len);
    }
    if (snap_len || m->type == RAFT_MSG_SNAPSHOT) {
        const uint8_t *d = rbytes(&r, snap_len);
        if (r.bad)
            goto out_free;
        m->snap_data = kv_malloc(snap_len ? snap_len : 1);
        if (m->snap_data == NULL)
            goto out_nomem;
        if (snap_len)
            memcpy(m->snap_data, d, snap_len);
        m->snap_len = snap_len;
    }
    if (r.left != 0)
        goto out_free;
    return KV_OK;
out_nomem:
    raft_msg_free(m);
    return kv_fail(KV_ENOMEM, "frame: out of memory");
out_free:
    raft_msg_free(m);
out_corrupt:
    return kv_fail(KV_ECORRUPT, "frame: malformed Raft message");
}

/* ---- client requests and responses -------------------------------------------- */

size_t kvn_req_size(const kvn_req *r)
{
    return 1 + 8 + 8 + 4 + r->ks_len + 4 + r->klen + 4 + (size_t)r->vlen;
}

void kvn_req_encode(const kvn_req *r, uint8_t *out)
{
    uint8_t *p = out;
    w8(&p, r->op);
    w64(&p, r->session);
    w64(&p, r->seq);
    w32(&p, r->ks_len);
    wbytes(&p, r->ks, r->ks_len);
    w32(&p, r->klen);
    wbytes(&p, r->key, r->klen);
    w32(&p, r->vlen);
    wbytes(&p, r->val, r->vlen);
}

int kvn_req_decode(const uint8_t *p, size_t n, kvn_req *q)
{
    memset(q, 0, sizeof *q);
    rd r = { p, n, 0 };
    q->op = (uint8_t)rn(&r, 1);
    q->session = rn(&r, 8);
    q->seq = rn(&r, 8);
    q->ks_len = (uint32_t)rn(&r, 4);
    if (!r.bad && q->ks_len > KVN_MAX_KEYSPACE)
        return kv_fail(KV_ETOOBIG, "request: keyspace of %u bytes", q->ks_len);
    q->ks = rbytes(&r, q->ks_len);
    q->klen = (uint32_t)rn(&r, 4);
    if (!r.bad && q->klen > KVN_MAX_KEY)
        return kv_fail(KV_ETOOBIG, "request: key of %u bytes", q->klen);
    q->key = rbytes(&r, q->klen);
    q->vlen = (uint32_t)rn(&r, 4);
    if (!r.bad && q->vlen > KVN_MAX_VALUE)
        return kv_fail(KV_ETOOBIG, "request: value of %u bytes", q->vlen);
    q->val = rbytes(&r, q->vlen);
    if (r.bad || r.left != 0 || q->op < KVN_GET || q->op > KVN_SCAN)
        return kv_fail(KV_ECORRUPT, "request: malformed");
    return KV_OK;
}

size_t kvn_resp_size(const kvn_resp *r)
{
    return 1 + 4 + 4 + 4 + (size_t)r->vlen;
}

void kvn_resp_encode(const kvn_resp *r, uint8_t *out)
{
    uint8_t *p = out;
    w8(&p, r->kind);
    w32(&p, (uint32_t)r->status);
    w32(&p, r->leader);
    w32(&p, r->vlen);
    wbytes(&p, r->val, r->vlen);
}

int kvn_resp_decode(const uint8_t *p, size_t n, kvn_resp *q)
{
    memset(q, 0, sizeof *q);
    rd r = { p, n, 0 };
    q->kind = (uint8_t)rn(&r, 1);
    q->status = (int32_t)(uint32_t)rn(&r, 4);
    q->leader = (uint32_t)rn(&r, 4);
    q->vlen = (uint32_t)rn(&r, 4);
    q->val = rbytes(&r, q->vlen);
    if (r.bad || r.left != 0 || q->kind > KVN_RETRY || q->status > 0 || q->status < -99)
        return kv_fail(KV_ECORRUPT, "response: malformed");
    return KV_OK;
}

/* ---- admin requests ------------------------------------------------------------ */

void kvn_admin_encode(const kvn_admin *a, uint8_t out[KVN_ADMIN_LEN])
{
    uint8_t *p = out;
    w8(&p, a->op);
    w32(&p, a->node);
    w32(&p, a->timeout_ms);
}

int kvn_admin_decode(const uint8_t *p, size_t n, kvn_admin *a)
{
    memset(a, 0, sizeof *a);
    rd r = { p, n, 0 };
    a->op = (uint8_t)rn(&r, 1);
    a->node = (uint32_t)rn(&r, 4);
    a->timeout_ms = (uint32_t)rn(&r, 4);
    if (r.bad || r.left != 0 || (a->op != KVN_ADMIN_ADD && a->op != KVN_ADMIN_REMOVE) ||
        a->node >= RAFT_MAX_NODES || a->timeout_ms == 0)
        return kv_fail(KV_ECORRUPT, "admin request: malformed");
    return KV_OK;
}

/* ---- the cluster file and addresses --------------------------------------------- */

int kvn_cluster_read(const char *path, char addrs[RAFT_MAX_NODES][128], uint32_t *n_out)
{
    const kv_env *env = kv_env_posix();
    kv_file *f;
    char buf[4096];
    size_t got = 0;
    int rc = kv_env_open(env, path, KV_O_RDONLY, &f);
    if (rc)
        return kv_fail(rc == KV_ENOMEM ? rc : KV_EIO, "cluster file %s: cannot open", path);
    rc = kv_file_pread(f, buf, sizeof buf - 1, 0, &got);
    kv_file_close(f);
    if (rc)
        return kv_fail(rc == KV_ENOMEM ? rc : KV_EIO, "cluster file %s: cannot read", path);
    buf[got] = '\0';
    uint32_t n = 0;
    for (char *line = buf, *next; line && *line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        while (*line == ' ' || *line == '\t')
            line++;
        size_t len = strcspn(line, " \t\r");
        line[len] = '\0';
        if (len == 0 || line[0] == '#')
            continue;
        if (n == RAFT_MAX_NODES)
            return kv_fail(KV_EINVAL, "cluster file %s: more than %d nodes", path, RAFT_MAX_NODES);
        if (len >= 128 || strchr(line, ':') == NULL)
            return kv_fail(KV_EINVAL, "cluster file %s: line \"%.40s\" is not host:port", path, line);
        memcpy(addrs[n++], line, len + 1);
    }
    if (n == 0)
        return kv_fail(KV_EINVAL, "cluster file %s: no node", path);
    *n_out = n;
    return KV_OK;
}

int kvn_addr_parse(const char *addr, void *out)
{
    struct sockaddr_in *sa = out;
    char host[128];
    const char *colon = strrchr(addr, ':');
    if (colon == NULL || (size_t)(colon - addr) >= sizeof host)
        return kv_fail(KV_EINVAL, "address %s: not host:port", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = '\0';
    char *end;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (*end != '\0' || port == 0 || port > 65535)
        return kv_fail(KV_EINVAL, "address %s: bad port", addr);
    memset(sa, 0, sizeof *sa);
    sa->sin_family = AF_INET;
    sa->sin_port = htons((uint16_t)port);
    if (strcmp(host, "localhost") == 0 || host[0] == '\0')
        sa->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    else if (inet_pton(AF_INET, host, &sa->sin_addr) != 1)
        return kv_fail(KV_EINVAL, "address %s: not an IPv4 address", addr);
    return KV_OK;
}
