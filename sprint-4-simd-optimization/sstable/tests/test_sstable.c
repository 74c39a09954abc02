/*
 * test_sstable.c — the sstable part's own tests, one concept per suite:
 *   block/   restart points and prefix compression: every key back, seeks
 *            to present and absent keys, bad restart arrays and cut entries
 *   bloom/   no false negatives; the false-positive bound (<= 1.5% at 10
 *            bits per key over 1M absent keys); the format is fixed
 *   table/   build then read through the in-memory env: versions and
 *            tombstones by sequence number, full scans and seeks, keys out
 *            of order refused
 *   corrupt/ a flipped byte anywhere in a table is KV_ECORRUPT (or the
 *            right answer), never a wrong value
 * Each test is written as if a student had made the bug it targets: a
 * shared prefix counted from the wrong key, a restart binary search off by
 * one, a bloom probe in the wrong line, a lookup that returns an older
 * version or ignores a tombstone, a checksum that skips the type byte.
 *
 * Every env, file, builder, table, iterator and buffer a test makes is
 * owned (sst_test.h), so a failed assertion leaks nothing.
 */
#include "kvlabs/engine.h"
/* through the lab's -I sstable, so that a copy of this file in the lab's
 * tests/ folder (make grade-tests builds one) finds it too */
#include "tests/sst_test.h"

SST_SUITE(block);
SST_SUITE(bloom);

/* internal key "key%06u" + trailer(seq, type) into buf; returns its length */
static size_t ikey(uint8_t *buf, unsigned id, uint64_t seq, unsigned type)
{
    int n = snprintf((char *)buf, 32, "key%06u", id);
    lsm_put_le64(buf + n, lsm_trailer(seq, type));
    return (size_t)n + LSM_TRAILER;
}

/* ---- block ------------------------------------------------------------- */

static lsm_iter *build_block(lsm_block_builder *bb, unsigned n, unsigned restart)
{
    uint8_t k[32];
    char v[32];
    lsm_iter *it;
    sst_own_block_builder(bb, restart);
    for (unsigned i = 0; i < n; i++) {
        size_t kn = ikey(k, 2 * i, 5, LSM_TYPE_VALUE);
        int vn = snprintf(v, sizeof v, "v%u", 2 * i);
        cr_assert_eq(lsm_block_builder_add(bb, k, kn, v, (size_t)vn), KV_OK);
    }
    cr_assert_eq(lsm_block_builder_finish(bb), KV_OK);
    cr_assert_eq(lsm_block_iter(bb->buf.p, bb->buf.n, false, &it), KV_OK);
    return sst_own_iter(it);
}

Test(block, every_key_back_in_order)
{
    static lsm_block_builder bb; /* owned: static, as a failed assertion leaves this frame */
    for (unsigned restart = 1; restart <= 17; restart += 4) {
        lsm_iter *it = build_block(&bb, 200, restart);
        unsigned i = 0;
        for (it->ops->first(it); it->ops->valid(it); it->ops->next(it), i++) {
            uint8_t want[32];
            const void *k, *v;
            size_t kn, vn;
            char wv[32];
            size_t wn = ikey(want, 2 * i, 5, LSM_TYPE_VALUE);
            it->ops->key(it, &k, &kn);
            it->ops->value(it, &v, &vn);
            cr_assert_eq(kn, wn);
            cr_assert_eq(memcmp(k, want, wn), 0, "entry %u (restart every %u)", i, restart);
            int wvn = snprintf(wv, sizeof wv, "v%u", 2 * i);
            cr_assert_eq(vn, (size_t)wvn);
            cr_assert_eq(memcmp(v, wv, vn), 0);
        }
        cr_assert_eq(i, 200, "entries back: %u", i);
        cr_assert_eq(it->ops->status(it), KV_OK);
        kvt_drop(it);  /* closes it */
        kvt_drop(&bb); /* lsm_block_builder_free() */
    }
}

Test(block, prefix_compression_shrinks_the_block)
{
    static lsm_block_builder a, b; /* owned: static */
    lsm_iter *x = build_block(&a, 200, 16), *y = build_block(&b, 200, 1);
    /* keys share 7..8 of their 17 bytes: compressed must be clearly smaller */
    cr_assert_lt(a.buf.n + 200 * 4, b.buf.n, "restart every 16: %zu bytes, every 1: %zu", a.buf.n,
                 b.buf.n);
    kvt_drop(x);
    kvt_drop(y);
    kvt_drop(&a);
    kvt_drop(&b);
}

Test(block, seek_present_absent_and_past_the_end)
{
    static lsm_block_builder bb; /* owned: static */
    lsm_iter *it = build_block(&bb, 100, 16);
    uint8_t k[32];
    const void *got;
    size_t gn;
    for (unsigned id = 0; id < 199; id++) {
        size_t kn = ikey(k, id, LSM_MAX_SEQ, LSM_TYPE_VALUE);
        it->ops->seek(it, k, kn);
        cr_assert(it->ops->valid(it), "seek %u", id);
        it->ops->key(it, &got, &gn);
        uint8_t want[32];
        size_t wn = ikey(want, id + (id & 1), 5, LSM_TYPE_VALUE);
        cr_assert_eq(gn, wn);
        cr_assert_eq(memcmp(got, want, wn), 0, "seek %u landed on %.*s", id, (int)gn - 8,
                     (const char *)got);
    }
    size_t kn = ikey(k, 199, 0, LSM_TYPE_DELETE);
    it->ops->seek(it, k, kn);
    cr_assert_not(it->ops->valid(it));
    cr_assert_eq(it->ops->status(it), KV_OK);
    /* a key with a smaller sequence than the entry's sorts after it */
    kn = ikey(k, 10, 4, LSM_TYPE_VALUE);
    it->ops->seek(it, k, kn);
    it->ops->key(it, &got, &gn);
    cr_assert_eq(memcmp(got, "key000012", 9), 0);
    kvt_drop(it);
    kvt_drop(&bb);
}

Test(block, bad_restart_arrays_are_corrupt)
{
    uint8_t buf[64] = {0};
    lsm_iter *it = (lsm_iter *)1;
    cr_assert_eq(lsm_block_iter(buf, 3, false, &it), KV_ECORRUPT);
    cr_assert_null(it);
    cr_assert_eq(lsm_block_iter(buf, 8, false, &it), KV_ECORRUPT, "zero restarts");
    lsm_put_le32(buf + 4, 2); /* two restarts need 12 bytes */
    cr_assert_eq(lsm_block_iter(buf, 8, false, &it), KV_ECORRUPT, "restart count too large");
    /* one restart pointing past the entries */
    lsm_put_le32(buf + 8, 9);
    lsm_put_le32(buf + 12, 1);
    cr_assert_eq(lsm_block_iter(buf, 16, false, &it), KV_OK);
    sst_own_iter(it);
    it->ops->first(it);
    cr_assert_not(it->ops->valid(it));
    cr_assert_eq(it->ops->status(it), KV_ECORRUPT);
    kvt_drop(it);
}

Test(block, cut_or_lying_entries_are_corrupt)
{
    static lsm_block_builder bb; /* owned: static */
    lsm_iter *it = build_block(&bb, 20, 4);
    kvt_drop(it);
    /* every truncation of the entry area, keeping the restart array valid */
    size_t limit = bb.buf.n - 4 - 4 * 5;
    for (size_t cut = 1; cut < 6; cut++) {
        uint8_t *copy = kvt_own(malloc(bb.buf.n), free);
        memcpy(copy, bb.buf.p, bb.buf.n);
        /* the first entry claims a huge value */
        copy[2] = (uint8_t)(0x80 | cut);
        copy[3] = 0x7f;
        cr_assert_eq(lsm_block_iter(copy, bb.buf.n, false, &it), KV_OK);
        sst_own_iter(it);
        it->ops->first(it);
        cr_assert_not(it->ops->valid(it));
        cr_assert_eq(it->ops->status(it), KV_ECORRUPT);
        kvt_drop(it);
        kvt_drop(copy);
    }
    /* a second entry whose shared prefix is longer than the first key */
    uint8_t *copy = kvt_own(malloc(bb.buf.n), free);
    memcpy(copy, bb.buf.p, bb.buf.n);
    size_t second = 3 + 17 + (size_t)copy[2];
    copy[second] = 60;
    cr_assert_eq(lsm_block_iter(copy, bb.buf.n, false, &it), KV_OK);
    sst_own_iter(it);
    it->ops->first(it);
    cr_assert(it->ops->valid(it));
    it->ops->next(it);
    cr_assert_not(it->ops->valid(it));
    cr_assert_eq(it->ops->status(it), KV_ECORRUPT);
    kvt_drop(it);
    kvt_drop(copy);
    (void)limit;
    kvt_drop(&bb);
}

/* ---- bloom -------------------------------------------------------------- */

Test(bloom, no_false_negatives_and_fpr_bound)
{
    const size_t nkeys = 100000, absent = 1000000;
    size_t size = lsm_bloom_size(nkeys, 10);
    uint8_t *f = kvt_own(calloc(1, size), free);
    char k[32];
    size_t fp = 0;
    cr_assert_eq(size % LSM_BLOOM_LINE, 0);
    cr_assert_geq(size * 8, nkeys * 10);
    for (size_t i = 0; i < nkeys; i++) {
        int n = snprintf(k, sizeof k, "present%zu", i);
        lsm_bloom_add(f, size, lsm_bloom_hash(k, (size_t)n));
    }
    for (size_t i = 0; i < nkeys; i++) {
        int n = snprintf(k, sizeof k, "present%zu", i);
        cr_assert(lsm_bloom_may_contain(f, size, lsm_bloom_hash(k, (size_t)n)), "key %zu lost", i);
    }
    for (size_t i = 0; i < absent; i++) {
        int n = snprintf(k, sizeof k, "absent%zu", i);
        fp += lsm_bloom_may_contain(f, size, lsm_bloom_hash(k, (size_t)n));
    }
    double rate = (double)fp / (double)absent;
    cr_log_info("bloom: %zu false positives in %zu absent keys (%.3f%%)", fp, absent, 100 * rate);
    cr_assert_leq(rate, 0.015, "false-positive rate %.3f%% > 1.5%% at 10 bits/key", 100 * rate);
    cr_assert_gt(fp, 0, "no false positive at all: the filter is not 10 bits per key");
    kvt_drop(f);
}

Test(bloom, one_line_per_key_and_fixed_positions)
{
    uint32_t bits[LSM_BLOOM_PROBES];
    /* the format: a given hash always probes the same line and bits */
    size_t line = lsm_bloom_positions(UINT64_C(0x0123456789abcdef), 1000, bits);
    cr_assert_eq(line, (size_t)((UINT64_C(0x01234567) * 1000) >> 32));
    cr_assert_eq(bits[0], (0x89abcdefu * 0x47b6137bu) >> 23);
    cr_assert_eq(bits[7], (0x89abcdefu * 0x5c6bfb31u) >> 23);
    /* adding a key touches exactly one line */
    uint8_t f[LSM_BLOOM_LINE * 4] = {0};
    lsm_bloom_add(f, sizeof f, UINT64_C(0xdeadbeef12345678));
    int lines_touched = 0;
    for (int l = 0; l < 4; l++) {
        int any = 0;
        for (int b = 0; b < (int)LSM_BLOOM_LINE; b++)
            any |= f[l * LSM_BLOOM_LINE + b];
        lines_touched += any != 0;
    }
    cr_assert_eq(lines_touched, 1);
}

/* ---- table -------------------------------------------------------------- */

static kv_env *env;

static void table_setup(void)
{
    env = kv_env_mem_new(); /* owned: the suite's .fini frees it, after the files */
    cr_assert_not_null(env);
}

/* keys 0..n-1; key i has versions seq 10+i (value) and, for i % 3 == 0,
 * seq 1000000+i (a tombstone), for i % 5 == 0 seq 2000000+i (a new value) */
static uint64_t build_table(const char *path, unsigned n, size_t block_size)
{
    kv_file *f;
    lsm_table_builder *b;
    lsm_table_opts o = {.block_size = block_size, .restart_every = 16, .bloom_bits = 10};
    uint8_t k[32];
    char v[64];
    uint64_t size;
    cr_assert_eq(kv_env_open(env, path, KV_O_RDWR | KV_O_CREAT, &f), KV_OK);
    sst_own_file(f);
    cr_assert_eq(lsm_table_builder_new(f, &o, &b), KV_OK);
    sst_own_builder(b);
    for (unsigned i = 0; i < n; i++) {
        if (i % 5 == 0) {
            int vn = snprintf(v, sizeof v, "new%u", i);
            cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, i, 2000000 + i, LSM_TYPE_VALUE), v,
                                               (size_t)vn), KV_OK);
        }
        if (i % 3 == 0)
            cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, i, 1000000 + i, LSM_TYPE_DELETE), "",
                                               0), KV_OK);
        int vn = snprintf(v, sizeof v, "old%u", i);
        cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, i, 10 + i, LSM_TYPE_VALUE), v,
                                           (size_t)vn), KV_OK);
    }
    cr_assert_eq(lsm_table_builder_finish(b, &size), KV_OK);
    kvt_drop(b); /* lsm_table_builder_free() */
    kvt_disown(f);
    cr_assert_eq(kv_file_close(f), KV_OK);
    return size;
}

static lsm_table *open_table(const char *path, int want)
{
    kv_file *f;
    uint64_t size;
    lsm_table *t = NULL;
    cr_assert_eq(kv_env_open(env, path, KV_O_RDONLY, &f), KV_OK);
    sst_own_file(f);
    cr_assert_eq(kv_file_size(f, &size), KV_OK);
    kvt_disown(f); /* the table's from here on, also on failure */
    int rc = lsm_table_open(f, size, NULL, &t);
    if (rc == KV_OK)
        sst_own_table(t);
    cr_assert_eq(rc, want, "open: %d (%s)", rc, kv_last_error());
    return t;
}

SST_SUITE(table, .init = table_setup);

Test(table, versions_and_tombstones_by_sequence)
{
    static kv_buf v; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&v, kvt_buf_free_owned);
    unsigned type;
    char want[64];
    build_table("/t1", 3000, 512);
    lsm_table *t = open_table("/t1", KV_OK);
    cr_assert_eq(lsm_table_entries(t), 3000 + 1000 + 600);
    for (unsigned i = 0; i < 3000; i++) {
        char key[16];
        snprintf(key, sizeof key, "key%06u", i);
        /* newest view */
        int rc = lsm_table_get(t, key, 9, LSM_MAX_SEQ, &type, &v);
        cr_assert_eq(rc, KV_OK, "key %u: %d", i, rc);
        if (i % 5 == 0) {
            int n = snprintf(want, sizeof want, "new%u", i);
            cr_assert_eq(type, LSM_TYPE_VALUE);
            cr_assert_eq(v.len, (size_t)n);
            cr_assert_eq(memcmp(v.data, want, v.len), 0);
        } else if (i % 3 == 0) {
            cr_assert_eq(type, LSM_TYPE_DELETE, "key %u: the tombstone hides the value", i);
        } else {
            cr_assert_eq(type, LSM_TYPE_VALUE);
        }
        /* a snapshot before the tombstone and the new value sees the old value */
        cr_assert_eq(lsm_table_get(t, key, 9, 10 + i, &type, &v), KV_OK);
        int n = snprintf(want, sizeof want, "old%u", i);
        cr_assert_eq(type, LSM_TYPE_VALUE);
        cr_assert_eq(v.len, (size_t)n, "key %u at its first sequence", i);
        cr_assert_eq(memcmp(v.data, want, v.len), 0);
        /* before the key was written: not found */
        cr_assert_eq(lsm_table_get(t, key, 9, 9 + i, &type, &v), KV_ENOTFOUND, "key %u", i);
    }
    cr_assert_eq(lsm_table_get(t, "key9", 4, LSM_MAX_SEQ, &type, &v), KV_ENOTFOUND);
    cr_assert_eq(lsm_table_get(t, "a", 1, LSM_MAX_SEQ, &type, &v), KV_ENOTFOUND);
    cr_assert_eq(lsm_table_get(t, "zzz", 3, LSM_MAX_SEQ, &type, &v), KV_ENOTFOUND);
    kvt_drop(&v);
    kvt_drop(t); /* lsm_table_close() */
}

Test(table, scan_and_seek_cross_blocks)
{
    build_table("/t2", 2000, 256);
    lsm_table *t = open_table("/t2", KV_OK);
    lsm_iter *it;
    const void *k, *pk = NULL;
    size_t kn, pn = 0;
    uint8_t prev[64];
    uint64_t n = 0;
    cr_assert_eq(lsm_table_iter(t, &it), KV_OK);
    sst_own_iter(it);
    for (it->ops->first(it); it->ops->valid(it); it->ops->next(it), n++) {
        it->ops->key(it, &k, &kn);
        if (pk)
            cr_assert_lt(lsm_ikey_cmp(prev, pn, k, kn), 0, "entry %llu out of order",
                         (unsigned long long)n);
        memcpy(prev, k, kn);
        pk = prev;
        pn = kn;
    }
    cr_assert_eq(it->ops->status(it), KV_OK);
    cr_assert_eq(n, lsm_table_entries(t));
    for (unsigned id = 0; id < 2000; id += 7) {
        uint8_t target[32];
        size_t tn = ikey(target, id, LSM_MAX_SEQ, LSM_TYPE_VALUE);
        it->ops->seek(it, target, tn);
        cr_assert(it->ops->valid(it));
        it->ops->key(it, &k, &kn);
        cr_assert_eq(memcmp(k, target, 9), 0, "seek %u", id);
    }
    uint8_t target[32];
    size_t tn = ikey(target, 5000, LSM_MAX_SEQ, LSM_TYPE_VALUE);
    it->ops->seek(it, target, tn);
    cr_assert_not(it->ops->valid(it));
    kvt_drop(it);
    kvt_drop(t);
}

Test(table, keys_out_of_order_refused)
{
    kv_file *f;
    lsm_table_builder *b;
    lsm_table_opts o = {.block_size = 4096, .restart_every = 16, .bloom_bits = 10};
    uint8_t k[32];
    cr_assert_eq(kv_env_open(env, "/t3", KV_O_RDWR | KV_O_CREAT, &f), KV_OK);
    sst_own_file(f);
    cr_assert_eq(lsm_table_builder_new(f, &o, &b), KV_OK);
    sst_own_builder(b);
    cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, 5, 7, LSM_TYPE_VALUE), "v", 1), KV_OK);
    cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, 4, 7, LSM_TYPE_VALUE), "v", 1), KV_EINVAL);
    cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, 5, 7, LSM_TYPE_VALUE), "v", 1), KV_EINVAL,
                 "a duplicate internal key");
    cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, 5, 8, LSM_TYPE_VALUE), "v", 1), KV_EINVAL,
                 "a newer version must come before an older one");
    cr_assert_eq(lsm_table_builder_add(b, k, ikey(k, 5, 6, LSM_TYPE_VALUE), "v", 1), KV_OK);
    cr_assert_eq(lsm_table_builder_add(b, "short", 5, "v", 1), KV_EINVAL);
    kvt_drop(b);
    kvt_drop(f); /* kv_file_close() */
    o.compression = (lsm_compression)3;
    int rc = lsm_table_builder_new(f, &o, &b);
    if (rc == KV_OK)
        sst_own_builder(b);
    cr_assert_eq(rc, KV_EINVAL, "an unknown codec");
}

/* ---- corrupt ------------------------------------------------------------ */

SST_SUITE(corrupt, .init = table_setup);

/* Flip one byte of the table at every offset step; each open / read of every
 * key either fails with KV_ECORRUPT or gives the right answer. */
Test(corrupt, any_flipped_byte_is_detected)
{
    uint64_t size = build_table("/c", 120, 256);
    uint8_t *orig = kvt_own(malloc(size), free);
    kv_file *f;
    size_t got;
    static kv_buf v; /* owned: static */
    kvt_own(&v, kvt_buf_free_owned);
    cr_assert_eq(kv_env_open(env, "/c", KV_O_RDWR, &f), KV_OK);
    sst_own_file(f);
    cr_assert_eq(kv_file_pread(f, orig, size, 0, &got), KV_OK);
    unsigned detected = 0;
    for (uint64_t off = 0; off < size; off += 5) {
        uint8_t b = orig[off] ^ 0x20;
        cr_assert_eq(kv_file_pwrite(f, &b, 1, off), KV_OK);
        lsm_table *t = NULL;
        kv_file *rf;
        cr_assert_eq(kv_env_open(env, "/c", KV_O_RDONLY, &rf), KV_OK);
        int rc = lsm_table_open(rf, size, NULL, &t); /* the table's file, also on failure */
        if (rc == KV_OK)
            sst_own_table(t);
        if (rc) {
            cr_assert_eq(rc, KV_ECORRUPT, "open with byte %llu flipped: %d",
                         (unsigned long long)off, rc);
            detected++;
        } else {
            bool seen = false;
            for (unsigned i = 1; i < 120; i += 4) {
                char key[16], want[32];
                unsigned type;
                snprintf(key, sizeof key, "key%06u", i);
                rc = lsm_table_get(t, key, 9, LSM_MAX_SEQ, &type, &v);
                if (rc == KV_ECORRUPT) {
                    seen = true;
                    continue;
                }
                /* a flipped filter bit may hide a key: KV_ENOTFOUND, but never a wrong value */
                if (rc == KV_ENOTFOUND)
                    continue;
                cr_assert_eq(rc, KV_OK);
                int n = snprintf(want, sizeof want, i % 5 == 0 ? "new%u" : "old%u", i);
                if (i % 3 == 0 && i % 5 != 0) {
                    cr_assert_eq(type, LSM_TYPE_DELETE);
                } else {
                    cr_assert_eq(type, LSM_TYPE_VALUE);
                    cr_assert_eq(v.len, (size_t)n, "byte %llu flipped: key %u wrong value",
                                 (unsigned long long)off, i);
                    cr_assert_eq(memcmp(v.data, want, v.len), 0);
                }
            }
            detected += seen;
            kvt_drop(t);
        }
        cr_assert_eq(kv_file_pwrite(f, &orig[off], 1, off), KV_OK);
    }
    cr_assert_gt(detected, size / 5 / 2, "only %u of %llu flips detected", detected,
                 (unsigned long long)(size / 5));
    kvt_drop(&v);
    kvt_drop(f);
    kvt_drop(orig);
}

Test(corrupt, truncated_table_refused)
{
    uint64_t size = build_table("/tr", 100, 256);
    kv_file *f;
    lsm_table *t = NULL;
    for (uint64_t cut = 0; cut < size; cut += 37) {
        cr_assert_eq(kv_env_open(env, "/tr", KV_O_RDONLY, &f), KV_OK);
        int rc = lsm_table_open(f, cut, NULL, &t); /* the table's file, also on failure */
        if (rc == KV_OK)
            sst_own_table(t);
        cr_assert_eq(rc, KV_ECORRUPT, "cut at %llu", (unsigned long long)cut);
        cr_assert_null(t);
    }
}
