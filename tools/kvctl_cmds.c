/*
 * kvctl_cmds.c — kvctl's data commands: put, get, del, scan, load, stats.
 *
 * Each command checks its arguments first (a usage error opens nothing),
 * then gets the session's store (kvctl_store.c), works through kv.h alone,
 * and returns a KVCTL_* status; the caller closes the store. Writes go
 * through session_writable() (which refuses a one-shot write that would be
 * lost) and end with session_synced().
 *
 * scan walks an ordered engine (KV_CAP_ORDERED) in key order, from --start
 * or --prefix; on an unordered engine with KV_CAP_SCAN it lists every key
 * once in arbitrary order (and says so on stderr): --prefix then filters
 * instead of seeking, and --start, which needs an order, is refused.
 *
 * Callers must not: pass argv strings they need afterwards (keys given
 * with -x are decoded in place).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "kvctl.h"
#include "kvlabs/engine.h"

/* "key not found: KEY", plus why on a store that forgets between runs. */
static void not_found(const struct session *s, const char *key, size_t klen)
{
    char shown[80];
    size_t n = klen < sizeof(shown) - 4 ? klen : sizeof(shown) - 4;

    memcpy(shown, key, n);
    strcpy(shown + n, klen > n ? "..." : "");
    if (s->c->hex)
        errf("key not found (the key given in hex)");
    else if (!s->shell && session_volatile(s))
        errf("key not found: %s (engine '%s' keeps nothing between kvctl runs: use "
             "'kvctl -e %s shell')",
             shown, kv_engine_name(s->db), s->c->engine);
    else
        errf("key not found: %s", shown);
}

int cmd_put(struct session *s, int argc, char **argv)
{
    size_t klen, vlen;
    int st, rc;

    if (argc != 2)
        return usage_error("put: expected KEY VALUE");
    if ((st = arg_bytes(s->c, "key", argv[0], &klen)) ||
        (st = arg_bytes(s->c, "value", argv[1], &vlen)))
        return st;
    if ((st = session_writable(s)))
        return st;
    rc = kv_put(s->db, argv[0], klen, argv[1], vlen);
    if (rc != KV_OK) {
        report(rc, NULL);
        st = KVCTL_ENGINE;
    }
    return session_synced(s, st);
}

int cmd_get(struct session *s, int argc, char **argv)
{
    kv_buf v = {0};
    size_t klen;
    kv_db *db;
    int st, rc;

    if (argc != 1)
        return usage_error("get: expected KEY");
    if ((st = arg_bytes(s->c, "key", argv[0], &klen)) || (st = session_db(s, &db)))
        return st;
    rc = kv_get(db, argv[0], klen, &v);
    if (rc == KV_OK) {
        if (s->c->hex) {
            print_hex(v.data, v.len);
            putchar('\n');
        } else {
            fwrite(v.data, 1, v.len, stdout);
            if (s->shell || isatty(STDOUT_FILENO))
                putchar('\n');
        }
    } else if (rc == KV_ENOTFOUND) {
        not_found(s, argv[0], klen);
        st = KVCTL_NOTFOUND;
    } else {
        report(rc, NULL);
        st = KVCTL_ENGINE;
    }
    kv_buf_free(&v);
    return st;
}

int cmd_del(struct session *s, int argc, char **argv)
{
    size_t klen;
    int st, rc;

    if (argc != 1)
        return usage_error("del: expected KEY");
    if ((st = arg_bytes(s->c, "key", argv[0], &klen)) || (st = session_writable(s)))
        return st;
    rc = kv_delete(s->db, argv[0], klen);
    if (rc == KV_ENOTFOUND) {
        not_found(s, argv[0], klen);
        st = KVCTL_NOTFOUND;
    } else if (rc != KV_OK) {
        report(rc, NULL);
        st = KVCTL_ENGINE;
    }
    return session_synced(s, st);
}

/* ---- scan --------------------------------------------------------------- */

/* The contract's order: memcmp, and on a tie the shorter key first. */
static int key_cmp(const void *a, size_t an, const void *b, size_t bn)
{
    int d = memcmp(a, b, an < bn ? an : bn);

    return d ? d : (an > bn) - (an < bn);
}

static int parse_count(const char *s, uint64_t *out)
{
    char *end;

    if (*s < '0' || *s > '9')
        return -1;
    errno = 0;
    *out = strtoull(s, &end, 10);
    return errno || *end ? -1 : 0;
}

/*
 * Print the keys from the iterator's position on, within prefix and limit.
 * Ordered: the first key outside the prefix ends the scan; unordered: it
 * is skipped.
 */
static int scan_from(kv_iter *it, const struct ctx *c, const char *prefix, size_t plen,
                     uint64_t limit, bool ordered)
{
    uint64_t n = 0;

    for (; n < limit && kv_iter_valid(it); kv_iter_next(it)) {
        const void *k, *v;
        size_t klen, vlen;

        kv_iter_key(it, &k, &klen);
        if (plen && (klen < plen || memcmp(k, prefix, plen))) {
            if (ordered)
                break;
            continue;
        }
        kv_iter_value(it, &v, &vlen);
        if (c->hex) {
            print_hex(k, klen);
            putchar('\t');
            print_hex(v, vlen);
        } else {
            print_escaped(k, klen);
            putchar('\t');
            print_escaped(v, vlen);
        }
        putchar('\n');
        n++;
    }
    return kv_iter_status(it);
}

int cmd_scan(struct session *s, int argc, char **argv)
{
    char *prefix = NULL, *start = NULL;
    size_t plen = 0, slen = 0;
    uint64_t limit = UINT64_MAX;
    bool ordered;
    kv_iter *it;
    kv_db *db;
    int st, rc;

    for (int i = 0; i < argc; i++) {
        const char *flag = argv[i];

        if (strcmp(flag, "--prefix") && strcmp(flag, "--start") && strcmp(flag, "--limit"))
            return usage_error("scan: unknown argument '%s'", flag);
        if (i + 1 == argc)
            return usage_error("scan: %s needs a value", flag);
        if (!strcmp(flag, "--limit")) {
            if (parse_count(argv[++i], &limit))
                return usage_error("scan: --limit needs a decimal count, not '%s'", argv[i]);
        } else if (!strcmp(flag, "--prefix")) {
            prefix = argv[++i];
            if ((st = arg_bytes(s->c, "prefix", prefix, &plen)))
                return st;
        } else {
            start = argv[++i];
            if ((st = arg_bytes(s->c, "start key", start, &slen)))
                return st;
        }
    }
    if ((st = session_db(s, &db)))
        return st;
    ordered = kv_caps(db) & KV_CAP_ORDERED;
    if (!ordered && !(kv_caps(db) & KV_CAP_SCAN)) {
        errf("%s: engine '%s' can list no keys: scan needs KV_CAP_ORDERED or KV_CAP_SCAN",
             kv_strerror(KV_ENOTSUP), kv_engine_name(db));
        return KVCTL_ENGINE;
    }
    if (!ordered && start)
        return usage_error("scan: --start needs key order; engine '%s' is unordered "
                           "(--prefix and --limit work)", kv_engine_name(db));
    rc = kv_iter_open(db, &it);
    if (rc != KV_OK) {
        report(rc, "kv_iter_open");
        return KVCTL_ENGINE;
    }
    if (!ordered)
        errf("engine '%s' is unordered: keys in arbitrary order, each once",
             kv_engine_name(db));
    /* Ordered: start at the larger of --start and --prefix. */
    if (ordered && prefix && (!start || key_cmp(prefix, plen, start, slen) > 0))
        kv_iter_seek(it, prefix, plen);
    else if (ordered && start)
        kv_iter_seek(it, start, slen);
    else
        kv_iter_first(it);
    rc = scan_from(it, s->c, prefix, plen, limit, ordered);
    if (rc != KV_OK) {
        report(rc, "iterator");
        st = KVCTL_ENGINE;
    }
    kv_iter_close(it);
    return st;
}

/* ---- load --------------------------------------------------------------- */

static const char *decode_field(const struct ctx *c, char *p, size_t n, size_t *out)
{
    return c->hex ? unhex((unsigned char *)p, n, out) : unescape((unsigned char *)p, n, out);
}

int load_lines(const struct ctx *c, kv_db *db, FILE *f, const char *name, size_t *count)
{
    char *line = NULL;
    size_t cap = 0, lineno = 0;
    ssize_t got;
    int st = KVCTL_OK;

    while ((got = getline(&line, &cap, f)) >= 0) {
        size_t n = (size_t)got, klen, vlen;
        const char *why = NULL;
        char *tab;
        int rc;

        lineno++;
        if (n && line[n - 1] == '\n')
            n--;
        if (n && line[n - 1] == '\r')
            n--;
        if (n == 0)
            continue;
        tab = memchr(line, '\t', n);
        if (!tab)
            why = "no tab between key and value";
        else if (tab == line)
            why = "empty key";
        else if (!(why = decode_field(c, line, (size_t)(tab - line), &klen)) && klen == 0)
            why = "empty key";
        if (!why)
            why = decode_field(c, tab + 1, n - (size_t)(tab + 1 - line), &vlen);
        if (why) {
            errf("%s: line %zu: malformed line: %s", name, lineno, why);
            st = KVCTL_FILE;
            break;
        }
        rc = kv_put(db, line, klen, tab + 1, vlen);
        if (rc != KV_OK) {
            char where[64];

            snprintf(where, sizeof(where), "line %zu", lineno);
            report(rc, where);
            st = KVCTL_ENGINE;
            break;
        }
        (*count)++;
    }
    if (st == KVCTL_OK && ferror(f)) {
        errf("%s: read error after line %zu: %s", name, lineno, strerror(errno));
        st = KVCTL_FILE;
    }
    free(line);
    return st;
}

int cmd_load(struct session *s, int argc, char **argv)
{
    const char *name;
    size_t count = 0;
    FILE *f;
    int st;

    if (argc != 1)
        return usage_error("load: expected FILE (or - for stdin)");
    if (!strcmp(argv[0], "-") && s->stdin_busy)
        return usage_error("load: the shell reads its commands from stdin; load a file instead");
    name = strcmp(argv[0], "-") ? argv[0] : "stdin";
    f = strcmp(argv[0], "-") ? fopen(argv[0], "rb") : stdin;
    if (!f) {
        errf("cannot open '%s': %s", argv[0], strerror(errno));
        return KVCTL_FILE;
    }
    st = session_writable(s);
    if (st == KVCTL_OK) {
        st = load_lines(s->c, s->db, f, name, &count);
        if (st == KVCTL_OK)
            printf("loaded %zu key%s\n", count, count == 1 ? "" : "s");
        else
            errf("load stopped; the %zu keys before it were loaded", count);
        st = session_synced(s, st);
    }
    if (f != stdin)
        fclose(f);
    return st;
}

/* ---- stats -------------------------------------------------------------- */

static void print_double(const char *name, double v)
{
    /* Whole numbers print as integers (counters kept as doubles); NaN fails both tests. */
    if (v > -9e15 && v < 9e15 && (double)(int64_t)v == v)
        printf("%s\t%" PRId64 "\n", name, (int64_t)v);
    else
        printf("%s\t%.6g\n", name, v);
}

int cmd_stats(struct session *s, int argc, char **argv)
{
    kv_stats st;
    kv_db *db;
    int rc;

    (void)argv;
    if (argc != 0)
        return usage_error("stats: takes no arguments");
    if ((rc = session_db(s, &db)))
        return rc;
    rc = kv_db_stats(db, &st);
    if (rc != KV_OK) {
        report(rc, NULL);
        return KVCTL_ENGINE;
    }
    const struct {
        const char *name;
        uint64_t v;
    } f[] = {
        {"keys", st.keys},
        {"bytes", st.bytes},
        {"mem_bytes", st.mem_bytes},
        {"disk_bytes", st.disk_bytes},
        {"puts", st.puts},
        {"gets", st.gets},
        {"deletes", st.deletes},
        {"user_bytes_written", st.user_bytes_written},
        {"io_bytes_read", st.io_bytes_read},
        {"io_bytes_written", st.io_bytes_written},
        {"io_syncs", st.io_syncs},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        printf("%s\t%" PRIu64 "\n", f[i].name, f[i].v);
    for (unsigned i = 0; i < st.n_extra && i < KV_STATS_EXTRA; i++)
        print_double(st.extra[i].name, st.extra[i].value);
    errf("keys, bytes, mem_bytes and disk_bytes describe the store; puts, gets, deletes, "
         "user_bytes_written and io_* are per process: counted since this %s opened it",
         s->shell ? "shell" : "kvctl run");
    return KVCTL_OK;
}
