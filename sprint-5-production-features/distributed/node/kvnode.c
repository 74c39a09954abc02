/*
 * kvnode.c — the kvnode program: flags or a config file into kvnode_opts,
 * then the event loop (kvnode_loop.c); and `kvnode cluster up N --dir DIR`,
 * which starts a local N-node cluster for a newcomer.
 *
 *   kvnode --id I --cluster FILE --dir DIR [--tick-ms MS] [--election-ticks T]
 *          [--heartbeat-ticks T] [--snapshot-every N] [--max-frame BYTES] [--join]
 *   kvnode --config FILE      one "key = value" a line, keys as the flags
 *                             without "--" (id, cluster, dir, tick-ms ...);
 *                             flags after --config override it
 *   kvnode cluster up N --dir DIR [--base-port P] [node flags ...]
 *
 * `cluster up` picks N free loopback ports (or P .. P+N-1), writes
 * DIR/cluster.conf (one address a line: what `kv_open("raft", KEYSPACE,
 * "cluster=DIR/cluster.conf")` reads), starts node i as this same program
 * with its data in DIR/n<i> and its log in DIR/n<i>.log, prints the
 * endpoints and waits. On SIGINT or SIGTERM it sends SIGTERM to every node
 * it started, waits for them (SIGKILL after 5 s) and exits. A node that
 * dies meanwhile is reported, not restarted.
 *
 * --join starts a node that is not one of the cluster's first nodes: its
 * address is a line appended to the cluster file, and it waits (a
 * non-voter) until `kvctl cluster add I` makes the leader add it. Without
 * it, a node's first start takes every line of the file as the first
 * configuration. Either is recorded in DIR/voters at the first start.
 *
 * Callers must not run two `cluster up` on one DIR at once (the nodes'
 * DIR/n<i>/LOCK files refuse the second one's nodes).
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvnode_int.h"
#include "raft_net.h"

static void usage(void)
{
    fprintf(stderr,
            "usage: kvnode --id I --cluster FILE --dir DIR [--tick-ms MS] [--election-ticks T]\n"
            "              [--heartbeat-ticks T] [--snapshot-every N] [--max-frame BYTES]\n"
            "              [--join]   (a node added later: kvctl cluster add I)\n"
            "       kvnode --config FILE [flags]\n"
            "       kvnode cluster up N --dir DIR [--base-port P] [node flags]\n");
}

static int set_u(const char *key, const char *val, unsigned long long lo, unsigned long long hi,
                 unsigned long long *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(val, &end, 10);
    if (errno || *end || end == val || v < lo || v > hi) {
        fprintf(stderr, "kvnode: %s=%s: expected an integer in [%llu, %llu]\n", key, val, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

/* One option (a flag's name without "--"); 0, or -1 after printing why. */
static int set_opt(kvnode_opts *o, const char *key, const char *val)
{
    unsigned long long v;
    if (strcmp(key, "cluster") == 0 || strcmp(key, "dir") == 0) {
        char *dst = key[0] == 'c' ? o->cluster : o->dir;
        if (strlen(val) >= sizeof o->dir) {
            fprintf(stderr, "kvnode: %s: path too long\n", key);
            return -1;
        }
        strcpy(dst, val);
        return 0;
    }
    if (strcmp(key, "id") == 0 && set_u(key, val, 0, RAFT_MAX_NODES - 1, &v) == 0)
        o->id = (uint32_t)v;
    else if (strcmp(key, "tick-ms") == 0 && set_u(key, val, 1, 1000, &v) == 0)
        o->tick_ms = (unsigned)v;
    else if (strcmp(key, "election-ticks") == 0 && set_u(key, val, 2, 100000, &v) == 0)
        o->election_ticks = (unsigned)v;
    else if (strcmp(key, "heartbeat-ticks") == 0 && set_u(key, val, 1, 100000, &v) == 0)
        o->heartbeat_ticks = (unsigned)v;
    else if (strcmp(key, "snapshot-every") == 0 && set_u(key, val, 0, UINT64_MAX, &v) == 0)
        o->snapshot_every = v;
    else if (strcmp(key, "max-frame") == 0 && set_u(key, val, 4096, 1u << 30, &v) == 0)
        o->max_frame = (uint32_t)v;
    else if (strcmp(key, "join") == 0 && set_u(key, val, 0, 1, &v) == 0)
        o->join = v != 0;
    else {
        if (strcmp(key, "id") && strcmp(key, "tick-ms") && strcmp(key, "election-ticks") &&
            strcmp(key, "heartbeat-ticks") && strcmp(key, "snapshot-every") &&
            strcmp(key, "max-frame") && strcmp(key, "join"))
            fprintf(stderr, "kvnode: unknown option %s\n", key);
        return -1;
    }
    return 0;
}

static int read_config(kvnode_opts *o, const char *path)
{
    kv_file *f;
    char buf[16384];
    size_t got;
    if (kv_env_open(kv_env_posix(), path, KV_O_RDONLY, &f) ||
        kv_file_pread(f, buf, sizeof buf - 1, 0, &got)) {
        fprintf(stderr, "kvnode: cannot read %s\n", path);
        return -1;
    }
    kv_file_close(f);
    buf[got] = '\0';
    for (char *line = buf, *next; line; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *eq = strchr(line, '=');
        if (line[strspn(line, " \t\r")] == '\0' || line[strspn(line, " \t")] == '#')
            continue;
        if (eq == NULL) {
            fprintf(stderr, "kvnode: %s: \"%s\" is not key = value\n", path, line);
            return -1;
        }
        *eq = '\0';
        char *k = line + strspn(line, " \t"), *v = eq + 1 + strspn(eq + 1, " \t");
        for (char *e = eq - 1; e >= k && (*e == ' ' || *e == '\t'); e--)
            *e = '\0';
        v[strcspn(v, " \t\r")] = '\0';
        if (set_opt(o, k, v))
            return -1;
    }
    return 0;
}

static int parse_flags(kvnode_opts *o, int argc, char **argv, int first, int *extra_at)
{
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--join") == 0) { /* the one flag without a value */
            o->join = true;
            continue;
        }
        if (strncmp(argv[i], "--", 2) != 0 || i + 1 == argc) {
            fprintf(stderr, "kvnode: unexpected argument %s\n", argv[i]);
            return -1;
        }
        const char *key = argv[i] + 2, *val = argv[++i];
        if (strcmp(key, "config") == 0) {
            if (read_config(o, val))
                return -1;
        } else if (extra_at && strcmp(key, "base-port") == 0) {
            *extra_at = i;
        } else if (set_opt(o, key, val)) {
            return -1;
        }
    }
    return 0;
}

/* ---- cluster up ---------------------------------------------------------------- */

static volatile sig_atomic_t up_stop;
static void on_up_signal(int sig) { (void)sig; up_stop = 1; }

static int free_ports(unsigned n, unsigned base, unsigned *ports)
{
    int fds[RAFT_MAX_NODES];
    unsigned i;
    int rc = 0;
    for (i = 0; i < n; i++) {
        if (base) {
            ports[i] = base + i;
            continue;
        }
        struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
        socklen_t sl = sizeof sa;
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        if (fds[i] < 0 || bind(fds[i], (struct sockaddr *)&sa, sizeof sa) ||
            getsockname(fds[i], (struct sockaddr *)&sa, &sl)) {
            rc = -1;
            break;
        }
        ports[i] = ntohs(sa.sin_port);
    }
    if (!base)
        for (unsigned j = 0; j < i; j++)
            close(fds[j]);
    return rc;
}

static int cluster_up(int argc, char **argv)
{
    kvnode_opts o = { 0 };
    unsigned long long n;
    int base_at = 0;
    if (argc < 4 || strcmp(argv[2], "up") != 0 || set_u("N", argv[3], 1, RAFT_MAX_NODES, &n) ||
        parse_flags(&o, argc, argv, 4, &base_at) || o.dir[0] == '\0') {
        usage();
        return 2;
    }
    unsigned long long base = 0;
    if (base_at && set_u("base-port", argv[base_at], 1, 65535 - RAFT_MAX_NODES, &base))
        return 2;
    const kv_env *env = kv_env_posix();
    char path[4200], conf[4200 + 64];
    unsigned ports[RAFT_MAX_NODES];
    kv_file *f;
    if (kv_env_mkdir_durable(env, o.dir) || free_ports((unsigned)n, (unsigned)base, ports)) {
        fprintf(stderr, "kvnode cluster up: %s\n", kv_last_error());
        return 1;
    }
    snprintf(path, sizeof path, "%s/cluster.conf", o.dir);
    int off = 0;
    for (unsigned i = 0; i < n; i++)
        off += snprintf(conf + off, sizeof conf - (size_t)off, "127.0.0.1:%u\n", ports[i]);
    if (kv_env_open(env, path, KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, &f) ||
        kv_file_pwrite(f, conf, (size_t)off, 0) || kv_file_sync(f) || kv_file_close(f)) {
        fprintf(stderr, "kvnode cluster up: %s: %s\n", path, kv_last_error());
        return 1;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_up_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    pid_t pids[RAFT_MAX_NODES] = { 0 };
    for (unsigned i = 0; i < n; i++) {
        char id[16], ndir[4200], log[4200];
        snprintf(id, sizeof id, "%u", i);
        snprintf(ndir, sizeof ndir, "%s/n%u", o.dir, i);
        snprintf(log, sizeof log, "%s/n%u.log", o.dir, i);
        pids[i] = fork();
        if (pids[i] == 0) {
            /* the log is the child's stderr: plumbing, not storage */
            int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
            if (fd >= 0) {
                dup2(fd, 1);
                dup2(fd, 2);
                close(fd);
            }
            char *args[64];
            int k = 0;
            args[k++] = "kvnode";
            args[k++] = "--id";
            args[k++] = id;
            args[k++] = "--cluster";
            args[k++] = path;
            for (int j = 4; j < argc && k < 58; j++) {
                if (strcmp(argv[j], "--dir") == 0 || strcmp(argv[j], "--base-port") == 0) {
                    j++;
                    continue;
                }
                args[k++] = argv[j];
            }
            args[k++] = "--dir";
            args[k++] = ndir;
            args[k] = NULL;
            execv("/proc/self/exe", args);
            _exit(127);
        }
        printf("node %u: 127.0.0.1:%u  data %s  log %s  pid %d\n", i, ports[i], ndir, log,
               (int)pids[i]);
    }
    printf("cluster file: %s\n  kvctl: kv_open(\"raft\", KEYSPACE, \"cluster=%s\")\n"
           "Ctrl-C stops every node.\n", path, path);
    fflush(stdout);
    unsigned alive = (unsigned)n;
    while (alive && !up_stop) {
        int st;
        pid_t p = waitpid(-1, &st, 0);
        if (p < 0)
            continue; /* EINTR: a signal arrived */
        for (unsigned i = 0; i < n; i++)
            if (pids[i] == p) {
                printf("node %u (pid %d) exited (%s %d)\n", i, (int)p,
                       WIFSIGNALED(st) ? "signal" : "status",
                       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
                pids[i] = 0;
                alive--;
            }
    }
    for (unsigned i = 0; i < n; i++)
        if (pids[i])
            kill(pids[i], SIGTERM);
    for (int t = 0; t < 500 && alive; t++) {
        for (unsigned i = 0; i < n; i++)
            if (pids[i] && waitpid(pids[i], NULL, WNOHANG) == pids[i]) {
                pids[i] = 0;
                alive--;
            }
        struct timespec ts = { 0, 10000000 };
        nanosleep(&ts, NULL);
    }
    for (unsigned i = 0; i < n; i++)
        if (pids[i]) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
    printf("cluster stopped\n");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "cluster") == 0)
        return cluster_up(argc, argv);
    kvnode_opts o = { .tick_ms = 10, .election_ticks = 30, .heartbeat_ticks = 10,
                      .snapshot_every = 10000, .max_frame = KVN_MAX_FRAME };
    if (argc < 2 || parse_flags(&o, argc, argv, 1, NULL)) {
        usage();
        return 2;
    }
    if (o.cluster[0] == '\0' || o.dir[0] == '\0') {
        fprintf(stderr, "kvnode: --cluster and --dir are required\n");
        usage();
        return 2;
    }
    if (o.election_ticks < 2 * o.heartbeat_ticks) {
        fprintf(stderr, "kvnode: election-ticks must be at least twice heartbeat-ticks\n");
        return 2;
    }
    return kvnode_serve(&o) == KV_OK ? 0 : 1;
}
