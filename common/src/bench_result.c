/*
 * bench_result.c - benchmark results as schema-checked JSON files.
 *
 * Every benchmark repeat ends here: the harness fills a kv_bench_result,
 * this file turns it into the JSON document of common/schema/results.schema.json,
 * checks the document against that schema, and writes it. Reports, the
 * regression gate and the graders read only such files, so a file that
 * exists is a file that is complete and valid.
 *
 * Interface: kv_bench_result_to_json() builds the document (members in the
 * schema's order), kv_bench_result_write() validates and writes it,
 * kv_bench_result_validate_file() re-checks a file, and
 * kv_bench_result_filename() names it.
 *
 * How a write stays atomic. The text goes to "<path>.tmp.<pid>" (the pid
 * keeps concurrent writers of the same name apart), which is fsynced and
 * then renamed over <path>; rename() replaces a name atomically, so a
 * reader sees the old file or the new one, never a mixture. Finally the
 * directory is fsynced so that the rename itself survives a power cut. On
 * any failure the temporary file is unlinked. The schema check comes
 * before any of this, so a refused result leaves nothing behind.
 *
 * The schema is the text compiled into the program (kv_results_schema_json,
 * generated from common/schema/results.schema.json), parsed on each use: a few
 * microseconds, next to a benchmark run, and no shared state between threads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/bench.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"

/* Largest result file kv_bench_result_validate_file() reads. */
#define RESULT_FILE_MAX (64u << 20)

static int64_t clamp_u64(uint64_t v)
{
    return v > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)v;
}

void kv_bench_latency_from_hist(kv_bench_latency *lat, const kv_hist *h)
{
    lat->count = clamp_u64(kv_hist_count(h));
    lat->min = clamp_u64(kv_hist_min(h));
    lat->mean = kv_hist_mean(h);
    lat->p50 = clamp_u64(kv_hist_percentile(h, 50.0));
    lat->p90 = clamp_u64(kv_hist_percentile(h, 90.0));
    lat->p99 = clamp_u64(kv_hist_percentile(h, 99.0));
    lat->p999 = clamp_u64(kv_hist_percentile(h, 99.9));
    lat->max = clamp_u64(kv_hist_max(h));
}

/* ---- building the document --------------------------------------------- */

/** @brief One integer member to set. */
struct int_field {
    const char *name; /**< member name */
    int64_t value;    /**< its value */
};

/* Set each integer member in turn; the first failure stops. */
static int set_ints(kv_json *o, const struct int_field *f, size_t n)
{
    int rc = KV_OK;
    for (size_t i = 0; i < n && rc == KV_OK; i++)
        rc = kv_json_set_int(o, f[i].name, f[i].value);
    return rc;
}

#define SET_INTS(o, fields) set_ints((o), (fields), sizeof(fields) / sizeof((fields)[0]))

/* A string member, left out when s is NULL (the schema then reports it). */
static int set_str_opt(kv_json *o, const char *key, const char *s)
{
    return s != NULL ? kv_json_set_str(o, key, s) : KV_OK;
}

/* Attach sub (built with status sub_rc) as doc[key], or free it and fail. */
static int attach(kv_json *doc, const char *key, kv_json *sub, int sub_rc)
{
    if (sub_rc != KV_OK) {
        kv_json_free(sub);
        return sub_rc;
    }
    return kv_json_set_obj(doc, key, sub);
}

static kv_json *params_json(const kv_bench_params *p, int *rc)
{
    const struct int_field f[] = {
        {"n", p->n},         {"key_size", p->key_size}, {"value_size", p->value_size},
        {"threads", p->threads}, {"procs", p->procs},   {"seed", p->seed},
        {"warmup_ops", p->warmup_ops}, {"warmup_ns", p->warmup_ns},
    };
    kv_json *o = kv_json_new_object();
    *rc = o ? SET_INTS(o, f) : KV_ENOMEM;
    return o;
}

static kv_json *latency_json(const kv_bench_result *r, int *rc)
{
    kv_bench_latency l = r->latency;
    if (r->hist != NULL)
        kv_bench_latency_from_hist(&l, r->hist);
    const struct int_field head[] = {{"count", l.count}, {"min", l.min}};
    const struct int_field tail[] = {{"p50", l.p50}, {"p90", l.p90}, {"p99", l.p99},
                                     {"p999", l.p999}, {"max", l.max}};
    kv_json *o = kv_json_new_object();
    *rc = o ? SET_INTS(o, head) : KV_ENOMEM;
    if (*rc == KV_OK)
        *rc = kv_json_set_num(o, "mean", l.mean);
    if (*rc == KV_OK)
        *rc = SET_INTS(o, tail);
    return o;
}

static kv_json *result_json(const kv_bench_result *r, int *rc)
{
    const struct int_field head[] = {{"ops", r->ops}, {"elapsed_ns", r->elapsed_ns}};
    const struct int_field tail[] = {
        {"bytes_written", r->bytes_written}, {"bytes_read", r->bytes_read},
        {"disk_bytes", r->disk_bytes},       {"mem_bytes", r->mem_bytes},
        {"user_bytes_written", r->user_bytes_written}, {"errors", r->errors},
    };
    kv_json *o = kv_json_new_object();
    *rc = o ? SET_INTS(o, head) : KV_ENOMEM;
    if (*rc == KV_OK)
        *rc = kv_json_set_num(o, "ops_per_sec", r->ops_per_sec);
    if (*rc == KV_OK) {
        int lat_rc;
        kv_json *lat = latency_json(r, &lat_rc);
        *rc = attach(o, "latency_ns", lat, lat_rc);
    }
    if (*rc == KV_OK)
        *rc = SET_INTS(o, tail);
    return o;
}

static kv_json *meta_json(const kv_bench_meta *m, int *rc)
{
    const char *const strs[][2] = {
        {"timestamp", m->timestamp}, {"host", m->host}, {"cpu", m->cpu},
    };
    const char *const strs2[][2] = {
        {"fs", m->fs}, {"compiler", m->compiler}, {"cflags", m->cflags},
        {"git_rev", m->git_rev}, {"kvlabs_version", m->kvlabs_version},
    };
    const struct int_field ints[] = {{"cores", m->cores}, {"ram_bytes", m->ram_bytes}};
    kv_json *o = kv_json_new_object();
    *rc = o ? KV_OK : KV_ENOMEM;
    for (size_t i = 0; i < sizeof strs / sizeof strs[0] && *rc == KV_OK; i++)
        *rc = kv_json_set_str(o, strs[i][0], strs[i][1]);
    if (*rc == KV_OK)
        *rc = SET_INTS(o, ints);
    for (size_t i = 0; i < sizeof strs2 / sizeof strs2[0] && *rc == KV_OK; i++)
        *rc = kv_json_set_str(o, strs2[i][0], strs2[i][1]);
    return o;
}

static kv_json *extra_json(const kv_bench_result *r, int *rc)
{
    kv_json *o = kv_json_new_object();
    *rc = o ? KV_OK : KV_ENOMEM;
    for (size_t i = 0; i < r->n_extra && *rc == KV_OK; i++) {
        const kv_bench_extra *e = &r->extra[i];
        if (e->name == NULL || e->name[0] == '\0')
            *rc = kv_fail(KV_EINVAL, "bench result: extra #%zu has no name", i);
        else if (kv_json_get(o, e->name) != NULL)
            *rc = kv_fail(KV_EINVAL, "bench result: extra \"%s\" given twice", e->name);
        else
            *rc = kv_json_set_num(o, e->name, e->value);
    }
    return o;
}

int kv_bench_result_to_json(const kv_bench_result *r, const kv_bench_meta *meta, kv_json **out)
{
    if (r == NULL || out == NULL)
        return kv_fail(KV_EINVAL, "kv_bench_result_to_json: NULL argument");
    if (r->n_extra > 0 && r->extra == NULL)
        return kv_fail(KV_EINVAL, "kv_bench_result_to_json: n_extra > 0 but extra is NULL");

    kv_json *doc = kv_json_new_object();
    int rc = doc ? kv_json_set_int(doc, "schema_version", KV_BENCH_SCHEMA_VERSION) : KV_ENOMEM;
    if (rc == KV_OK)
        rc = set_str_opt(doc, "engine", r->engine);
    if (rc == KV_OK)
        rc = set_str_opt(doc, "options", r->options);
    if (rc == KV_OK)
        rc = set_str_opt(doc, "workload", r->workload);
    if (rc == KV_OK)
        rc = kv_json_set_int(doc, "repeat", r->repeat);
    int sub_rc;
    kv_json *sub;
    if (rc == KV_OK) {
        sub = params_json(&r->params, &sub_rc);
        rc = attach(doc, "params", sub, sub_rc);
    }
    if (rc == KV_OK) {
        sub = result_json(r, &sub_rc);
        rc = attach(doc, "result", sub, sub_rc);
    }
    if (rc == KV_OK && meta != NULL) {
        sub = meta_json(meta, &sub_rc);
        rc = attach(doc, "meta", sub, sub_rc);
    }
    if (rc == KV_OK && r->n_extra > 0) {
        sub = extra_json(r, &sub_rc);
        rc = attach(doc, "extra", sub, sub_rc);
    }
    if (rc != KV_OK) {
        kv_json_free(doc);
        return rc;
    }
    *out = doc;
    return KV_OK;
}

/* ---- schema --------------------------------------------------------------- */

static int load_schema(kv_json **schema)
{
    int rc = kv_json_parse(kv_results_schema_json, strlen(kv_results_schema_json), schema);
    if (rc == KV_EINVAL) {
        char why[KV_ERROR_MAX];
        snprintf(why, sizeof why, "%s", kv_last_error());
        rc = kv_fail(KV_EINVAL, "the compiled-in results schema is malformed: %s", why);
    }
    return rc;
}

/* ---- files ---------------------------------------------------------------- */

/* kv_fail_errno with "<op> <file>" as the description. */
static int fail_io(int err, const char *op, const char *file)
{
    char what[KV_ERROR_MAX];
    if (snprintf(what, sizeof what, "%s %s", op, file) >= (int)sizeof what)
        memcpy(what + sizeof what - 4, "...", 4); /* long path: cut, and say so */
    return kv_fail_errno(kv_status_from_errno(err), err, what);
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        p += w, n -= (size_t)w;
    }
    return 0;
}

/* fsync the directory holding path; file systems that cannot are let off. */
static int sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (slash == NULL)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else if ((size_t)(slash - path) < sizeof dir)
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    else
        return KV_OK; /* too long to name here; the data itself is synced */
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return fail_io(errno, "open", dir);
    int rc = KV_OK;
    if (fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
        rc = fail_io(errno, "fsync", dir);
    close(fd);
    return rc;
}

/* Replace path by text + "\n" atomically. */
static int write_atomic(const char *path, const char *text)
{
    size_t tlen = strlen(path) + 32;
    char *tmp = kv_malloc(tlen);
    if (tmp == NULL)
        return kv_fail(KV_ENOMEM, "bench result: out of memory");
    snprintf(tmp, tlen, "%s.tmp.%ld", path, (long)getpid());

    int rc = KV_OK, err;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = fail_io(errno, "open", tmp);
        goto out_free_tmp;
    }
    if ((err = write_all(fd, text, strlen(text))) != 0 || (err = write_all(fd, "\n", 1)) != 0) {
        rc = fail_io(err, "write", tmp);
        close(fd);
        goto out_unlink;
    }
    if (fsync(fd) != 0) {
        rc = fail_io(errno, "fsync", tmp);
        close(fd);
        goto out_unlink;
    }
    if (close(fd) != 0) {
        rc = fail_io(errno, "close", tmp);
        goto out_unlink;
    }
    if (rename(tmp, path) != 0) {
        rc = fail_io(errno, "rename to", path);
        goto out_unlink;
    }
    rc = sync_parent_dir(path);
    goto out_free_tmp;

out_unlink:
    unlink(tmp);
out_free_tmp:
    kv_free(tmp);
    return rc;
}

int kv_bench_result_write(const kv_bench_result *r, const kv_bench_meta *meta, const char *path)
{
    kv_json *doc = NULL, *schema = NULL;
    char *text = NULL, why[KV_ERROR_MAX];
    int rc;

    if (r == NULL || meta == NULL || path == NULL)
        return kv_fail(KV_EINVAL, "kv_bench_result_write: NULL argument");
    if ((rc = kv_bench_result_to_json(r, meta, &doc)) != KV_OK)
        goto out;
    if ((rc = load_schema(&schema)) != KV_OK)
        goto out;
    if (kv_json_validate(schema, doc, why, sizeof why) != KV_OK) {
        rc = kv_fail(KV_EINVAL, "result does not match the schema: %s", why);
        goto out;
    }
    if ((text = kv_json_dump(doc, true)) == NULL) {
        rc = KV_ENOMEM; /* detail set by kv_json_dump */
        goto out;
    }
    rc = write_atomic(path, text);
out:
    kv_free(text);
    kv_json_free(schema);
    kv_json_free(doc);
    return rc;
}

/* Read a whole (regular, not too large) file into a new buffer. */
static int read_file(const char *path, char **out, size_t *len)
{
    struct stat st;
    int rc = KV_OK;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return fail_io(errno, "open", path);
    if (fstat(fd, &st) != 0) {
        rc = fail_io(errno, "fstat", path);
        goto out_close;
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)RESULT_FILE_MAX) {
        rc = kv_fail(KV_EINVAL, "%s: not a regular file of at most %u bytes", path, RESULT_FILE_MAX);
        goto out_close;
    }
    size_t cap = (size_t)st.st_size, n = 0;
    char *buf = kv_malloc(cap + 1);
    if (buf == NULL) {
        rc = kv_fail(KV_ENOMEM, "bench result: out of memory");
        goto out_close;
    }
    while (n < cap) {
        ssize_t k = read(fd, buf + n, cap - n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0) {
            rc = fail_io(errno, "read", path);
            kv_free(buf);
            goto out_close;
        }
        if (k == 0)
            break; /* the file shrank: parse what there is */
        n += (size_t)k;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
out_close:
    close(fd);
    return rc;
}

int kv_bench_result_validate_file(const char *path, char *err, size_t errlen)
{
    kv_json *doc = NULL, *schema = NULL;
    char *text = NULL;
    size_t len = 0;
    int rc;

    if (err != NULL && errlen > 0)
        err[0] = '\0';
    if (path == NULL)
        rc = kv_fail(KV_EINVAL, "kv_bench_result_validate_file: NULL path");
    else if ((rc = read_file(path, &text, &len)) == KV_OK &&
             (rc = kv_json_parse(text, len, &doc)) == KV_OK &&
             (rc = load_schema(&schema)) == KV_OK)
        rc = kv_json_validate(schema, doc, err, errlen);
    if (rc != KV_OK && err != NULL && errlen > 0 && err[0] == '\0')
        snprintf(err, errlen, "%s", kv_last_error());
    kv_json_free(schema);
    kv_json_free(doc);
    kv_free(text);
    return rc;
}

/* Whether c may appear in a result file name as is. */
static int name_char_ok(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           c == '_' || c == '.' || c == '-';
}

const char *kv_bench_result_filename(char *buf, size_t n, const char *engine,
                                     const char *workload, unsigned repeat)
{
    if (buf != NULL && n > 0)
        buf[0] = '\0';
    if (buf == NULL || engine == NULL || workload == NULL || !*engine || !*workload) {
        kv_fail(KV_EINVAL, "kv_bench_result_filename: NULL or empty argument");
        return NULL;
    }
    int len = snprintf(buf, n, "%s.%s.r%u.json", engine, workload, repeat);
    if (len < 0 || (size_t)len >= n) {
        if (n > 0)
            buf[0] = '\0';
        kv_fail(KV_ETOOBIG, "kv_bench_result_filename: name needs %d bytes, buffer has %zu",
                len + 1, n);
        return NULL;
    }
    size_t le = strlen(engine), lw = strlen(workload);
    for (size_t i = 0; i < le + 1 + lw; i++)
        if (i != le && !name_char_ok(buf[i]))
            buf[i] = '_';
    return buf;
}
