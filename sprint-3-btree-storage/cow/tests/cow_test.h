/*
 * cow_test.h — what the cow part's Criterion tests share (test_cow.c,
 * test_cow_cache.c): the scratch directory, the keys and values of their
 * workloads, opening a store there, and the ownership of everything a
 * test opens.
 *
 * How it works: every suite is declared with COW_SUITE(name), whose .fini
 * (ct_fini) frees what the test still owns and removes the scratch
 * directory, also after a failed assertion. Stores and envs are owned
 * through kvtest.h's KVT_OWN_STORES (kv_open(), kv_open_env(),
 * kv_env_fault_new() own, kv_close() and kv_env_free() forget);
 * transactions and cursors the same way, by the macros below
 * (cow_txn_begin() and cow_cursor_open() own on success, cow_txn_commit(),
 * cow_txn_abort() and cow_cursor_close() forget first). Other objects are
 * owned by hand: kv_iter and kv_buf with kvtest.h's free functions. The
 * owned objects are freed newest first (cursors, then transactions, then
 * stores, then envs), so a failing kit test reports its failure and no
 * leak.
 *
 * The keys are "key%06u"; val_of(i, ver) is a value of 0..39 extra bytes
 * that names its key and version, so a value read back wrong is caught.
 *
 * What callers must not do: include kvtest.h before this header (it
 * defines KVT_OWN_STORES first), hold a kv_buf they own on their stack, or
 * keep a ct_path() result across four later kvt_path() calls.
 */
#ifndef COW_TEST_H
#define COW_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cow.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#define KVT_OWN_STORES
#include "kvtest.h"

/** Free what the test owns (newest first), then remove the scratch directory. */
static inline void ct_fini(void)
{
    kvt_release_owned();
    kvt_tmpdir_done();
}

/** Declare suite @p name with the .fini that frees what a failed test left. */
#define COW_SUITE(name) TestSuite(name, .fini = ct_fini)

/** "<scratch dir>/<leaf>" (made on first use, removed by ct_fini) in kvt_path slot @p slot. */
static inline const char *ct_path(int slot, const char *leaf)
{
    kvt_tmpdir("cowtest");
    return kvt_path(slot, leaf);
}

static inline size_t key_of(unsigned i, char *k)
{
    return (size_t)snprintf(k, 32, "key%06u", i);
}

static inline size_t val_of(unsigned i, unsigned ver, char *v)
{
    size_t n = (size_t)snprintf(v, 64, "v%u.%u.", i, ver);
    for (size_t j = n; j < n + (i * 7 + ver) % 40; j++)
        v[j] = (char)('a' + j % 26);
    return n + (i * 7 + ver) % 40;
}

/** Open the store at <scratch dir>/db with @p opts (owned; close it with kv_close()). */
static inline kv_db *open_db(const char *opts)
{
    kv_db *db;
    OK(kv_open("cowbtree", ct_path(3, "db"), opts, &db));
    return db;
}

/* ---- transactions and cursors, owned like the stores ---------------------------- */

static inline void ct_txn_abort_owned_(void *t)
{
    cow_txn_abort(t);
}

static inline int ct_txn_begun_(int rc, cow_txn **t)
{
    if (rc == KV_OK && t && *t)
        kvt_own(*t, ct_txn_abort_owned_);
    return rc;
}

static inline int ct_txn_commit_(cow_txn *t)
{
    kvt_disown(t);
    return cow_txn_commit(t);
}

static inline void ct_txn_abort_(cow_txn *t)
{
    kvt_disown(t);
    cow_txn_abort(t);
}

static inline void ct_cursor_close_owned_(void *c)
{
    cow_cursor_close(c);
}

static inline int ct_cursor_opened_(int rc, cow_cursor **c)
{
    if (rc == KV_OK && c && *c)
        kvt_own(*c, ct_cursor_close_owned_);
    return rc;
}

static inline void ct_cursor_close_(cow_cursor *c)
{
    kvt_disown(c);
    cow_cursor_close(c);
}

#define cow_txn_begin(db, flags, t) ct_txn_begun_(cow_txn_begin((db), (flags), (t)), (t))
#define cow_txn_commit(t) ct_txn_commit_(t)
#define cow_txn_abort(t) ct_txn_abort_(t)
#define cow_cursor_open(txn, c) ct_cursor_opened_(cow_cursor_open((txn), (c)), (c))
#define cow_cursor_close(c) ct_cursor_close_(c)

#endif /* COW_TEST_H */
