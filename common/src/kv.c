/*
 * kv.c — the front end of the engine contract: argument checks and dispatch.
 *
 * Every public kv_* call of kv.h lands here first. The front end does, once
 * for all engines, what each engine would otherwise repeat (and get subtly
 * different): find the engine in the program's registry, parse and check
 * the options (the common `mode=` becomes the file and directory modes
 * in kv_open_args), reject NULL pointers, empty keys and oversized keys and
 * values, count operations, and keep the iterator bookkeeping. Then it calls
 * the engine through its kv_engine_ops table: this file is the sprint-1
 * callback dispatcher grown up.
 *
 * What callers must not do: call kv_close() while another thread still uses
 * the handle, or close a handle with iterators open (debug builds assert).
 */
#include <assert.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

/* The names of the linked engines, generated beside kv_registry. */
extern const char *const kv_registry_names[];

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void run_inits(void)
{
    for (size_t i = 0; kv_registry_inits[i]; i++)
        kv_registry_inits[i]();
}

void kv_registry_init(void)
{
    pthread_once(&init_once, run_inits);
}

const kv_engine_ops *kv_engine_find(const char *name, size_t len)
{
    kv_registry_init();
    for (size_t i = 0; kv_registry[i]; i++)
        if (strlen(kv_registry[i]->name) == len && !strncmp(kv_registry[i]->name, name, len))
            return kv_registry[i];
    return NULL;
}

const char *const *kv_engine_names(void)
{
    kv_registry_init();
    return kv_registry_names;
}

int kv_buf_set(kv_buf *b, const void *p, size_t n)
{
    if (n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        void *d;

        while (cap < n + 1)
            cap = cap > SIZE_MAX / 2 ? n + 1 : cap * 2;
        d = kv_realloc(b->data, cap);
        if (!d) {
            b->len = 0;
            return kv_fail(KV_ENOMEM, "out of memory growing a buffer to %zu bytes", cap);
        }
        b->data = d;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data, p, n);
    ((char *)b->data)[n] = '\0';
    b->len = n;
    return KV_OK;
}

void kv_stats_add_extra(kv_stats *out, const char *name, double value)
{
    struct kv_stat_extra *x;

    if (out->n_extra >= KV_STATS_EXTRA)
        return;
    x = &out->extra[out->n_extra++];
    snprintf(x->name, sizeof(x->name), "%s", name);
    x->value = value;
}

void kv_buf_free(kv_buf *b)
{
    if (!b)
        return;
    kv_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

/* "engine:opts" + "options" → one option text "opts,options". */
static char *join_options(const char *suffix, const char *options)
{
    size_t a = suffix ? strlen(suffix) : 0, b = options ? strlen(options) : 0;
    char *t = kv_malloc(a + b + 2);

    if (!t)
        return NULL;
    snprintf(t, a + b + 2, "%s,%s", suffix ? suffix : "", options ? options : "");
    return t;
}

/*
 * Resolve max_key/max_value against the engine's default and upper bound.
 * An explicit 0 is honoured (max_value=0 admits only empty values; max_key
 * has a minimum of 1 in the options table).
 */
static int resolve_limit(const kv_opts *opts, const char *what, size_t def, size_t limit,
                         size_t *out)
{
    uint64_t given = kv_opts_u64(opts, what);

    if (!kv_opts_given(opts, what)) {
        *out = def;
        return KV_OK;
    }
    if (given > limit)
        return kv_fail(KV_EINVAL, "%s=%llu exceeds the engine's limit %zu", what,
                       (unsigned long long)given, limit);
    *out = (size_t)given;
    return KV_OK;
}

static int parse_engine_opts(const kv_engine_ops *ops, const char *suffix, const char *options,
                             kv_opts **opts)
{
    char *text = join_options(suffix, options);
    int rc;

    if (!text)
        return kv_fail(KV_ENOMEM, "out of memory parsing options");
    rc = kv_opts_parse(ops->options, text, opts);
    kv_free(text);
    if (rc != KV_OK) {
        char why[KV_ERROR_MAX];
        snprintf(why, sizeof(why), "%s", kv_last_error());
        kv_fail(rc, "engine '%s': %s", ops->name, why);
    }
    return rc;
}

int kv_open_env(const char *engine, const char *path, const char *options, const kv_env *env,
                kv_db **out)
{
    const kv_engine_ops *ops;
    const char *colon;
    kv_opts *opts = NULL;
    kv_open_args args;
    size_t max_key = 0, max_value = 0;
    kv_db *db = NULL;
    int rc;

    kv_clear_error();
    if (!engine || !out || !env)
        return kv_fail(KV_EINVAL, "kv_open: engine, env and out must not be NULL");
    colon = strchr(engine, ':');
    ops = kv_engine_find(engine, colon ? (size_t)(colon - engine) : strlen(engine));
    if (!ops)
        return kv_fail(KV_EINVAL, "unknown engine '%.*s' (see kv_engine_names)",
                       colon ? (int)(colon - engine) : (int)strlen(engine), engine);
    rc = parse_engine_opts(ops, colon ? colon + 1 : NULL, options, &opts);
    if (rc != KV_OK)
        return rc;
    rc = resolve_limit(opts, "max_key", ops->default_max_key, ops->limit_max_key, &max_key);
    if (rc == KV_OK)
        rc = resolve_limit(opts, "max_value", ops->default_max_value, ops->limit_max_value,
                           &max_value);
    if (rc != KV_OK)
        goto out_free_opts;

    args = (kv_open_args){.path = path, .env = env, .opts = opts, .common = kv_opts_common(opts)};
    args.file_mode = args.common->mode;
    args.dir_mode = kv_mode_dir_of(args.file_mode);
    rc = ops->open(&args, &db);
    if (rc != KV_OK)
        goto out_free_opts;
    assert(db);
    db->ops = ops;
    db->env = env;
    if (!db->caps)
        db->caps = ops->caps;
    /* An engine may have fixed its limits itself (e.g. stored at creation);
     * it signals that with base.limits_set, and only explicit options then
     * lower them. */
    if (!db->limits_set || (kv_opts_given(opts, "max_key") && db->max_key > max_key))
        db->max_key = max_key;
    if (!db->limits_set || (kv_opts_given(opts, "max_value") && db->max_value > max_value))
        db->max_value = max_value;
    atomic_init(&db->open_iters, 0);
    atomic_init(&db->n_puts, 0);
    for (unsigned i = 0; i < KV_GET_STRIPES; i++)
        atomic_init(&db->n_gets[i].v, 0);
    atomic_init(&db->n_deletes, 0);
    atomic_init(&db->n_user_bytes, 0);
    kv_env_get_counters(env, &db->env_at_open);
    *out = db;

out_free_opts:
    kv_opts_free(opts);
    return rc;
}

int kv_open(const char *engine, const char *path, const char *options, kv_db **out)
{
    return kv_open_env(engine, path, options, kv_env_posix(), out);
}

int kv_close(kv_db *db)
{
    kv_clear_error();
    if (!db)
        return KV_OK;
    assert(atomic_load(&db->open_iters) == 0 && "kv_close with iterators still open");
    return db->ops->close(db);
}

/* Every call starts with an empty detail, so a failure that sets none never
 * shows the detail of an earlier, unrelated call (kv_last_error). */
static int check_key(const kv_db *db, const void *key, size_t klen)
{
    kv_clear_error();
    if (!db)
        return kv_fail(KV_EINVAL, "NULL kv_db handle");
    if (klen == 0)
        return kv_fail(KV_EINVAL, "empty key");
    if (!key)
        return kv_fail(KV_EINVAL, "NULL key with length %zu", klen);
    if (klen > db->max_key)
        return kv_fail(KV_ETOOBIG, "key of %zu bytes exceeds max_key=%zu", klen, db->max_key);
    return KV_OK;
}

int kv_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    int rc = check_key(db, key, klen);

    if (rc != KV_OK)
        return rc;
    if (!val && vlen)
        return kv_fail(KV_EINVAL, "NULL value with length %zu", vlen);
    if (vlen > db->max_value)
        return kv_fail(KV_ETOOBIG, "value of %zu bytes exceeds max_value=%zu", vlen,
                       db->max_value);
    rc = db->ops->put(db, key, klen, val ? val : "", vlen);
    if (rc == KV_OK) {
        atomic_fetch_add_explicit(&db->n_puts, 1, memory_order_relaxed);
        atomic_fetch_add_explicit(&db->n_user_bytes, klen + vlen, memory_order_relaxed);
    }
    return rc;
}

/* This thread's stripe of kv_db::n_gets: threads take stripes in turn. */
static unsigned get_stripe(void)
{
    static atomic_uint next;
    static _Thread_local unsigned mine; /* stripe + 1; 0: not chosen yet */

    if (!mine)
        mine = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed) % KV_GET_STRIPES + 1;
    return mine - 1;
}

int kv_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    int rc;

    if (val)
        val->len = 0;
    rc = check_key(db, key, klen);
    if (rc != KV_OK)
        return rc;
    atomic_fetch_add_explicit(&db->n_gets[get_stripe()].v, 1, memory_order_relaxed);
    rc = db->ops->get(db, key, klen, val);
    if (rc != KV_OK && val)
        val->len = 0;
    return rc;
}

int kv_delete(kv_db *db, const void *key, size_t klen)
{
    int rc = check_key(db, key, klen);

    if (rc != KV_OK)
        return rc;
    rc = db->ops->del(db, key, klen);
    if (rc == KV_OK)
        atomic_fetch_add_explicit(&db->n_deletes, 1, memory_order_relaxed);
    return rc;
}

int kv_sync(kv_db *db)
{
    kv_clear_error();
    if (!db)
        return kv_fail(KV_EINVAL, "NULL kv_db handle");
    return db->ops->sync ? db->ops->sync(db) : KV_OK;
}

int kv_iter_open(kv_db *db, kv_iter **out)
{
    int rc;

    kv_clear_error();
    if (!db || !out)
        return kv_fail(KV_EINVAL, "kv_iter_open: NULL argument");
    if (!(db->caps & (KV_CAP_ORDERED | KV_CAP_SCAN)) || !db->ops->iter_open)
        return kv_fail(KV_ENOTSUP, "engine '%s' has no iterators (neither ordered nor scan)",
                       db->ops->name);
    rc = db->ops->iter_open(db, out);
    if (rc == KV_OK) {
        (*out)->db = db;
        (*out)->front_status = KV_OK;
        atomic_fetch_add(&db->open_iters, 1);
    }
    return rc;
}

void kv_iter_first(kv_iter *it)
{
    it->front_status = KV_OK;
    it->db->ops->iter_first(it);
}

/* An unordered (KV_CAP_SCAN) engine cannot seek: the cursor becomes invalid with KV_ENOTSUP. */
void kv_iter_seek(kv_iter *it, const void *key, size_t klen)
{
    if (!(it->db->caps & KV_CAP_ORDERED) || !it->db->ops->iter_seek) {
        it->front_status = kv_fail(KV_ENOTSUP, "engine '%s' is unordered: kv_iter_seek is not "
                                               "supported (use kv_iter_first)", it->db->ops->name);
        return;
    }
    it->front_status = KV_OK;
    it->db->ops->iter_seek(it, key, key ? klen : 0);
}

bool kv_iter_valid(const kv_iter *it)
{
    return it->front_status == KV_OK && it->db->ops->iter_valid(it);
}

void kv_iter_next(kv_iter *it)
{
    assert(kv_iter_valid(it));
    it->db->ops->iter_next(it);
}

void kv_iter_key(const kv_iter *it, const void **key, size_t *klen)
{
    assert(kv_iter_valid(it));
    it->db->ops->iter_key(it, key, klen);
}

void kv_iter_value(const kv_iter *it, const void **val, size_t *vlen)
{
    assert(kv_iter_valid(it));
    it->db->ops->iter_value(it, val, vlen);
}

int kv_iter_status(const kv_iter *it)
{
    if (it->front_status != KV_OK)
        return it->front_status;
    return it->db->ops->iter_status ? it->db->ops->iter_status(it) : KV_OK;
}

void kv_iter_close(kv_iter *it)
{
    kv_db *db;

    if (!it)
        return;
    db = it->db;
    db->ops->iter_close(it);
    atomic_fetch_sub(&db->open_iters, 1);
}

int kv_db_stats(kv_db *db, kv_stats *out)
{
    kv_env_counters now;
    int rc = KV_OK;

    if (!db || !out)
        return kv_fail(KV_EINVAL, "kv_db_stats: NULL argument");
    memset(out, 0, sizeof(*out));
    if (db->ops->stats)
        rc = db->ops->stats(db, out);
    out->puts = atomic_load(&db->n_puts);
    out->gets = 0;
    for (unsigned i = 0; i < KV_GET_STRIPES; i++)
        out->gets += atomic_load(&db->n_gets[i].v);
    out->deletes = atomic_load(&db->n_deletes);
    out->user_bytes_written = atomic_load(&db->n_user_bytes);
    kv_env_get_counters(db->env, &now);
    out->io_bytes_read = now.bytes_read - db->env_at_open.bytes_read;
    out->io_bytes_written = now.bytes_written - db->env_at_open.bytes_written;
    out->io_syncs = now.syncs - db->env_at_open.syncs;
    return rc;
}

unsigned kv_caps(const kv_db *db)
{
    return db ? db->caps : 0;
}

const char *kv_engine_name(const kv_db *db)
{
    return db ? db->ops->name : "";
}
