/*
 * kvnode_loop.c — the Raft node daemon's event loop: one process, one node, one thread.
 *
 * Started by kvnode.c (flags, config file, `cluster up`):
 *
 *   kvnode --id I --cluster FILE --dir DIR [--tick-ms 10] [--election-ticks 30]
 *          [--heartbeat-ticks 10] [--snapshot-every 10000] [--max-frame BYTES]
 *   kvnode --config FILE            (the same keys, one "key = value" a line)
 *   kvnode cluster up N --dir DIR
 *
 * How it works. An epoll loop over one listening socket (the address of
 * line I+1 of the cluster file), the connections it accepted (peers'
 * messages and clients' requests arrive there) and one outgoing connection
 * per peer (messages go out there; reconnected with a 100 ms back-off when
 * it breaks). The loop waits until the next tick at most; after each round
 * of events it ticks the core when a tick is due, then runs
 * raft_node_process() once: every proposal and every append received in
 * that round goes to disk in one ready, with one fsync (group commit), and
 * only then are the messages sent and the clients answered; a leader's
 * appends alone are written to the sockets before that fsync, so that the
 * followers' fsyncs overlap the leader's (raft.h's exception).
 *
 * Clients. A put or delete becomes a command [session][seq][op][ks][key]
 * [value] proposed at the leader (a follower answers NOTLEADER with the
 * leader it knows); it is answered once the state machine has applied its
 * index: with the result recorded for (session, seq), or RETRY when another
 * entry took that index (the leader changed). A get or scan is a ReadIndex
 * read: it is answered once the leader has confirmed its leadership with a
 * quorum and applied the read index. Requests pending when the node stops
 * being leader are answered NOTLEADER, and any request pending for longer
 * than 3 s RETRY: the client retries with the same (session, seq), and the
 * session table applies the command once.
 *
 * Membership. An admin frame (kvctl cluster add/remove) is handed to
 * kvnode_admin.c, which drives raft_change_conf() at the leader; the loop
 * polls it after every round and sends its answer. A node learns the
 * address of a node added later by reading the cluster file again (lines
 * are only ever appended): the leader before it handles an admin frame,
 * any node when the core sends to a node the file did not name. The first
 * configuration is fixed in DIR/voters at the first start (the file's
 * lines, or the node's own id with --join: it starts outside the cluster).
 * A removed node learns it (kvnode_member.c) from a peer that answers its
 * PreVote "not a member" (a response frame on the connection the vote came
 * on), or from its own committed configuration (a removed leader, after a
 * grace of two election timeouts to answer and hand over), and exits 0.
 *
 * Failover. A follower whose connection to its leader breaks reconnects at
 * once; when the leader's address refuses the connection (its process is
 * gone: kill -9 closes its sockets and its listener), the follower tells the
 * core (raft_leader_lost()) and campaigns within 1 + rank * LOST_STAGGER
 * ticks, rank being its place by id among the surviving nodes, instead of
 * waiting a whole randomised election timeout (300-600 ms by default). A
 * leader cut off without a refusal (a partition) is found by the timeout.
 *
 * Faults. A frame that fails its checks (version, CRC, length above
 * --max-frame, malformed payload) closes that connection and nothing else.
 * A failed persist stops the node (exit 1): a node that could not make
 * something durable must not send or apply it. SIGTERM and SIGINT stop the
 * loop; the node closes its storage and exits 0. Everything it persists
 * is under DIR (DIR/LOCK keeps a second kvnode out).
 *
 * Callers (scripts, tests) must not start two nodes with the same id on
 * one cluster file, nor change a line of a cluster file under a running
 * cluster (appending lines for new nodes is how they join).
 */
#define _GNU_SOURCE /* accept4, SOCK_NONBLOCK */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvnode_admin.h"
#include "kvnode_int.h"
#include "kvnode_member.h"
#include "kvnode_sm.h"
#include "raft_net.h"

#define MAX_CONNS 1024
#define OUT_LIMIT (64u << 20)  /* a peer this far behind loses messages (Raft resends) */
#define PENDING_MS 3000
#define LOST_STAGGER 5 /* ticks between followers' campaigns after the leader died */

typedef struct conn {
    int fd;
    uint64_t gen;   /* 0: free slot */
    int peer;       /* outgoing peer connection: the peer id; else -1 */
    bool connecting, want_out;
    uint64_t born;  /* now_ms() when added: a connection that dies young is retried later */
    uint8_t *in;
    size_t in_n, in_cap;
    uint8_t *out;
    size_t out_off, out_n, out_cap;
} conn;

typedef struct pending {
    uint64_t conn_gen;
    int slot;
    uint8_t op;
    uint64_t session, seq, index, ctx;
    uint64_t deadline;
    uint8_t *req; /* ops needing the request later (GET, SCAN): its payload */
    size_t req_len;
} pending;

typedef struct node {
    kvnode_opts o;
    char addrs[RAFT_MAX_NODES][128];
    uint32_t n;
    int ep, lfd;
    conn conns[MAX_CONNS];
    int peer_slot[RAFT_MAX_NODES];
    uint64_t peer_retry[RAFT_MAX_NODES];
    uint64_t next_gen;
    raft_node *rn;
    ksm sm;
    pending *pend;
    size_t n_pend, cap_pend;
    uint64_t read_ctx;
    uint64_t match[RAFT_MAX_NODES];
    kv_file *lock;
    kvnode_admin admin;   /* the membership change in flight (kvnode_admin.c) */
    uint64_t reread_at;   /* when the cluster file may be read again for a new address */
    kvnode_member me;     /* whether it is still a member (kvnode_member.c) */
} node;

static volatile sig_atomic_t stop_flag;
static void on_signal(int sig) { (void)sig; stop_flag = 1; }

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- connections ------------------------------------------------------------ */

/* Close connection s; an outgoing peer connection is retried after back_ms. */
static void conn_close_after(node *nd, int s, unsigned back_ms)
{
    conn *c = &nd->conns[s];
    if (c->gen == 0)
        return;
    epoll_ctl(nd->ep, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->peer >= 0) {
        nd->peer_slot[c->peer] = -1;
        nd->peer_retry[c->peer] = now_ms() + back_ms;
    }
    kv_free(c->in);
    kv_free(c->out);
    memset(c, 0, sizeof *c);
}

static void conn_close(node *nd, int s) { conn_close_after(nd, s, 100); }

/*
 * Peer p refused a connection: nothing listens at its address, its process
 * is gone. If it was our leader, campaign soon rather than after a whole
 * election timeout: the followers take turns by id (LOST_STAGGER ticks
 * apart, the dead node skipped), so the first one's PreVote and vote reach
 * the others before they campaign themselves (no split vote).
 */
static void peer_refused(node *nd, uint32_t p)
{
    raft *r = raft_node_core(nd->rn);
    if (raft_get_role(r) != RAFT_FOLLOWER || raft_get_leader(r) != p)
        return;
    unsigned rank = 0;
    for (uint32_t i = 0; i < nd->o.id; i++)
        rank += i != p;
    fprintf(stderr, "kvnode %u: leader %u refused a connection: campaigning in %u ticks\n",
            nd->o.id, p, 1 + rank * LOST_STAGGER);
    raft_leader_lost(r, p, 1 + rank * LOST_STAGGER);
}

static int conn_add(node *nd, int fd, int peer, bool connecting)
{
    for (int s = 0; s < MAX_CONNS; s++) {
        conn *c = &nd->conns[s];
        if (c->gen)
            continue;
        memset(c, 0, sizeof *c);
        c->fd = fd;
        c->gen = ++nd->next_gen;
        c->born = now_ms();
        c->peer = peer;
        c->connecting = connecting;
        c->want_out = connecting;
        struct epoll_event ev = { .events = EPOLLIN | (connecting ? EPOLLOUT : 0u),
                                  .data.u32 = (uint32_t)s };
        if (epoll_ctl(nd->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            memset(c, 0, sizeof *c);
            close(fd);
            return -1;
        }
        return s;
    }
    close(fd);
    return -1;
}

static void set_out_interest(node *nd, int s, bool want)
{
    conn *c = &nd->conns[s];
    if (c->want_out == want)
        return;
    c->want_out = want;
    struct epoll_event ev = { .events = EPOLLIN | (want ? EPOLLOUT : 0u), .data.u32 = (uint32_t)s };
    epoll_ctl(nd->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Room for a frame of len payload bytes at the end of the output buffer. */
static uint8_t *conn_reserve(conn *c, size_t len)
{
    size_t need = KVN_HDR + len;
    if (c->out_off && c->out_off == c->out_n)
        c->out_off = c->out_n = 0;
    if (c->out_n - c->out_off + need > OUT_LIMIT)
        return NULL;
    if (c->out_n + need > c->out_cap) {
        if (c->out_off) {
            memmove(c->out, c->out + c->out_off, c->out_n - c->out_off);
            c->out_n -= c->out_off;
            c->out_off = 0;
        }
        if (c->out_n + need > c->out_cap) {
            size_t cap = 2 * (c->out_n + need) + 4096;
            uint8_t *q = kv_realloc(c->out, cap);
            if (q == NULL)
                return NULL;
            c->out = q;
            c->out_cap = cap;
        }
    }
    uint8_t *p = c->out + c->out_n;
    c->out_n += need;
    return p;
}

static void conn_flush(node *nd, int s)
{
    conn *c = &nd->conns[s];
    if (c->connecting)
        return;
    while (c->out_off < c->out_n) {
        ssize_t w = send(c->fd, c->out + c->out_off, c->out_n - c->out_off, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (w < 0) {
            if (errno == EINTR)
                continue;
            conn_close(nd, s);
            return;
        }
        c->out_off += (size_t)w;
    }
    if (c->out_off == c->out_n)
        c->out_off = c->out_n = 0;
    set_out_interest(nd, s, c->out_n > 0);
}

static void peer_connect(node *nd, uint32_t p)
{
    if (nd->peer_slot[p] >= 0 || now_ms() < nd->peer_retry[p])
        return;
    struct sockaddr_in sa;
    if (kvn_addr_parse(nd->addrs[p], &sa) != KV_OK)
        return;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    if (rc != 0 && errno != EINPROGRESS) {
        int err = errno;
        close(fd);
        nd->peer_retry[p] = now_ms() + 100;
        if (err == ECONNREFUSED)
            peer_refused(nd, p);
        return;
    }
    nd->peer_slot[p] = conn_add(nd, fd, (int)p, rc != 0);
    if (nd->peer_slot[p] < 0)
        nd->peer_retry[p] = now_ms() + 100;
}

static void reread_cluster(node *nd, bool force)
{
    kvnode_reread_cluster(nd->o.cluster, nd->o.id, nd->addrs, &nd->n, &nd->reread_at, now_ms(),
                          force);
}

static void send_msg(void *ctx, const raft_msg *m)
{
    node *nd = ctx;
    if (m->to >= nd->n)
        reread_cluster(nd, false); /* a node added since we read the file */
    if (m->to >= nd->n || m->to == nd->o.id)
        return;
    peer_connect(nd, m->to);
    int s = nd->peer_slot[m->to];
    if (s < 0)
        return; /* the network lost it; Raft resends */
    size_t len = kvn_msg_size(m);
    uint8_t *p = conn_reserve(&nd->conns[s], len);
    if (p == NULL)
        return;
    kvn_msg_encode(m, p + KVN_HDR);
    kvn_frame_seal(p, KVN_RAFT, (uint32_t)len);
    /* Out now: a leader's appends come here before its own fsync, so the
     * followers write them while the leader does (raft_node.h). */
    conn_flush(nd, s);
}

/* ---- answering clients ------------------------------------------------------ */

static void reply(node *nd, int slot, uint64_t gen, uint8_t kind, int status, const void *val,
                  size_t vlen)
{
    if (slot < 0 || slot >= MAX_CONNS || nd->conns[slot].gen != gen)
        return; /* the client went away */
    raft *r = raft_node_core(nd->rn);
    kvn_resp resp = { .kind = kind, .status = status, .leader = raft_get_leader(r),
                      .val = val, .vlen = (uint32_t)vlen };
    size_t len = kvn_resp_size(&resp);
    uint8_t *p = conn_reserve(&nd->conns[slot], len);
    if (p == NULL) {
        conn_close(nd, slot);
        return;
    }
    kvn_resp_encode(&resp, p + KVN_HDR);
    kvn_frame_seal(p, KVN_RESP, (uint32_t)len);
}

static void status_line(node *nd, int slot, uint64_t gen)
{
    char buf[512];
    kvnode_status_text(raft_node_core(nd->rn), nd->o.id, nd->sm.applied, nd->match, nd->n, buf,
                       sizeof buf);
    reply(nd, slot, gen, KVN_DONE, KV_OK, buf, strlen(buf));
}

static pending *pend_add(node *nd)
{
    if (nd->n_pend == nd->cap_pend) {
        size_t cap = nd->cap_pend ? 2 * nd->cap_pend : 64;
        pending *q = kv_realloc(nd->pend, cap * sizeof *q);
        if (q == NULL)
            return NULL;
        nd->pend = q;
        nd->cap_pend = cap;
    }
    pending *p = &nd->pend[nd->n_pend++];
    memset(p, 0, sizeof *p);
    p->deadline = now_ms() + PENDING_MS;
    return p;
}

static void handle_request(node *nd, int slot, const uint8_t *payload, size_t len)
{
    uint64_t gen = nd->conns[slot].gen;
    kvn_req q;
    int rc = kvn_req_decode(payload, len, &q);
    if (rc) {
        reply(nd, slot, gen, KVN_DONE, rc, kv_last_error(), strlen(kv_last_error()));
        return;
    }
    if (q.op == KVN_STATUS) {
        status_line(nd, slot, gen);
        return;
    }
    raft *r = raft_node_core(nd->rn);
    if (raft_get_role(r) != RAFT_LEADER) {
        reply(nd, slot, gen, KVN_NOTLEADER, KV_OK, NULL, 0);
        return;
    }
    if (q.klen == 0 && q.op != KVN_SCAN) {
        reply(nd, slot, gen, KVN_DONE, KV_EINVAL, NULL, 0);
        return;
    }
    pending *p = pend_add(nd);
    if (p == NULL) {
        reply(nd, slot, gen, KVN_RETRY, KV_OK, NULL, 0);
        return;
    }
    p->slot = slot;
    p->conn_gen = gen;
    p->op = q.op;
    if (q.op == KVN_PUT || q.op == KVN_DEL) {
        uint8_t *cmd;
        size_t clen;
        uint64_t index;
        if (q.session == 0 || q.seq == 0 ||
            ksm_command(q.session, q.seq, q.op, q.ks, q.ks_len, q.key, q.klen, q.val,
                        q.op == KVN_PUT ? q.vlen : 0, &cmd, &clen) != KV_OK) {
            nd->n_pend--;
            reply(nd, slot, gen, KVN_DONE, KV_EINVAL, NULL, 0);
            return;
        }
        rc = raft_propose(r, cmd, (uint32_t)clen, &index, NULL);
        kv_free(cmd);
        if (rc != 0) {
            nd->n_pend--;
            reply(nd, slot, gen, KVN_NOTLEADER, KV_OK, NULL, 0);
            return;
        }
        p->session = q.session;
        p->seq = q.seq;
        p->index = index;
        return;
    }
    p->req = kv_malloc(len);
    if (p->req == NULL || raft_read_index(r, ++nd->read_ctx) != 0) {
        kv_free(p->req);
        nd->n_pend--;
        reply(nd, slot, gen, KVN_RETRY, KV_OK, NULL, 0);
        return;
    }
    memcpy(p->req, payload, len);
    p->req_len = len;
    p->ctx = nd->read_ctx;
}

static void serve_read(node *nd, pending *p)
{
    kvn_req q;
    kv_buf v = { 0 };
    int rc = kvn_req_decode(p->req, p->req_len, &q);
    if (rc == KV_OK && q.op == KVN_GET)
        rc = ksm_get(&nd->sm, q.ks, q.ks_len, q.key, q.klen, &v);
    else if (rc == KV_OK)
        rc = ksm_scan(&nd->sm, q.ks, q.ks_len, q.key, q.klen, q.vlen > 0 && q.val[0],
                      q.seq ? q.seq : 1, nd->o.max_frame / 2, &v);
    reply(nd, p->slot, p->conn_gen, KVN_DONE, rc, v.data, rc == KV_OK ? v.len : 0);
    kv_free(v.data);
}

static void admin_reply(node *nd, int slot, uint64_t gen, const kvnode_answer *a)
{
    reply(nd, slot, gen, a->kind, a->status, a->msg, strlen(a->msg));
}

/* An admin frame: a membership change (kvnode_admin.c). */
static void handle_admin(node *nd, int slot, const uint8_t *payload, size_t len)
{
    uint64_t gen = nd->conns[slot].gen;
    kvn_admin q;
    kvnode_answer ans;
    if (kvn_admin_decode(payload, len, &q) != KV_OK) {
        reply(nd, slot, gen, KVN_DONE, KV_ECORRUPT, kv_last_error(), strlen(kv_last_error()));
        return;
    }
    raft *r = raft_node_core(nd->rn);
    if (raft_get_role(r) == RAFT_LEADER)
        reread_cluster(nd, true); /* the new node's line may be new */
    if (kvnode_admin_begin(&nd->admin, r, &q, nd->n, now_ms(), &ans)) {
        admin_reply(nd, slot, gen, &ans);
        return;
    }
    nd->admin.slot = slot;
    nd->admin.gen = gen;
    fprintf(stderr, "kvnode %u: membership: %s node %u\n", nd->o.id,
            q.op == KVN_ADMIN_ADD ? "adding" : "removing", q.node);
}

/* Answer what can be answered after a ready round; drop what was answered. */
static void settle(node *nd)
{
    raft *r = raft_node_core(nd->rn);
    bool leader = raft_get_role(r) == RAFT_LEADER;
    uint64_t now = now_ms();
    kvnode_answer ans;
    if (kvnode_admin_poll(&nd->admin, r, now, &ans)) {
        fprintf(stderr, "kvnode %u: membership: %s\n", nd->o.id, ans.msg);
        admin_reply(nd, nd->admin.slot, nd->admin.gen, &ans);
    }
    size_t k = 0;
    for (size_t i = 0; i < nd->n_pend; i++) {
        pending *p = &nd->pend[i];
        bool done = true;
        if (!leader) {
            reply(nd, p->slot, p->conn_gen, KVN_NOTLEADER, KV_OK, NULL, 0);
        } else if (p->op == KVN_PUT || p->op == KVN_DEL) {
            uint64_t seq;
            int result;
            ksm_session_get(&nd->sm, p->session, &seq, &result);
            if (seq >= p->seq)
                reply(nd, p->slot, p->conn_gen, KVN_DONE, seq == p->seq ? result : KV_OK, NULL, 0);
            else if (nd->sm.applied >= p->index || now > p->deadline)
                reply(nd, p->slot, p->conn_gen, KVN_RETRY, KV_OK, NULL, 0);
            else
                done = false;
        } else {
            uint64_t idx;
            if (ksm_read_confirmed(&nd->sm, p->ctx, &idx) && nd->sm.applied >= idx)
                serve_read(nd, p);
            else if (now > p->deadline)
                reply(nd, p->slot, p->conn_gen, KVN_RETRY, KV_OK, NULL, 0);
            else
                done = false;
        }
        if (done)
            kv_free(p->req);
        else
            nd->pend[k++] = *p;
    }
    nd->n_pend = k;
}

/* ---- input ------------------------------------------------------------------- */

static void handle_frame(node *nd, int slot, const kvn_frame *f)
{
    if (f->type == KVN_RAFT) {
        raft_msg m;
        if (kvn_msg_decode(f->payload, f->len, &m) != KV_OK) {
            fprintf(stderr, "kvnode %u: %s; closing the connection\n", nd->o.id, kv_last_error());
            conn_close(nd, slot);
            return;
        }
        char why[256];
        if (m.to == nd->o.id && m.from < RAFT_MAX_NODES &&
            kvnode_member_refuse(raft_node_core(nd->rn), &m, why, sizeof why))
            reply(nd, slot, nd->conns[slot].gen, KVN_DONE, KV_ENOTFOUND, why, strlen(why));
        if (m.to == nd->o.id && m.from < RAFT_MAX_NODES) {
            if (m.type == RAFT_MSG_APPEND_RESP && !m.reject && m.index > nd->match[m.from])
                nd->match[m.from] = m.index;
            raft_step(raft_node_core(nd->rn), &m);
        }
        raft_msg_free(&m);
    } else if (f->type == KVN_REQ) {
        handle_request(nd, slot, f->payload, f->len);
    } else if (f->type == KVN_ADMIN) {
        handle_admin(nd, slot, f->payload, f->len);
    } else if (nd->conns[slot].peer >= 0) { /* a peer answers a message of ours */
        kvn_resp resp;
        if (kvn_resp_decode(f->payload, f->len, &resp) != KV_OK) {
            conn_close(nd, slot);
            return;
        }
        kvnode_member_told(&nd->me, raft_node_core(nd->rn), nd->o.id,
                           (uint32_t)nd->conns[slot].peer, &resp, now_ms());
    } else {
        conn_close(nd, slot); /* nodes take no responses from clients */
    }
}

static void conn_read(node *nd, int slot)
{
    conn *c = &nd->conns[slot];
    uint64_t gen = c->gen;
    for (;;) {
        if (c->in_cap - c->in_n < 65536) {
            size_t cap = c->in_cap ? 2 * c->in_cap : 131072;
            uint8_t *q = kv_realloc(c->in, cap);
            if (q == NULL) {
                conn_close(nd, slot);
                return;
            }
            c->in = q;
            c->in_cap = cap;
        }
        ssize_t got = recv(c->fd, c->in + c->in_n, c->in_cap - c->in_n, 0);
        if (got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
            break;
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) { /* a peer that hung up: see at once if it is gone (unless it keeps
                           hanging up on us: then the usual back-off) */
            conn_close_after(nd, slot, now_ms() - c->born >= 100 ? 0 : 100);
            return;
        }
        c->in_n += (size_t)got;
        size_t off = 0;
        for (;;) {
            kvn_frame f;
            size_t used;
            int rc = kvn_frame_parse(c->in + off, c->in_n - off, nd->o.max_frame, &f, &used);
            if (rc == 0)
                break;
            if (rc < 0) {
                fprintf(stderr, "kvnode %u: %s; closing the connection\n", nd->o.id,
                        kv_last_error());
                conn_close(nd, slot);
                return;
            }
            handle_frame(nd, slot, &f);
            if (nd->conns[slot].gen != gen)
                return; /* closed while handling */
            off += used;
        }
        if (off) {
            memmove(c->in, c->in + off, c->in_n - off);
            c->in_n -= off;
        }
        if (c->in_cap > (1u << 20) && c->in_n < c->in_cap / 4) {
            uint8_t *q = kv_realloc(c->in, c->in_cap / 2); /* give back a burst's buffer */
            if (q) {
                c->in = q;
                c->in_cap /= 2;
            }
        }
    }
}

static void accept_all(node *nd)
{
    for (;;) {
        int fd = accept4(nd->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        conn_add(nd, fd, -1, false);
    }
}

/* ---- the loop ------------------------------------------------------------------ */

static int listen_on(node *nd)
{
    struct sockaddr_in sa;
    int rc = kvn_addr_parse(nd->addrs[nd->o.id], &sa);
    if (rc)
        return rc;
    nd->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (nd->lfd < 0 || setsockopt(nd->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(nd->lfd, (struct sockaddr *)&sa, sizeof sa) || listen(nd->lfd, 128))
        return kv_fail_errno(KV_EIO, errno, nd->addrs[nd->o.id]);
    struct epoll_event ev = { .events = EPOLLIN, .data.u32 = MAX_CONNS };
    return epoll_ctl(nd->ep, EPOLL_CTL_ADD, nd->lfd, &ev) ? kv_fail_errno(KV_EIO, errno, "epoll")
                                                         : KV_OK;
}

static int run(node *nd)
{
    struct epoll_event evs[64];
    uint64_t next_tick = now_ms() + nd->o.tick_ms;
    raft_role last_role = RAFT_FOLLOWER;
    unsigned grace_ms = 2 * nd->o.election_ticks * nd->o.tick_ms;
    while (!stop_flag && !(nd->me.stop_at && now_ms() >= nd->me.stop_at)) {
        uint64_t now = now_ms();
        int timeout = next_tick > now ? (int)(next_tick - now) : 0;
        int n = epoll_wait(nd->ep, evs, 64, timeout);
        if (n < 0 && errno != EINTR)
            return kv_fail_errno(KV_EIO, errno, "epoll_wait");
        for (int i = 0; i < n; i++) {
            uint32_t s = evs[i].data.u32;
            if (s == MAX_CONNS) {
                accept_all(nd);
                continue;
            }
            conn *c = &nd->conns[s];
            if (c->gen == 0)
                continue;
            if (c->connecting && (evs[i].events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
                int err = 0;
                socklen_t el = sizeof err;
                getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
                if (err) {
                    int p = c->peer;
                    conn_close(nd, (int)s);
                    if (err == ECONNREFUSED && p >= 0)
                        peer_refused(nd, (uint32_t)p);
                    continue;
                }
                c->connecting = false;
            }
            if (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR))
                conn_read(nd, (int)s);
            if (c->gen && (evs[i].events & EPOLLOUT))
                conn_flush(nd, (int)s);
        }
        raft *r = raft_node_core(nd->rn);
        uint32_t ld = raft_get_leader(r);
        if (raft_get_role(r) == RAFT_FOLLOWER && ld < nd->n && ld != nd->o.id &&
            nd->peer_slot[ld] < 0)
            peer_connect(nd, ld); /* the leader's connection broke: is it alive? */
        now = now_ms();
        if (now >= next_tick) {
            raft_tick(r);
            next_tick += nd->o.tick_ms;
            if (next_tick < now) /* the process was stalled: do not tick in a burst */
                next_tick = now + nd->o.tick_ms;
        }
        int rc = raft_node_process(nd->rn, send_msg, nd);
        if (rc)
            return rc;
        if (raft_get_role(r) != last_role) {
            last_role = raft_get_role(r);
            if (last_role == RAFT_LEADER)
                memset(nd->match, 0, sizeof nd->match);
            fprintf(stderr, "kvnode %u: %s at term %llu\n", nd->o.id,
                    last_role == RAFT_LEADER ? "leader" : "not leader",
                    (unsigned long long)raft_get_term(r));
        }
        settle(nd);
        kvnode_member_check(&nd->me, r, nd->o.id, now_ms(), grace_ms);
        for (int s = 0; s < MAX_CONNS; s++)
            if (nd->conns[s].gen && nd->conns[s].out_n > nd->conns[s].out_off)
                conn_flush(nd, s);
    }
    if (!stop_flag)
        fprintf(stderr, "kvnode %u: not a member any more (%s): exiting\n", nd->o.id,
                nd->me.why);
    return KV_OK;
}

static void node_free(node *nd)
{
    for (int s = 0; s < MAX_CONNS; s++)
        conn_close(nd, s);
    for (size_t i = 0; i < nd->n_pend; i++)
        kv_free(nd->pend[i].req);
    kv_free(nd->pend);
    raft_node_close(nd->rn);
    ksm_free(&nd->sm);
    if (nd->lfd >= 0)
        close(nd->lfd);
    if (nd->ep >= 0)
        close(nd->ep);
    if (nd->lock)
        kv_file_close(nd->lock);
}

int kvnode_serve(const kvnode_opts *o)
{
    static node nd; /* large (the connection table): not on the stack */
    memset(&nd, 0, sizeof nd);
    nd.o = *o;
    nd.lfd = nd.ep = -1;
    for (int i = 0; i < RAFT_MAX_NODES; i++)
        nd.peer_slot[i] = -1;
    int rc = kvn_cluster_read(o->cluster, nd.addrs, &nd.n);
    if (rc)
        goto out;
    if (o->id >= nd.n) {
        rc = kv_fail(KV_EINVAL, "--id %u: the cluster file names %u nodes", o->id, nd.n);
        goto out;
    }
    const kv_env *env = kv_env_posix();
    char p[4200];
    if ((rc = kv_env_mkdir_durable(env, o->dir)))
        goto out;
    snprintf(p, sizeof p, "%s/LOCK", o->dir);
    uint32_t voters = 0;
    if ((rc = kv_env_open(env, p, KV_O_RDWR | KV_O_CREAT, &nd.lock)) ||
        (rc = kv_file_lock(nd.lock)) || (rc = kvnode_initial_voters(env, o, nd.n, &voters)))
        goto out;
    if ((rc = ksm_init(&nd.sm, env, o->dir)))
        goto out;
    raft_config cfg;
    raft_config_default(&cfg, o->id, voters, (uint64_t)getpid() ^ now_ms());
    cfg.election_tick = o->election_ticks;
    cfg.heartbeat_tick = o->heartbeat_ticks;
    snprintf(p, sizeof p, "%s/raft", o->dir);
    if ((rc = raft_node_open(env, p, &cfg, &ksm_ops, &nd.sm, o->snapshot_every, &nd.rn)))
        goto out;
    if ((nd.ep = epoll_create1(EPOLL_CLOEXEC)) < 0) {
        rc = kv_fail_errno(KV_EIO, errno, "epoll_create1");
        goto out;
    }
    if ((rc = listen_on(&nd)))
        goto out;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    fprintf(stderr, "kvnode %u: serving %s, data in %s\n", o->id, nd.addrs[o->id], o->dir);
    rc = run(&nd);
    fprintf(stderr, "kvnode %u: %s\n", o->id, rc ? kv_last_error() : "stopped");
out:
    if (rc)
        fprintf(stderr, "kvnode: %s\n", kv_last_error());
    node_free(&nd);
    return rc;
}
