/*
 * tsan_bitcask.c — Bitcask's locks under ThreadSanitizer: gets racing with
 * write-buffer flushes, rollovers and merges.
 *
 * A plain program (Criterion does not start under TSan), built with
 * -fsanitize=thread and run by tests/tsan_storage.sh (halt_on_error: the
 * first data race TSan sees ends the run with a report and a non-zero
 * status); it is also an ordinary plain test of `make test` (under
 * AddressSanitizer), where only its value checks count.
 *
 * The store is made for collisions: a 256-byte write buffer (a flush every
 * few puts: bmu against gets copying from the buffer), 2 KiB data files (a
 * rollover every ~20 puts: flk against gets looking files up), and a
 * thread merging as fast as it can (flk again, the keydir's entries moving
 * to merged files, hint files). One writer overwrites 16 hot keys; three
 * readers get them in a loop; a fourth thread merges and syncs. The keys
 * are few so that every get reads a record that was just written, just
 * flushed, or just moved. Readers check every value they read: it must be
 * one the writer wrote for that key (the value encodes the key and its
 * version), and versions never go back (a get after a get sees the newer
 * write). So a missing lock shows as a TSan report (the racing accesses
 * are plain loads and stores of the buffer, the file table and the keydir),
 * and a wrong copy as a failed check, even without TSan.
 *
 * Runs on the in-memory env (kvlabs/env.h): the races are in Bitcask's own
 * memory, not the kernel's. TSAN_BITCASK_PUTS sets the writer's puts
 * (default 6000). Prints one line per check and "N passed, N failed".
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitcask.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"

enum { NKEYS = 16, NREADERS = 3, MAXV = 160 };

static kv_db *db;
static atomic_bool writing;
static atomic_uint bad_reads, gets_done, merges_done;
static char first_error[256];
static pthread_mutex_t err_mu = PTHREAD_MUTEX_INITIALIZER;

static void fail(const char *fmt, unsigned a, unsigned long long b)
{
    pthread_mutex_lock(&err_mu);
    if (!first_error[0])
        snprintf(first_error, sizeof(first_error), fmt, a, b);
    pthread_mutex_unlock(&err_mu);
    atomic_fetch_add(&bad_reads, 1);
}

static size_t key_of(unsigned id, char *k)
{
    return (size_t)snprintf(k, 16, "hot%02u", id);
}

/* Version @p ver of key @p id: its length varies, its bytes encode both. */
static size_t val_of(unsigned id, unsigned long long ver, unsigned char *v)
{
    size_t len = 16 + (size_t)((ver * 37 + id) % (MAXV - 16));

    memcpy(v, &ver, 8);
    memcpy(v + 8, &id, 4);
    for (size_t i = 12; i < len; i++)
        v[i] = (unsigned char)(ver * 131 + id * 7 + i);
    return len;
}

static void *writer(void *arg)
{
    unsigned puts = *(unsigned *)arg;
    unsigned char v[MAXV];
    char k[16];

    for (unsigned long long ver = 1; ver <= puts; ver++) {
        unsigned id = (unsigned)(ver % NKEYS);
        int rc = kv_put(db, k, key_of(id, k), v, val_of(id, ver, v));
        if (rc != KV_OK)
            fail("put of key %u failed: %llu", id, (unsigned long long)-rc);
        /* every 500 puts, wait for a merge and some gets since: they interleave,
           however the threads are scheduled */
        while (ver % 500 == 0 && atomic_load(&bad_reads) == 0 &&
               (atomic_load(&merges_done) < ver / 500 || atomic_load(&gets_done) < ver / 50))
            sched_yield();
    }
    atomic_store(&writing, false);
    return NULL;
}

static void *reader(void *arg)
{
    unsigned long long seen[NKEYS] = {0};
    unsigned char want[MAXV];
    kv_buf v = {0};
    char k[16];
    unsigned i = (unsigned)(size_t)arg;

    while (atomic_load(&writing)) {
        unsigned id = i++ % NKEYS;
        unsigned long long ver;
        int rc = kv_get(db, k, key_of(id, k), &v);
        if (rc == KV_ENOTFOUND)
            continue; /* not written yet */
        if (rc != KV_OK || v.len < 12) {
            fail("get of key %u: status %llu", id, (unsigned long long)-rc);
            continue;
        }
        memcpy(&ver, v.data, 8);
        if (v.len != val_of(id, ver, want) || memcmp(v.data, want, v.len) != 0)
            fail("key %u read back a value no put wrote (version field %llu)", id, ver);
        else if (ver < seen[id])
            fail("key %u went back to an older version %llu", id, ver);
        else
            seen[id] = ver;
        if (atomic_fetch_add(&gets_done, 1) % 64 == 63)
            sched_yield(); /* let the writer and the merger in: the readers outnumber them */
    }
    kv_buf_free(&v);
    return NULL;
}

static void *merger(void *arg)
{
    (void)arg;
    while (atomic_load(&writing)) {
        int rc = bc_merge(db);
        if (rc != KV_OK)
            fail("merge %u failed: status %llu", atomic_load(&merges_done),
                 (unsigned long long)-rc);
        else
            atomic_fetch_add(&merges_done, 1);
        rc = kv_sync(db);
        if (rc != KV_OK)
            fail("sync after merge %u failed: status %llu", atomic_load(&merges_done),
                 (unsigned long long)-rc);
    }
    return NULL;
}

static int passed, failed;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    ok ? passed++ : failed++;
}

int main(void)
{
    const char *env_puts = getenv("TSAN_BITCASK_PUTS");
    unsigned puts = env_puts ? (unsigned)strtoul(env_puts, NULL, 10) : 6000;
    kv_env *env = kv_env_mem_new();
    pthread_t w, m, r[NREADERS];
    char what[600];
    bc_info info = {0};
    int rc;

    if (puts < NKEYS)
        puts = NKEYS;
    rc = kv_open_env("bitcask", "/db", "write_buffer=256,max_file_size=2K", env, &db);
    check(rc == KV_OK, "open with write_buffer=256,max_file_size=2K");
    if (rc != KV_OK) {
        printf("%d passed, %d failed\n", passed, failed);
        return 1;
    }
    atomic_store(&writing, true);
    pthread_create(&w, NULL, writer, &puts);
    pthread_create(&m, NULL, merger, NULL);
    for (size_t i = 0; i < NREADERS; i++)
        pthread_create(&r[i], NULL, reader, (void *)(i * 5));
    pthread_join(w, NULL);
    pthread_join(m, NULL);
    for (size_t i = 0; i < NREADERS; i++)
        pthread_join(r[i], NULL);

    snprintf(what, sizeof(what), "%u puts, %u gets, %u merges: every get read a value the "
             "writer wrote, never an older one%s%s", puts, atomic_load(&gets_done),
             atomic_load(&merges_done), first_error[0] ? ": " : "", first_error);
    check(atomic_load(&bad_reads) == 0, what);
    check(atomic_load(&gets_done) > 0 && atomic_load(&merges_done) > 1,
          "the readers and the merger ran while the writer wrote");
    rc = bc_info_get(db, &info);
    check(rc == KV_OK && info.merges == atomic_load(&merges_done),
          "bc_info counts the merges");
    {
        unsigned char want[MAXV];
        kv_buf v = {0};
        char k[16];
        int ok = 1;
        for (unsigned id = 0; id < NKEYS; id++) {
            unsigned long long last = puts - (puts + NKEYS - id) % NKEYS;
            size_t n = val_of(id, last, want);
            ok &= kv_get(db, k, key_of(id, k), &v) == KV_OK && v.len == n &&
                  memcmp(v.data, want, n) == 0;
        }
        kv_buf_free(&v);
        check(ok, "every key holds its last version");
    }
    check(kv_close(db) == KV_OK, "close");
    kv_env_free(env);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
