/*
 * peer_common.c — helpers shared by the peer adapters (see peer_common.h).
 *
 * The store's directory is created here with the `mode=` directory mode
 * (0700 by default), so even a peer whose library creates its files with
 * its own mode (LevelDB, RocksDB: 0644 less the umask) keeps a new store
 * private: other users cannot enter the directory.
 *
 * The peers are adapters, not engines of the course: the libraries they wrap
 * do their own file I/O. This file holds the little that all four need on
 * the kvlabs side: refusing a non-POSIX env, creating the directory,
 * measuring the directory's size through the env, the sync=batch clock, and
 * turning LevelDB/RocksDB status strings into KV_E* codes.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "peer_common.h"

int kvpeer_prepare_dir(const kv_open_args *a, const char *engine)
{
    int rc;

    if (a->env != kv_env_posix())
        return kv_fail(KV_ENOTSUP,
                       "%s: a peer engine does its own file I/O and runs only on the POSIX env "
                       "(not '%s')",
                       engine, kv_env_name(a->env));
    if (!a->path || !*a->path)
        return kv_fail(KV_EINVAL, "%s: needs a directory path", engine);
    rc = kv_env_mkdir_mode(a->env, a->path, a->dir_mode);
    if (rc != KV_OK) {
        char why[KV_ERROR_MAX];
        snprintf(why, sizeof(why), "%s", kv_last_error());
        return kv_fail(rc, "%s: cannot create directory %s: %s", engine, a->path, why);
    }
    return KV_OK;
}

int kvpeer_dir_bytes(const kv_env *env, const char *dir, uint64_t *out)
{
    char **names = NULL;
    size_t n = 0;
    int rc = kv_env_list(env, dir, &names, &n);

    if (rc != KV_OK)
        return rc;
    for (size_t i = 0; i < n; i++) {
        char *p = kvpeer_join(dir, names[i]);
        uint64_t size = 0;
        bool is_dir = false;

        if (!p) {
            rc = kv_fail(KV_ENOMEM, "out of memory listing %s", dir);
            break;
        }
        /* a file may vanish between list and stat (compaction): skip it */
        if (kv_env_stat(env, p, &size, &is_dir) == KV_OK) {
            if (is_dir) {
                uint64_t sub = 0;
                if (kvpeer_dir_bytes(env, p, &sub) == KV_OK)
                    *out += sub;
            } else {
                *out += size;
            }
        }
        kv_free(p);
    }
    kv_env_list_free(names, n);
    return rc;
}

uint64_t kvpeer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool kvpeer_sync_due(_Atomic uint64_t *last, uint64_t sync_ms)
{
    uint64_t now = kvpeer_now_ms(), was = atomic_load_explicit(last, memory_order_relaxed);

    if (now - was < sync_ms)
        return false;
    return atomic_compare_exchange_strong(last, &was, now);
}

static bool has(const char *s, const char *needle)
{
    return strstr(s, needle) != NULL;
}

int kvpeer_fail_status(const char *engine, const char *what, const char *text)
{
    int code = KV_EIO;

    if (!text)
        text = "(no detail)";
    if (!strncmp(text, "Corruption:", 11))
        code = KV_ECORRUPT;
    else if (has(text, "/LOCK") &&
             (has(text, "already held") || has(text, "temporarily unavailable") ||
              has(text, "lock hold by current process") || has(text, "No locks available")))
        code = KV_EBUSY;
    else if (has(text, "No space left") || has(text, "Disk quota"))
        code = KV_EFULL;
    else if (!strncmp(text, "Invalid argument:", 17))
        code = KV_EINVAL;
    else if (!strncmp(text, "Not implemented:", 16) || !strncmp(text, "Not supported:", 14) ||
             !strncmp(text, "Operation not supported:", 24))
        code = KV_ENOTSUP;
    else if (!strncmp(text, "NotFound:", 9) || !strncmp(text, "Not found:", 10))
        code = KV_ENOTFOUND;
    else if (has(text, "Cannot allocate memory") || has(text, "Memory limit"))
        code = KV_ENOMEM;
    return kv_fail(code, "%s: %s: %s", engine, what, text);
}

void kvpeer_extra(kv_stats *out, const char *name, double value)
{
    if (out->n_extra >= KV_STATS_EXTRA)
        return;
    snprintf(out->extra[out->n_extra].name, sizeof(out->extra[out->n_extra].name), "%s", name);
    out->extra[out->n_extra].value = value;
    out->n_extra++;
}

char *kvpeer_join(const char *dir, const char *leaf)
{
    size_t n = strlen(dir) + strlen(leaf) + 2;
    char *p = kv_malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, leaf);
    return p;
}
