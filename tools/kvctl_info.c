/*
 * kvctl_info.c — kvctl's descriptive commands: engines (what is linked,
 * with capabilities, limits and options) and dot (engine btree drawn as a
 * Graphviz digraph).
 *
 * engines reads the registry only (kv_engine_names, kv_engine_find): it
 * opens no store. Option ranges of size options print as people write
 * them (buckets [1..1T], not [1..1.09951e+12]).
 *
 * dot opens the store, loads an optional TSV file into it (load's format)
 * and prints the tree; the B+ tree lives in memory, so the file is what
 * gives it its keys. Another engine is KV_ENOTSUP (exit 3).
 *
 * Callers must not: expect dot's loaded keys to outlive the run.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "btree.h"
#include "kvctl.h"
#include "kvctl_cluster.h"
#include "kvlabs/engine.h"
#include "kvlabs/opts.h"

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
        {KV_CAP_ORDERED, "ordered"},     {KV_CAP_SCAN, "scan (unordered)"},
        {KV_CAP_DURABLE, "durable"},     {KV_CAP_SNAPSHOT, "snapshot"},
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
    if (o->min < o->max) {
        char lo[32], hi[32];

        if (o->type == KV_OPT_SIZE) {
            fmt_size(lo, sizeof(lo), o->min);
            fmt_size(hi, sizeof(hi), o->max);
        } else if (o->type == KV_OPT_UINT) {
            snprintf(lo, sizeof(lo), "%.0f", o->min);
            snprintf(hi, sizeof(hi), "%.0f", o->max);
        } else {
            snprintf(lo, sizeof(lo), "%g", o->min);
            snprintf(hi, sizeof(hi), "%g", o->max);
        }
        printf(" [%s..%s]", lo, hi);
    }
    printf("\tdefault %s\t%s\n", o->def ? o->def : "(unset)", o->help ? o->help : "");
}

int cmd_engines(struct session *s, int argc, char **argv)
{
    const char *const *names = kv_engine_names();

    (void)s;
    (void)argv;
    if (argc != 0)
        return usage_error("engines: takes no arguments");
    for (size_t i = 0; names[i]; i++) {
        const kv_engine_ops *ops = kv_engine_find(names[i], strlen(names[i]));
        char mk[32], lk[32], mv[32], lv[32];

        if (!ops)
            continue;
        printf("%s\t%s\n", ops->name, ops->summary ? ops->summary : "");
        print_caps(ops->caps);
        fmt_size(mk, sizeof(mk), (double)ops->default_max_key);
        fmt_size(lk, sizeof(lk), (double)ops->limit_max_key);
        fmt_size(mv, sizeof(mv), (double)ops->default_max_value);
        fmt_size(lv, sizeof(lv), (double)ops->limit_max_value);
        printf("  limits: max_key %s (up to %s), max_value %s (up to %s)\n", mk, lk, mv, lv);
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

static int dot_write(void *arg, const char *str, size_t n)
{
    return fwrite(str, 1, n, arg) == n ? 0 : 1;
}

int cmd_dot(struct session *s, int argc, char **argv)
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
        if (!strcmp(file, "-") && s->stdin_busy)
            return usage_error("dot: the shell reads its commands from stdin; give a file");
        name = strcmp(file, "-") ? file : "stdin";
        f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        if (!f) {
            errf("cannot open '%s': %s", file, strerror(errno));
            return KVCTL_FILE;
        }
    }
    st = session_db(s, &db);
    if (st == KVCTL_OK) {
        t = btree_engine_tree(db);
        if (!t) {
            errf("%s: dot draws engine btree only, not '%s'", kv_strerror(KV_ENOTSUP),
                 s->c->engine);
            st = KVCTL_ENGINE;
        } else if (f) {
            st = load_lines(s->c, db, f, name, &count);
        }
        if (st == KVCTL_OK && bpt_dot(t, title, dot_write, stdout) != BPT_OK) {
            errf("cannot write standard output: %s", strerror(errno));
            st = KVCTL_FILE;
        }
    }
    if (f && f != stdin)
        fclose(f);
    return st;
}

/* ---- cluster (engine raft: kvctl_cluster.c) ------------------------------ */

int cmd_cluster(struct session *s, int argc, char **argv)
{
    kv_db *db;
    int st = session_db(s, &db);

    if (st == KVCTL_OK)
        st = kvctl_cluster(db, s->c->engine, argc, argv);
    return st;
}
