/*
 * test_bitcask_kill.c — kill -9 of a writer on the real file system.
 *
 * A forked child opens a store with sync=always and runs a fixed sequence
 * of operations (op j: put version j+1 of key kid(j), or delete it); before
 * op j it sends "attempt j" down a pipe, after it "done j". The parent
 * kills it with SIGKILL after a random delay, reopens the store, and
 * checks every key against the replayed history: the state of its last
 * acknowledged op, or of the one op in flight when that op touched it. So
 * no acknowledged write is lost and no deleted key comes back. In the
 * second case the child also merges after every 40 ops (max_file_size=4K),
 * so many kills land inside a merge; the child reports merge start and end
 * and the parent counts the kills that hit one.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "test_bitcask_util.h"

TestSuite(bitcask_kill, .timeout = 120, .fini = kvt_release_owned);

enum { KKEYS = 40, KLEN = 120, ROUNDS = 20 };
enum { MSG_ATTEMPT = 0, MSG_DONE = 1, MSG_MERGE_START = 2, MSG_MERGE_END = 3 };

static uint32_t kid(uint64_t seed, uint64_t j)
{
    uint64_t x = (seed + j) * 0x9E3779B97F4A7C15ull;
    return (uint32_t)((x ^ x >> 31) % KKEYS);
}

static bool kdel(uint64_t seed, uint64_t j)
{
    uint64_t x = (seed ^ 0xd1) + j * 0xC2B2AE3D27D4EB4Full;
    return (x ^ x >> 29) % 4 == 0;
}

static void send_msg(int fd, uint64_t j, int kind)
{
    uint64_t m = j << 2 | (uint64_t)kind;

    if (write(fd, &m, sizeof(m)) != (ssize_t)sizeof(m))
        _exit(3);
}

static void child(int fd, const char *path, uint64_t seed, bool merge)
{
    kv_db *db;

    if (kv_open("bitcask", path, merge ? "sync=always,max_file_size=4K" : "sync=always", &db) !=
        KV_OK)
        _exit(2);
    for (uint64_t j = 0;; j++) {
        send_msg(fd, j, MSG_ATTEMPT);
        int rc = kdel(seed, j) ? bt_del(db, kid(seed, j)) : bt_put(db, kid(seed, j), j + 1, KLEN);
        if (rc != KV_OK && rc != KV_ENOTFOUND)
            _exit(4);
        send_msg(fd, j, MSG_DONE);
        if (merge && j % 40 == 39) {
            send_msg(fd, j, MSG_MERGE_START);
            if (bc_merge(db) != KV_OK)
                _exit(5);
            send_msg(fd, j, MSG_MERGE_END);
        }
    }
}

struct seen {
    int64_t attempted, done;
    bool in_merge;
};

static void drain(int fd, bool to_eof, struct seen *s)
{
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        uint64_t m;
        ssize_t n;

        if (!to_eof && poll(&p, 1, 0) <= 0)
            return;
        n = read(fd, &m, sizeof(m));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        switch (m & 3) {
        case MSG_ATTEMPT: s->attempted = (int64_t)(m >> 2); break;
        case MSG_DONE: s->done = (int64_t)(m >> 2); break;
        case MSG_MERGE_START: s->in_merge = true; break;
        default: s->in_merge = false; break;
        }
    }
}

/* One round; @return whether the kill landed inside a merge. */
static bool kill_round(uint64_t seed, size_t round, bool merge, int64_t *ops)
{
    char path[400], leaf[32];
    int fds[2], status;
    struct seen s = {.attempted = -1, .done = -1};
    uint64_t ver[KKEYS] = {0}, maybe[KKEYS] = {0};
    bool touched[KKEYS] = {false};
    kv_db *db;
    pid_t pid;

    snprintf(leaf, sizeof(leaf), "%s%zu", merge ? "merge" : "puts", round);
    bt_tmpdir(leaf, path, sizeof(path));
    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        close(fds[0]);
        child(fds[1], path, seed, merge);
    }
    close(fds[1]);
    nanosleep(&(struct timespec){.tv_nsec = (long)(5 + (seed * 37 + round * 53) % 120) * 1000000},
              NULL);
    kill(pid, SIGKILL);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    drain(fds[0], true, &s);
    close(fds[0]);
    cr_assert(WIFSIGNALED(status), "the child exited by itself: %d",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    /* replay: ops 0..done acknowledged; op attempted (if > done) in flight */
    for (int64_t j = 0; j <= s.done; j++) {
        uint32_t id = kid(seed, (uint64_t)j);
        ver[id] = kdel(seed, (uint64_t)j) ? 0 : (uint64_t)j + 1;
    }
    if (s.attempted > s.done) {
        uint32_t id = kid(seed, (uint64_t)s.attempted);
        touched[id] = true;
        maybe[id] = kdel(seed, (uint64_t)s.attempted) ? 0 : (uint64_t)s.attempted + 1;
    }
    OK(kv_open("bitcask", path, NULL, &db));
    for (uint32_t id = 0; id < KKEYS; id++) {
        char k[32];
        unsigned char w[KLEN];
        kv_buf v = {0};
        int rc = kv_get(db, k, bt_key(id, k), &v);
        bool ok_ack = ver[id] ? rc == KV_OK && v.len == KLEN &&
                                    memcmp(v.data, w, bt_val(id, ver[id], w, KLEN)) == 0
                              : rc == KV_ENOTFOUND;
        bool ok_flight = touched[id] &&
                         (maybe[id] ? rc == KV_OK && v.len == KLEN &&
                                          memcmp(v.data, w, bt_val(id, maybe[id], w, KLEN)) == 0
                                    : rc == KV_ENOTFOUND);
        cr_assert(ok_ack || ok_flight,
                  "round %zu (%s, %lld ops acknowledged): key %u: %d (%s), want version %llu",
                  round, merge ? "merging" : "puts", (long long)s.done + 1, id, rc,
                  kv_strerror(rc), (unsigned long long)ver[id]);
        kv_buf_free(&v);
    }
    OK(bt_put(db, 0, 999, KLEN)); /* it keeps working */
    OK(kv_close(db));
    *ops += s.done + 1;
    return s.in_merge;
}

static void kill_rounds(bool merge)
{
    size_t in_merge = 0;
    int64_t ops = 0;

    for (size_t r = 0; r < ROUNDS; r++)
        in_merge += kill_round(1000 + r * 7919, r, merge, &ops);
    fprintf(stderr, "bitcask kill -9 (%s): %d rounds, %lld acknowledged ops checked%s", merge
            ? "puts, deletes and merges" : "puts and deletes", ROUNDS, (long long)ops,
            merge ? "" : "\n");
    if (merge)
        fprintf(stderr, ", %zu kills inside a merge\n", in_merge);
    cr_log_info("%d rounds, %lld ops, %zu kills inside a merge", ROUNDS, (long long)ops,
                in_merge);
}

Test(bitcask_kill, kill9_during_puts)
{
    kill_rounds(false);
}

Test(bitcask_kill, kill9_during_merges)
{
    kill_rounds(true);
}
