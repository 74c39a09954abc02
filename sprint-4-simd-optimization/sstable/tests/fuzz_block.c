/*
 * fuzz_block.c — the libFuzzer target of block decode (sstable_block.c's
 * iterator) and of table open (sstable_reader.c), and a deterministic
 * driver of the same target for make test.
 *
 * The input's first byte picks what the rest goes to: 0, a data block
 * handed to lsm_block_iter as it would come out of a file after its
 * checksum (first, next to the end, then seeks to keys it saw and to bytes
 * of the input); 1, a whole table file in the memory env (lsm_table_open,
 * then a scan and lookups). Whatever the bytes, a decoder must return a
 * status, never read outside its input (the block is an exact-size copy,
 * so ASan sees one byte past it), never loop (a block of n bytes holds at
 * most n / 3 entries: each has three varints) and never leak.
 *
 * The driver builds valid blocks with the block builder (random keys with
 * shared prefixes, random restart intervals) and valid small tables, checks
 * that an unchanged block gives back every key and that a seek finds each
 * (so a builder or decoder that loses keys fails here too), then damages
 * copies: truncated, bit-flipped, a 4-byte field (a restart offset, the
 * restart count, a varint run) overwritten with an extreme, or random
 * bytes appended.
 *
 *   make -C sprint-4-simd-optimization fuzz [FUZZ_SECONDS=60]   (clang, libFuzzer)
 *   fuzz_block [ITERATIONS]     the deterministic driver (default 20000)
 *
 * What a caller must not do: link this with -DKVLABS_LIBFUZZER and a main
 * of its own; the driver's main is compiled out then.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "sstable_int.h"

static int failures;

static void fail(const char *what)
{
    if (failures++ < 10)
        fprintf(stderr, "fuzz_block: %s\n", what);
}

/* Walk a block from the first entry to the end, then seek to some keys it
 * held and to a target cut from the input. */
static void fuzz_one_block(const uint8_t *p, size_t n)
{
    lsm_iter *it;
    uint8_t keys[4][64];
    size_t keyn[4] = {0}, seen = 0;
    if (lsm_block_iter(p, n, false, &it) != KV_OK)
        return;
    for (it->ops->first(it); it->ops->valid(it); it->ops->next(it)) {
        const void *k, *v;
        size_t kn, vn;
        it->ops->key(it, &k, &kn);
        it->ops->value(it, &v, &vn);
        if (vn > n || (vn && ((const uint8_t *)v < p || (const uint8_t *)v + vn > p + n))) {
            fail("a value outside the block");
            break;
        }
        if (seen < 4 && kn <= sizeof keys[0] && kn >= LSM_TRAILER) {
            memcpy(keys[seen], k, kn);
            keyn[seen] = kn;
        }
        if (++seen > n / 3) {
            fail("more entries than the block's bytes can hold (a loop?)");
            break;
        }
    }
    for (size_t i = 0; i < 4 && i < seen; i++)
        if (keyn[i])
            it->ops->seek(it, keys[i], keyn[i]);
    if (n >= 16)
        it->ops->seek(it, p + n / 2 - 8, 16);
    it->ops->close(it);
}

/* A table file: open, scan, look up. */
static void fuzz_one_table(const uint8_t *p, size_t n)
{
    kv_env *env = kv_env_mem_new();
    kv_file *f;
    lsm_table *t;
    lsm_iter *it;
    kv_buf v = {0};
    unsigned type;
    if (!env)
        return;
    if (kv_env_open(env, "/t", KV_O_RDWR | KV_O_CREAT, &f) != KV_OK)
        goto out_free_env;
    if (n && kv_file_pwrite(f, p, n, 0) != KV_OK) {
        kv_file_close(f);
        goto out_free_env;
    }
    if (lsm_table_open(f, n, NULL, &t) != KV_OK) /* closes f on failure */
        goto out_free_env;
    if (lsm_table_iter(t, &it) == KV_OK) {
        size_t seen = 0;
        for (it->ops->first(it); it->ops->valid(it) && seen < 100000; it->ops->next(it))
            seen++;
        it->ops->close(it);
    }
    lsm_table_get(t, "key000001", 9, LSM_MAX_SEQ, &type, &v);
    lsm_table_get(t, "zzz", 3, LSM_MAX_SEQ, &type, &v);
    kv_buf_free(&v);
    lsm_table_close(t);
out_free_env:
    kv_env_free(env);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 2;
    data++;
    size--;
    /* an exact-size copy, so that ASan sees a read past the end */
    uint8_t *p = malloc(size ? size : 1);
    if (!p)
        return 0;
    if (size)
        memcpy(p, data, size);
    if (mode == 0)
        fuzz_one_block(p, size);
    else
        fuzz_one_table(p, size);
    free(p);
    return 0;
}

#ifndef KVLABS_LIBFUZZER
static uint64_t rng = 88172645463325252ULL;
static uint64_t next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* Internal key i of a seed: a shared stem, then a number; seq fixed. */
static size_t seed_key(uint8_t *k, unsigned i)
{
    int n = snprintf((char *)k, 40, "user:%05u:%u", i / 7, i % 7);
    lsm_put_le64(k + n, lsm_trailer(100 + i, i % 9 == 0 ? LSM_TYPE_DELETE : LSM_TYPE_VALUE));
    return (size_t)n + LSM_TRAILER;
}

/* A valid block of `count` entries into bb; false (and a failure) if the
 * builder refuses. Checks the undamaged block reads back whole. */
static bool seed_block(lsm_block_builder *bb, unsigned count)
{
    uint8_t k[48], v[32];
    lsm_iter *it;
    bool ok = true;
    lsm_block_builder_reset(bb);
    for (unsigned i = 0; i < count; i++) {
        size_t vn = next() % sizeof v;
        memset(v, 'a' + (int)(i % 26), vn);
        if (lsm_block_builder_add(bb, k, seed_key(k, i), v, vn) != KV_OK) {
            fail(kv_last_error());
            return false;
        }
    }
    if (lsm_block_builder_finish(bb) != KV_OK) {
        fail(kv_last_error());
        return false;
    }
    if (lsm_block_iter(bb->buf.p, bb->buf.n, false, &it) != KV_OK) {
        fail("a block the builder wrote does not open");
        return false;
    }
    unsigned got = 0;
    for (it->ops->first(it); it->ops->valid(it) && got <= count; it->ops->next(it), got++) {
        const void *kk;
        size_t kn = 0, want = seed_key(k, got);
        it->ops->key(it, &kk, &kn);
        if (kn != want || memcmp(kk, k, kn) != 0) {
            ok = false;
            break;
        }
    }
    if (!ok || got != count || it->ops->status(it) != KV_OK) {
        fail("an undamaged block does not give back its keys in order");
        ok = false;
    }
    for (unsigned i = 0; ok && i < count; i += 1 + (unsigned)(next() % 5)) {
        const void *kk;
        size_t kn = 0, want = seed_key(k, i);
        it->ops->seek(it, k, want);
        if (it->ops->valid(it))
            it->ops->key(it, &kk, &kn);
        if (kn != want || memcmp(kk, k, kn) != 0) {
            fail("a seek in an undamaged block misses a key it holds");
            ok = false;
        }
    }
    it->ops->close(it);
    return ok;
}

/* A valid small table's bytes into buf (cap bytes); its length, 0 on failure. */
static size_t seed_table(uint8_t *buf, size_t cap)
{
    kv_env *env = kv_env_mem_new();
    lsm_table_opts o = {.block_size = 256, .restart_every = 1 + (unsigned)(next() % 8),
                        .bloom_bits = 10};
    lsm_table_builder *b = NULL;
    kv_file *f = NULL;
    uint64_t size = 0;
    size_t got = 0;
    uint8_t k[48];
    if (!env || kv_env_open(env, "/t", KV_O_RDWR | KV_O_CREAT, &f) != KV_OK ||
        lsm_table_builder_new(f, &o, &b) != KV_OK)
        goto out_fail;
    for (unsigned i = 0; i < 40; i++)
        if (lsm_table_builder_add(b, k, seed_key(k, i), "value", 5) != KV_OK)
            goto out_fail;
    if (lsm_table_builder_finish(b, &size) != KV_OK || size > cap ||
        kv_file_pread(f, buf, (size_t)size, 0, &got) != KV_OK || got != size)
        goto out_fail;
    lsm_table_builder_free(b);
    kv_file_close(f);
    kv_env_free(env);
    return (size_t)size;
out_fail:
    fail(kv_last_error());
    lsm_table_builder_free(b);
    if (f)
        kv_file_close(f);
    kv_env_free(env);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 20000;
    static uint8_t buf[16384];
    lsm_block_builder bb;
    lsm_block_builder_init(&bb, 16);
    for (unsigned long i = 0; i < iters && failures < 10; i++) {
        size_t n;
        if (i % 2 == 0) {
            bb.restart_every = 1 + (unsigned)(next() % 16);
            if (!seed_block(&bb, 1 + (unsigned)(next() % 60)) || bb.buf.n + 1 > sizeof buf)
                continue;
            buf[0] = 0;
            memcpy(buf + 1, bb.buf.p, bb.buf.n);
            n = 1 + bb.buf.n;
        } else {
            buf[0] = 1;
            if (!(n = seed_table(buf + 1, sizeof buf - 1)))
                continue;
            n++;
        }
        switch (next() % 4) {
        case 0: /* truncate */
            n = 1 + next() % n;
            break;
        case 1: /* flip bits */
            for (int k = (int)(1 + next() % 4); k > 0; k--)
                buf[1 + next() % (n - 1)] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 2: /* overwrite a 4-byte field with an extreme, often the trailer's */
            if (n > 5) {
                uint32_t v = next() % 2 ? 0xffffffffu : (uint32_t)(next() % 70000);
                size_t at = next() % 2 ? n - 4 : 1 + next() % (n - 5);
                memcpy(buf + at, &v, 4);
            }
            break;
        default: /* append random bytes */
            for (int k = (int)(next() % 64); k > 0 && n < sizeof buf; k--)
                buf[n++] = (uint8_t)next();
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    lsm_block_builder_free(&bb);
    printf("fuzz_block: %lu inputs\n%d passed, %d failed\n", iters, failures ? 0 : 1,
           failures ? 1 : 0);
    return failures ? 1 : 0;
}
#endif
