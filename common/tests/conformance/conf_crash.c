/*
 * conf_crash.c — durable engines after a crash at any point.
 *
 * The rule (kv.h, Durability): after a crash, every key acknowledged by a
 * completed kv_sync() reads back with its value unless a later write
 * changed it, and no key ever reads back a value that was never written to
 * it. Precisely, for each key: what reads back (a value, or absence) must
 * be one of the states the key had at or after the last completed sync —
 * the state of its last write covered by that sync (absent if none), or
 * the state of any later write, acknowledged or merely attempted (a write
 * that failed because of the crash may or may not have reached the disk).
 * conf_hist_check() applies it; the values name the write they came from
 * (conf_val), so "a value never written" and "an older value" are told
 * apart. A crash must also leave a store that opens and keeps working.
 *
 *   fault_drop, fault_torn   the fault env crashes just before a random
 *                            mutating call (write, sync, rename, ...), or at
 *                            the end; DROP loses every unsynced change, TORN
 *                            also keeps a random prefix of each file's last
 *                            unsynced write
 *   fault_long_workload      the same with thousands of operations per life
 *   crash_during_recovery    a second crash while the store recovers
 *   kill9                    a forked writer on the real file system, killed
 *                            with SIGKILL after a random delay
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"

CONF_SUITE(conf_crash);

enum { CKEYS = 48 };

/* Rounds whose crash came from the armed mutation (not the one at the end). */
static size_t crashed_mid;

/* One life of the store on @p env: a random workload until the crash. */
struct round {
    kv_env *env;
    conf_hist h;
    kv_rng r;
    uint64_t ver;
};

/*
 * Run up to @p nops operations on an open store, recording every write in
 * r->h and every completed sync. Before the crash every answer must be
 * exact; once the env has crashed, writes are recorded as attempted and
 * the workload stops at the first failing call (or 10 calls later).
 */
static void workload(struct round *rd, kv_db *db, size_t nops)
{
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    kv_buf v = {0};
    size_t after_crash = 0;

    for (size_t op = 0; op < nops; op++) {
        uint32_t id = (uint32_t)kv_rng_below(&rd->r, rd->h.nkeys);
        size_t kl = conf_key(id, key);
        uint64_t dice = kv_rng_below(&rd->r, 100), want = 0;
        bool present = conf_hist_present(&rd->h, id, &want), crashed;
        int rc;

        if (dice < 50) {
            uint64_t ver = rd->ver++;
            conf_hist_add(&rd->h, id, ver, false); /* attempted from now on */
            rc = kv_put(db, key, kl, val, conf_val(id, ver, val));
            crashed = kv_env_fault_crashed(rd->env);
            if (rc != KV_OK) {
                cr_assert(crashed, "op %zu: put failed before any crash: %d (%s): %s", op, rc,
                          kv_strerror(rc), kv_last_error());
                break;
            }
        } else if (dice < 65) {
            rc = kv_delete(db, key, kl);
            crashed = kv_env_fault_crashed(rd->env);
            if (crashed) {
                conf_hist_add(&rd->h, id, 0, true); /* may have reached the disk */
                if (rc != KV_OK && rc != KV_ENOTFOUND)
                    break;
            } else {
                cr_assert_eq(rc, present ? KV_OK : KV_ENOTFOUND,
                             "op %zu: delete of id %u (%s): %d (%s): %s", op, id,
                             present ? "present" : "absent", rc, kv_strerror(rc), kv_last_error());
                if (present)
                    conf_hist_add(&rd->h, id, 0, true);
            }
        } else if (dice < 90) {
            uint64_t got = 0;
            rc = kv_get(db, key, kl, &v);
            crashed = kv_env_fault_crashed(rd->env);
            if (!crashed) {
                cr_assert_eq(rc, present ? KV_OK : KV_ENOTFOUND, "op %zu: get of id %u: %d (%s)",
                             op, id, rc, kv_strerror(rc));
                if (present)
                    cr_assert(conf_val_check(id, v.data, v.len, &got) && got == want,
                              "op %zu: get of id %u: wrong value before any crash", op, id);
            } else if (rc != KV_OK && rc != KV_ENOTFOUND) {
                break;
            }
        } else {
            rc = kv_sync(db);
            crashed = kv_env_fault_crashed(rd->env);
            if (rc == KV_OK) {
                conf_hist_sync(&rd->h); /* a promise, even if the env has crashed */
            } else {
                cr_assert(crashed, "op %zu: kv_sync failed before any crash: %d (%s): %s", op, rc,
                          kv_strerror(rc), kv_last_error());
                break;
            }
        }
        if (crashed && ++after_crash > 10)
            break;
    }
    kv_buf_free(&v);
}

/* After recovery: overwrite or delete every key, sync, reopen, exact check. */
static void still_usable(struct round *rd, kv_db **dbp, const char *path)
{
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    conf_hist fresh;
    kv_db *db = *dbp;

    conf_hist_init(&fresh, rd->h.nkeys);
    for (uint32_t id = 0; id < rd->h.nkeys; id++) {
        size_t kl = conf_key(id, key);
        if (kv_rng_below(&rd->r, 3) == 0) {
            int rc = kv_delete(db, key, kl);
            cr_assert(rc == KV_OK || rc == KV_ENOTFOUND, "delete after recovery: %d (%s): %s", rc,
                      kv_strerror(rc), kv_last_error());
            conf_hist_add(&fresh, id, 0, true);
        } else {
            uint64_t ver = rd->ver++;
            OK(kv_put(db, key, kl, val, conf_val(id, ver, val)));
            conf_hist_add(&fresh, id, ver, false);
        }
    }
    OK(kv_sync(db));
    conf_hist_check(db, &fresh, true);
    conf_close(db);
    OK(conf_open_env(rd->env, path, NULL, &db));
    conf_hist_check(db, &fresh, true);
    conf_hist_free(&fresh);
    *dbp = db;
}

/*
 * One round: open on a fresh fault env, arm a crash at mutation @p nth
 * (0: crash at the end instead), run the workload, crash, reboot, reopen,
 * check, after a workload of @p nops operations. With @p recovery_crash, crash again during the
 * recovering open (at its @p recovery_crash-th mutation) before the final reopen.
 * @return the mutations the workload made (to choose later crash points).
 */
static uint64_t fault_round(uint64_t seed, kv_crash_mode mode, uint64_t nth,
                            uint64_t recovery_crash, size_t nops, size_t nkeys)
{
    const char *path = "/db";
    struct round rd = {.ver = 1};
    kv_db *db = NULL;
    uint64_t m0, made;
    int rc;

    rd.env = kv_env_fault_new(seed);
    cr_assert_not_null(rd.env);
    kv_rng_seed(&rd.r, seed);
    conf_hist_init(&rd.h, nkeys);
    OK(conf_open_env(rd.env, path, NULL, &db));
    m0 = kv_env_fault_mutations(rd.env);
    if (nth)
        kv_env_fault_crash_after(rd.env, nth, mode);
    workload(&rd, db, nops);
    made = kv_env_fault_mutations(rd.env) - m0;
    if (!kv_env_fault_crashed(rd.env))
        kv_env_fault_crash(rd.env, mode);
    else
        crashed_mid++;
    kv_close(db); /* fails, but must free everything (ASan checks) */
    kv_env_fault_reboot(rd.env);

    if (recovery_crash) {
        db = NULL;
        kv_env_fault_crash_after(rd.env, recovery_crash, mode);
        rc = kv_open_env(conf_engine(), path, NULL, rd.env, &db);
        if (rc == KV_OK) {
            kv_close(db);
            db = NULL;
        }
        kv_env_fault_crash_after(rd.env, 0, mode);
        kv_env_fault_reboot(rd.env);
    }

    rc = conf_open_env(rd.env, path, NULL, &db);
    cr_assert_eq(rc, KV_OK, "seed %llu, %s crash at mutation %llu%s: reopen failed: %d (%s): %s",
                 (unsigned long long)seed, mode == KV_CRASH_TORN ? "torn" : "drop",
                 (unsigned long long)nth, recovery_crash ? " (and during recovery)" : "", rc,
                 kv_strerror(rc), kv_last_error());
    conf_hist_check(db, &rd.h, false);
    still_usable(&rd, &db, path);
    conf_close(db);
    conf_hist_free(&rd.h);
    kv_env_free(rd.env);
    return made;
}

/*
 * Many rounds with one crash mode. Round 0 crashes at the end and measures
 * how many mutations a workload makes; the others crash at a uniformly
 * random mutation within that count (a little past it: some rounds then
 * crash at the end).
 */
static void fault_rounds(kv_crash_mode mode, uint64_t base, size_t rounds, size_t nops,
                         size_t nkeys)
{
    uint64_t seed = conf_seed(base), made = 0;
    kv_rng r;

    conf_need(KV_CAP_DURABLE);
    conf_need_local("crashes of the fault env");
    kv_rng_seed(&r, seed);
    for (size_t i = 0; i < rounds; i++) {
        uint64_t nth = i == 0 || made == 0 ? 0 : 1 + kv_rng_below(&r, made + made / 8);
        uint64_t m =
            fault_round(seed + i, mode, nth, 0, nops + (size_t)kv_rng_below(&r, nops), nkeys);
        if (i == 0)
            made = m;
    }
    cr_log_info("%s: %zu rounds, a workload makes ~%llu mutations, %zu crashed mid-workload",
                mode == KV_CRASH_TORN ? "torn" : "drop", rounds, (unsigned long long)made,
                crashed_mid);
    crashed_mid = 0;
}

Test(conf_crash, fault_drop)
{
    fault_rounds(KV_CRASH_DROP, 5000, conf_valgrind() ? 6 : 150, 150, CKEYS);
}

Test(conf_crash, fault_torn)
{
    fault_rounds(KV_CRASH_TORN, 6000, conf_valgrind() ? 6 : 150, 150, CKEYS);
}

/* Fewer, longer lives: enough writes for engines to flush, split, compact. */
Test(conf_crash, fault_long_workload)
{
    size_t rounds = conf_valgrind() ? 2 : 12;

    fault_rounds(KV_CRASH_DROP, 6500, rounds / 2, conf_scale(4000), 1500);
    fault_rounds(KV_CRASH_TORN, 6600, rounds / 2, conf_scale(4000), 1500);
}

Test(conf_crash, crash_during_recovery)
{
    size_t rounds = conf_valgrind() ? 4 : 30;
    uint64_t seed = conf_seed(7000);
    kv_rng r;

    conf_need(KV_CAP_DURABLE);
    conf_need_local("crashes of the fault env");
    kv_rng_seed(&r, seed);
    for (size_t i = 0; i < rounds; i++) {
        kv_crash_mode mode = i % 2 ? KV_CRASH_TORN : KV_CRASH_DROP;
        fault_round(seed + i, mode, 20 + kv_rng_below(&r, 200), 1 + kv_rng_below(&r, 4),
                    150 + (size_t)kv_rng_below(&r, 150), CKEYS);
    }
}

/* ---- kill -9 ------------------------------------------------------------ */

/*
 * The forked writer's operations are a pure function of (seed, j), so the
 * parent can replay them: op j writes key kill_id(j), a delete when
 * kill_del(j), else the value conf_val(id, j + 1); after op j the child
 * calls kv_sync when kill_sync(j). Before op j it sends "attempt j" down
 * the pipe, after a completed sync "synced j + 1" (ops 0..j are durable).
 */
static uint32_t kill_id(uint64_t seed, uint64_t j)
{
    return (uint32_t)(conf_mix(seed, j) % CKEYS);
}

static bool kill_del(uint64_t seed, uint64_t j)
{
    return conf_mix(seed ^ 0xd1, j) % 5 == 0;
}

static bool kill_sync(uint64_t seed, uint64_t j)
{
    return conf_mix(seed ^ 0x5c, j) % 8 == 0;
}

static void send_msg(int fd, uint64_t msg)
{
    ssize_t w;

    do
        w = write(fd, &msg, sizeof(msg));
    while (w < 0 && errno == EINTR);
    if (w != (ssize_t)sizeof(msg))
        _exit(3);
}

static void kill_child(int fd, const char *path, uint64_t seed)
{
    unsigned char key[CONF_KEY_MAX], val[CONF_VAL_MAX];
    kv_db *db;

    if (kv_open(conf_engine(), path, NULL, &db) != KV_OK)
        _exit(2);
    for (uint64_t j = 0; j < (1u << 22); j++) {
        uint32_t id = kill_id(seed, j);
        size_t kl = conf_key(id, key);
        int rc;

        send_msg(fd, j << 1);
        if (kill_del(seed, j)) {
            rc = kv_delete(db, key, kl);
            if (rc != KV_OK && rc != KV_ENOTFOUND)
                _exit(4);
        } else if (kv_put(db, key, kl, val, conf_val(id, j + 1, val)) != KV_OK) {
            _exit(4);
        }
        if (kill_sync(seed, j)) {
            if (kv_sync(db) != KV_OK)
                _exit(5);
            send_msg(fd, (j + 1) << 1 | 1);
        }
    }
    for (;;)
        pause();
}

/* Read whatever messages are ready (or all until EOF when @p to_eof). */
static void drain(int fd, bool to_eof, int64_t *attempted, uint64_t *synced)
{
    for (;;) {
        uint64_t msg;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        ssize_t n;

        if (!to_eof && poll(&p, 1, 0) <= 0)
            return;
        n = read(fd, &msg, sizeof(msg));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        cr_assert_eq(n, (ssize_t)sizeof(msg), "short message from the writer");
        if (msg & 1) {
            if ((msg >> 1) > *synced)
                *synced = msg >> 1;
        } else if ((int64_t)(msg >> 1) > *attempted) {
            *attempted = (int64_t)(msg >> 1);
        }
    }
}

static void kill_round(uint64_t seed, size_t round, uint64_t delay_ms)
{
    char path[600];
    int fds[2], status;
    pid_t pid;
    int64_t attempted = -1;
    uint64_t synced = 0, deadline;
    conf_hist h;
    kv_db *db;
    int rc;

    snprintf(path, sizeof(path), "%s/kill%zu", conf_dir(), round);
    cr_assert_eq(pipe(fds), 0);
    pid = fork();
    cr_assert_geq(pid, 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        close(fds[0]);
        kill_child(fds[1], path, seed);
    }
    close(fds[1]);
    deadline = conf_now_ms() + delay_ms;
    while (conf_now_ms() < deadline) {
        struct pollfd p = {.fd = fds[0], .events = POLLIN};
        uint64_t now = conf_now_ms();
        poll(&p, 1, (int)(deadline > now ? deadline - now : 0));
        drain(fds[0], false, &attempted, &synced);
    }
    kill(pid, SIGKILL);
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    drain(fds[0], true, &attempted, &synced);
    close(fds[0]);
    cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
              "the writer ended by itself (exit %d): it could not open or write the store",
              WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    cr_assert_leq(synced, (uint64_t)(attempted + 1));

    /* Replay the writer's history: ops 0..attempted, the first `synced` durable. */
    conf_hist_init(&h, CKEYS);
    for (int64_t j = 0; j <= attempted; j++) {
        if ((uint64_t)j == synced)
            conf_hist_sync(&h);
        conf_hist_add(&h, kill_id(seed, (uint64_t)j), (uint64_t)j + 1, kill_del(seed, (uint64_t)j));
    }
    if (synced == (uint64_t)(attempted + 1))
        conf_hist_sync(&h);

    rc = kv_open(conf_engine(), path, NULL, &db);
    cr_assert_eq(rc, KV_OK,
                 "round %zu (killed after %llu ms, %lld ops attempted, %llu synced): "
                 "reopen failed: %d (%s): %s",
                 round, (unsigned long long)delay_ms, (long long)attempted + 1,
                 (unsigned long long)synced, rc, kv_strerror(rc), kv_last_error());
    cr_log_info("kill round %zu: %lld ops attempted, %llu synced", round, (long long)attempted + 1,
                (unsigned long long)synced);
    conf_hist_check(db, &h, false);
    /* the store keeps working after the kill */
    OK(kv_put(db, "after", 5, "kill", 4));
    conf_close(db);
    OK(kv_open(conf_engine(), path, NULL, &db));
    OK(kv_get(db, "after", 5, NULL));
    conf_close(db);
    conf_hist_free(&h);
}

Test(conf_crash, kill9)
{
    size_t rounds = conf_valgrind() ? 3 : 10;
    uint64_t seed = conf_seed(8000);
    kv_rng r;

    conf_need(KV_CAP_DURABLE);
    kv_rng_seed(&r, seed);
    for (size_t i = 0; i < rounds; i++) {
        /* a few hundred ms at most; the first rounds short (kill during open) */
        uint64_t delay = i < 2 ? 1 + 5 * i : 20 + kv_rng_below(&r, 280);
        if (conf_valgrind())
            delay += 1000;
        kill_round(seed + i, i, delay);
    }
}
