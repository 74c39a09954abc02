/*
 * faults.c — fault tests of a Raft cluster on real processes: three kvnode
 * processes (the kvnode beside this binary), clients through engine
 * "raft", and the faults a real cluster meets:
 *
 *   leader_kill        kill -9 the leader under load
 *   follower_restart   kill -9 a follower under load, restart it from its data
 *   partition          the leader's veth link down (ip netns), then healed
 *   full_restart       kill -9 every node, restart them all
 *   bad_frames         oversized, wrong-version, bad-CRC and malformed frames
 *                      close their connection and nothing else
 *
 * Each test runs four client threads doing puts, gets and deletes on eight
 * keys, records the history (invocation and response times; a write that
 * failed has an unknown outcome, a read that failed is dropped) and runs the
 * linearizability checker (include/raft_lincheck.h) on it. Each measures the
 * time from the fault to a new leader (election) and the write gap: the
 * longest time without a successful put around the fault. It passes when
 * the checker accepts the history, a leader is back within 10 s (the
 * nodes run under ASan on a loaded machine, and a full restart includes
 * starting them) and writes succeed after the fault (the 1 s election
 * target is a benchmark number, printed, not a timed test).
 *
 * Loopback tests bind 127.0.0.1 ports chosen free; the partition test
 * needs root: it creates namespaces kvl<pid>h (a bridge) and kvl<pid>n0..2
 * (one node each, 10.77.<pid%200>.x), runs the clients in the bridge's
 * namespace, and deletes them all at the end; without root it is skipped
 * with that reason. Data lives in a fresh directory under $TMPDIR (or
 * /tmp), removed when the test passes.
 *
 *   faults [--test NAME] [-v] [--stale-read]   prints "N passed, N failed, N skipped"
 *
 * --stale-read is for the handout: before the check it adds to the history
 * one read that a correct cluster cannot give (the value of an older put,
 * read after a newer put of that key returned), so the checker rejects the
 * history, the test fails and keeps DIR/history.txt for a student to read.
 * It changes nothing in the cluster; never use it to judge one.
 */
#define _GNU_SOURCE /* setns, CLONE_NEWNET */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/kv.h"
#include "raft_lincheck.h"
#include "raft_net.h"

#define N_NODES 3
#define N_CLIENTS 4
#define N_KEYS 8
#define LEADER_WAIT_MS 10000

typedef struct cluster {
    char dir[256], conf[300], kvnode[4096];
    char addrs[N_NODES][64];
    pid_t pid[N_NODES];
    char ns[N_NODES][32]; /* "" : loopback */
    kv_db *admin;
} cluster;

typedef struct hop {
    uint8_t kind, key;
    char val[24];
    uint8_t vlen;
    int result;
    uint64_t call, ret;
} hop;

typedef struct load {
    cluster *c;
    atomic_int stop;
    pthread_mutex_t mu;
    hop *ops;
    size_t n, cap;
    uint64_t *puts; /* completion times of successful puts */
    size_t n_puts, cap_puts;
    int open_failed;
} load;

static int verbose;
static int stale_read; /* --stale-read: add one impossible read to each history */
static int n_pass, n_fail, n_skip;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* ---- the cluster ------------------------------------------------------------------ */

static int free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof sa) ||
        getsockname(fd, (struct sockaddr *)&sa, &sl)) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return ntohs(sa.sin_port);
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

static int cl_start(cluster *c, int i)
{
    char id[8], ndir[320], log[320];
    snprintf(id, sizeof id, "%d", i);
    snprintf(ndir, sizeof ndir, "%s/n%d", c->dir, i);
    snprintf(log, sizeof log, "%s/n%d.log", c->dir, i);
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (c->ns[i][0])
            execlp("ip", "ip", "netns", "exec", c->ns[i], c->kvnode, "--id", id, "--cluster",
                   c->conf, "--dir", ndir, (char *)NULL);
        else
            execl(c->kvnode, "kvnode", "--id", id, "--cluster", c->conf, "--dir", ndir,
                  (char *)NULL);
        _exit(127);
    }
    c->pid[i] = p;
    return 0;
}

static void cl_kill(cluster *c, int i, int sig)
{
    if (c->pid[i] <= 0)
        return;
    kill(c->pid[i], sig);
    waitpid(c->pid[i], NULL, 0);
    c->pid[i] = 0;
}

/* Create the directory and the cluster file; ns: use the namespaces. */
static int cl_init(cluster *c, const char *name, bool ns)
{
    memset(c, 0, sizeof *c);
    char exe[4000];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(c->kvnode, sizeof c->kvnode, "%s/kvnode", exe);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(c->dir, sizeof c->dir, "%s/kvl-faults-%s-XXXXXX", tmp, name);
    if (mkdtemp(c->dir) == NULL)
        return -1;
    snprintf(c->conf, sizeof c->conf, "%s/cluster.conf", c->dir);
    char text[512] = "";
    for (int i = 0; i < N_NODES; i++) {
        if (ns)
            snprintf(c->addrs[i], sizeof c->addrs[i], "10.77.%d.%d:7100", (int)(getpid() % 200), i + 1);
        else
            for (bool dup = true; dup;) { /* two probes can get the same free port */
                snprintf(c->addrs[i], sizeof c->addrs[i], "127.0.0.1:%d", free_port());
                dup = false;
                for (int j = 0; j < i; j++)
                    dup = dup || strcmp(c->addrs[j], c->addrs[i]) == 0;
            }
        strcat(text, c->addrs[i]);
        strcat(text, "\n");
    }
    return write_file(c->conf, text);
}

static int cl_open_admin(cluster *c)
{
    char opts[400];
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=1000,rpc_timeout_ms=200", c->conf);
    return kv_open("raft", "admin", opts, &c->admin);
}

static void cl_destroy(cluster *c, bool remove)
{
    for (int i = 0; i < N_NODES; i++)
        cl_kill(c, i, SIGKILL);
    if (c->admin)
        kv_close(c->admin);
    c->admin = NULL;
    if (remove) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", c->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "faults: could not remove %s\n", c->dir);
    } else {
        fprintf(stderr, "faults: kept %s (node logs n*.log)\n", c->dir);
    }
}

/* The leader with the highest term that node i reports itself; -1 if none. */
static int cl_leader(cluster *c, uint64_t *term_out, int skip)
{
    int best = -1;
    uint64_t best_term = 0;
    for (int i = 0; i < N_NODES; i++) {
        char line[512];
        if (i == skip || c->pid[i] <= 0 || kv_raft_node_status(c->admin, (uint32_t)i, line, sizeof line))
            continue;
        const char *t = strstr(line, "term=");
        uint64_t term = t ? strtoull(t + 5, NULL, 10) : 0;
        if (strstr(line, "role=leader") && term >= best_term) {
            best = i;
            best_term = term;
        }
    }
    if (term_out)
        *term_out = best_term;
    return best;
}

/* Wait for a leader other than skip with a term above min_term; its id or -1. */
static int cl_wait_leader(cluster *c, int skip, uint64_t min_term, unsigned timeout_ms)
{
    uint64_t end = now_us() + (uint64_t)timeout_ms * 1000;
    while (now_us() < end) {
        uint64_t term;
        int l = cl_leader(c, &term, skip);
        if (l >= 0 && term > min_term)
            return l;
        sleep_ms(5);
    }
    return -1;
}

/* ---- the load and its history ---------------------------------------------------------- */

static void record(load *ld, const hop *h)
{
    pthread_mutex_lock(&ld->mu);
    if (ld->n == ld->cap) {
        ld->cap = ld->cap ? 2 * ld->cap : 4096;
        ld->ops = realloc(ld->ops, ld->cap * sizeof *ld->ops);
    }
    ld->ops[ld->n++] = *h;
    if (h->kind == RAFT_LC_PUT && h->ret != RAFT_LC_UNKNOWN) {
        if (ld->n_puts == ld->cap_puts) {
            ld->cap_puts = ld->cap_puts ? 2 * ld->cap_puts : 4096;
            ld->puts = realloc(ld->puts, ld->cap_puts * sizeof *ld->puts);
        }
        ld->puts[ld->n_puts++] = h->ret;
    }
    pthread_mutex_unlock(&ld->mu);
}

static void *client(void *arg)
{
    load *ld = arg;
    static atomic_int next_id;
    int id = atomic_fetch_add(&next_id, 1);
    char opts[400];
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=2000,rpc_timeout_ms=300", ld->c->conf);
    kv_db *db;
    if (kv_open("raft", "faults", opts, &db) != KV_OK) {
        ld->open_failed = 1;
        return NULL;
    }
    uint64_t rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(id + 1);
    kv_buf v = { 0 };
    for (int i = 0; !atomic_load(&ld->stop); i++) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        hop h = { .key = (uint8_t)(rng % N_KEYS) };
        char key[8];
        snprintf(key, sizeof key, "k%u", h.key);
        unsigned dice = (unsigned)(rng >> 32) % 10;
        h.call = now_us();
        if (dice < 5) {
            h.kind = RAFT_LC_PUT;
            h.vlen = (uint8_t)snprintf(h.val, sizeof h.val, "c%d-%d", id, i);
            h.result = kv_put(db, key, strlen(key), h.val, h.vlen);
        } else if (dice < 9) {
            h.kind = RAFT_LC_GET;
            h.result = kv_get(db, key, strlen(key), &v);
            if (h.result == KV_OK) {
                h.vlen = (uint8_t)(v.len < sizeof h.val ? v.len : sizeof h.val);
                memcpy(h.val, v.data, h.vlen);
            }
        } else {
            h.kind = RAFT_LC_DELETE;
            h.result = kv_delete(db, key, strlen(key));
        }
        h.ret = now_us();
        if (h.result != KV_OK && h.result != KV_ENOTFOUND) {
            if (h.kind == RAFT_LC_GET)
                continue; /* a failed read has no effect */
            h.ret = RAFT_LC_UNKNOWN;
        }
        record(ld, &h);
    }
    kv_buf_free(&v);
    kv_close(db);
    return NULL;
}

static int by_call(const void *a, const void *b)
{
    uint64_t x = ((const hop *)a)->call, y = ((const hop *)b)->call;
    return x < y ? -1 : x > y;
}

/* The rejected key's operations, by invocation time, into DIR/history.txt:
 * what a student reads to find the read that no order explains. */
static void dump_key_history(load *ld, uint8_t key, const char *const *keys)
{
    static const char *const kinds[] = { "put", "get", "del" };
    char path[320];
    snprintf(path, sizeof path, "%s/history.txt", ld->c->dir);
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return;
    uint64_t t0 = ld->n ? ld->ops[0].call : 0;
    for (size_t i = 0; i < ld->n; i++)
        if (ld->ops[i].call < t0)
            t0 = ld->ops[i].call;
    fprintf(f, "# key %s: invoked_ms returned_ms op value result (returned ? = unknown outcome)\n",
            keys[key]);
    hop *sel = malloc((ld->n ? ld->n : 1) * sizeof *sel);
    size_t n = 0;
    for (size_t i = 0; i < ld->n; i++)
        if (ld->ops[i].key == key)
            sel[n++] = ld->ops[i];
    qsort(sel, n, sizeof *sel, by_call);
    for (size_t i = 0; i < n; i++) {
        hop *h = &sel[i];
        char ret[32] = "?";
        if (h->ret != RAFT_LC_UNKNOWN)
            snprintf(ret, sizeof ret, "%.3f", (double)(h->ret - t0) / 1000.0);
        fprintf(f, "%.3f %s %s %.*s %s\n", (double)(h->call - t0) / 1000.0, ret, kinds[h->kind],
                (int)h->vlen, h->val, h->result == 0 ? "ok" : "not-found");
    }
    free(sel);
    fclose(f);
    fprintf(stderr, "faults: not linearizable at key %s: its history is in %s\n", keys[key], path);
}

typedef struct verdict {
    bool linearizable;
    size_t ops, unknown, puts_after;
    double gap_ms;
} verdict;

/* --stale-read: after the last successful put P of some key, a read of the
 * value of an earlier put Q of that key that returned before P began.
 * Values are unique, so no order of the history explains it. */
static void add_stale_read(load *ld)
{
    for (size_t i = ld->n; i-- > 0;) {
        hop *p = &ld->ops[i];
        if (p->kind != RAFT_LC_PUT || p->ret == RAFT_LC_UNKNOWN)
            continue;
        for (size_t j = 0; j < ld->n; j++) {
            hop *q = &ld->ops[j];
            if (q->kind == RAFT_LC_PUT && q->key == p->key && q->ret != RAFT_LC_UNKNOWN &&
                q->ret < p->call) {
                hop h = *q;
                h.kind = RAFT_LC_GET;
                h.result = 0;
                h.call = p->ret + 1;
                h.ret = p->ret + 2;
                record(ld, &h);
                fprintf(stderr, "faults: --stale-read: added a get of k%u returning %.*s "
                        "(an older value) on purpose\n", h.key, (int)h.vlen, h.val);
                return;
            }
        }
    }
}

static void check(load *ld, uint64_t fault_at, verdict *out)
{
    static const char *const keys[N_KEYS] = { "k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7" };
    if (stale_read)
        add_stale_read(ld);
    raft_lc_op *ops = calloc(ld->n ? ld->n : 1, sizeof *ops);
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < ld->n; i++) {
        hop *h = &ld->ops[i];
        ops[i] = (raft_lc_op){ .kind = h->kind, .key = keys[h->key], .klen = 2, .val = h->val,
                               .vlen = h->vlen, .result = h->result, .call = h->call,
                               .ret = h->ret };
        out->unknown += h->ret == RAFT_LC_UNKNOWN;
    }
    raft_lc_result res;
    out->ops = ld->n;
    out->linearizable = raft_lincheck(ops, ld->n, 0, &res) == 0 && res.linearizable && !res.exhausted;
    if (!out->linearizable && !res.exhausted && res.bad_op < ld->n)
        dump_key_history(ld, ld->ops[res.bad_op].key, keys);
    free(ops);
    /* the write gap: the longest time between successive successful puts
     * that spans the fault or follows it */
    uint64_t *t = ld->puts;
    for (size_t i = 1; i < ld->n_puts; i++) /* insertion sort: nearly sorted already */
        for (size_t j = i; j > 0 && t[j - 1] > t[j]; j--) {
            uint64_t x = t[j];
            t[j] = t[j - 1];
            t[j - 1] = x;
        }
    uint64_t prev = fault_at, gap = 0;
    for (size_t i = 0; i < ld->n_puts; i++) {
        if (t[i] < fault_at) {
            prev = t[i];
            continue;
        }
        out->puts_after++;
        if (t[i] - prev > gap)
            gap = t[i] - prev;
        prev = t[i];
    }
    out->gap_ms = (double)gap / 1000.0;
}

static void load_start(load *ld, cluster *c, pthread_t *th)
{
    memset(ld, 0, sizeof *ld);
    ld->c = c;
    pthread_mutex_init(&ld->mu, NULL);
    for (int i = 0; i < N_CLIENTS; i++)
        pthread_create(&th[i], NULL, client, ld);
}

static void load_stop(load *ld, pthread_t *th)
{
    atomic_store(&ld->stop, 1);
    for (int i = 0; i < N_CLIENTS; i++)
        pthread_join(th[i], NULL);
}

static void load_free(load *ld)
{
    free(ld->ops);
    free(ld->puts);
    pthread_mutex_destroy(&ld->mu);
}

/* ---- the tests --------------------------------------------------------------------- */

static void result(const char *name, bool ok, const char *why)
{
    printf("[%s] %s%s%s\n", ok ? "PASS" : "FAIL", name, ok ? "" : ": ", ok ? "" : why);
    ok ? n_pass++ : n_fail++;
}

static bool report(const char *name, verdict *v, double election_ms, load *ld)
{
    printf("faults: %-16s election %7.1f ms  write gap %7.1f ms  %zu ops (%zu unknown), "
           "%zu puts after the fault, %s\n",
           name, election_ms, v->gap_ms, v->ops, v->unknown, v->puts_after,
           v->linearizable ? "linearizable" : "NOT LINEARIZABLE");
    if (ld->open_failed) {
        result(name, false, "a client could not open the cluster");
        return false;
    }
    if (!v->linearizable) {
        result(name, false, "the checker rejected the history");
        return false;
    }
    if (election_ms < 0) {
        result(name, false, "no leader within 10 s after the fault");
        return false;
    }
    if (v->puts_after == 0) {
        result(name, false, "no put succeeded after the fault");
        return false;
    }
    result(name, true, "");
    return true;
}

static uint64_t field(const char *line, const char *name)
{
    const char *p = strstr(line, name);
    return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

/* Node i has applied at least the leader's commit index (as read now). */
static bool follower_caught_up(cluster *c, int i)
{
    char line[512];
    int l = cl_leader(c, NULL, -1);
    if (l < 0 || kv_raft_node_status(c->admin, (uint32_t)l, line, sizeof line))
        return false;
    uint64_t commit = field(line, "commit=");
    for (int t = 0; t < 500; t++) {
        if (kv_raft_node_status(c->admin, (uint32_t)i, line, sizeof line) == KV_OK &&
            field(line, "applied=") >= commit)
            return true;
        sleep_ms(10);
    }
    return false;
}

/* Start the cluster and wait for its first leader. */
static int bring_up(cluster *c)
{
    for (int i = 0; i < N_NODES; i++)
        if (cl_start(c, i))
            return -1;
    if (cl_open_admin(c) != KV_OK)
        return -1;
    return cl_wait_leader(c, -1, 0, 10000);
}

typedef enum fault { LEADER_KILL, FOLLOWER_RESTART, FULL_RESTART, PARTITION } fault;

/* Send raw bytes to node i; true when the node then closes the connection
 * (recv sees EOF or a reset within 2 s). */
static bool node_closes_after(cluster *c, int i, const void *bytes, size_t n)
{
    struct sockaddr_in sa;
    if (kvn_addr_parse(c->addrs[i], &sa) != KV_OK)
        return false;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct timeval tv = { 2, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    bool closed = false;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        send(fd, bytes, n, MSG_NOSIGNAL) == (ssize_t)n) {
        char b[64];
        ssize_t got = recv(fd, b, sizeof b, 0);
        closed = got == 0 || (got < 0 && errno == ECONNRESET);
    }
    if (fd >= 0)
        close(fd);
    return closed;
}

/* Bad frames close their connection and nothing else: the cluster keeps
 * serving, and the node that got them stays up. */
static void run_bad_frames(void)
{
    const char *name = "bad_frames";
    cluster c;
    if (cl_init(&c, name, false)) {
        result(name, false, "cannot create the test directory");
        return;
    }
    bool ok = false;
    int l = bring_up(&c);
    if (l < 0) {
        result(name, false, "no first leader within 10 s");
        goto out;
    }
    uint8_t oversized[KVN_HDR] = { KVN_VERSION, KVN_REQ, 0, 0, 0xff, 0xff, 0xff, 0x7f };
    uint8_t version[KVN_HDR] = { 9, KVN_REQ };
    uint8_t crc[KVN_HDR + 4] = { KVN_VERSION, KVN_RAFT, 0, 0, 4, 0, 0, 0, 1, 2, 3, 4, 'a', 'b', 'c', 'd' };
    uint8_t garbage[KVN_HDR + 3];
    memcpy(garbage + KVN_HDR, "xyz", 3); /* a good CRC over a malformed message */
    kvn_frame_seal(garbage, KVN_RAFT, 3);
    const struct { const char *what; const void *b; size_t n; } bad[] = {
        { "a 2 GiB length", oversized, sizeof oversized }, { "version 9", version, sizeof version },
        { "a bad CRC", crc, sizeof crc }, { "a malformed Raft message", garbage, sizeof garbage },
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (!node_closes_after(&c, l, bad[i].b, bad[i].n)) {
            char why[128];
            snprintf(why, sizeof why, "the leader kept a connection that sent %s", bad[i].what);
            result(name, false, why);
            goto out;
        }
    char opts[400];
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=3000", c.conf);
    kv_db *db;
    kv_buf v = { 0 };
    if (kv_open("raft", "bad", opts, &db) == KV_OK) {
        ok = kv_put(db, "k", 1, "v", 1) == KV_OK && kv_get(db, "k", 1, &v) == KV_OK &&
             v.len == 1 && cl_leader(&c, NULL, -1) == l;
        kv_buf_free(&v);
        kv_close(db);
    }
    result(name, ok, "the cluster stopped serving after bad frames");
out:
    cl_destroy(&c, ok);
}

static int netns(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int netns(const char *fmt, ...)
{
    char cmd[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (verbose)
        fprintf(stderr, "+ %s\n", cmd);
    return system(cmd);
}

static const char *const fault_names[] = { "leader_kill", "follower_restart", "full_restart",
                                           "partition", "bad_frames" };

static void ns_teardown(void)
{
    int p = (int)getpid();
    netns("ip netns del kvl%dh 2>/dev/null", p);
    for (int i = 0; i < N_NODES; i++)
        netns("ip netns del kvl%dn%d 2>/dev/null", p, i);
}

/* Namespaces: a hub with a bridge (10.77.S.100), node i's namespace linked
 * to it by veth kv<i>a (node side) / kv<i>b (hub side). */
static int ns_setup(cluster *c, int *old_ns)
{
    int p = (int)getpid(), s = p % 200;
    *old_ns = -1;
    if (netns("ip netns add kvl%dh && ip -n kvl%dh link add br0 type bridge && "
              "ip -n kvl%dh addr add 10.77.%d.100/24 dev br0 && ip -n kvl%dh link set br0 up && "
              "ip -n kvl%dh link set lo up", p, p, p, s, p, p))
        return -1;
    for (int i = 0; i < N_NODES; i++) {
        snprintf(c->ns[i], sizeof c->ns[i], "kvl%dn%d", p, i);
        if (netns("ip netns add kvl%dn%d && ip -n kvl%dn%d link set lo up && "
                  "ip -n kvl%dh link add kv%da type veth peer name kv%db && "
                  "ip -n kvl%dh link set kv%da netns kvl%dn%d && "
                  "ip -n kvl%dh link set kv%db master br0 && ip -n kvl%dh link set kv%db up && "
                  "ip -n kvl%dn%d addr add 10.77.%d.%d/24 dev kv%da && ip -n kvl%dn%d link set kv%da up",
                  p, i, p, i, p, i, i, p, i, p, i, p, i, p, i, p, i, s, i + 1, i, p, i, i))
            return -1;
    }
    char path[64];
    snprintf(path, sizeof path, "/var/run/netns/kvl%dh", p);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    *old_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || *old_ns < 0 || setns(fd, CLONE_NEWNET) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    close(fd);
    return 0;
}

static void run_fault(fault f)
{
    const char *name = fault_names[f];
    cluster c;
    int old_ns = -1;
    bool ns = f == PARTITION;
    if (ns && geteuid() != 0) {
        printf("[SKIP] %s: needs root (ip netns)\n", name);
        n_skip++;
        return;
    }
    if (cl_init(&c, name, ns)) {
        result(name, false, "cannot create the test directory");
        return;
    }
    if (ns && ns_setup(&c, &old_ns)) {
        if (old_ns >= 0) {
            setns(old_ns, CLONE_NEWNET);
            close(old_ns);
        }
        ns_teardown();
        printf("[SKIP] %s: cannot create network namespaces here\n", name);
        n_skip++;
        cl_destroy(&c, true);
        return;
    }
    bool ok = false;
    uint64_t term0;
    int l0 = bring_up(&c);
    if (l0 < 0) {
        result(name, false, "no first leader within 10 s");
        goto out;
    }
    cl_leader(&c, &term0, -1);
    load ld;
    pthread_t th[N_CLIENTS];
    load_start(&ld, &c, th);
    sleep_ms(1000);
    uint64_t fault_at = now_us();
    int victim = f == FOLLOWER_RESTART ? (l0 + 1) % N_NODES : l0;
    double election_ms = 0;
    bool caught_up = true;
    int p = (int)getpid();
    switch (f) {
    case LEADER_KILL: {
        cl_kill(&c, l0, SIGKILL);
        int l = cl_wait_leader(&c, l0, term0, LEADER_WAIT_MS);
        election_ms = l < 0 ? -1 : (double)(now_us() - fault_at) / 1000.0;
        sleep_ms(1000);
        cl_start(&c, l0); /* back, to catch up as a follower */
        sleep_ms(500);
        break;
    }
    case FOLLOWER_RESTART:
        cl_kill(&c, victim, SIGKILL);
        sleep_ms(700);
        cl_start(&c, victim);
        sleep_ms(1000);
        election_ms = cl_leader(&c, NULL, -1) >= 0 ? 0 : -1; /* no election expected */
        caught_up = follower_caught_up(&c, victim);
        break;
    case FULL_RESTART: {
        for (int i = 0; i < N_NODES; i++)
            cl_kill(&c, i, SIGKILL);
        sleep_ms(200);
        for (int i = 0; i < N_NODES; i++)
            cl_start(&c, i);
        int l = cl_wait_leader(&c, -1, term0, LEADER_WAIT_MS);
        election_ms = l < 0 ? -1 : (double)(now_us() - fault_at) / 1000.0;
        sleep_ms(1000);
        break;
    }
    case PARTITION: {
        netns("ip -n kvl%dh link set kv%db down", p, l0);
        int l = cl_wait_leader(&c, l0, term0, LEADER_WAIT_MS);
        election_ms = l < 0 ? -1 : (double)(now_us() - fault_at) / 1000.0;
        sleep_ms(1000);
        netns("ip -n kvl%dh link set kv%db up", p, l0);
        sleep_ms(1000);
        break;
    }
    }
    load_stop(&ld, th);
    verdict v;
    check(&ld, fault_at, &v);
    ok = report(name, &v, election_ms, &ld);
    if (ok && !caught_up) {
        n_pass--;
        result(name, false, "the restarted follower did not catch up with the leader in 5 s");
        ok = false;
    }
    load_free(&ld);
out:
    cl_destroy(&c, ok);
    if (ns) {
        if (old_ns >= 0) {
            setns(old_ns, CLONE_NEWNET);
            close(old_ns);
        }
        ns_teardown();
    }
}

int main(int argc, char **argv)
{
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0)
            verbose = 1;
        else if (strcmp(argv[i], "--test") == 0 && i + 1 < argc)
            only = argv[++i];
        else if (strcmp(argv[i], "--stale-read") == 0)
            stale_read = 1;
        else {
            fprintf(stderr, "usage: faults [--test NAME] [-v] [--stale-read]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    for (int f = LEADER_KILL; f <= PARTITION; f++)
        if (only == NULL || strcmp(only, fault_names[f]) == 0)
            run_fault((fault)f);
    if (only == NULL || strcmp(only, "bad_frames") == 0)
        run_bad_frames();
    printf("%d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}
