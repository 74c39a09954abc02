/*
 * kvctl.c — the command-line tool over any engine, through kv.h alone.
 *
 * kvctl opens one engine instance, runs one command on it, syncs and
 * closes it, and exits. It knows nothing about any engine: it reaches
 * them through the contract (kv_open, kv_put, kv_get, kv_iter_*, ...) and
 * lists them through the generated registry (kv_engine_names and
 * kv_engine_find, whose tables give each engine's summary, capabilities
 * and option spec). So every engine a lab adds to tools/lab.mk is usable
 * from the shell the day it passes the conformance suite: poke at it,
 * load a file into it, scan it, read its counters.
 *
 *   kvctl [-e ENGINE[:OPTS]] [-d PATH] [-o OPTIONS] [-x] COMMAND [ARGS]
 *
 *   -e ENGINE[:OPTS]  the engine, with options after a colon
 *                     (default: $KVCTL_ENGINE, else "model:durable=true")
 *   -d PATH           its directory (default: $KVCTL_PATH, else "./kvdata");
 *                     in-memory engines ignore it
 *   -o OPTIONS        more options, "key=value,..." (appended to OPTS)
 *   -x                keys and values are given and printed as hex
 *
 * Commands:
 *
 *   put KEY VALUE     insert or overwrite
 *   get KEY           print the value: its raw bytes exactly, with one
 *                     newline added only when stdout is a terminal (so
 *                     `kvctl get k > f` stores the value byte for byte);
 *                     with -x, hex and a newline
 *   del KEY           remove the key
 *   scan [--prefix P] [--start K] [--limit N]
 *                     print key<TAB>value per line in key order, from the
 *                     first key >= K, only keys starting with P, at most N
 *                     lines; keys and values escaped (below), or hex with
 *                     -x. Ordered engines only (KV_CAP_ORDERED).
 *   load FILE         put every line of a TSV file ("-": stdin), reporting
 *                     the count loaded. A line is key<TAB>value: the key
 *                     ends at the first tab, the value is the rest of the
 *                     line. Fields are escaped like scan's output, so a
 *                     scan can be loaded back; with -x they are hex. Blank
 *                     lines are skipped and one '\r' before the newline is
 *                     dropped (CRLF files). A line with no tab, an empty
 *                     key, a bad escape or bad hex stops the load with an
 *                     error naming the line number; the lines before it
 *                     stay loaded (and are synced).
 *   stats             every kv_stats counter, name<TAB>value per line,
 *                     the engine's extra counters included
 *   dot [--title T] [FILE]
 *                     engine btree only: load FILE first if given (lines
 *                     like load's; "-": stdin), then print the tree as a
 *                     Graphviz digraph (`kvctl -e btree:order=4 dot k.tsv |
 *                     dot -Tsvg > tree.svg`): nodes with their keys, child
 *                     edges, dashed leaf links. The tree lives in memory,
 *                     so the file is what gives it its keys. Another
 *                     engine is an engine error (KV_ENOTSUP, exit 3).
 *   engines           every engine linked into kvctl: summary,
 *                     capabilities, limits, and options (type, default, help)
 *   help              this summary
 *
 * Escapes (scan output, load input): \t tab, \n newline, \\ backslash,
 * \xNN any other byte outside printable ASCII (0x20..0x7e). A backslash
 * followed by anything else is an error in load. Command-line KEY and VALUE
 * are taken literally (no escapes): use -x for bytes the shell cannot pass,
 * such as NUL.
 *
 * Exit codes:
 *
 *   0  success
 *   1  key not found (get, del)
 *   2  usage error: unknown command or flag, wrong arguments, bad hex in an
 *      argument, a bad --limit. Detected by kvctl before any engine runs.
 *   3  engine error: any other KV_E* status, including kv_open's KV_EINVAL
 *      for an unknown engine or a bad option (the message names it), and
 *      scan on an engine that is not ordered
 *   4  input/output file error: the load file cannot be read or has a
 *      malformed line, or standard output cannot be written
 *
 * Engine errors are printed to stderr as "kvctl: <kv_strerror>: <kv_last_error>".
 * Mutating commands (put, del, load) end with kv_sync(); every command that
 * opens the engine ends with kv_close(); a failure of either is reported and
 * turns a successful exit into 3.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "btree.h"
#include "kvlabs/engine.h"
#include "kvlabs/kv.h"
#include "kvlabs/opts.h"

enum {
    KVCTL_OK = 0,
    KVCTL_NOTFOUND = 1,
    KVCTL_USAGE = 2,
    KVCTL_ENGINE = 3,
    KVCTL_FILE = 4,
};

#define DEFAULT_ENGINE "model:durable=true"
#define DEFAULT_PATH   "./kvdata"
#define USAGE_LINE     "usage: kvctl [-e ENGINE[:OPTS]] [-d PATH] [-o OPTIONS] [-x] COMMAND [ARGS]"

/* What the global flags chose, shared by every command. */
struct ctx {
    const char *engine;  /* "name[:opts]" */
    const char *path;    /* the engine's directory */
    const char *options; /* -o, or NULL */
    bool hex;            /* -x */
};

/* ---- messages ----------------------------------------------------------- */

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
    va_list ap;

    fputs("kvctl: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n%s\nRun 'kvctl help' for the commands.\n", USAGE_LINE);
    return KVCTL_USAGE;
}

/* Report a KV_E* status in the one format every engine error uses. */
static void report(int status, const char *context)
{
    const char *detail = kv_last_error();

    fprintf(stderr, "kvctl: %s", kv_strerror(status));
    if (*detail)
        fprintf(stderr, ": %s", detail);
    if (context)
        fprintf(stderr, " (%s)", context);
    fputc('\n', stderr);
}

/* ---- bytes in and out: hex and escapes ---------------------------------- */

static int hex_digit(int ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decode n hex digits at p in place; *out gets the byte count. NULL or the reason. */
static const char *unhex(unsigned char *p, size_t n, size_t *out)
{
    if (n % 2)
        return "odd number of hex digits";
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_digit(p[i]), lo = hex_digit(p[i + 1]);

        if (hi < 0 || lo < 0)
            return "not a hex digit";
        p[i / 2] = (unsigned char)(hi << 4 | lo);
    }
    *out = n / 2;
    return NULL;
}

/* Decode the escapes \t \n \\ \xNN of n bytes at p in place. NULL or the reason. */
static const char *unescape(unsigned char *p, size_t n, size_t *out)
{
    size_t w = 0;

    for (size_t r = 0; r < n; r++) {
        if (p[r] != '\\') {
            p[w++] = p[r];
            continue;
        }
        if (++r == n)
            return "backslash at the end of a field";
        switch (p[r]) {
        case 't': p[w++] = '\t'; break;
        case 'n': p[w++] = '\n'; break;
        case '\\': p[w++] = '\\'; break;
        case 'x': {
            int hi = r + 2 < n ? hex_digit(p[r + 1]) : -1;
            int lo = hi >= 0 ? hex_digit(p[r + 2]) : -1;

            if (hi < 0 || lo < 0)
                return "\\x needs two hex digits";
            p[w++] = (unsigned char)(hi << 4 | lo);
            r += 2;
            break;
        }
        default: return "unknown escape (use \\t \\n \\\\ or \\xNN)";
        }
    }
    *out = w;
    return NULL;
}

static void print_hex(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++)
        printf("%02x", b[i]);
}

static void print_escaped(const void *p, size_t n)
{
    const unsigned char *b = p;

    for (size_t i = 0; i < n; i++) {
        if (b[i] == '\t')
            fputs("\\t", stdout);
        else if (b[i] == '\n')
            fputs("\\n", stdout);
        else if (b[i] == '\\')
            fputs("\\\\", stdout);
        else if (b[i] < 0x20 || b[i] > 0x7e)
            printf("\\x%02x", b[i]);
        else
            putchar(b[i]);
    }
}

/* A command-line KEY or VALUE: literal, or hex decoded in place with -x. */
static int arg_bytes(const struct ctx *c, const char *what, char *arg, size_t *len)
{
    const char *why;

    *len = strlen(arg);
    if (!c->hex)
        return KVCTL_OK;
    why = unhex((unsigned char *)arg, *len, len);
    if (why) {
        fprintf(stderr, "kvctl: bad hex %s '%s': %s\n", what, arg, why);
        return KVCTL_USAGE;
    }
    return KVCTL_OK;
}

/* ---- opening and closing ------------------------------------------------ */

static int open_db(const struct ctx *c, kv_db **db)
{
    int rc = kv_open(c->engine, c->path, c->options, db);

    if (rc != KV_OK) {
        report(rc, NULL);
        return KVCTL_ENGINE;
    }
    return KVCTL_OK;
}

/* Sync (mutating commands) and close; a failure turns success into 3. */
static int finish(kv_db *db, bool mutating, int status)
{
    int rc;

    if (mutating) {
        rc = kv_sync(db);
        if (rc != KV_OK) {
            report(rc, "kv_sync");
            if (status == KVCTL_OK)
                status = KVCTL_ENGINE;
        }
    }
    rc = kv_close(db);
    if (rc != KV_OK) {
        report(rc, "kv_close");
        if (status == KVCTL_OK)
            status = KVCTL_ENGINE;
    }
    return status;
}

/* ---- put, get, del ------------------------------------------------------ */

static int cmd_put(const struct ctx *c, int argc, char **argv)
{
    size_t klen, vlen;
    kv_db *db;
    int st, rc;

    if (argc != 2)
        return usage_error("put: expected KEY VALUE");
    if ((st = arg_bytes(c, "key", argv[0], &klen)) || (st = arg_bytes(c, "value", argv[1], &vlen)))
        return st;
    if ((st = open_db(c, &db)))
        return st;
    rc = kv_put(db, argv[0], klen, argv[1], vlen);
    if (rc != KV_OK) {
        report(rc, NULL);
        st = KVCTL_ENGINE;
    }
    return finish(db, true, st);
}

static int cmd_get(const struct ctx *c, int argc, char **argv)
{
    kv_buf v = {0};
    size_t klen;
    kv_db *db;
    int st, rc;

    if (argc != 1)
        return usage_error("get: expected KEY");
    if ((st = arg_bytes(c, "key", argv[0], &klen)))
        return st;
    if ((st = open_db(c, &db)))
        return st;
    rc = kv_get(db, argv[0], klen, &v);
    if (rc == KV_OK) {
        if (c->hex) {
            print_hex(v.data, v.len);
            putchar('\n');
        } else {
            fwrite(v.data, 1, v.len, stdout);
            if (isatty(STDOUT_FILENO))
                putchar('\n');
        }
    } else {
        report(rc, NULL);
        st = rc == KV_ENOTFOUND ? KVCTL_NOTFOUND : KVCTL_ENGINE;
    }
    kv_buf_free(&v);
    return finish(db, false, st);
}

static int cmd_del(const struct ctx *c, int argc, char **argv)
{
    size_t klen;
    kv_db *db;
    int st, rc;

    if (argc != 1)
        return usage_error("del: expected KEY");
    if ((st = arg_bytes(c, "key", argv[0], &klen)))
        return st;
    if ((st = open_db(c, &db)))
        return st;
    rc = kv_delete(db, argv[0], klen);
    if (rc != KV_OK) {
        report(rc, NULL);
        st = rc == KV_ENOTFOUND ? KVCTL_NOTFOUND : KVCTL_ENGINE;
    }
    return finish(db, true, st);
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

/* Print the keys from the iterator's position on, within prefix and limit. */
static int scan_from(kv_iter *it, const struct ctx *c, const char *prefix, size_t plen,
                     uint64_t limit)
{
    for (uint64_t n = 0; n < limit && kv_iter_valid(it); n++, kv_iter_next(it)) {
        const void *k, *v;
        size_t klen, vlen;

        kv_iter_key(it, &k, &klen);
        if (plen && (klen < plen || memcmp(k, prefix, plen)))
            break;
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
    }
    return kv_iter_status(it);
}

static int cmd_scan(const struct ctx *c, int argc, char **argv)
{
    char *prefix = NULL, *start = NULL;
    size_t plen = 0, slen = 0;
    uint64_t limit = UINT64_MAX;
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
            if ((st = arg_bytes(c, "prefix", prefix, &plen)))
                return st;
        } else {
            start = argv[++i];
            if ((st = arg_bytes(c, "start key", start, &slen)))
                return st;
        }
    }
    if ((st = open_db(c, &db)))
        return st;
    if (!(kv_caps(db) & KV_CAP_ORDERED)) {
        fprintf(stderr, "kvctl: %s: engine '%s' is not ordered: scan needs KV_CAP_ORDERED\n",
                kv_strerror(KV_ENOTSUP), kv_engine_name(db));
        return finish(db, false, KVCTL_ENGINE);
    }
    rc = kv_iter_open(db, &it);
    if (rc != KV_OK) {
        report(rc, "kv_iter_open");
        return finish(db, false, KVCTL_ENGINE);
    }
    /* Start at the larger of --start and --prefix. */
    if (prefix && (!start || key_cmp(prefix, plen, start, slen) > 0))
        kv_iter_seek(it, prefix, plen);
    else if (start)
        kv_iter_seek(it, start, slen);
    else
        kv_iter_first(it);
    rc = scan_from(it, c, prefix, plen, limit);
    if (rc != KV_OK) {
        report(rc, "iterator");
        st = KVCTL_ENGINE;
    }
    kv_iter_close(it);
    return finish(db, false, st);
}

/* ---- load --------------------------------------------------------------- */

/* Decode one field of a TSV line in place: hex with -x, else escapes. */
static const char *decode_field(const struct ctx *c, char *p, size_t n, size_t *out)
{
    return c->hex ? unhex((unsigned char *)p, n, out) : unescape((unsigned char *)p, n, out);
}

/*
 * Put the lines of f one by one. Returns the exit status; *count gets the
 * keys loaded. A bad line or a failed put stops the load there.
 */
static int load_lines(const struct ctx *c, kv_db *db, FILE *f, const char *name, size_t *count)
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
            fprintf(stderr, "kvctl: %s: line %zu: malformed line: %s\n", name, lineno, why);
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
        fprintf(stderr, "kvctl: %s: read error after line %zu: %s\n", name, lineno,
                strerror(errno));
        st = KVCTL_FILE;
    }
    free(line);
    return st;
}

static int cmd_load(const struct ctx *c, int argc, char **argv)
{
    const char *name;
    size_t count = 0;
    kv_db *db;
    FILE *f;
    int st;

    if (argc != 1)
        return usage_error("load: expected FILE (or - for stdin)");
    name = strcmp(argv[0], "-") ? argv[0] : "stdin";
    f = strcmp(argv[0], "-") ? fopen(argv[0], "rb") : stdin;
    if (!f) {
        fprintf(stderr, "kvctl: cannot open '%s': %s\n", argv[0], strerror(errno));
        return KVCTL_FILE;
    }
    st = open_db(c, &db);
    if (st == KVCTL_OK) {
        st = load_lines(c, db, f, name, &count);
        if (st == KVCTL_OK)
            printf("loaded %zu key%s\n", count, count == 1 ? "" : "s");
        else
            fprintf(stderr, "kvctl: load stopped; the %zu keys before it were loaded\n", count);
        st = finish(db, true, st);
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

static int cmd_stats(const struct ctx *c, int argc, char **argv)
{
    kv_stats s;
    kv_db *db;
    int st, rc;

    (void)argv;
    if (argc != 0)
        return usage_error("stats: takes no arguments");
    if ((st = open_db(c, &db)))
        return st;
    rc = kv_db_stats(db, &s);
    if (rc != KV_OK) {
        report(rc, NULL);
        return finish(db, false, KVCTL_ENGINE);
    }
    const struct {
        const char *name;
        uint64_t v;
    } f[] = {
        {"keys", s.keys},
        {"bytes", s.bytes},
        {"mem_bytes", s.mem_bytes},
        {"disk_bytes", s.disk_bytes},
        {"puts", s.puts},
        {"gets", s.gets},
        {"deletes", s.deletes},
        {"user_bytes_written", s.user_bytes_written},
        {"io_bytes_read", s.io_bytes_read},
        {"io_bytes_written", s.io_bytes_written},
        {"io_syncs", s.io_syncs},
    };
    for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
        printf("%s\t%" PRIu64 "\n", f[i].name, f[i].v);
    for (unsigned i = 0; i < s.n_extra && i < KV_STATS_EXTRA; i++)
        print_double(s.extra[i].name, s.extra[i].value);
    return finish(db, false, KVCTL_OK);
}

/* ---- engines ------------------------------------------------------------ */

static const char *type_name(kv_opt_type t)
{
    switch (t) {
    case KV_OPT_BOOL: return "bool";
    case KV_OPT_UINT: return "uint";
    case KV_OPT_SIZE: return "size";
    case KV_OPT_DOUBLE: return "double";
    case KV_OPT_ENUM: return "enum";
    case KV_OPT_STRING: return "string";
    case KV_OPT_MODE: return "mode (octal)";
    }
    return "?";
}

static void print_caps(unsigned caps)
{
    static const struct {
        unsigned bit;
        const char *name;
    } cap[] = {
        {KV_CAP_ORDERED, "ordered"},
        {KV_CAP_DURABLE, "durable"},
        {KV_CAP_SNAPSHOT, "snapshot"},
        {KV_CAP_MULTIPROC, "multiproc"},
    };
    const char *sep = "";

    fputs("  capabilities: ", stdout);
    for (size_t i = 0; i < sizeof(cap) / sizeof(cap[0]); i++)
        if (caps & cap[i].bit) {
            printf("%s%s", sep, cap[i].name);
            sep = ", ";
        }
    puts(*sep ? "" : "none (in memory, unordered)");
}

static void print_option(const kv_opt_spec *o)
{
    printf("    %s\t%s", o->name, type_name(o->type));
    if (o->type == KV_OPT_ENUM && o->choices)
        printf(" (%s)", o->choices);
    if (o->min < o->max)
        printf(" [%g..%g]", o->min, o->max);
    printf("\tdefault %s\t%s\n", o->def ? o->def : "(unset)", o->help ? o->help : "");
}

static int cmd_engines(const struct ctx *c, int argc, char **argv)
{
    const char *const *names = kv_engine_names();

    (void)c;
    (void)argv;
    if (argc != 0)
        return usage_error("engines: takes no arguments");
    for (size_t i = 0; names[i]; i++) {
        const kv_engine_ops *ops = kv_engine_find(names[i], strlen(names[i]));

        if (!ops)
            continue;
        printf("%s\t%s\n", ops->name, ops->summary ? ops->summary : "");
        print_caps(ops->caps);
        printf("  limits: max_key %zu (up to %zu), max_value %zu (up to %zu)\n",
               ops->default_max_key, ops->limit_max_key, ops->default_max_value,
               ops->limit_max_value);
        puts("  options:");
        if (!ops->options || !ops->options[0].name)
            puts("    (none of its own)");
        for (const kv_opt_spec *o = ops->options; o && o->name; o++)
            print_option(o);
    }
    puts("Every engine also accepts the common options sync=none|batch|always, sync_ms=N,\n"
         "cache=SIZE, max_key=SIZE, max_value=SIZE and mode=OCTAL (files it creates, default\n"
         "0600; directories 0700) (see kvlabs/kv.h and kvlabs/opts.h).");
    return KVCTL_OK;
}

/* ---- dot (engine btree) --------------------------------------------------- */

static int dot_write(void *arg, const char *s, size_t n)
{
    return fwrite(s, 1, n, arg) == n ? 0 : 1;
}

static int cmd_dot(const struct ctx *c, int argc, char **argv)
{
    const char *title = NULL, *file = NULL, *name = NULL;
    size_t count = 0;
    FILE *f = NULL;
    bpt_tree *t;
    kv_db *db;
    int st;

    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--title") && i + 1 < argc)
            title = argv[++i];
        else if (argv[i][0] == '-' && argv[i][1])
            return usage_error("dot: unknown argument '%s'", argv[i]);
        else if (!file)
            file = argv[i];
        else
            return usage_error("dot: expected at most one FILE");
    }
    if (file) {
        name = strcmp(file, "-") ? file : "stdin";
        f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        if (!f) {
            fprintf(stderr, "kvctl: cannot open '%s': %s\n", file, strerror(errno));
            return KVCTL_FILE;
        }
    }
    st = open_db(c, &db);
    if (st == KVCTL_OK) {
        t = btree_engine_tree(db);
        if (!t) {
            fprintf(stderr, "kvctl: %s: dot draws engine btree only, not '%s'\n",
                    kv_strerror(KV_ENOTSUP), c->engine);
            st = KVCTL_ENGINE;
        } else if (f) {
            st = load_lines(c, db, f, name, &count);
        }
        if (st == KVCTL_OK && bpt_dot(t, title, dot_write, stdout) != BPT_OK) {
            fprintf(stderr, "kvctl: cannot write standard output: %s\n", strerror(errno));
            st = KVCTL_FILE;
        }
        st = finish(db, false, st);
    }
    if (f && f != stdin)
        fclose(f);
    return st;
}

/* ---- help and dispatch -------------------------------------------------- */

static int cmd_help(const struct ctx *c, int argc, char **argv)
{
    (void)c;
    (void)argc;
    (void)argv;
    printf("%s\n\n"
           "kvctl runs one command on one engine instance through the kv.h contract.\n\n"
           "Flags:\n"
           "  -e ENGINE[:OPTS]  engine and options (default $KVCTL_ENGINE, else %s)\n"
           "  -d PATH           engine directory (default $KVCTL_PATH, else %s)\n"
           "  -o OPTIONS        more options, key=value,...\n"
           "  -x                keys and values given and printed as hex\n\n"
           "Commands:\n"
           "  put KEY VALUE     insert or overwrite\n"
           "  get KEY           print the value (raw bytes; a newline only on a terminal)\n"
           "  del KEY           remove the key\n"
           "  scan [--prefix P] [--start K] [--limit N]\n"
           "                    key<TAB>value lines in key order (ordered engines only)\n"
           "  load FILE         put each key<TAB>value line of FILE (- for stdin)\n"
           "  stats             the engine's counters, name<TAB>value\n"
           "  dot [--title T] [FILE]\n"
           "                    btree only: load FILE, print the tree as Graphviz dot\n"
           "  verify DIR        cowbtree: check every page of a closed store\n"
           "  dump DIR          cowbtree: print its meta pages and tree pages\n"
           "  logdump DIR       cowbtree: print its commit log\n"
           "  engines           the linked engines, their capabilities and options\n"
           "  help              this text\n\n"
           "scan escapes and load decodes \\t \\n \\\\ and \\xNN (other non-printable bytes);\n"
           "with -x both use hex instead.\n\n"
           "Exit codes: 0 success, 1 key not found (get, del), 2 usage error,\n"
           "3 engine error (any other KV_E*, e.g. unknown engine or bad option),\n"
           "4 input/output file error (unreadable or malformed load file).\n",
           USAGE_LINE, DEFAULT_ENGINE, DEFAULT_PATH);
    return KVCTL_OK;
}

typedef int (*cmd_fn)(const struct ctx *c, int argc, char **argv);

/* engine cowbtree: kvctl_cow.c (they read a closed store's files: no ctx) */
int kvctl_cow_verify(int argc, char **argv);
int kvctl_cow_dump(int argc, char **argv);
int kvctl_cow_logdump(int argc, char **argv);
static int cmd_verify(const struct ctx *c, int argc, char **argv)
{
    (void)c;
    return kvctl_cow_verify(argc, argv);
}
static int cmd_dump(const struct ctx *c, int argc, char **argv)
{
    (void)c;
    return kvctl_cow_dump(argc, argv);
}
static int cmd_logdump(const struct ctx *c, int argc, char **argv)
{
    (void)c;
    return kvctl_cow_logdump(argc, argv);
}

static const struct {
    const char *name;
    cmd_fn fn;
} commands[] = {
    {"put", cmd_put},   {"get", cmd_get},     {"del", cmd_del},         {"scan", cmd_scan},
    {"load", cmd_load}, {"stats", cmd_stats}, {"engines", cmd_engines}, {"help", cmd_help},
    {"dot", cmd_dot},
    {"verify", cmd_verify}, {"dump", cmd_dump}, {"logdump", cmd_logdump},
};

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v && *v ? v : def;
}

int main(int argc, char **argv)
{
    struct ctx c = {
        .engine = env_or("KVCTL_ENGINE", DEFAULT_ENGINE),
        .path = env_or("KVCTL_PATH", DEFAULT_PATH),
    };
    int i, st = -1;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *f = argv[i];

        if (!strcmp(f, "--")) {
            i++;
            break;
        }
        if (!strcmp(f, "-x")) {
            c.hex = true;
        } else if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
            return cmd_help(&c, 0, NULL);
        } else if (!strcmp(f, "-e") || !strcmp(f, "-d") || !strcmp(f, "-o")) {
            if (i + 1 == argc)
                return usage_error("flag %s needs a value", f);
            const char *v = argv[++i];
            if (f[1] == 'e')
                c.engine = v;
            else if (f[1] == 'd')
                c.path = v;
            else
                c.options = v;
        } else {
            return usage_error("unknown flag '%s'", f);
        }
    }
    if (i == argc)
        return usage_error("no command given");
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (!strcmp(argv[i], commands[k].name))
            st = commands[k].fn(&c, argc - i - 1, argv + i + 1);
    if (st < 0)
        return usage_error("unknown command '%s'", argv[i]);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "kvctl: cannot write standard output: %s\n", strerror(errno));
        if (st == KVCTL_OK)
            st = KVCTL_FILE;
    }
    return st;
}
