/*
 * tsan_shm.c — the shared-memory store's locks under ThreadSanitizer:
 * threads and processes churning the shared free lists.
 *
 * A plain program (Criterion does not start under TSan), built with
 * -fsanitize=thread and run by tests/tsan_storage.sh (halt_on_error: the
 * first data race ends the run with a report and a non-zero status); also
 * an ordinary plain test of `make test` (under AddressSanitizer), where
 * only its value checks count.
 *
 * Every put of a new or resized value takes a block from a free list and
 * every overwrite or delete gives one back, under the allocator's lock,
 * while the key's shard lock is held. Four threads of this process, on one
 * handle, each put, overwrite with another size and delete their own keys
 * (spread over all 16 shards, so that shard locks do not serialise them
 * and only the allocator lock does), in a few size classes, so the same
 * free lists are pushed and popped by every thread all the time; and they
 * all overwrite and read 8 hot keys (shard locks against each other). A
 * missing allocator or shard lock is then a race on the same free-list
 * head or chain within microseconds: TSan reports it. A child process,
 * forked before any thread starts, churns the same segment through its own
 * handle at the same time: TSan cannot see across processes, but the
 * values each side reads back (every value encodes its key and version)
 * catch a block handed to two owners at once, and the robust mutexes are
 * shared for real. Not under TSan: it sees only its own process, so a
 * block the child frees and this process reuses would look like a race
 * (the child's side of the lock is invisible to it); the TSan build runs
 * the threads alone.
 *
 * TSAN_SHM_OPS sets each thread's operations (default 20000). Prints one
 * line per check and "N passed, N failed".
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kvlabs/kv.h"
#define KVTEST_PLAIN /* the helpers only: this is a plain program */
#include "kvtest.h"

enum { NTHREADS = 4, NOWN = 32, NHOT = 8, MAXV = 600 };

static kv_db *db;
static unsigned ops = 20000;
static atomic_uint bad;
static char first_error[256];
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *what, unsigned who, unsigned key, int rc)
{
    pthread_mutex_lock(&err_mu);
    if (!first_error[0])
        snprintf(first_error, sizeof(first_error), "worker %u key %u: %s (status %d)", who,
                 key, what, rc);
    pthread_mutex_unlock(&err_mu);
    atomic_fetch_add(&bad, 1);
}

static size_t key_of(unsigned who, unsigned k, char *buf)
{
    return (size_t)snprintf(buf, 32, "w%u-k%u", who, k);
}

/* A value of key @p k, version @p ver, written by @p who: 16..MAXV bytes. */
static size_t val_of(unsigned who, unsigned k, unsigned ver, unsigned char *v)
{
    static const size_t sizes[] = {16, 40, 100, 200, 300, 500};
    size_t len = sizes[(ver + k) % 6] + (ver % 7);

    memcpy(v, &who, 4);
    memcpy(v + 4, &k, 4);
    memcpy(v + 8, &ver, 4);
    for (size_t i = 12; i < len; i++)
        v[i] = (unsigned char)(who * 31 + k * 7 + ver * 13 + i);
    return len;
}

/* Does @p v hold a value val_of() makes (any writer, any version) for key k? */
static bool valid(const kv_buf *v, unsigned k)
{
    unsigned char want[MAXV];
    unsigned who, kk, ver;

    if (v->len < 12)
        return false;
    memcpy(&who, v->data, 4);
    memcpy(&kk, (char *)v->data + 4, 4);
    memcpy(&ver, (char *)v->data + 8, 4);
    return kk == k && v->len == val_of(who, k, ver, want) && memcmp(v->data, want, v->len) == 0;
}

static void *worker(void *arg)
{
    unsigned who = (unsigned)(size_t)arg;
    unsigned ver[NOWN] = {0};
    unsigned char v[MAXV];
    kv_buf got = {0};
    char k[32];
    int rc;

    for (unsigned i = 0; i < ops; i++) {
        unsigned own = (i * 7 + who) % NOWN, hot = (i / 8 + who) % NHOT;
        switch (i % 4) {
        case 0:
        case 1: /* put or overwrite one of its keys, with another size */
            ver[own]++;
            rc = kv_put(db, k, key_of(who, own, k), v, val_of(who, own, ver[own], v));
            if (rc != KV_OK)
                fail("put", who, own, rc);
            break;
        case 2: /* delete one, or read it back */
            if (ver[own] && i % 8 == 2) {
                rc = kv_delete(db, k, key_of(who, own, k));
                if (rc != KV_OK)
                    fail("delete of a present key", who, own, rc);
                ver[own] = 0;
            } else {
                unsigned char want[MAXV];
                rc = kv_get(db, k, key_of(who, own, k), &got);
                if (ver[own] == 0 ? rc != KV_ENOTFOUND
                                  : rc != KV_OK ||
                                        got.len != val_of(who, own, ver[own], want) ||
                                        memcmp(got.data, want, got.len) != 0)
                    fail("read back another value than its last put", who, own, rc);
            }
            break;
        case 3: /* the hot keys: everyone overwrites and reads them */
            if (i % 8 == 3) {
                rc = kv_put(db, k, key_of(99, hot, k), v, val_of(who, hot, i, v));
                if (rc != KV_OK)
                    fail("put of a hot key", who, hot, rc);
            } else {
                rc = kv_get(db, k, key_of(99, hot, k), &got);
                if (rc == KV_OK ? !valid(&got, hot) : rc != KV_ENOTFOUND)
                    fail("hot key read back a value no put wrote", who, hot, rc);
            }
            break;
        }
    }
    for (unsigned own = 0; own < NOWN; own++) { /* the end state */
        unsigned char want[MAXV];
        rc = kv_get(db, k, key_of(who, own, k), &got);
        if (ver[own] == 0 ? rc != KV_ENOTFOUND
                          : rc != KV_OK || got.len != val_of(who, own, ver[own], want) ||
                                memcmp(got.data, want, got.len) != 0)
            fail("holds another value than its last put at the end", who, own, rc);
    }
    kv_buf_free(&got);
    return NULL;
}

/* Run @p n workers numbered from @p first on the handle db; 0 when all checks passed. */
static unsigned churn(unsigned first, unsigned n)
{
    pthread_t t[NTHREADS];

    for (unsigned i = 0; i < n; i++)
        pthread_create(&t[i], NULL, worker, (void *)(size_t)(first + i));
    for (unsigned i = 0; i < n; i++)
        pthread_join(t[i], NULL);
    return atomic_load(&bad);
}

static int passed, failed;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    ok ? passed++ : failed++;
}

static char dir[256], seg[300];

int main(void)
{
    const char *env_ops = getenv("TSAN_SHM_OPS"), *base = getenv("TMPDIR");
    const char *opts = "initial_size=64K,shards=16,buckets=4";
    struct stat st;
    char what[600];
    pid_t child;
    int status = 0, rc;

    if (env_ops)
        ops = (unsigned)strtoul(env_ops, NULL, 10);
    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        base = "/dev/shm";
    snprintf(dir, sizeof(dir), "%s/kvshm-tsan-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(dir)) {
        printf("FAIL mkdtemp %s: %s\n0 passed, 1 failed\n", dir, strerror(errno));
        return 1;
    }
    snprintf(seg, sizeof(seg), "%s/seg", dir);
    rc = kv_open("shm", seg, opts, &db);
    check(rc == KV_OK, "create the segment");
    if (rc != KV_OK)
        goto out_rmdir;
    kv_close(db);

#ifdef __SANITIZE_THREAD__
    /* TSan sees one process: a block the child frees and a thread here
     * reuses looks like a race (the child's lock is invisible). Threads only. */
    child = -1;
#else
    child = fork(); /* before any thread: the child is a plain process of its own */
#endif
    if (child == 0) {
        unsigned nbad = 1;
        if (kv_open("shm", seg, NULL, &db) == KV_OK) {
            nbad = churn(NTHREADS, 2);
            if (nbad)
                fprintf(stderr, "child: %s\n", first_error);
            kv_close(db);
        }
        _exit(nbad ? 1 : 0);
    }
    rc = kv_open("shm", seg, NULL, &db);
    check(rc == KV_OK, "open the segment beside a child process");
    if (rc == KV_OK) {
        unsigned nbad = churn(0, NTHREADS);
        snprintf(what, sizeof(what), "%u threads x %u operations on shared free lists: every "
                 "value read back is the last one put%s%s", NTHREADS, ops,
                 nbad ? ": " : "", first_error);
        check(nbad == 0, what);
        kv_close(db);
    }
    if (child > 0)
        waitpid(child, &status, 0);
#ifndef __SANITIZE_THREAD__
    check(child > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "the child process's 2 threads, on the same segment at the same time, passed too");
#endif

    /* and the segment is consistent afterwards: every key of every worker as left */
    rc = kv_open("shm", seg, NULL, &db);
    if (rc == KV_OK) {
        kv_buf v = {0};
        char k[32];
        unsigned hot_ok = 0;
        for (unsigned h = 0; h < NHOT; h++) {
            int grc = kv_get(db, k, key_of(99, h, k), &v);
            if (grc == KV_OK && valid(&v, h))
                hot_ok++;
            else
                printf("# hot key %u: status %d (%s), %zu bytes\n", h, grc, kv_strerror(grc),
                       v.len);
        }
        kv_buf_free(&v);
        check(hot_ok == NHOT, "the hot keys hold values some put wrote");
        kv_close(db);
    } else {
        check(0, "reopen the segment");
    }
out_rmdir:
    kvt_rmrf(dir);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
