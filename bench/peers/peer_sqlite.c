/*
 * peer_sqlite.c — peer engine "sqlite": SQLite (3.40) used as a key-value
 * store, one table in one file, behind the kvlabs contract.
 *
 * The store is the file kv.sqlite in the engine's directory with one table
 *
 *   CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID
 *
 * (a WITHOUT ROWID table is a single B-tree keyed by k: the B+ tree the
 * course's own is compared with). Keys and values are bound as BLOBs, and
 * SQLite orders BLOBs by memcmp with the shorter first on a tie: exactly
 * the contract's order, so ORDER BY k is kv.h's order.
 *
 * Settings (options of this engine; the README's table lists every peer's):
 *
 *   PRAGMA journal_mode=WAL (always)
 *   PRAGMA synchronous=NORMAL, or FULL with sync=always
 *   cache=        (common key) PRAGMA cache_size=-<cache/1024> KiB; default 8M
 *   batch=1000    writes per transaction (see "Writes")
 *   busy_ms=5000  how long a write waits for another handle's or process's
 *                 write lock before KV_EBUSY (sqlite3_busy_timeout)
 *   exact_stats=false  see "Counters"
 *   Prepared statements are made once at open and reused; the connection
 *   is opened SQLITE_OPEN_NOMUTEX and guarded by the adapter's own mutex
 *   (a statement is bound, stepped and reset as one unit, so SQLite's
 *   per-call FULLMUTEX would not be enough anyway).
 *
 * Writes. Writes are grouped into transactions of batch statements: BEGIN
 * IMMEDIATE at the first write, COMMIT after batch writes, and before any
 * read (kv_get, each chunk an iterator fetches, kv_db_stats), kv_sync and
 * kv_close, so every read sees every acknowledged write. With batch=1 each
 * write is its own autocommit transaction. Until a batch commits, other
 * handles and processes neither see it nor can write (they wait busy_ms,
 * then get KV_EBUSY); use batch=1 for several writers. A kill -9 loses an
 * uncommitted batch (allowed: only kv_sync promises durability). If a write
 * fails in a way that makes SQLite roll the transaction back (disk full,
 * I/O error), the batch's earlier writes are lost too and the error says
 * how many. sync=always forces batch=1.
 *
 * Durability. In WAL mode with synchronous=NORMAL a commit appends to the
 * WAL file with write(2) but does not fsync it (a kill -9 loses nothing
 * committed; a power cut may lose the newest commits). kv_sync() commits the
 * open batch and then fsyncs the WAL file itself: it asks SQLite for the
 * WAL's file handle (SQLITE_FCNTL_JOURNAL_POINTER) and calls its xSync,
 * the very call SQLite makes at commit under synchronous=FULL. (The
 * alternatives were worse: a checkpoint does not sync the WAL when readers
 * block it, and a FULL checkpoint waits for other processes' readers and
 * copies pages; switching to synchronous=FULL only syncs at the next
 * commit.) On its first sync the unix VFS also fsyncs the directory, so the
 * WAL's creation is durable. Everything older than the WAL is in the
 * database file, which SQLite fsyncs at each checkpoint. sync=always:
 * synchronous=FULL, every write commits and fsyncs. sync=batch: a write
 * arriving sync_ms after the last sync commits and syncs. kv_close() commits,
 * syncs and closes (the last connection checkpoints and removes the WAL).
 *
 * Iterators. Stepping one long SELECT while the same connection writes to
 * the table is allowed by SQLite, but its documentation leaves undefined
 * whether rows changed meanwhile reappear ("might cause that row to
 * reappear in a subsequent sqlite3_step()"), which would break the
 * contract's "exactly once, in order". So an iterator reads in chunks:
 * `SELECT k, v FROM kv WHERE k >= ?/> ? ORDER BY k LIMIT 64` copies up to
 * 64 rows (or about 256 KiB) into the iterator and resets the statement at
 * once; kv_iter_next serves from the chunk and fetches the next one after
 * the last key returned. Keys therefore strictly increase, no statement
 * stays open between calls (writes and checkpoints are never held up), and
 * key/value pointers point into the chunk, valid until the next move.
 * Not a snapshot: each chunk sees the writes made before it was fetched.
 *
 * Counters. SQLite does not count rows cheaply (count(*) scans), so
 * kv_stats.keys and .bytes stay 0 by default. exact_stats=true counts once
 * at open and looks up the old value's length before each write (counts
 * this handle's writes). mem_bytes is the page cache in use
 * (SQLITE_DBSTATUS_CACHE_USED); extra: page_size, page_count,
 * freelist_count. disk_bytes: the directory's size (database, WAL, shm).
 *
 * I/O and the env. SQLite does its own I/O through its unix VFS; the kvlabs
 * env never sees it (kv_stats.io_* stay 0) and this peer refuses any env
 * but POSIX (KV_ENOTSUP), so the fault-env crash and corruption cases of the
 * conformance suite do not apply. disk_bytes is read by listing the
 * directory through the POSIX env. Several handles and processes may open
 * one directory at once (KV_CAP_MULTIPROC: WAL mode, one writer at a time).
 *
 * Errors: SQLITE_CORRUPT/NOTADB → KV_ECORRUPT, BUSY/LOCKED/READONLY →
 * KV_EBUSY, FULL → KV_EFULL, NOMEM → KV_ENOMEM, TOOBIG → KV_ETOOBIG, the
 * rest KV_EIO, with sqlite3_errmsg() as the detail.
 *
 * Limits: keys up to 16 MiB (default 64 KiB), values up to 512 MiB
 * (default 64 MiB): a row must stay under SQLITE_MAX_LENGTH (10^9 bytes).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "peer_common.h"

#define SQ_DEFAULT_CACHE (8u << 20)
#define SQ_CHUNK_ROWS    64
#define SQ_CHUNK_BYTES   (256u << 10)

struct sq_db {
    kv_db base;
    sqlite3 *db;
    pthread_mutex_t lock; /* everything below, and the connection */
    sqlite3_stmt *s_get, *s_len, *s_put, *s_del, *s_begin, *s_commit, *s_rollback;
    sqlite3_stmt *s_first, *s_ge, *s_gt;
    char *dir;
    unsigned batch, pending;
    bool in_txn;
    kv_sync_mode sync;
    uint64_t sync_ms, last_sync_ms;
    bool exact;
    uint64_t keys, bytes;  /* exact_stats: committed */
    int64_t dkeys, dbytes; /* exact_stats: changes of the open batch */
};

enum sq_fetch { SQ_FIRST, SQ_GE, SQ_GT };

struct sq_row {
    size_t koff, klen, voff, vlen;
};

struct sq_iter {
    kv_iter base;
    struct sq_db *s;
    unsigned char *buf; /* the chunk's keys and values */
    size_t len, cap;
    struct sq_row rows[SQ_CHUNK_ROWS];
    size_t nrows, pos;
    bool more;   /* rows may follow the chunk */
    kv_buf last; /* the key to continue after */
    int status;
};

static const kv_opt_spec sq_options[] = {
    {"batch", KV_OPT_UINT, "1000", NULL, 1, 1000000, "writes per transaction"},
    {"busy_ms", KV_OPT_UINT, "5000", NULL, 0, 600000,
     "wait this long for another writer's lock before KV_EBUSY"},
    {"exact_stats", KV_OPT_BOOL, "false", NULL, 0, 0,
     "exact stats.keys/bytes (count at open, a lookup before every write)"},
    {0},
};

static int sq_code(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return KV_ECORRUPT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY: return KV_EBUSY;
    case SQLITE_FULL: return KV_EFULL;
    case SQLITE_NOMEM: return KV_ENOMEM;
    case SQLITE_TOOBIG: return KV_ETOOBIG;
    case SQLITE_MISUSE:
    case SQLITE_RANGE: return KV_EINVAL;
    default: return KV_EIO;
    }
}

static int sq_fail(const struct sq_db *s, int rc, const char *what)
{
    return kv_fail(sq_code(rc), "sqlite: %s: %s", what,
                   s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
}

/* Step a statement that returns no rows to the end, then reset it. */
static int sq_run(struct sq_db *s, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    while (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        int out = sq_fail(s, rc, what);
        sqlite3_reset(st);
        return out;
    }
    sqlite3_reset(st);
    return KV_OK;
}

static int sq_exec(struct sq_db *s, const char *sql)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

    return rc == SQLITE_OK ? KV_OK : sq_fail(s, rc, sql);
}

/* ---- transactions (all under s->lock) ------------------------------------ */

static int sq_begin(struct sq_db *s)
{
    int rc;

    if (s->in_txn || s->batch <= 1)
        return KV_OK;
    rc = sq_run(s, s->s_begin, "BEGIN IMMEDIATE");
    if (rc == KV_OK) {
        s->in_txn = true;
        s->pending = 0;
        s->dkeys = s->dbytes = 0;
    }
    return rc;
}

/* The open batch is gone (rolled back by SQLite or by us). */
static void sq_batch_lost(struct sq_db *s)
{
    s->in_txn = false;
    s->pending = 0;
    s->dkeys = s->dbytes = 0;
}

static int sq_commit(struct sq_db *s)
{
    unsigned n = s->pending;
    int rc;

    if (!s->in_txn)
        return KV_OK;
    rc = sqlite3_step(s->s_commit);
    sqlite3_reset(s->s_commit);
    if (rc != SQLITE_DONE) {
        int out =
            kv_fail(sq_code(rc), "sqlite: commit of a batch of %u writes failed, they are lost: %s",
                    n, sqlite3_errmsg(s->db));
        if (!sqlite3_get_autocommit(s->db))
            sq_run(s, s->s_rollback, "ROLLBACK");
        sq_batch_lost(s);
        return out;
    }
    s->keys += (uint64_t)s->dkeys;
    s->bytes += (uint64_t)s->dbytes;
    sq_batch_lost(s); /* i.e. no batch open any more */
    return KV_OK;
}

/* fsync the WAL: every committed transaction becomes durable. */
static int sq_wal_sync(struct sq_db *s)
{
    sqlite3_file *f = NULL;
    int rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f);

    if (rc != SQLITE_OK)
        return sq_fail(s, rc, "finding the WAL file");
    if (f && f->pMethods) {
        rc = f->pMethods->xSync(f, SQLITE_SYNC_NORMAL);
        if (rc != SQLITE_OK)
            return kv_fail(sq_code(rc), "sqlite: fsync of the WAL failed: %s", sqlite3_errstr(rc));
    }
    s->last_sync_ms = kvpeer_now_ms();
    return KV_OK;
}

/* ---- opening ----------------------------------------------------------------- */

static int sq_prepare(struct sq_db *s, const char *sql, sqlite3_stmt **st)
{
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, st, NULL);

    return rc == SQLITE_OK ? KV_OK : sq_fail(s, rc, sql);
}

static int sq_prepare_all(struct sq_db *s)
{
    static const char *const sql[] = {
        "SELECT v FROM kv WHERE k = ?1",
        "SELECT length(v) FROM kv WHERE k = ?1",
        "INSERT INTO kv(k, v) VALUES (?1, ?2) ON CONFLICT(k) DO UPDATE SET v = excluded.v",
        "DELETE FROM kv WHERE k = ?1",
        "BEGIN IMMEDIATE",
        "COMMIT",
        "ROLLBACK",
        "SELECT k, v FROM kv ORDER BY k LIMIT ?1",
        "SELECT k, v FROM kv WHERE k >= ?1 ORDER BY k LIMIT ?2",
        "SELECT k, v FROM kv WHERE k > ?1 ORDER BY k LIMIT ?2",
    };
    sqlite3_stmt **const st[] = {&s->s_get,    &s->s_len,      &s->s_put,   &s->s_del, &s->s_begin,
                                 &s->s_commit, &s->s_rollback, &s->s_first, &s->s_ge,  &s->s_gt};
    int rc = KV_OK;

    for (size_t i = 0; i < sizeof(sql) / sizeof(sql[0]) && rc == KV_OK; i++)
        rc = sq_prepare(s, sql[i], st[i]);
    return rc;
}

/* A PRAGMA or query returning one integer. */
static int sq_int(struct sq_db *s, const char *sql, int64_t *out, int64_t *out2)
{
    sqlite3_stmt *st;
    int rc = sq_prepare(s, sql, &st);

    if (rc != KV_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *out = sqlite3_column_int64(st, 0);
        if (out2)
            *out2 = sqlite3_column_int64(st, 1);
        rc = KV_OK;
    } else {
        rc = sq_fail(s, rc, sql);
    }
    sqlite3_finalize(st);
    return rc;
}

static int sq_setup(struct sq_db *s, uint64_t cache)
{
    char sql[96];
    sqlite3_stmt *st;
    int rc = sq_prepare(s, "PRAGMA journal_mode=WAL", &st);

    if (rc != KV_OK)
        return rc;
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        rc = sq_fail(s, rc, "PRAGMA journal_mode=WAL");
    } else if (sqlite3_stricmp((const char *)sqlite3_column_text(st, 0), "wal") != 0) {
        rc = kv_fail(KV_EIO, "sqlite: cannot switch to WAL mode (journal_mode is '%s')",
                     (const char *)sqlite3_column_text(st, 0));
    } else {
        rc = KV_OK;
    }
    sqlite3_finalize(st);
    if (rc == KV_OK)
        rc = sq_exec(s, s->sync == KV_SYNC_ALWAYS ? "PRAGMA synchronous=FULL"
                                                  : "PRAGMA synchronous=NORMAL");
    if (rc == KV_OK) {
        snprintf(sql, sizeof(sql), "PRAGMA cache_size=-%llu",
                 (unsigned long long)(cache / 1024 ? cache / 1024 : 1));
        rc = sq_exec(s, sql);
    }
    if (rc == KV_OK)
        rc = sq_exec(s, "CREATE TABLE IF NOT EXISTS kv(k BLOB PRIMARY KEY, v BLOB NOT NULL) "
                        "WITHOUT ROWID");
    if (rc == KV_OK)
        rc = sq_prepare_all(s);
    if (rc == KV_OK && s->exact) {
        int64_t n = 0, b = 0;
        rc = sq_int(s, "SELECT count(*), coalesce(sum(length(k) + length(v)), 0) FROM kv", &n, &b);
        s->keys = (uint64_t)n;
        s->bytes = (uint64_t)b;
    }
    return rc;
}

static void sq_finalize_all(struct sq_db *s)
{
    sqlite3_stmt **const st[] = {&s->s_get,    &s->s_len,      &s->s_put,   &s->s_del, &s->s_begin,
                                 &s->s_commit, &s->s_rollback, &s->s_first, &s->s_ge,  &s->s_gt};

    for (size_t i = 0; i < sizeof(st) / sizeof(st[0]); i++) {
        sqlite3_finalize(*st[i]);
        *st[i] = NULL;
    }
}

static void sq_free(struct sq_db *s)
{
    sq_finalize_all(s);
    if (s->db)
        sqlite3_close_v2(s->db);
    pthread_mutex_destroy(&s->lock);
    kv_free(s->dir);
    kv_free(s);
}

static int sq_open(const kv_open_args *a, kv_db **out)
{
    struct sq_db *s;
    kv_file *f = NULL;
    char *file;
    int rc = kvpeer_prepare_dir(a, "sqlite");

    if (rc != KV_OK)
        return rc;
    s = kv_calloc(1, sizeof(*s));
    if (!s)
        return kv_fail(KV_ENOMEM, "sqlite: out of memory");
    pthread_mutex_init(&s->lock, NULL);
    s->dir = kv_strdup(a->path);
    s->batch = (unsigned)kv_opts_u64(a->opts, "batch");
    s->sync = a->common->sync;
    s->sync_ms = a->common->sync_ms;
    s->last_sync_ms = kvpeer_now_ms();
    s->exact = kv_opts_bool(a->opts, "exact_stats");
    if (s->sync == KV_SYNC_ALWAYS)
        s->batch = 1;
    file = s->dir ? kvpeer_join(a->path, "kv.sqlite") : NULL;
    if (!file) {
        sq_free(s);
        return kv_fail(KV_ENOMEM, "sqlite: out of memory");
    }
    /* mode=: create the (empty) database file ourselves with the file mode;
     * SQLite gives its -wal and -shm files the database file's permissions. */
    rc = kv_env_open_mode(a->env, file, KV_O_RDWR | KV_O_CREAT, a->file_mode, &f);
    kv_file_close(f);
    if (rc != KV_OK) {
        kv_free(file);
        sq_free(s);
        return rc;
    }
    rc = sqlite3_open_v2(file, &s->db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    kv_free(file);
    if (rc != SQLITE_OK) {
        rc = sq_fail(s, rc, "open");
        sq_free(s);
        return rc;
    }
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, (int)kv_opts_u64(a->opts, "busy_ms"));
    rc = sq_setup(s, a->common->cache ? a->common->cache : SQ_DEFAULT_CACHE);
    if (rc == KV_OK)
        rc = kv_env_sync_dir(a->env, a->path); /* kv.sqlite's creation is durable */
    if (rc != KV_OK) {
        sq_free(s);
        return rc;
    }
    s->base.caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_MULTIPROC;
    *out = &s->base;
    return KV_OK;
}

static int sq_close(kv_db *db)
{
    struct sq_db *s = (struct sq_db *)db;
    int rc, r;

    pthread_mutex_lock(&s->lock);
    rc = sq_commit(s);
    if (rc == KV_OK)
        rc = sq_wal_sync(s);
    pthread_mutex_unlock(&s->lock);
    sq_finalize_all(s);
    r = sqlite3_close(s->db); /* the last connection checkpoints and removes the WAL */
    if (r == SQLITE_OK)
        s->db = NULL;
    else if (rc == KV_OK)
        rc = sq_fail(s, r, "close");
    sq_free(s);
    return rc;
}

/* ---- the engine operations ---------------------------------------------------- */

/* exact_stats: whether @p key exists and its value's length. */
static int sq_old_len(struct sq_db *s, const void *key, size_t klen, bool *found, size_t *len)
{
    int rc;

    sqlite3_bind_blob(s->s_len, 1, key, (int)klen, SQLITE_STATIC);
    rc = sqlite3_step(s->s_len);
    *found = rc == SQLITE_ROW;
    if (*found)
        *len = (size_t)sqlite3_column_int64(s->s_len, 0);
    rc = rc == SQLITE_ROW || rc == SQLITE_DONE ? KV_OK : sq_fail(s, rc, "lookup");
    sqlite3_reset(s->s_len);
    return rc;
}

/* A write statement failed: if SQLite rolled the open batch back, say so. */
static int sq_write_failed(struct sq_db *s, int rc)
{
    if (s->in_txn && sqlite3_get_autocommit(s->db)) {
        char why[KV_ERROR_MAX];
        unsigned n = s->pending;
        snprintf(why, sizeof(why), "%s", kv_last_error());
        sq_batch_lost(s);
        if (n)
            return kv_fail(rc,
                           "%s (SQLite rolled back the open batch: its %u earlier writes "
                           "are lost)",
                           why, n);
    }
    return rc;
}

static int sq_write(struct sq_db *s, bool del, const void *key, size_t klen, const void *val,
                    size_t vlen)
{
    bool found = true;
    size_t old = 0;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sq_begin(s);
    if (rc == KV_OK && s->exact)
        rc = sq_old_len(s, key, klen, &found, &old);
    if (rc == KV_OK && del && !found)
        rc = kv_fail(KV_ENOTFOUND, "sqlite: key not found");
    if (rc == KV_OK && del) {
        sqlite3_bind_blob(s->s_del, 1, key, (int)klen, SQLITE_STATIC);
        rc = sq_run(s, s->s_del, "delete");
        if (rc == KV_OK && sqlite3_changes(s->db) == 0)
            rc = kv_fail(KV_ENOTFOUND, "sqlite: key not found");
        else if (rc != KV_OK)
            rc = sq_write_failed(s, rc);
    } else if (rc == KV_OK) {
        sqlite3_bind_blob(s->s_put, 1, key, (int)klen, SQLITE_STATIC);
        sqlite3_bind_blob64(s->s_put, 2, val, vlen, SQLITE_STATIC);
        rc = sq_run(s, s->s_put, "put");
        if (rc != KV_OK)
            rc = sq_write_failed(s, rc);
    }
    if (rc == KV_OK && s->exact) {
        int64_t dk = del ? -1 : !found;
        int64_t dbytes = del ? -(int64_t)(klen + old)
                             : (int64_t)(klen + vlen) - (found ? (int64_t)(klen + old) : 0);
        if (s->in_txn) {
            s->dkeys += dk;
            s->dbytes += dbytes;
        } else {
            s->keys += (uint64_t)dk;
            s->bytes += (uint64_t)dbytes;
        }
    }
    if (rc == KV_OK && s->in_txn && ++s->pending >= s->batch)
        rc = sq_commit(s);
    if (rc == KV_OK && s->sync == KV_SYNC_BATCH &&
        kvpeer_now_ms() - s->last_sync_ms >= s->sync_ms) {
        rc = sq_commit(s);
        if (rc == KV_OK)
            rc = sq_wal_sync(s);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sq_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return sq_write((struct sq_db *)db, false, key, klen, val, vlen);
}

static int sq_del(kv_db *db, const void *key, size_t klen)
{
    return sq_write((struct sq_db *)db, true, key, klen, NULL, 0);
}

static int sq_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    struct sq_db *s = (struct sq_db *)db;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sq_commit(s);
    if (rc == KV_OK) {
        sqlite3_bind_blob(s->s_get, 1, key, (int)klen, SQLITE_STATIC);
        rc = sqlite3_step(s->s_get);
        if (rc == SQLITE_ROW) {
            const void *v = sqlite3_column_blob(s->s_get, 0);
            size_t n = (size_t)sqlite3_column_bytes(s->s_get, 0);
            rc = val ? kv_buf_set(val, v, n) : KV_OK;
        } else if (rc == SQLITE_DONE) {
            rc = kv_fail(KV_ENOTFOUND, "sqlite: key not found");
        } else {
            rc = sq_fail(s, rc, "get");
        }
        sqlite3_reset(s->s_get);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sq_sync(kv_db *db)
{
    struct sq_db *s = (struct sq_db *)db;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sq_commit(s);
    if (rc == KV_OK)
        rc = sq_wal_sync(s);
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int sq_stats(kv_db *db, kv_stats *out)
{
    struct sq_db *s = (struct sq_db *)db;
    int64_t psize = 0, pages = 0, freel = 0;
    int cur = 0, hi = 0, rc;

    pthread_mutex_lock(&s->lock);
    rc = sq_commit(s);
    if (rc == KV_OK && s->exact) {
        out->keys = s->keys;
        out->bytes = s->bytes;
    }
    if (rc == KV_OK)
        rc = sq_int(s, "PRAGMA page_size", &psize, NULL);
    if (rc == KV_OK)
        rc = sq_int(s, "PRAGMA page_count", &pages, NULL);
    if (rc == KV_OK)
        rc = sq_int(s, "PRAGMA freelist_count", &freel, NULL);
    if (sqlite3_db_status(s->db, SQLITE_DBSTATUS_CACHE_USED, &cur, &hi, 0) == SQLITE_OK)
        out->mem_bytes = (uint64_t)cur;
    pthread_mutex_unlock(&s->lock);
    kvpeer_extra(out, "page_size", (double)psize);
    kvpeer_extra(out, "page_count", (double)pages);
    kvpeer_extra(out, "freelist_count", (double)freel);
    if (rc != KV_OK)
        return rc;
    return kvpeer_dir_bytes(db->env, s->dir, &out->disk_bytes);
}

/* ---- iterators: chunks of rows copied out ---------------------------------------- */

static int sq_iter_open(kv_db *db, kv_iter **out)
{
    struct sq_db *s = (struct sq_db *)db;
    struct sq_iter *it;
    int rc;

    pthread_mutex_lock(&s->lock);
    rc = sq_commit(s);
    pthread_mutex_unlock(&s->lock);
    if (rc != KV_OK)
        return rc;
    it = kv_calloc(1, sizeof(*it));
    if (!it)
        return kv_fail(KV_ENOMEM, "sqlite: out of memory for an iterator");
    it->s = s;
    *out = &it->base;
    return KV_OK;
}

/* Append one row to the chunk; KV_ENOMEM when the buffer cannot grow. */
static int sq_iter_add(struct sq_iter *it, const void *k, size_t kl, const void *v, size_t vl)
{
    size_t need = it->len + kl + vl;

    if (need > it->cap) {
        size_t cap = it->cap ? it->cap : 4096;
        unsigned char *p;
        while (cap < need)
            cap *= 2;
        p = kv_realloc(it->buf, cap);
        if (!p)
            return kv_fail(KV_ENOMEM, "sqlite: out of memory for an iterator chunk");
        it->buf = p;
        it->cap = cap;
    }
    it->rows[it->nrows] =
        (struct sq_row){.koff = it->len, .klen = kl, .voff = it->len + kl, .vlen = vl};
    if (kl)
        memcpy(it->buf + it->len, k, kl);
    if (vl)
        memcpy(it->buf + it->len + kl, v, vl);
    it->len = need;
    it->nrows++;
    return KV_OK;
}

/* Fetch the chunk starting at (mode, key) into the iterator. */
static void sq_iter_fetch(struct sq_iter *it, enum sq_fetch mode, const void *key, size_t klen)
{
    struct sq_db *s = it->s;
    sqlite3_stmt *st = mode == SQ_FIRST ? s->s_first : mode == SQ_GE ? s->s_ge : s->s_gt;
    int rc, lim = 1;

    it->len = it->nrows = it->pos = 0;
    it->more = false;
    pthread_mutex_lock(&s->lock);
    rc = sq_commit(s);
    if (rc == KV_OK) {
        if (mode != SQ_FIRST) {
            sqlite3_bind_blob(st, 1, key, (int)klen, SQLITE_STATIC);
            lim = 2;
        }
        sqlite3_bind_int(st, lim, SQ_CHUNK_ROWS);
        while (rc == KV_OK && it->nrows < SQ_CHUNK_ROWS) {
            int r = sqlite3_step(st);
            if (r == SQLITE_DONE)
                break;
            if (r != SQLITE_ROW) {
                rc = sq_fail(s, r, "iterator");
                break;
            }
            const void *k = sqlite3_column_blob(st, 0);
            size_t kl = (size_t)sqlite3_column_bytes(st, 0);
            const void *v = sqlite3_column_blob(st, 1);
            size_t vl = (size_t)sqlite3_column_bytes(st, 1);
            rc = sq_iter_add(it, k, kl, v, vl);
            if (rc == KV_OK && it->len >= SQ_CHUNK_BYTES && it->nrows < SQ_CHUNK_ROWS) {
                it->more = true; /* stopped early: rows may follow */
                break;
            }
        }
        if (it->nrows == SQ_CHUNK_ROWS)
            it->more = true;
        sqlite3_reset(st);
        sqlite3_clear_bindings(st);
    }
    pthread_mutex_unlock(&s->lock);
    it->status = rc;
    if (rc != KV_OK)
        it->nrows = 0;
}

static void sq_iter_first(kv_iter *base)
{
    sq_iter_fetch((struct sq_iter *)base, SQ_FIRST, NULL, 0);
}

static void sq_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    sq_iter_fetch((struct sq_iter *)base, klen ? SQ_GE : SQ_FIRST, key, klen);
}

static bool sq_iter_valid(const kv_iter *base)
{
    const struct sq_iter *it = (const struct sq_iter *)base;

    return it->status == KV_OK && it->pos < it->nrows;
}

static void sq_iter_next(kv_iter *base)
{
    struct sq_iter *it = (struct sq_iter *)base;
    const struct sq_row *r;

    if (++it->pos < it->nrows || !it->more)
        return;
    r = &it->rows[it->nrows - 1];
    if (kv_buf_set(&it->last, it->buf + r->koff, r->klen) != KV_OK) {
        it->status = KV_ENOMEM;
        return;
    }
    sq_iter_fetch(it, SQ_GT, it->last.data, it->last.len);
}

static void sq_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    const struct sq_iter *it = (const struct sq_iter *)base;
    const struct sq_row *r = &it->rows[it->pos];

    *k = it->buf + r->koff;
    *n = r->klen;
}

static void sq_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    const struct sq_iter *it = (const struct sq_iter *)base;
    const struct sq_row *r = &it->rows[it->pos];

    *v = it->buf + r->voff;
    *n = r->vlen;
}

static int sq_iter_status(const kv_iter *base)
{
    return ((const struct sq_iter *)base)->status;
}

static void sq_iter_close(kv_iter *base)
{
    struct sq_iter *it = (struct sq_iter *)base;

    kv_free(it->buf);
    kv_buf_free(&it->last);
    kv_free(it);
}

const kv_engine_ops kv_engine_sqlite = {
    .name = "sqlite",
    .summary = "peer: SQLite 3 (one WITHOUT ROWID table, WAL mode)",
    .caps = KV_CAP_ORDERED | KV_CAP_DURABLE | KV_CAP_MULTIPROC,
    .options = sq_options,
    .default_max_key = 64u << 10,
    .limit_max_key = 16u << 20,
    .default_max_value = 64u << 20,
    .limit_max_value = 512u << 20,
    .open = sq_open,
    .close = sq_close,
    .put = sq_put,
    .get = sq_get,
    .del = sq_del,
    .sync = sq_sync,
    .stats = sq_stats,
    .iter_open = sq_iter_open,
    .iter_first = sq_iter_first,
    .iter_seek = sq_iter_seek,
    .iter_valid = sq_iter_valid,
    .iter_next = sq_iter_next,
    .iter_key = sq_iter_key,
    .iter_value = sq_iter_value,
    .iter_status = sq_iter_status,
    .iter_close = sq_iter_close,
};
