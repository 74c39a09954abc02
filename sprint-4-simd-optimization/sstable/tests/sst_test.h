/*
 * sst_test.h — ownership for the sstable part's Criterion tests
 * (test_sstable.c, test_cache.c, test_sstable_compress.c): everything a
 * test makes is freed by its suite's .fini, also after a failed assertion,
 * so a failing kit test reports its failure and no leak (and no abort of
 * kv_env_free() over a file left open).
 *
 * How it works: kvtest.h's KVT_OWN_STORES owns the envs and stores
 * (kv_env_mem_new(), kv_open()...: kv_env_free() and kv_close() forget
 * them). The objects of this part and the files a test opens are owned
 * right after the call that made them, with the sst_own_*() functions
 * below, and freed with kvt_drop() (or forgotten with kvt_disown() before
 * a call that frees them and reports a status, or takes them:
 * lsm_table_open() owns its file from the call on, also on failure).
 * Plain memory is owned with kvt_own(p, free) or kvt_own(p,
 * sst_kv_free_owned) (kv_malloc'd). A block builder, an lsm_bytes and a
 * kv_buf owned by a test are static (a failed assertion leaves the test's
 * stack before .fini runs): sst_own_block_builder(), kvt_own(&b,
 * sst_bytes_free_owned), kvt_own(&buf, kvt_buf_free_owned). The suite's
 * .fini (SST_SUITE, or kvt_release_owned called from its own) frees
 * newest first: iterators before their tables, tables before their cache
 * and their env, so nothing leaks and kv_env_free() finds every file
 * closed.
 *
 * What callers must not do: include kvtest.h before this header (it
 * defines KVT_OWN_STORES first), or free an owned object without
 * forgetting it first (it would be freed twice).
 */
#ifndef SST_TEST_H
#define SST_TEST_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"
#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "sstable.h"
#include "sstable_int.h"
#define KVT_OWN_STORES
#include "kvtest.h"

/** Declare suite @p name, whose .fini frees what a test left (after its own arguments). */
#define SST_SUITE(...) TestSuite(__VA_ARGS__, .fini = kvt_release_owned)

/** kv_free() as a kvt_free_fn (kv_malloc'd bytes). */
static inline void sst_kv_free_owned(void *p)
{
    kv_free(p);
}

/** Free the bytes of a (static) lsm_bytes and leave it empty, as a kvt_free_fn. */
static inline void sst_bytes_free_owned(void *b)
{
    lsm_bytes *x = b;
    kv_free(x->p);
    x->p = NULL;
    x->n = x->cap = 0;
}

static inline void sst_block_builder_free_owned_(void *bb)
{
    lsm_block_builder_free(bb);
}

/** lsm_block_builder_init(@p bb, @p restart_every), owned (@p bb static; kvt_drop(bb) frees it). */
static inline void sst_own_block_builder(lsm_block_builder *bb, unsigned restart_every)
{
    lsm_block_builder_init(bb, restart_every);
    kvt_own(bb, sst_block_builder_free_owned_);
}

static inline void sst_iter_close_owned_(void *it)
{
    ((lsm_iter *)it)->ops->close(it);
}

static inline void sst_builder_free_owned_(void *b)
{
    lsm_table_builder_free(b);
}

static inline void sst_table_close_owned_(void *t)
{
    lsm_table_close(t);
}

static inline void sst_cache_free_owned_(void *c)
{
    lsm_cache_free(c);
}

/** Own open file @p f (kv_file_close() at release; kvt_drop(f) closes it). Returns f. */
static inline kv_file *sst_own_file(kv_file *f)
{
    return kvt_own(f, kvt_file_close_owned);
}

/** Own table builder @p b (kvt_drop(b) frees it). Returns b. */
static inline lsm_table_builder *sst_own_builder(lsm_table_builder *b)
{
    return kvt_own(b, sst_builder_free_owned_);
}

/** Own open table @p t (kvt_drop(t) closes it and its file). Returns t. */
static inline lsm_table *sst_own_table(lsm_table *t)
{
    return kvt_own(t, sst_table_close_owned_);
}

/** Own iterator @p it (kvt_drop(it), or sst_iter_close(), closes it). Returns it. */
static inline lsm_iter *sst_own_iter(lsm_iter *it)
{
    return kvt_own(it, sst_iter_close_owned_);
}

/** Own block cache @p c (kvt_drop(c) frees it). Returns c. */
static inline lsm_cache *sst_own_cache(lsm_cache *c)
{
    return kvt_own(c, sst_cache_free_owned_);
}

#endif /* SST_TEST_H */
