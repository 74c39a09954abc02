/*
 * members.c — membership changes on real processes: `kvctl cluster
 * add/remove` (kv_raft_change_member(), the admin frame) against kvnode
 * processes (the kvnode beside this binary) on loopback.
 *
 * One cluster, one story, each step a test (a step that cannot run because
 * an earlier one failed fails with that reason):
 *
 *   add_catches_up       3 nodes with data; a 4th started with --join
 *                        (its line appended to the cluster file) is added:
 *                        it becomes a voter and applies everything
 *   remove_stops_counting  a follower is removed: its kvnode learns it
 *                        (a peer answers its PreVote "not a member") and
 *                        exits 0 within REMOVED_MS, saying why in its log,
 *                        while the others run on; another original
 *                        follower is killed: the leader and the new node
 *                        (2 of the 3 voters left) still commit, and the
 *                        old data reads back (were the removed node still
 *                        counted, 2 of 4 would be no quorum)
 *   bad_requests         an unknown node (no line in the client's file;
 *                        no line in the nodes' file, refused by the
 *                        leader), removing a non-member, adding a voter
 *                        (nothing to do), a malformed admin frame
 *   change_in_flight     a learner whose kvnode never starts: a second
 *                        change is refused while it waits, and the add
 *                        ends in KV_EBUSY saying it did not catch up
 *   no_leader            with no quorum left, a change ends in KV_EBUSY
 *                        within its budget
 *   remove_leader        the two killed voters restarted from their data;
 *                        the leader removes itself: the change is answered,
 *                        its kvnode exits 0 within REMOVED_MS (its own
 *                        committed configuration no longer names it), and
 *                        the two voters left commit and read back
 *
 * Data lives in a fresh directory under $TMPDIR (or /tmp), removed when
 * every step passed (kept, with the node logs n*.log, otherwise).
 *
 *   members [-v]     prints "N passed, N failed, N skipped"
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/bench.h"
#include "kvlabs/error.h"
#include "kvlabs/kv.h"
#include "raft_net.h"

#define MAX_N 6
#define CHANGE_MS 20000u
#define REMOVED_MS 5000u /* a removed node exits within this: a few election timeouts */

static int verbose, n_pass, n_fail;
static char dir[256], conf[300], kvnode[4096], addrs[MAX_N][64];
static pid_t pids[MAX_N];
static int n_lines;
static kv_db *db; /* keyspace "m", timeouts short enough to poll with */

static uint64_t now_ms(void)
{
    return kv_now_ns() / 1000000; /* common's monotonic clock (kvlabs/bench.h) */
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

static bool result(const char *name, bool ok, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool result(const char *name, bool ok, const char *fmt, ...)
{
    char why[512] = "";
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    printf("[%s] members/%s%s%s\n", ok ? "PASS" : "FAIL", name, ok ? "" : ": ", ok ? "" : why);
    fflush(stdout);
    ok ? n_pass++ : n_fail++;
    return ok;
}

static int free_port(void)
{
    struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t sl = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        getsockname(fd, (struct sockaddr *)&sa, &sl) == 0)
        port = ntohs(sa.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* Append node n_lines's address to the cluster file (path); its id. */
static int add_line(const char *path)
{
    snprintf(addrs[n_lines], sizeof addrs[n_lines], "127.0.0.1:%d", free_port());
    FILE *f = fopen(path, "a");
    if (f == NULL)
        return -1;
    fprintf(f, "%s\n", addrs[n_lines]);
    return fclose(f) ? -1 : n_lines++;
}

static int start(int i, bool join)
{
    char id[8], ndir[320], log[320];
    snprintf(id, sizeof id, "%d", i);
    snprintf(ndir, sizeof ndir, "%s/n%d", dir, i);
    snprintf(log, sizeof log, "%s/n%d.log", dir, i);
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0600);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(kvnode, "kvnode", "--id", id, "--cluster", conf, "--dir", ndir,
              join ? "--join" : (char *)NULL, (char *)NULL);
        _exit(127);
    }
    pids[i] = p;
    return 0;
}

static void stop(int i)
{
    if (pids[i] <= 0)
        return;
    kill(pids[i], SIGKILL);
    waitpid(pids[i], NULL, 0);
    pids[i] = 0;
}

/* Node i's process has exited: its wait status in *st (pids[i] is then 0). */
static bool exited(int i, int *st)
{
    if (pids[i] <= 0 || waitpid(pids[i], st, WNOHANG) != pids[i])
        return false;
    pids[i] = 0;
    return true;
}

/* Node i's log (dir/n<i>.log) contains text. */
static bool log_says(int i, const char *text)
{
    char path[320], buf[1 << 16];
    snprintf(path, sizeof path, "%s/n%d.log", dir, i);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return false;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, text) != NULL;
}

static bool status(int i, char *line, size_t cap)
{
    return pids[i] > 0 && kv_raft_node_status(db, (uint32_t)i, line, cap) == KV_OK;
}

static uint64_t field(const char *line, const char *name)
{
    const char *p = strstr(line, name);
    return p ? strtoull(p + strlen(name), NULL, 10) : 0;
}

/* The live node that says it leads at the highest term; -1 within timeout: none. */
static int wait_leader(unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    do {
        int best = -1;
        uint64_t best_term = 0;
        for (int i = 0; i < n_lines; i++) {
            char line[512];
            if (status(i, line, sizeof line) && strstr(line, "role=leader") &&
                field(line, "term=") >= best_term) {
                best = i;
                best_term = field(line, "term=");
            }
        }
        if (best >= 0)
            return best;
        sleep_ms(20);
    } while (now_ms() < end);
    return -1;
}

/* Node i reports voters=want (e.g. "0,1,2,3 ") and has applied the leader's commit index. */
static bool settled(int i, const char *want, unsigned timeout_ms)
{
    uint64_t end = now_ms() + timeout_ms;
    char line[512], lline[512];
    do {
        int l = wait_leader(1000);
        if (l >= 0 && status(l, lline, sizeof lline) && status(i, line, sizeof line) &&
            strstr(line, want) && field(line, "applied=") >= field(lline, "commit="))
            return true;
        sleep_ms(20);
    } while (now_ms() < end);
    if (verbose)
        fprintf(stderr, "members: node %d: %s\n", i, line);
    return false;
}

static bool put_n(int from, int to, unsigned *failed_at)
{
    for (int k = from; k < to; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%04d", k);
        snprintf(val, sizeof val, "v%d", k);
        if (kv_put(db, key, strlen(key), val, strlen(val)) != KV_OK) {
            *failed_at = (unsigned)k;
            return false;
        }
    }
    return true;
}

static bool get_n(int from, int to, unsigned *bad)
{
    kv_buf v = { 0 };
    bool ok = true;
    for (int k = from; k < to && ok; k++) {
        char key[16], val[16];
        snprintf(key, sizeof key, "k%04d", k);
        snprintf(val, sizeof val, "v%d", k);
        ok = kv_get(db, key, strlen(key), &v) == KV_OK && v.len == strlen(val) &&
             memcmp(v.data, val, v.len) == 0;
        *bad = (unsigned)k;
    }
    kv_free(v.data);
    return ok;
}

/* A raw admin frame of payload p to node i: the response's status, or 1 when none. */
static int raw_admin(int i, const uint8_t *p, size_t n)
{
    struct sockaddr_in sa;
    uint8_t buf[256];
    if (n > sizeof buf - KVN_HDR || kvn_addr_parse(addrs[i], &sa) != KV_OK)
        return 1;
    memcpy(buf + KVN_HDR, p, n);
    kvn_frame_seal(buf, KVN_ADMIN, (uint32_t)n);
    int fd = socket(AF_INET, SOCK_STREAM, 0), st = 1;
    struct timeval tv = { 2, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t got = 0;
    if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0 &&
        send(fd, buf, KVN_HDR + n, MSG_NOSIGNAL) == (ssize_t)(KVN_HDR + n)) {
        for (ssize_t r; got < sizeof buf && (r = recv(fd, buf + got, sizeof buf - got, 0)) > 0;) {
            got += (size_t)r;
            kvn_frame f;
            size_t used;
            kvn_resp resp;
            if (kvn_frame_parse(buf, got, sizeof buf, &f, &used) == 1) {
                if (f.type == KVN_RESP && kvn_resp_decode(f.payload, f.len, &resp) == KV_OK)
                    st = resp.status;
                break;
            }
        }
    }
    if (fd >= 0)
        close(fd);
    return st;
}

typedef struct bg_change {
    kv_db *h;
    uint32_t node;
    unsigned ms;
    int rc;
    char err[256];
} bg_change;

static void *change_thread(void *arg)
{
    bg_change *b = arg;
    b->rc = kv_raft_change_member(b->h, KVN_ADMIN_ADD, b->node, b->ms, NULL, 0);
    snprintf(b->err, sizeof b->err, "%s", kv_last_error());
    return NULL;
}

static int setup(void)
{
    char exe[4000];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 16);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    snprintf(kvnode, sizeof kvnode, "%s/kvnode", exe);
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(dir, sizeof dir, "%s/kvl-members-XXXXXX", tmp);
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(conf, sizeof conf, "%s/cluster.conf", dir);
    for (int i = 0; i < 3; i++)
        if (add_line(conf) < 0 || start(i, false))
            return -1;
    char opts[400];
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=10000,rpc_timeout_ms=300", conf);
    return kv_open("raft", "m", opts, &db) == KV_OK && wait_leader(10000) >= 0 ? 0 : -1;
}

/* Reopen the handle, so that it reads lines appended to the cluster file. */
static void reopen(void)
{
    char opts[400];
    kv_close(db);
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=10000,rpc_timeout_ms=300", conf);
    if (kv_open("raft", "m", opts, &db) != KV_OK)
        db = NULL;
}

/* The story; returns false at the first step that fails (the rest are failed unrun). */
static bool story(int *removed, int *killed)
{
    unsigned at;
    char msg[256];
    /* add_catches_up */
    if (!put_n(0, 200, &at))
        return result("add_catches_up", false, "put k%04u before the change: %s", at,
                      kv_last_error());
    int n3 = add_line(conf);
    if (n3 != 3 || start(3, true))
        return result("add_catches_up", false, "could not start node 3");
    reopen();
    int rc = db ? kv_raft_change_member(db, KVN_ADMIN_ADD, 3, CHANGE_MS, msg, sizeof msg) : KV_EIO;
    if (rc != KV_OK)
        return result("add_catches_up", false, "cluster add 3: %d (%s)", rc, kv_last_error());
    if (!put_n(200, 220, &at))
        return result("add_catches_up", false, "put k%04u after the change: %s", at,
                      kv_last_error());
    if (!settled(3, "voters=0,1,2,3 ", 10000))
        return result("add_catches_up", false,
                      "node 3 is not a voter that applied the leader's commit index in 10 s");
    result("add_catches_up", true, " ");

    /* remove_stops_counting */
    int l = wait_leader(10000), x = -1, y = -1;
    for (int i = 0; i < 3; i++)
        if (i != l)
            x < 0 ? (x = i) : (y = i);
    if (l < 0 || y < 0)
        return result("remove_stops_counting", false, "no leader among the first nodes");
    rc = kv_raft_change_member(db, KVN_ADMIN_REMOVE, (uint32_t)x, CHANGE_MS, msg, sizeof msg);
    if (rc != KV_OK)
        return result("remove_stops_counting", false, "cluster remove %d: %d (%s)", x, rc,
                      kv_last_error());
    *removed = x;
    char want[64], line[512];
    int off = snprintf(want, sizeof want, "voters=");
    for (int i = 0; i < 4; i++)
        if (i != x)
            off += snprintf(want + off, sizeof want - (size_t)off, "%s%d", off > 7 ? "," : "", i);
    snprintf(want + off, sizeof want - (size_t)off, " ");
    if (!status(l, line, sizeof line) || strstr(line, want) == NULL)
        return result("remove_stops_counting", false, "the leader does not report %s: %s", want,
                      line);
    /* the removed node is told and exits on its own; nobody else does */
    uint64_t t0 = now_ms();
    int st = 0;
    while (!exited(x, &st) && now_ms() - t0 < REMOVED_MS)
        sleep_ms(20);
    if (pids[x] > 0)
        return result("remove_stops_counting", false,
                      "removed node %d still runs %u ms after its removal", x, REMOVED_MS);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || !log_says(x, "not a member any more"))
        return result("remove_stops_counting", false,
                      "removed node %d did not exit cleanly (wait status %#x) saying so in its log",
                      x, (unsigned)st);
    if (verbose)
        fprintf(stderr, "members: removed node %d exited in %llu ms\n", x,
                (unsigned long long)(now_ms() - t0));
    for (int i = 0; i < 4; i++)
        if (i != x && exited(i, &st))
            return result("remove_stops_counting", false,
                          "node %d (a member) exited after node %d's removal (wait status %#x)",
                          i, x, (unsigned)st);
    stop(y);
    *killed = y;
    if (!put_n(220, 260, &at))
        return result("remove_stops_counting", false,
                      "with %d removed and %d killed, put k%04u failed: %s", x, y, at,
                      kv_last_error());
    if (!get_n(0, 260, &at))
        return result("remove_stops_counting", false, "k%04u reads back wrong: %s", at,
                      kv_last_error());
    result("remove_stops_counting", true, " ");

    /* bad_requests */
    bool ok = true;
    char why[512] = "";
    rc = kv_raft_change_member(db, KVN_ADMIN_ADD, 7, 2000, msg, sizeof msg);
    if (rc != KV_EINVAL || strstr(kv_last_error(), "no node 7") == NULL) {
        ok = false;
        snprintf(why, sizeof why, "add 7 (not in the file): %d (%s)", rc, kv_last_error());
    }
    rc = kv_raft_change_member(db, KVN_ADMIN_REMOVE, (uint32_t)x, 5000, msg, sizeof msg);
    if (ok && (rc != KV_ENOTFOUND || strstr(kv_last_error(), "not a member") == NULL)) {
        ok = false;
        snprintf(why, sizeof why, "remove %d again: %d (%s)", x, rc, kv_last_error());
    }
    rc = kv_raft_change_member(db, KVN_ADMIN_ADD, (uint32_t)l, 5000, msg, sizeof msg);
    if (ok && (rc != KV_OK || strstr(msg, "already a voter") == NULL)) {
        ok = false;
        snprintf(why, sizeof why, "add %d (a voter): %d (%s) \"%s\"", l, rc, kv_last_error(), msg);
    }
    /* a client whose file names a node the nodes' file does not: the leader refuses */
    char conf2[320], opts[400];
    snprintf(conf2, sizeof conf2, "%s/client.conf", dir);
    FILE *f = fopen(conf2, "w");
    for (int i = 0; f && i < n_lines; i++)
        fprintf(f, "%s\n", addrs[i]);
    if (f)
        fprintf(f, "127.0.0.1:1\n"), fclose(f);
    kv_db *h = NULL;
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=5000,rpc_timeout_ms=300", conf2);
    rc = kv_open("raft", "m", opts, &h) == KV_OK
             ? kv_raft_change_member(h, KVN_ADMIN_ADD, (uint32_t)n_lines, 5000, msg, sizeof msg)
             : KV_EIO;
    if (ok && (rc != KV_EINVAL || strstr(kv_last_error(), "has no address") == NULL)) {
        ok = false;
        snprintf(why, sizeof why, "add %d (not in the nodes' file): %d (%s)", n_lines, rc,
                 kv_last_error());
    }
    if (h)
        kv_close(h);
    static const uint8_t short_frame[3] = { KVN_ADMIN_ADD, 3, 0 };
    uint8_t bad_op[KVN_ADMIN_LEN];
    kvn_admin_encode(&(kvn_admin){ .op = KVN_ADMIN_ADD, .node = 3, .timeout_ms = 100 }, bad_op);
    bad_op[0] = 9;
    if (ok && (raw_admin(l, short_frame, sizeof short_frame) != KV_ECORRUPT ||
               raw_admin(l, bad_op, sizeof bad_op) != KV_ECORRUPT)) {
        ok = false;
        snprintf(why, sizeof why, "a malformed admin frame was not answered KV_ECORRUPT");
    }
    if (!result("bad_requests", ok, "%s", why))
        return false;

    /* change_in_flight: node 4 has a line but no process */
    int n4 = add_line(conf);
    reopen();
    if (n4 != 4 || db == NULL)
        return result("change_in_flight", false, "could not add line 4");
    snprintf(opts, sizeof opts, "cluster=%s,timeout_ms=5000,rpc_timeout_ms=300", conf);
    bg_change b = { .node = 4, .ms = 3000 };
    pthread_t th;
    if (kv_open("raft", "m", opts, &b.h) != KV_OK ||
        pthread_create(&th, NULL, change_thread, &b) != 0)
        return result("change_in_flight", false, "could not start the add");
    sleep_ms(1000);
    rc = kv_raft_change_member(db, KVN_ADMIN_REMOVE, 3, 5000, msg, sizeof msg);
    snprintf(why, sizeof why, "%s", kv_last_error());
    pthread_join(th, NULL);
    kv_close(b.h);
    if (rc != KV_EBUSY || strstr(why, "in flight (add node 4)") == NULL)
        return result("change_in_flight", false, "remove 3 during add 4: %d (%s)", rc, why);
    if (b.rc != KV_EBUSY || strstr(b.err, "did not catch up") == NULL)
        return result("change_in_flight", false, "add 4 without its kvnode: %d (%s)", b.rc, b.err);
    rc = kv_raft_change_member(db, KVN_ADMIN_REMOVE, 4, 10000, msg, sizeof msg);
    if (rc != KV_OK || !status(l, line, sizeof line) || strstr(line, "learners=-") == NULL)
        return result("change_in_flight", false, "remove the learner 4: %d (%s) %s", rc,
                      kv_last_error(), line);
    result("change_in_flight", true, " ");

    /* no_leader: the leader killed, node 3 alone of voters {l, y, 3} */
    stop(l);
    t0 = now_ms();
    rc = kv_raft_change_member(db, KVN_ADMIN_ADD, (uint32_t)x, 1500, msg, sizeof msg);
    uint64_t took = now_ms() - t0;
    if (!result("no_leader", rc == KV_EBUSY && took < 5000,
                "add %d without a quorum: %d (%s) in %llu ms", x, rc, kv_last_error(),
                (unsigned long long)took))
        return false;

    /* remove_leader: voters {l, y, 3}; l and y restarted from their data */
    if (start(l, false) || start(y, false))
        return result("remove_leader", false, "could not restart nodes %d and %d", l, y);
    int l2 = wait_leader(10000);
    if (l2 < 0 || !put_n(260, 270, &at))
        return result("remove_leader", false, "no leader after the restart of %d and %d (%s)",
                      l, y, kv_last_error());
    rc = kv_raft_change_member(db, KVN_ADMIN_REMOVE, (uint32_t)l2, CHANGE_MS, msg, sizeof msg);
    if (rc != KV_OK)
        return result("remove_leader", false, "cluster remove %d (the leader): %d (%s)", l2, rc,
                      kv_last_error());
    t0 = now_ms();
    while (!exited(l2, &st) && now_ms() - t0 < REMOVED_MS)
        sleep_ms(20);
    if (pids[l2] > 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
        !log_says(l2, "does not name node"))
        return result("remove_leader", false,
                      "the removed leader %d did not exit 0 within %u ms saying why (%s, %#x)",
                      l2, REMOVED_MS, pids[l2] > 0 ? "running" : "exited", (unsigned)st);
    if (!put_n(270, 290, &at) || !get_n(0, 290, &at))
        return result("remove_leader", false, "without the removed leader %d, k%04u: %s", l2,
                      at, kv_last_error());
    return result("remove_leader", true, " ");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = 1;
        } else {
            fprintf(stderr, "usage: members [-v]\n");
            return 2;
        }
    }
    signal(SIGPIPE, SIG_IGN);
    static const char *const steps[] = { "add_catches_up", "remove_stops_counting", "bad_requests",
                                         "change_in_flight", "no_leader", "remove_leader" };
    int removed = -1, killed = -1;
    if (setup() != 0) {
        result("add_catches_up", false, "the first 3 nodes did not start or elect (%s)",
               kv_last_error());
    } else {
        story(&removed, &killed);
    }
    for (int s = n_pass + n_fail; s < 6; s++)
        result(steps[s], false, "not run: an earlier step failed");
    for (int i = 0; i < MAX_N; i++)
        stop(i);
    if (db)
        kv_close(db);
    if (n_fail == 0 && dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
        if (system(cmd) != 0)
            fprintf(stderr, "members: could not remove %s\n", dir);
    } else if (dir[0]) {
        fprintf(stderr, "members: kept %s (node logs n*.log)\n", dir);
    }
    printf("%d passed, %d failed, 0 skipped\n", n_pass, n_fail);
    return n_fail ? 1 : 0;
}
