/*
 * kvnode_member.c — one kvnode's own place in the cluster: its first
 * configuration (DIR/voters), the cluster file read again for nodes added
 * later, the `cluster status` line, and learning that it was removed.
 *
 * How it works. The event loop (kvnode_loop.c) calls in here and does all
 * the I/O of sockets; this file reads the core only through raft.h's
 * getters and reads or writes two small files.
 *
 *   - First configuration: at a node's first start DIR/voters gets
 *     "voters N" (the cluster file's lines, or the node's own id with
 *     --join: it starts outside the cluster); later starts read it back, so
 *     lines appended to the file do not change what a restarted node
 *     believes.
 *   - Address book: the cluster file is read again (lines are only ever
 *     appended), at most once a second unless forced.
 *   - Removal (see kvnode_member.h): a peer answers a campaign of a node
 *     that its committed configuration leaves out "not a member", which
 *     stops that node; a node whose own committed configuration stops
 *     naming it stops after a grace period. The peer's test is cautious: it
 *     tells only a node whose log ends before the configuration that left
 *     it out, because a node added by entries the peer has not received
 *     yet has those entries in its log (it campaigns only once a
 *     configuration in its log makes it a voter), so its last index lies
 *     beyond the peer's configuration index.
 */
#include <stdio.h>
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "kvnode_member.h"

int kvnode_initial_voters(const kv_env *env, const kvnode_opts *o, uint32_t n_addrs,
                          uint32_t *voters)
{
    char p[4200], text[64];
    size_t got = 0;
    kv_file *f;
    snprintf(p, sizeof p, "%s/voters", o->dir);
    int rc = kv_env_open(env, p, KV_O_RDONLY, &f);
    if (rc == KV_OK) {
        rc = kv_file_pread(f, text, sizeof text - 1, 0, &got);
        kv_file_close(f);
        text[got] = '\0';
        unsigned v;
        if (rc || sscanf(text, "voters %u", &v) != 1 || v < 1 || v > RAFT_MAX_NODES)
            return kv_fail(KV_ECORRUPT, "%s: not \"voters N\"", p);
        *voters = v;
        return KV_OK;
    }
    if (rc != KV_ENOTFOUND)
        return rc;
    if (o->join && o->id == 0)
        return kv_fail(KV_EINVAL, "--join: node 0 is always one of the first nodes");
    *voters = o->join ? o->id : n_addrs;
    int len = snprintf(text, sizeof text, "voters %u\n", *voters);
    if ((rc = kv_env_open(env, p, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, &f)))
        return rc;
    rc = kv_file_pwrite(f, text, (size_t)len, 0);
    if (rc == KV_OK)
        rc = kv_file_sync(f);
    int rc2 = kv_file_close(f);
    if (rc == KV_OK)
        rc = rc2;
    return rc ? rc : kv_env_sync_dir(env, o->dir);
}

bool kvnode_reread_cluster(const char *path, uint32_t id, char addrs[RAFT_MAX_NODES][128],
                           uint32_t *n, uint64_t *reread_at, uint64_t now, bool force)
{
    if (!force && now < *reread_at)
        return false;
    *reread_at = now + 1000;
    char got[RAFT_MAX_NODES][128];
    uint32_t m;
    if (kvn_cluster_read(path, got, &m) != KV_OK || m <= *n)
        return false;
    for (uint32_t i = *n; i < m; i++)
        memcpy(addrs[i], got[i], sizeof got[i]);
    fprintf(stderr, "kvnode %u: the cluster file names %u nodes now\n", id, m);
    *n = m;
    return true;
}

void kvnode_status_text(const raft *r, uint32_t id, uint64_t applied, const uint64_t *match,
                        uint32_t n, char *buf, size_t cap)
{
    static const char *const roles[] = { "follower", "precandidate", "candidate", "leader" };
    int off = snprintf(buf, cap,
                       "id=%u role=%s term=%llu leader=%d commit=%llu applied=%llu last=%llu "
                       "snap=%llu match=",
                       id, roles[raft_get_role(r)], (unsigned long long)raft_get_term(r),
                       raft_get_leader(r) == RAFT_NONE ? -1 : (int)raft_get_leader(r),
                       (unsigned long long)raft_get_commit(r), (unsigned long long)applied,
                       (unsigned long long)raft_get_last_index(r),
                       (unsigned long long)raft_get_snap_index(r));
    for (uint32_t i = 0; i < n && off < (int)cap - 24; i++) {
        uint64_t m = raft_get_role(r) != RAFT_LEADER ? 0
                     : i == id                       ? raft_get_last_index(r)
                                                     : match[i];
        off += snprintf(buf + off, cap - (size_t)off, "%s%llu", i ? "," : "",
                        (unsigned long long)m);
    }
    raft_membership conf;
    raft_get_membership(r, &conf);
    for (int which = 0; which < 2 && off < (int)cap - 48; which++) {
        uint32_t mask = which ? conf.learners : conf.voters;
        off += snprintf(buf + off, cap - (size_t)off, which ? " learners=" : " voters=");
        if (mask == 0)
            off += snprintf(buf + off, cap - (size_t)off, "-");
        for (uint32_t i = 0, first = 1; i < RAFT_MAX_NODES; i++)
            if (mask >> i & 1u) {
                off += snprintf(buf + off, cap - (size_t)off, "%s%u", first ? "" : ",", i);
                first = 0;
            }
    }
}

static bool names(const raft_membership *c, uint32_t node)
{
    return node < RAFT_MAX_NODES && ((c->voters | c->learners) >> node & 1u);
}

bool kvnode_member_refuse(const raft *r, const raft_msg *m, char *why, size_t cap)
{
    if (m->type != RAFT_MSG_PREVOTE && m->type != RAFT_MSG_VOTE)
        return false;
    raft_membership conf;
    uint64_t at = raft_get_membership(r, &conf);
    if (at == 0)
        at = raft_get_snap_index(r); /* a snapshot's configuration: set at or before it */
    if (names(&conf, m->from) || at > raft_get_commit(r) || at <= m->index)
        return false;
    snprintf(why, cap,
             "node %u: node %u is not a member of its configuration committed at index %llu "
             "(the campaigner's log ends at %llu)",
             raft_get_id(r), m->from, (unsigned long long)at, (unsigned long long)m->index);
    return true;
}

void kvnode_member_told(kvnode_member *s, const raft *r, uint32_t id, uint32_t from,
                        const kvn_resp *resp, uint64_t now)
{
    raft_membership conf;
    raft_get_membership(r, &conf);
    if (s->stop_at || resp->kind != KVN_DONE || resp->status != KV_ENOTFOUND ||
        !(conf.voters >> id & 1u))
        return; /* only a node that campaigns as a voter can be told */
    snprintf(s->why, sizeof s->why, "%.*s", resp->vlen < 160 ? (int)resp->vlen : 160,
             (const char *)resp->val);
    fprintf(stderr, "kvnode %u: removed from the cluster: peer %u says: %s\n", id, from, s->why);
    s->stop_at = now;
}

void kvnode_member_check(kvnode_member *s, const raft *r, uint32_t id, uint64_t now,
                         unsigned grace_ms)
{
    raft_membership conf;
    uint64_t at = raft_get_membership(r, &conf);
    if (at > raft_get_commit(r))
        return; /* judge committed configurations only: an uncommitted one may be cut off */
    if (names(&conf, id)) {
        s->was_member = true;
        return;
    }
    if (!s->was_member || s->stop_at)
        return;
    snprintf(s->why, sizeof s->why,
             "the configuration committed at index %llu does not name node %u",
             (unsigned long long)at, id);
    fprintf(stderr, "kvnode %u: removed from the cluster: %s; stopping in %u ms\n", id, s->why,
            grace_ms);
    s->stop_at = now + grace_ms;
}
