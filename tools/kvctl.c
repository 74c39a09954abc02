/*
 * kvctl.c — the command-line tool over any engine, through kv.h alone:
 * flags, the command table, help and main.
 *
 * kvctl opens one engine instance, runs one command on it (or, with
 * `shell`, many), syncs after writes, closes it, and exits. It knows
 * nothing about any engine: it reaches them through the contract (kv_open,
 * kv_put, kv_get, kv_iter_*, ...) and lists them through the generated
 * registry (kv_engine_names and kv_engine_find). So every engine a lab
 * adds to tools/lab.mk is usable from the shell the day it passes the
 * conformance suite. tools/README.md is the user's manual; kvctl.h maps
 * the files.
 *
 *   kvctl [-e ENGINE[:OPTS]] [-d PATH] [-o OPTIONS] [-x] COMMAND [ARGS]
 *
 *   -e ENGINE[:OPTS]  the engine, with options after a colon
 *                     (default: $KVCTL_ENGINE, else "model:durable=true")
 *   -d PATH           its directory (default: $KVCTL_PATH, else "./kvdata"),
 *                     created with its missing parents for engines that
 *                     keep files; in-memory engines ignore it
 *   -o OPTIONS        more options, "key=value,..." (appended to OPTS)
 *   -x                keys and values are given and printed as hex
 *
 * Commands: put KEY VALUE, get KEY, del KEY, scan [--prefix P] [--start K]
 * [--limit N], load FILE, stats, dot [--title T] [FILE], engines, shell,
 * help (see cmd_help below and tools/README.md).
 *
 * One-shot writes (put, del, load) to an engine that is neither durable
 * nor multiproc are refused (exit 2) with an explanation: they would be
 * lost when kvctl exits. `kvctl shell` keeps one store open for many
 * commands.
 *
 * Exit codes:
 *   0  success
 *   1  key not found (get, del)
 *   2  usage error: unknown command or flag, wrong arguments, bad hex in an
 *      argument, a bad --limit (detected before any engine is opened), or
 *      a one-shot write that would be lost (refused after opening)
 *   3  engine error: any other KV_E* status, including an unknown engine
 *      (the message lists the linked ones) or a bad option, and scan on
 *      an engine that can list no keys
 *   4  input/output file error: the load file cannot be read or has a
 *      malformed line, or standard output cannot be written
 * A shell exits with the status of its first failed command (0: none).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvctl.h"

int cmd_help(struct session *s, int argc, char **argv)
{
    (void)s;
    (void)argc;
    (void)argv;
    printf("%s\n\n"
           "kvctl runs one command on one engine instance through the kv.h contract\n"
           "(or, with 'shell', many commands on one open instance).\n\n"
           "Flags:\n"
           "  -e ENGINE[:OPTS]  engine and options (default $KVCTL_ENGINE, else %s)\n"
           "  -d PATH           engine directory, created with its parents\n"
           "                    (default $KVCTL_PATH, else %s)\n"
           "  -o OPTIONS        more options, key=value,...\n"
           "  -x                keys and values given and printed as hex\n\n"
           "Commands:\n"
           "  put KEY VALUE     insert or overwrite\n"
           "  get KEY           print the value (raw bytes; a newline only on a terminal)\n"
           "  del KEY           remove the key\n"
           "  scan [--prefix P] [--start K] [--limit N]\n"
           "                    key<TAB>value lines: in key order on ordered engines, in\n"
           "                    arbitrary order (each key once) on unordered ones\n"
           "  load FILE         put each key<TAB>value line of FILE (- for stdin)\n"
           "  stats             the engine's counters, name<TAB>value\n"
           "  dot [--title T] [FILE]\n"
           "                    btree only: load FILE, print the tree as Graphviz dot\n"
           "  cluster status    raft only: each node's role, term, indexes (kvctl_cluster.c)\n"
           "  cluster add NODE, cluster remove NODE\n"
           "                    raft only: make node NODE a voter, or take it out\n"
           "  verify DIR        cowbtree: check every page of a closed store\n"
           "  dump DIR          cowbtree: print its meta pages and tree pages\n"
           "  logdump DIR       cowbtree: print its commit log\n"
           "  engines           the linked engines, their capabilities and options\n"
           "  shell             read commands from stdin (a terminal or a script), one per\n"
           "                    line, against one open store; quit or end of input leaves\n"
           "  help              this text\n\n"
           "One-shot put, del and load are refused on an engine that is neither durable nor\n"
           "multiproc (hash; model without durable=true): use shell there.\n\n"
           "scan escapes and load decodes \\t \\n \\\\ and \\xNN (other non-printable bytes);\n"
           "with -x both use hex instead.\n\n"
           "Exit codes: 0 success, 1 key not found (get, del), 2 usage error (or a refused\n"
           "one-shot write), 3 engine error (any other KV_E*, e.g. unknown engine or bad\n"
           "option), 4 input/output file error (unreadable or malformed load file).\n",
           KVCTL_USAGE_LINE, KVCTL_DEFAULT_ENGINE, KVCTL_DEFAULT_PATH);
    return KVCTL_OK;
}

/* engine cowbtree: kvctl_cow.c (they read a closed store's files: no session) */
int kvctl_cow_verify(int argc, char **argv);
int kvctl_cow_dump(int argc, char **argv);
int kvctl_cow_logdump(int argc, char **argv);
static int cmd_verify(struct session *s, int argc, char **argv)
{
    (void)s;
    return kvctl_cow_verify(argc, argv);
}
static int cmd_dump(struct session *s, int argc, char **argv)
{
    (void)s;
    return kvctl_cow_dump(argc, argv);
}
static int cmd_logdump(struct session *s, int argc, char **argv)
{
    (void)s;
    return kvctl_cow_logdump(argc, argv);
}

static const struct {
    const char *name;
    cmd_fn fn;
} commands[] = {
    {"put", cmd_put},   {"get", cmd_get},     {"del", cmd_del},         {"scan", cmd_scan},
    {"load", cmd_load}, {"stats", cmd_stats}, {"engines", cmd_engines}, {"help", cmd_help},
    {"dot", cmd_dot},   {"shell", cmd_shell}, {"cluster", cmd_cluster},
    {"verify", cmd_verify}, {"dump", cmd_dump}, {"logdump", cmd_logdump},
};

cmd_fn find_command(const char *name)
{
    for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
        if (!strcmp(name, commands[k].name))
            return commands[k].fn;
    return NULL;
}

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v && *v ? v : def;
}

int main(int argc, char **argv)
{
    struct ctx c = {
        .engine = env_or("KVCTL_ENGINE", KVCTL_DEFAULT_ENGINE),
        .path = env_or("KVCTL_PATH", KVCTL_DEFAULT_PATH),
    };
    struct session s = {.c = &c};
    cmd_fn fn;
    int i, st;

    for (i = 1; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        const char *f = argv[i];

        if (!strcmp(f, "--")) {
            i++;
            break;
        }
        if (!strcmp(f, "-x")) {
            c.hex = true;
        } else if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
            return cmd_help(&s, 0, NULL);
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
    fn = find_command(argv[i]);
    if (!fn)
        return usage_error("unknown command '%s'", argv[i]);
    st = session_end(&s, fn(&s, argc - i - 1, argv + i + 1));
    if (fflush(stdout) != 0 || ferror(stdout)) {
        errf("cannot write standard output: %s", strerror(errno));
        if (st == KVCTL_OK)
            st = KVCTL_FILE;
    }
    return st;
}
