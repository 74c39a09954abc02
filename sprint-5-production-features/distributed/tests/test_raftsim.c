/*
 * test_raftsim.c — engine raftsim through kv.h on the in-memory envs: the
 * basic operations, iteration in order, reopen restarting every node from
 * its disk, a crash of the whole cluster keeping every acknowledged write,
 * snapshots through the state machine's iterator, bad options, and the
 * history of the operations checked by the linearizability checker. The
 * restart, crash and snapshot tests run on both state machines: the
 * default cowbtree (a store in DIR/nN, rebuilt from the Raft log at open:
 * a damaged or stale store must not matter, and its limits are the
 * cluster's) and model (sm=model, in memory).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvtest.h"
#include "raft_lincheck.h"

/* Stores and envs are owned by the test (kvtest.h's kvt_own): the suite's
 * .fini closes and frees what a failed assertion left (stores first), so a
 * failing test reports no leak. In this file kv_close() and kv_env_free()
 * forget the owned object first; the env constructors own what they make. */
static void close_owned(void *db)
{
    kv_close(db);
}

static void env_free_owned(void *env)
{
    kv_env_free(env);
}

static int close_db(kv_db *db)
{
    kvt_disown(db);
    return kv_close(db);
}

static void free_env(kv_env *env)
{
    kvt_disown(env);
    kv_env_free(env);
}

#define kv_close(db) close_db(db)
#define kv_env_free(env) free_env(env)
#define kv_env_mem_new() ((kv_env *)kvt_own(kv_env_mem_new(), env_free_owned))
#define kv_env_fault_new(n) ((kv_env *)kvt_own(kv_env_fault_new(n), env_free_owned))

TestSuite(raftsim, .fini = kvt_release_owned);

static kv_db *open_on(kv_env *env, const char *opts)
{
    kv_db *db = NULL;
    int rc = kv_open_env("raftsim", "/c", opts, env, &db);
    cr_assert_eq(rc, KV_OK, "open: %s", kv_last_error());
    return kvt_own(db, close_owned);
}

Test(raftsim, put_get_delete_iterate)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db = open_on(env, "nodes=3,seed=5");
    kv_buf v = { 0 };
    cr_assert_eq(kv_get(db, "a", 1, &v), KV_ENOTFOUND);
    cr_assert_eq(kv_put(db, "b", 1, "2", 1), KV_OK);
    cr_assert_eq(kv_put(db, "a", 1, "1", 1), KV_OK);
    cr_assert_eq(kv_put(db, "a", 1, "one", 3), KV_OK);
    cr_assert_eq(kv_get(db, "a", 1, &v), KV_OK);
    cr_assert_eq(v.len, 3);
    cr_assert_eq(memcmp(v.data, "one", 3), 0);
    cr_assert_eq(kv_delete(db, "b", 1), KV_OK);
    cr_assert_eq(kv_delete(db, "b", 1), KV_ENOTFOUND, "the result comes from the state machine");
    cr_assert_eq(kv_put(db, "c", 1, "", 0), KV_OK);
    kv_iter *it;
    cr_assert_eq(kv_iter_open(db, &it), KV_OK);
    const char *want = "ac";
    int n = 0;
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it), n++) {
        const void *k;
        size_t kl;
        kv_iter_key(it, &k, &kl);
        cr_assert_eq(((const char *)k)[0], want[n]);
    }
    cr_assert_eq(n, 2);
    kv_iter_close(it);
    kv_buf_free(&v);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

/* The state machines the restart tests run on: the default and model. */
static const char *const sms[] = { "", ",sm=model" };

static void reopen_round_trip(const char *sm);
static void crash_round_trip(const char *sm);

Test(raftsim, reopen_restarts_from_disk_and_snapshots)
{
    for (int i = 0; i < 2; i++)
        reopen_round_trip(sms[i]);
}

Test(raftsim, crash_keeps_acknowledged_writes)
{
    for (int i = 0; i < 2; i++)
        crash_round_trip(sms[i]);
}

static void reopen_round_trip(const char *sm)
{
    char opts[64];
    snprintf(opts, sizeof opts, "nodes=5,seed=9,snapshot_every=7%s", sm);
    kv_env *env = kv_env_mem_new();
    kv_db *db = open_on(env, opts);
    char k[16], val[16];
    for (int i = 0; i < 50; i++) {
        snprintf(k, sizeof k, "k%03d", i);
        snprintf(val, sizeof val, "v%d", i);
        cr_assert_eq(kv_put(db, k, strlen(k), val, strlen(val)), KV_OK);
    }
    cr_assert_eq(kv_delete(db, "k007", 4), KV_OK);
    cr_assert_eq(kv_close(db), KV_OK);
    for (int round = 0; round < 2; round++) {
        db = open_on(env, opts);
        kv_buf v = { 0 };
        for (int i = 0; i < 50; i++) {
            snprintf(k, sizeof k, "k%03d", i);
            snprintf(val, sizeof val, "v%d", i);
            int rc = kv_get(db, k, strlen(k), &v);
            if (i == 7) {
                cr_assert_eq(rc, KV_ENOTFOUND);
                continue;
            }
            cr_assert_eq(rc, KV_OK, "%s round %d key %s", opts, round, k);
            cr_assert_eq(v.len, strlen(val));
            cr_assert_eq(memcmp(v.data, val, v.len), 0);
        }
        kv_buf_free(&v);
        cr_assert_eq(kv_put(db, "new", 3, "x", 1), KV_OK);
        cr_assert_eq(kv_close(db), KV_OK);
    }
    kv_env_free(env);
}

static void crash_round_trip(const char *sm)
{
    char opts[64];
    snprintf(opts, sizeof opts, "seed=2,snapshot_every=5%s", sm);
    kv_env *env = kv_env_fault_new(3);
    kv_db *db = open_on(env, opts);
    char k[16];
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "k%d", i);
        cr_assert_eq(kv_put(db, k, strlen(k), k, strlen(k)), KV_OK);
    }
    kv_env_fault_crash(env, KV_CRASH_TORN);
    kv_close(db); /* fails: the disk is gone */
    kv_env_fault_reboot(env);
    db = open_on(env, opts);
    kv_buf v = { 0 };
    for (int i = 0; i < 20; i++) {
        snprintf(k, sizeof k, "k%d", i);
        cr_assert_eq(kv_get(db, k, strlen(k), &v), KV_OK, "%s: lost acknowledged %s", opts, k);
        cr_assert_eq(v.len, strlen(k));
    }
    kv_buf_free(&v);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

/* Write a pair the cluster never saw into a node's store directly. */
static void plant_ghost(kv_env *env, const char *dir)
{
    kv_db *sm = NULL;
    cr_assert_eq(kv_open_env("cowbtree", dir, NULL, env, &sm), KV_OK, "%s: %s", dir,
                 kv_last_error());
    cr_assert_eq(kv_put(sm, "ghost", 5, "boo", 3), KV_OK);
    cr_assert_eq(kv_close(sm), KV_OK);
}

/* The default state machine is a cowbtree store in each node's directory,
 * a working copy rebuilt from the Raft log at open: a pair that is in the
 * store but not in the log (what a crash can leave) and a stale store left
 * by a restore do not survive the open. */
Test(raftsim, cowbtree_store_is_rebuilt_at_open)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db = open_on(env, "seed=3");
    char k[16];
    for (int i = 0; i < 30; i++) {
        snprintf(k, sizeof k, "k%02d", i);
        cr_assert_eq(kv_put(db, k, strlen(k), k, strlen(k)), KV_OK);
    }
    cr_assert_eq(kv_delete(db, "k05", 3), KV_OK);
    cr_assert_eq(kv_close(db), KV_OK);
    for (int i = 0; i < 3; i++) {
        char dir[64];
        bool is_dir = false;
        snprintf(dir, sizeof dir, "/c/n%d/sm0.cow", i);
        cr_assert_eq(kv_env_stat(env, dir, NULL, &is_dir), KV_OK, "no %s", dir);
        cr_assert(is_dir);
        plant_ghost(env, dir);
    }
    cr_assert_eq(kv_env_mkdir(env, "/c/n1/sm1.cow"), KV_OK); /* a restore cut short */
    kv_file *f;
    cr_assert_eq(kv_env_open(env, "/c/n1/sm1.cow/junk", KV_O_RDWR | KV_O_CREAT, &f), KV_OK);
    cr_assert_eq(kv_file_close(f), KV_OK);
    db = open_on(env, "seed=3");
    kv_buf v = { 0 };
    for (int i = 0; i < 30; i++) {
        snprintf(k, sizeof k, "k%02d", i);
        int rc = kv_get(db, k, strlen(k), &v);
        cr_assert_eq(rc, i == 5 ? KV_ENOTFOUND : KV_OK, "%s: %d (%s)", k, rc, kv_last_error());
    }
    cr_assert_eq(kv_get(db, "ghost", 5, &v), KV_ENOTFOUND, "the store was trusted at open");
    kv_iter *it;
    int n = 0;
    cr_assert_eq(kv_iter_open(db, &it), KV_OK);
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it))
        n++;
    cr_assert_eq(kv_iter_status(it), KV_OK);
    kv_iter_close(it);
    cr_assert_eq(n, 29);
    cr_assert_eq(kv_env_stat(env, "/c/n1/sm1.cow", NULL, NULL), KV_ENOTFOUND,
                 "the stale store was not wiped");
    kv_buf_free(&v);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

/* The cluster's limits are its state machine's: cowbtree's 4096-byte
 * values by default, model's larger ones; a max_key the state machine
 * cannot hold is refused at open. */
Test(raftsim, limits_follow_the_state_machine)
{
    static char big[5000];
    kv_env *env = kv_env_mem_new();
    kv_db *db = open_on(env, "seed=6");
    memset(big, 'v', sizeof big);
    cr_assert_eq(kv_put(db, "k", 1, big, 4096), KV_OK);
    cr_assert_eq(kv_put(db, "k", 1, big, 4097), KV_ETOOBIG);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_db *bad = NULL;
    cr_assert_eq(kv_open_env("raftsim", "/d", "max_key=2000", env, &bad), KV_EINVAL);
    cr_assert_null(bad);
    db = open_on(env, "seed=6,sm=model,max_key=2000");
    cr_assert_eq(kv_put(db, "k", 1, big, sizeof big), KV_OK);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

Test(raftsim, bad_options_and_second_open)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db = NULL;
    cr_assert_eq(kv_open_env("raftsim", "/c", "nodes=0", env, &db), KV_EINVAL);
    cr_assert_eq(kv_open_env("raftsim", "/c", "nodes=10", env, &db), KV_EINVAL);
    cr_assert_eq(kv_open_env("raftsim", "/c", "sm=nosuch", env, &db), KV_EINVAL);
    cr_assert_eq(kv_open_env("raftsim", "/c", "sm=raftsim", env, &db), KV_EINVAL);
    cr_assert_eq(kv_open_env("raftsim", NULL, "", env, &db), KV_EINVAL);
    db = open_on(env, "");
    kv_db *db2 = NULL;
    cr_assert_eq(kv_open_env("raftsim", "/c", "", env, &db2), KV_EBUSY);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}

/* A client's history through the engine, with logical time: every
 * operation is linearizable (and a tampered read is caught). */
Test(raftsim, history_is_linearizable)
{
    kv_env *env = kv_env_mem_new();
    kv_db *db = open_on(env, "seed=4");
    static char keys[3][2] = { "x", "y", "z" };
    static char vals[200][16];
    raft_lc_op h[200];
    uint64_t clock = 0;
    kv_buf v = { 0 };
    for (int i = 0; i < 200; i++) {
        int k = i % 3, op = (i * 7) % 4;
        raft_lc_op o = { .key = keys[k], .klen = 1, .call = clock++ };
        if (op < 2) {
            snprintf(vals[i], sizeof vals[i], "%d", i);
            o.kind = RAFT_LC_PUT;
            o.val = vals[i];
            o.vlen = strlen(vals[i]);
            cr_assert_eq(kv_put(db, keys[k], 1, o.val, o.vlen), KV_OK);
        } else if (op == 2) {
            o.kind = RAFT_LC_GET;
            o.result = kv_get(db, keys[k], 1, &v);
            if (o.result == KV_OK) {
                memcpy(vals[i], v.data, v.len < 7 ? v.len : 7);
                o.val = vals[i];
                o.vlen = v.len < 7 ? v.len : 7;
            }
        } else {
            o.kind = RAFT_LC_DELETE;
            o.result = kv_delete(db, keys[k], 1);
        }
        o.ret = clock++;
        h[i] = o;
    }
    raft_lc_result res;
    cr_assert_eq(raft_lincheck(h, 200, 0, &res), 0);
    cr_assert(res.linearizable);
    for (int i = 0; i < 200; i++)
        if (h[i].kind == RAFT_LC_GET && h[i].result == KV_OK) {
            h[i].val = "stale";
            h[i].vlen = 5;
            break;
        }
    cr_assert_eq(raft_lincheck(h, 200, 0, &res), 0);
    cr_assert_not(res.linearizable);
    kv_buf_free(&v);
    cr_assert_eq(kv_close(db), KV_OK);
    kv_env_free(env);
}
