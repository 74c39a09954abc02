/*
 * kvshm.c — the shared-memory store's tool: host a store, inspect it, save
 * and restore it, destroy it.
 *
 *   kvshm host DIR [-o OPTIONS]        create/open the store and keep it until destroyed
 *   kvshm destroy DIR                  stop the host, mark the store destroyed, remove it
 *   kvshm snapshot DIR FILE            save every entry to FILE (CRC32C-framed)
 *   kvshm restore DIR FILE             replace the store's contents by FILE's
 *   kvshm ls DIR [--prefix P] [--limit N]   list entries (sorted by key)
 *   kvshm log DIR [--last N]           the operation log, oldest first
 *   kvshm stats DIR                    layout, counters, free lists, flags
 *   kvshm check DIR                    full consistency check of index and free lists
 *   kvshm get DIR KEY | put DIR KEY VALUE | del DIR KEY
 *
 * OPTIONS are the engine's ("max_size=1G,max_key=64,shards=32"; see
 * shm_engine.c) and the common ones; they matter when the store is created
 * (host, put, restore on a missing store). A new store is private: its
 * directory is 0700 and its segment 0600 unless OPTIONS give `mode=` (e.g.
 * mode=0660 to share it with the group). Every command that opens a store
 * warns on stderr when the segment's mode lets other users read or write
 * it (group or other bits), and goes on. Every other command opens an existing store only
 * (create=false). KEY, VALUE and P take \xNN and \\ escapes for binary
 * bytes; output escapes every byte outside printable ASCII the same way.
 *
 * What "alive" means. The segment is a file: it outlives every process
 * that maps it, on tmpfs until reboot, on a disk for good. `kvshm host` is
 * the store's owner in seed 003's sense: it creates the store with the
 * chosen options, keeps it mapped (on tmpfs its pages stay resident while
 * anyone maps them), records itself in DIR/host.pid under an flock, and
 * runs until `kvshm destroy DIR` (or SIGTERM/SIGINT/SIGHUP). Destroy
 * raises the store's DESTROYED flag (every process's next operation fails
 * with KV_EIO), signals the host and waits for its lock to drop, and
 * removes the segment, the pid file and the directory if it is then empty.
 *
 * Exit status: 0 success; 1 failure (I/O, full, out of memory, ...);
 * 2 usage; 3 not found (no store in DIR, no such key, no snapshot file);
 * 4 busy (a host already runs for DIR; the host did not stop);
 * 5 corrupt (a bad snapshot file or segment; `check` found problems).
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "shm.h"

enum { EX_OK = 0, EX_FAIL = 1, EX_USAGE = 2, EX_NOTFOUND = 3, EX_BUSY = 4, EX_CORRUPT = 5 };

static const char usage_text[] = "usage: kvshm host DIR [-o OPTIONS]\n"
                                 "       kvshm destroy DIR\n"
                                 "       kvshm snapshot DIR FILE | restore DIR FILE\n"
                                 "       kvshm ls DIR [--prefix P] [--limit N]\n"
                                 "       kvshm log DIR [--last N] | stats DIR | check DIR\n"
                                 "       kvshm get DIR KEY | put DIR KEY VALUE | del DIR KEY\n"
                                 "exit: 0 ok, 1 failure, 2 usage, 3 not found, 4 busy, 5 corrupt\n";

static int usage(void)
{
    fputs(usage_text, stderr);
    return EX_USAGE;
}

static int exit_of(int rc)
{
    switch (rc) {
    case KV_OK: return EX_OK;
    case KV_ENOTFOUND: return EX_NOTFOUND;
    case KV_EBUSY: return EX_BUSY;
    case KV_ECORRUPT: return EX_CORRUPT;
    default: return EX_FAIL;
    }
}

static int fail(int rc, const char *what)
{
    fprintf(stderr, "kvshm: %s: %s (%s)\n", what, kv_strerror(rc), kv_last_error());
    return exit_of(rc);
}

/* Print bytes with \xNN for anything outside printable ASCII (and \\ for \). */
static void put_escaped(FILE *f, const unsigned char *p, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\')
            fputs("\\\\", f);
        else if (p[i] >= 0x20 && p[i] < 0x7f)
            fputc(p[i], f);
        else
            fprintf(f, "\\x%02x", p[i]);
    }
}

/* Decode \xNN and \\ in place; returns the length, or -1 for a bad escape. */
static long unescape(char *s)
{
    size_t o = 0;

    for (size_t i = 0; s[i]; i++) {
        if (s[i] != '\\') {
            s[o++] = s[i];
            continue;
        }
        if (s[i + 1] == '\\') {
            s[o++] = '\\';
            i++;
        } else if (s[i + 1] == 'x' && s[i + 2] && s[i + 3]) {
            char hex[3] = {s[i + 2], s[i + 3], 0}, *end;
            long v = strtol(hex, &end, 16);
            if (*end)
                return -1;
            s[o++] = (char)v;
            i += 3;
        } else {
            return -1;
        }
    }
    return (long)o;
}

static int open_store(const char *dir, const char *opts, bool create, kv_db **db)
{
    char buf[512];

    snprintf(buf, sizeof(buf), "%s%s%s", create ? "create=true" : "create=false",
             opts && *opts ? "," : "", opts ? opts : "");
    return kv_open("shm", dir, buf, db);
}

static char *path_in(const char *dir, const char *leaf)
{
    size_t n = strlen(dir) + strlen(leaf) + 2;
    char *p = kv_malloc(n);

    if (p)
        snprintf(p, n, "%s/%s", dir, leaf);
    return p;
}

/*
 * Warn (stderr) when the segment can be read or written by users other than
 * its owner: group or other bits in its mode. Anyone who can read it reads
 * every key and value; anyone who can write it can corrupt the store for
 * every process. The store still opens: sharing with a group (mode=0660)
 * is a legitimate choice, but it should never happen by accident.
 */
static void warn_if_shared(const char *dir)
{
    char *seg = path_in(dir, KVSHM_SEG_FILE);
    unsigned mode = 0;

    if (seg && kv_env_stat_mode(kv_env_posix(), seg, &mode) == KV_OK && (mode & 0066))
        fprintf(stderr,
                "kvshm: warning: %s has mode 0%03o: other users can %s%s%s it "
                "(chmod 600 %s to make it private; new stores are 0600 unless created with "
                "-o mode=...)\n",
                seg, mode, (mode & 0044) ? "read" : "", (mode & 0044) && (mode & 0022) ? " and " : "",
                (mode & 0022) ? "write" : "", seg);
    kv_free(seg);
}

/* ---- host and destroy ------------------------------------------------------------- */

static int cmd_host(const char *dir, const char *opts)
{
    kv_db *db = NULL;
    kv_file *pf = NULL;
    kvshm_db *d;
    char *pidpath, line[32];
    sigset_t set;
    int rc = open_store(dir, opts, true, &db), n;

    if (rc != KV_OK)
        return fail(rc, dir);
    warn_if_shared(dir);
    d = kvshm_from(db);
    pidpath = path_in(dir, KVSHM_PID_FILE);
    rc = pidpath ? kv_env_open_mode(kv_env_posix(), pidpath, KV_O_RDWR | KV_O_CREAT,
                                    d->seg.file_mode, &pf)
                 : KV_ENOMEM;
    if (rc == KV_OK)
        rc = kv_file_lock(pf);
    if (rc == KV_EBUSY) {
        fprintf(stderr, "kvshm: %s already has a host (see %s)\n", dir, pidpath);
        kv_file_close(pf);
        kv_free(pidpath);
        kv_close(db);
        return EX_BUSY;
    }
    n = snprintf(line, sizeof(line), "%d\n", (int)getpid());
    if (rc == KV_OK)
        rc = kv_file_truncate(pf, 0);
    if (rc == KV_OK)
        rc = kv_file_pwrite(pf, line, (size_t)n, 0);
    if (rc != KV_OK) {
        n = fail(rc, pidpath ? pidpath : dir);
        kv_file_close(pf);
        kv_free(pidpath);
        kv_close(db);
        return n;
    }
    kvshm_log(&d->seg, KVSHM_OP_HOST, KV_OK, NULL, 0, 0);
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    printf("kvshm: hosting %s (pid %d); stop with: kvshm destroy %s\n", dir, (int)getpid(), dir);
    fflush(stdout);
    for (;;) {
        struct timespec t = {.tv_sec = 0, .tv_nsec = 200 * 1000000L};
        if (sigtimedwait(&set, NULL, &t) > 0 || kvshm_flag(&d->seg, KVSHM_F_DESTROYED))
            break;
    }
    if (!kvshm_flag(&d->seg, KVSHM_F_DESTROYED))
        kv_env_unlink(kv_env_posix(), pidpath);
    kv_file_close(pf);
    kv_free(pidpath);
    rc = kv_close(db);
    return rc == KV_OK ? EX_OK : fail(rc, "closing the store");
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    nanosleep(&ts, NULL);
}

/* Stop a running host: SIGTERM to the pid in the pid file, wait for its lock. */
static int stop_host(const char *pidpath)
{
    const kv_env *env = kv_env_posix();
    kv_file *pf = NULL;
    char line[32] = {0};
    size_t got = 0;
    int rc = kv_env_open(env, pidpath, KV_O_RDWR, &pf);

    if (rc == KV_ENOTFOUND)
        return EX_OK;
    if (rc != KV_OK)
        return fail(rc, pidpath);
    for (int waited = 0; (rc = kv_file_lock(pf)) == KV_EBUSY; waited += 20) {
        long pid;
        if (waited == 0 && kv_file_pread(pf, line, sizeof(line) - 1, 0, &got) == KV_OK &&
            (pid = strtol(line, NULL, 10)) > 1)
            kill((pid_t)pid, SIGTERM);
        if (waited > 10000) {
            fprintf(stderr, "kvshm: the host (pid %s) did not stop\n", line);
            kv_file_close(pf);
            return EX_BUSY;
        }
        sleep_ms(20);
    }
    kv_file_close(pf);
    kv_env_unlink(env, pidpath);
    return EX_OK;
}

static int cmd_destroy(const char *dir)
{
    kv_db *db = NULL;
    char *pidpath = path_in(dir, KVSHM_PID_FILE);
    int rc = open_store(dir, NULL, false, &db), ex;

    if (rc != KV_OK) {
        kv_free(pidpath);
        return fail(rc, dir);
    }
    rc = kvshm_destroy(kvshm_from(db));
    kv_close(db);
    if (rc != KV_OK) {
        kv_free(pidpath);
        return fail(rc, "destroy");
    }
    ex = pidpath ? stop_host(pidpath) : EX_FAIL;
    kv_env_rmdir(kv_env_posix(), dir); /* only when empty */
    kv_free(pidpath);
    return ex;
}

/* ---- inspection ------------------------------------------------------------------- */

typedef struct pair {
    unsigned char *kv; /* key then value */
    size_t klen, vlen;
} pair;

typedef struct pairs {
    pair *v;
    size_t n, cap;
} pairs;

static int collect(void *arg, const void *key, size_t klen, const void *val, size_t vlen)
{
    pairs *ps = arg;

    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 256;
        pair *v = kv_realloc(ps->v, cap * sizeof(*v));
        if (!v)
            return KV_ENOMEM;
        ps->v = v;
        ps->cap = cap;
    }
    pair *p = &ps->v[ps->n];
    p->kv = kv_malloc(klen + vlen + 1);
    if (!p->kv)
        return KV_ENOMEM;
    memcpy(p->kv, key, klen);
    memcpy(p->kv + klen, val, vlen);
    p->klen = klen;
    p->vlen = vlen;
    ps->n++;
    return 0;
}

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;

    return kv_key_cmp(x->kv, x->klen, y->kv, y->klen);
}

static int cmd_ls(kv_db *db, const char *prefix, size_t plen, unsigned long limit)
{
    pairs ps = {0};
    int rc = kvshm_scan(kvshm_from(db), prefix, plen, false, collect, &ps);

    if (rc == KV_OK) {
        qsort(ps.v, ps.n, sizeof(*ps.v), cmp_pair);
        for (size_t i = 0; i < ps.n && (!limit || i < limit); i++) {
            size_t show = ps.v[i].vlen > 64 ? 64 : ps.v[i].vlen;
            put_escaped(stdout, ps.v[i].kv, ps.v[i].klen);
            printf("\t%zu\t", ps.v[i].vlen);
            put_escaped(stdout, ps.v[i].kv + ps.v[i].klen, show);
            puts(show < ps.v[i].vlen ? "..." : "");
        }
    }
    for (size_t i = 0; i < ps.n; i++)
        kv_free(ps.v[i].kv);
    kv_free(ps.v);
    return rc == KV_OK ? EX_OK : fail(rc, "ls");
}

static int cmd_log(kv_db *db, unsigned long last)
{
    kvshm_log_entry *v = NULL;
    size_t n = 0;
    int rc = kvshm_log_read(&kvshm_from(db)->seg, &v, &n);

    if (rc != KV_OK)
        return fail(rc, "log");
    for (size_t i = last && n > last ? n - last : 0; i < n; i++) {
        time_t t = (time_t)(v[i].time_ns / 1000000000u);
        struct tm tm;
        char when[32];
        gmtime_r(&t, &tm);
        strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
        printf("%llu %s.%03uZ pid=%u %-8s %-10s", (unsigned long long)v[i].seq, when,
               (unsigned)(v[i].time_ns / 1000000u % 1000u), v[i].pid, kvshm_op_name(v[i].op),
               v[i].status ? kv_strerror(v[i].status) : "ok");
        if (v[i].op == KVSHM_OP_PUT || v[i].op == KVSHM_OP_DEL || v[i].op == KVSHM_OP_GET) {
            printf(" key=");
            put_escaped(stdout, v[i].key, v[i].klen < KVSHM_LOG_KEY ? v[i].klen : KVSHM_LOG_KEY);
            printf("%s klen=%u vlen=%u", v[i].klen > KVSHM_LOG_KEY ? "..." : "", v[i].klen,
                   v[i].vlen);
        } else if (v[i].klen) {
            printf(" count=%u", v[i].klen);
        }
        putchar('\n');
    }
    kv_free(v);
    return EX_OK;
}

static int cmd_stats(kv_db *db, const char *dir)
{
    kvshm_info in;

    kvshm_get_info(kvshm_from(db), &in);
    printf("store:        %s/%s\n", dir, KVSHM_SEG_FILE);
    printf("created:      %llu (unix time) by pid %u\n", (unsigned long long)in.create_time,
           in.create_pid);
    printf("keys:         %llu\n", (unsigned long long)in.keys);
    printf("bytes:        %llu (keys + values)\n", (unsigned long long)in.bytes);
    printf("file_size:    %llu\n", (unsigned long long)in.file_size);
    printf("max_size:     %llu\n", (unsigned long long)in.max_size);
    printf("max_key:      %llu\n", (unsigned long long)in.max_key);
    printf("max_value:    %llu\n", (unsigned long long)in.max_value);
    printf("shards:       %u\n", in.shards);
    printf("buckets:      %llu\n", (unsigned long long)in.buckets);
    printf("extents:      %u\n", in.extents);
    printf("alloc_bytes:  %llu\n", (unsigned long long)in.alloc_bytes);
    printf("free_blocks:  %llu\n", (unsigned long long)in.free_blocks);
    printf("free_bytes:   %llu\n", (unsigned long long)in.free_bytes);
    printf("repairs:      %llu\n", (unsigned long long)in.repairs);
    printf("corrupt:      %llu\n", (unsigned long long)in.corrupt);
    printf("log:          %llu records appended, ring of %llu\n", (unsigned long long)in.log_head,
           (unsigned long long)in.log_entries);
    printf("flags:        %s%s%s\n", in.flags & KVSHM_F_DESTROYED ? "destroyed " : "",
           in.flags & KVSHM_F_REPAIR ? "repair-pending " : "", in.flags ? "" : "none");
    return EX_OK;
}

static int cmd_check(kv_db *db)
{
    kvshm_check_report r;
    int rc = kvshm_check(&kvshm_from(db)->seg, &r);

    if (rc != KV_OK)
        return fail(rc, "check");
    printf("live=%llu linked=%llu free_blocks=%llu chunks=%llu problems=%llu\n",
           (unsigned long long)r.live, (unsigned long long)r.linked,
           (unsigned long long)r.free_blocks, (unsigned long long)r.chunks,
           (unsigned long long)r.problems);
    if (r.problems)
        printf("first problem: %s\n", r.first);
    return r.problems ? EX_CORRUPT : EX_OK;
}

/* ---- main ---------------------------------------------------------------------- */

static bool known(const char *cmd)
{
    static const char *const cmds[] = {"host",  "destroy", "snapshot", "restore", "ls", "log",
                                       "stats", "check",   "get",      "put",     "del"};

    for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
        if (!strcmp(cmd, cmds[i]))
            return true;
    return false;
}

int main(int argc, char **argv)
{
    const char *cmd, *dir, *opts = NULL, *prefix = NULL;
    unsigned long num = 0;
    char *pos[3] = {0};
    int npos = 0, ex;
    kv_db *db = NULL;
    long plen = 0;

    if (argc < 3)
        return usage();
    cmd = argv[1];
    dir = argv[2];
    if (!known(cmd))
        return usage();
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc)
            opts = argv[++i];
        else if (!strcmp(argv[i], "--prefix") && i + 1 < argc)
            prefix = argv[++i];
        else if ((!strcmp(argv[i], "--limit") || !strcmp(argv[i], "--last")) && i + 1 < argc)
            num = strtoul(argv[++i], NULL, 10);
        else if (npos < 2 && argv[i][0] != '-')
            pos[npos++] = argv[i];
        else
            return usage();
    }
    if (!strcmp(cmd, "host") && npos == 0)
        return cmd_host(dir, opts);
    if (!strcmp(cmd, "destroy") && npos == 0)
        return cmd_destroy(dir);
    if ((!strcmp(cmd, "snapshot") || !strcmp(cmd, "restore") || !strcmp(cmd, "get") ||
         !strcmp(cmd, "del")) &&
        npos != 1)
        return usage();
    if (!strcmp(cmd, "put") && npos != 2)
        return usage();
    if ((!strcmp(cmd, "ls") || !strcmp(cmd, "log") || !strcmp(cmd, "stats") ||
         !strcmp(cmd, "check")) &&
        npos != 0)
        return usage();
    if (prefix) {
        char *p = kv_strdup(prefix);
        if (!p || (plen = unescape(p)) < 0)
            return usage();
        prefix = p;
    }
    ex = open_store(dir, opts, !strcmp(cmd, "put") || !strcmp(cmd, "restore"), &db);
    if (ex != KV_OK) {
        ex = fail(ex, dir);
        kv_free((void *)prefix);
        return ex;
    }
    warn_if_shared(dir);
    if (!strcmp(cmd, "ls")) {
        ex = cmd_ls(db, prefix, (size_t)plen, num);
    } else if (!strcmp(cmd, "log")) {
        ex = cmd_log(db, num);
    } else if (!strcmp(cmd, "stats")) {
        ex = cmd_stats(db, dir);
    } else if (!strcmp(cmd, "check")) {
        ex = cmd_check(db);
    } else if (!strcmp(cmd, "snapshot") || !strcmp(cmd, "restore")) {
        uint64_t n = 0;
        int rc = cmd[0] == 's' ? kvshm_snapshot(kvshm_from(db), pos[0], &n)
                               : kvshm_restore(kvshm_from(db), pos[0], &n);
        ex = rc == KV_OK ? EX_OK : fail(rc, pos[0]);
        if (rc == KV_OK)
            printf("%s %llu entries\n", cmd[0] == 's' ? "saved" : "restored",
                   (unsigned long long)n);
    } else if (!strcmp(cmd, "get") || !strcmp(cmd, "put") || !strcmp(cmd, "del")) {
        long kl = unescape(pos[0]), vl = pos[1] ? unescape(pos[1]) : 0;
        kv_buf v = {0};
        int rc;
        if (kl <= 0 || vl < 0) {
            kv_close(db);
            return usage();
        }
        rc = cmd[0] == 'g'   ? kv_get(db, pos[0], (size_t)kl, &v)
             : cmd[0] == 'p' ? kv_put(db, pos[0], (size_t)kl, pos[1], (size_t)vl)
                             : kv_delete(db, pos[0], (size_t)kl);
        if (rc == KV_OK && cmd[0] == 'g') {
            put_escaped(stdout, v.data, v.len);
            putchar('\n');
        }
        ex = rc == KV_OK ? EX_OK : fail(rc, cmd);
        kv_buf_free(&v);
    } else {
        ex = usage();
    }
    kv_free((void *)prefix);
    kv_close(db);
    return ex;
}
