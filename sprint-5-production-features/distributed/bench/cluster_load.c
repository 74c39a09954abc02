/*
 * cluster_load.c — one load generator for two clusters: kvnode (through
 * engine raft, that is kv.h) and etcd (through its HTTP/JSON gateway), so
 * that `make bench` measures both with the same clients, keys and values.
 *
 *   cluster_load --target raft --cluster FILE     [common flags]
 *   cluster_load --target etcd --endpoints H:P,H:P,...  [common flags]
 *   common: --op put|get --clients N --seconds S --value-size B --keys K
 *   cluster_load --target raft --cluster FILE --leader
 *                prints "leader=ID term=T" (ID -1: none) and exits
 *
 * N threads, each with its own connection, run the operation back to back
 * for S seconds on keys "key%08d" (uniform over K keys; gets read keys a
 * preload of K puts wrote). Every success's latency and completion time is
 * kept; the output is one line of key=value pairs:
 *
 *   target=raft op=put clients=16 ops=9000 seconds=5.00 ops_s=1800.0
 *   p50_ms=8.12 p99_ms=20.5 errors=0 max_gap_ms=30.1
 *
 * max_gap_ms is the longest time without a successful operation (between
 * two successes, or from the last success to the end): the write gap of a
 * failover run, when the caller kills the leader in the middle.
 *
 * etcd's gateway (POST /v3/kv/put, /v3/kv/range, base64 keys and values)
 * is spoken over HTTP/1.1 keep-alive; a client whose connection fails moves
 * to the next endpoint. Reads through both are linearizable (etcd's range
 * default, kvnode's ReadIndex).
 *
 * This is a benchmark driver: callers must not treat its numbers as tests.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/kv.h"
#include "raft_net.h"

typedef struct cfg {
    const char *target, *cluster, *op;
    char eps[RAFT_MAX_NODES][128];
    unsigned n_eps, clients, seconds, value_size, keys;
} cfg;

typedef struct worker {
    const cfg *c;
    unsigned id;
    uint64_t *lat, *done; /* per success: latency, completion time (us) */
    size_t n, cap;
    uint64_t errors;
    int fd, ep;
    kv_db *db;
} worker;

static atomic_int stop;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* ---- etcd over HTTP ------------------------------------------------------------ */

static void b64(const uint8_t *in, size_t n, char *out)
{
    static const char t[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < n ? in[i + 2] : 0);
        out[o++] = t[v >> 18 & 63];
        out[o++] = t[v >> 12 & 63];
        out[o++] = i + 1 < n ? t[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? t[v & 63] : '=';
    }
    out[o] = '\0';
}

static int http_connect(worker *w)
{
    struct sockaddr_in sa;
    if (kvn_addr_parse(w->c->eps[w->ep], &sa) != KV_OK)
        return -1;
    w->fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct timeval tv = { 3, 0 };
    setsockopt(w->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(w->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(w->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(w->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(w->fd);
        w->fd = -1;
        return -1;
    }
    return 0;
}

/* One request; 0 when the answer is 200 (and, for a get, holds a kv). */
static int http_call(worker *w, const char *path, const char *body, bool want_kv)
{
    char req[8192], resp[16384];
    if (w->fd < 0 && http_connect(w))
        goto out_next;
    int n = snprintf(req, sizeof req,
                     "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                     "Content-Length: %zu\r\n\r\n%s", path, w->c->eps[w->ep], strlen(body), body);
    if (send(w->fd, req, (size_t)n, MSG_NOSIGNAL) != n)
        goto out_next;
    size_t got = 0;
    char *hdr_end = NULL;
    while (hdr_end == NULL) {
        ssize_t r = recv(w->fd, resp + got, sizeof resp - 1 - got, 0);
        if (r <= 0)
            goto out_next;
        got += (size_t)r;
        resp[got] = '\0';
        hdr_end = strstr(resp, "\r\n\r\n");
        if (hdr_end == NULL && got == sizeof resp - 1)
            goto out_next;
    }
    bool ok = strncmp(resp, "HTTP/1.1 200", 12) == 0;
    const char *cl = strcasestr(resp, "Content-Length:");
    size_t body_at = (size_t)(hdr_end + 4 - resp);
    if (cl && cl < hdr_end) {
        size_t len = strtoul(cl + 15, NULL, 10);
        if (body_at + len > sizeof resp - 1)
            goto out_next;
        while (got < body_at + len) {
            ssize_t r = recv(w->fd, resp + got, body_at + len - got, 0);
            if (r <= 0)
                goto out_next;
            got += (size_t)r;
        }
        resp[got] = '\0';
    } else { /* chunked: read until the last chunk's "0\r\n\r\n" */
        while (strstr(resp + body_at, "0\r\n\r\n") == NULL) {
            ssize_t r = recv(w->fd, resp + got, sizeof resp - 1 - got, 0);
            if (r <= 0)
                goto out_next;
            got += (size_t)r;
            resp[got] = '\0';
        }
    }
    if (!ok)
        return -1;
    return want_kv && strstr(resp + body_at, "\"kvs\"") == NULL ? -1 : 0;
out_next:
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
    w->ep = (w->ep + 1) % (int)w->c->n_eps;
    return -1;
}

/* ---- one operation ---------------------------------------------------------------- */

static int one_op(worker *w, bool put, unsigned k, const char *val)
{
    char key[16];
    snprintf(key, sizeof key, "key%08u", k);
    if (strcmp(w->c->target, "raft") == 0) {
        if (put)
            return kv_put(w->db, key, strlen(key), val, w->c->value_size);
        return kv_get(w->db, key, strlen(key), NULL);
    }
    char kb[32], vb[8192], body[8400];
    b64((const uint8_t *)key, strlen(key), kb);
    if (put) {
        b64((const uint8_t *)val, w->c->value_size, vb);
        snprintf(body, sizeof body, "{\"key\":\"%s\",\"value\":\"%s\"}", kb, vb);
        return http_call(w, "/v3/kv/put", body, false);
    }
    snprintf(body, sizeof body, "{\"key\":\"%s\"}", kb);
    return http_call(w, "/v3/kv/range", body, true);
}

static void *run(void *arg)
{
    worker *w = arg;
    char val[4096];
    memset(val, 'v', sizeof val);
    uint64_t rng = 0x9e3779b97f4a7c15ULL * (w->id + 1);
    bool put = strcmp(w->c->op, "put") == 0;
    while (!atomic_load(&stop)) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint64_t t0 = now_us();
        int rc = one_op(w, put, (unsigned)(rng % w->c->keys), val);
        uint64_t t1 = now_us();
        if (rc != 0) {
            w->errors++;
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? 2 * w->cap : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
            w->done = realloc(w->done, w->cap * sizeof *w->done);
        }
        w->lat[w->n] = t1 - t0;
        w->done[w->n++] = t1;
    }
    return NULL;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int open_worker(const cfg *c, worker *w)
{
    w->fd = -1;
    w->ep = (int)(w->id % c->n_eps);
    if (strcmp(c->target, "raft") != 0)
        return 0;
    char opts[4200];
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=30000", c->cluster);
    if (kv_open("raft", "bench", opts, &w->db) != KV_OK) {
        fprintf(stderr, "cluster_load: %s\n", kv_last_error());
        return -1;
    }
    return 0;
}

static void close_worker(worker *w)
{
    if (w->db)
        kv_close(w->db);
    if (w->fd >= 0)
        close(w->fd);
}

/* The leader with the highest term among the nodes that answer. */
static int print_leader(const cfg *c)
{
    char opts[4200], line[512];
    kv_db *db;
    snprintf(opts, sizeof opts, "cluster=%s,rpc_timeout_ms=100", c->cluster);
    if (kv_open("raft", "bench", opts, &db) != KV_OK) {
        fprintf(stderr, "cluster_load: %s\n", kv_last_error());
        return 1;
    }
    int leader = -1;
    unsigned long long best = 0;
    for (uint32_t i = 0; i < RAFT_MAX_NODES; i++) {
        int rc = kv_raft_node_status(db, i, line, sizeof line);
        if (rc == KV_EINVAL)
            break;
        const char *t = strstr(line, "term=");
        if (rc == KV_OK && strstr(line, "role=leader") && t && strtoull(t + 5, NULL, 10) >= best) {
            best = strtoull(t + 5, NULL, 10);
            leader = (int)i;
        }
    }
    kv_close(db);
    printf("leader=%d term=%llu\n", leader, best);
    return 0;
}

int main(int argc, char **argv)
{
    cfg c = { .target = "raft", .op = "put", .clients = 1, .seconds = 5, .value_size = 100,
              .keys = 1000 };
    for (int i = 1; i + 1 < argc || (i < argc && strcmp(argv[i], "--leader") == 0); i += 2) {
        if (strcmp(argv[i], "--leader") == 0)
            break;
        const char *f = argv[i], *v = argv[i + 1];
        if (strcmp(f, "--target") == 0)
            c.target = v;
        else if (strcmp(f, "--cluster") == 0)
            c.cluster = v;
        else if (strcmp(f, "--op") == 0)
            c.op = v;
        else if (strcmp(f, "--clients") == 0)
            c.clients = (unsigned)atoi(v);
        else if (strcmp(f, "--seconds") == 0)
            c.seconds = (unsigned)atoi(v);
        else if (strcmp(f, "--value-size") == 0)
            c.value_size = (unsigned)atoi(v);
        else if (strcmp(f, "--keys") == 0)
            c.keys = (unsigned)atoi(v);
        else if (strcmp(f, "--endpoints") == 0) {
            char buf[1200];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *s = strtok(buf, ","); s && c.n_eps < RAFT_MAX_NODES; s = strtok(NULL, ","))
                snprintf(c.eps[c.n_eps++], sizeof c.eps[0], "%s", s);
        } else {
            fprintf(stderr, "cluster_load: unknown flag %s\n", f);
            return 2;
        }
    }
    bool is_raft = strcmp(c.target, "raft") == 0;
    if (argc == 6 && strcmp(argv[5], "--leader") == 0 && is_raft && c.cluster)
        return print_leader(&c);
    if ((is_raft && c.cluster == NULL) || (!is_raft && (strcmp(c.target, "etcd") || c.n_eps == 0)) ||
        c.clients < 1 || c.clients > 256 || c.value_size < 1 || c.value_size > 4096 || c.keys < 1 ||
        (strcmp(c.op, "put") && strcmp(c.op, "get"))) {
        fprintf(stderr, "usage: cluster_load --target raft --cluster FILE | --target etcd "
                        "--endpoints H:P,... [--op put|get] [--clients N] [--seconds S] "
                        "[--value-size B] [--keys K]\n");
        return 2;
    }
    if (is_raft)
        c.n_eps = 1;
    worker *w = calloc(c.clients, sizeof *w);
    pthread_t *th = calloc(c.clients, sizeof *th);
    for (unsigned i = 0; i < c.clients; i++) {
        w[i].c = &c;
        w[i].id = i;
        if (open_worker(&c, &w[i]))
            return 1;
    }
    if (strcmp(c.op, "get") == 0) { /* preload every key once */
        char val[4096];
        memset(val, 'v', sizeof val);
        for (unsigned k = 0; k < c.keys; k++)
            if (one_op(&w[0], true, k, val) != 0) {
                fprintf(stderr, "cluster_load: preload failed at key %u\n", k);
                return 1;
            }
    }
    uint64_t start = now_us();
    for (unsigned i = 0; i < c.clients; i++)
        pthread_create(&th[i], NULL, run, &w[i]);
    struct timespec ts = { c.seconds, 0 };
    nanosleep(&ts, NULL);
    atomic_store(&stop, 1);
    size_t total = 0;
    uint64_t errors = 0;
    for (unsigned i = 0; i < c.clients; i++) {
        pthread_join(th[i], NULL);
        total += w[i].n;
        errors += w[i].errors;
    }
    uint64_t end = now_us();
    uint64_t *lat = malloc((total ? total : 1) * sizeof *lat), *done = malloc((total ? total : 1) * sizeof *done);
    size_t k = 0;
    for (unsigned i = 0; i < c.clients; i++) {
        memcpy(lat + k, w[i].lat, w[i].n * sizeof *lat);
        memcpy(done + k, w[i].done, w[i].n * sizeof *done);
        k += w[i].n;
    }
    qsort(lat, total, sizeof *lat, cmp_u64);
    qsort(done, total, sizeof *done, cmp_u64);
    uint64_t gap = total ? done[0] - start : end - start, prev = start;
    for (size_t i = 0; i < total; i++) {
        if (done[i] - prev > gap)
            gap = done[i] - prev;
        prev = done[i];
    }
    if (end - prev > gap)
        gap = end - prev;
    double secs = (double)(end - start) / 1e6;
    printf("target=%s op=%s clients=%u ops=%zu seconds=%.2f ops_s=%.1f p50_ms=%.2f p99_ms=%.2f "
           "errors=%llu max_gap_ms=%.1f\n",
           c.target, c.op, c.clients, total, secs, (double)total / secs,
           total ? (double)lat[total / 2] / 1000.0 : 0.0,
           total ? (double)lat[total * 99 / 100] / 1000.0 : 0.0, (unsigned long long)errors,
           (double)gap / 1000.0);
    for (unsigned i = 0; i < c.clients; i++) {
        close_worker(&w[i]);
        free(w[i].lat);
        free(w[i].done);
    }
    free(lat);
    free(done);
    free(w);
    free(th);
    return 0;
}
