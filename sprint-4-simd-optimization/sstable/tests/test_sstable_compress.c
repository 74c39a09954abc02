/*
 * test_sstable_compress.c — per-block compression (none | lz4 | zstd):
 * round trips, incompressible blocks, and corrupt compressed blocks.
 *
 * Written as if a student had made the bug each test targets:
 *   codec/      lsm_block_compress / lsm_block_decompress directly: the
 *               exact bytes come back; a frame cut short, a raw size off
 *               by one either way or past the 64 MiB limit, garbage, an
 *               unknown type are KV_ECORRUPT (not a crash, not a short
 *               block); a block that does not shrink by 1/8 is not used;
 *   compress/   whole tables per codec: every key and value back by get
 *               and by a scan, the compressed table is smaller than the
 *               uncompressed one on compressible values, random values are
 *               stored raw (same size as none), and a corrupt compressed
 *               data block is KV_ECORRUPT: with its CRC left wrong (the CRC
 *               check), and with the CRC recomputed over the damage (the
 *               decompressor's own checks must catch it);
 * (The engine with compression= is the lsm part's: lsm/tests/test_lsm.c's
 * compress/ suite, so that this part grades without the engine.)
 *
 * Every buffer, env, file, builder, table, iterator and store a test makes
 * is owned (sst_test.h), so a failed assertion leaks nothing.
 */
/* through the lab's -I sstable, as in test_sstable.c */
#include "tests/sst_test.h"

SST_SUITE(codec);

static const lsm_compression codecs[] = {LSM_COMPRESS_NONE, LSM_COMPRESS_LZ4, LSM_COMPRESS_ZSTD};
static const char *const codec_name[] = {"none", "lz4", "zstd"};

/* ---- the codec functions --------------------------------------------------- */

static void fill_text(uint8_t *p, size_t n)
{
    static const char words[] = "the quick brown fox jumps over the lazy dog 0123456789 ";
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)words[(i * 7 + i / 13) % (sizeof words - 1)];
}

Test(codec, round_trip_exact_bytes)
{
    static uint8_t raw[20000];
    fill_text(raw, sizeof raw);
    for (size_t c = 1; c < 3; c++) {
        for (size_t n = 300; n <= sizeof raw; n = n * 3 + 1) {
            static lsm_bytes out; /* owned: static, as a failed assertion leaves this frame */
            bool used;
            kvt_own(&out, sst_bytes_free_owned);
            OK(lsm_block_compress(codecs[c], raw, n, &out, &used));
            cr_assert(used, "%s: %zu bytes of text must compress", codec_name[c], n);
            uint8_t *back;
            size_t bn;
            OK(lsm_block_decompress(codecs[c], out.p, out.n, &back, &bn));
            kvt_own(back, sst_kv_free_owned);
            cr_assert_eq(bn, n);
            cr_assert(memcmp(back, raw, n) == 0, "%s: %zu bytes differ after a round trip",
                      codec_name[c], n);
            kvt_drop(back); /* kv_free() */
            kvt_drop(&out);
        }
    }
}

Test(codec, incompressible_or_tiny_blocks_not_used)
{
    uint8_t raw[4096];
    kvt_fill(raw, sizeof raw, 99);
    for (size_t c = 0; c < 3; c++) {
        static lsm_bytes out; /* owned: static */
        bool used = true;
        kvt_own(&out, sst_bytes_free_owned);
        OK(lsm_block_compress(codecs[c], raw, sizeof raw, &out, &used));
        cr_assert_not(used, "%s: random bytes do not shrink by 1/8", codec_name[c]);
        used = true;
        fill_text(raw, 32);
        OK(lsm_block_compress(codecs[c], raw, 32, &out, &used));
        cr_assert_not(used, "%s: a block under 64 bytes is stored raw", codec_name[c]);
        kvt_drop(&out);
    }
    static lsm_bytes out; /* owned: static */
    bool used;
    kvt_own(&out, sst_bytes_free_owned);
    RC(lsm_block_compress((lsm_compression)9, raw, sizeof raw, &out, &used), KV_EINVAL);
    kvt_drop(&out);
}

/* Decompress must refuse p[0..n) of type; nothing leaks, *out stays NULL. */
static void refused(unsigned type, const uint8_t *p, size_t n, const char *what)
{
    uint8_t *back = (uint8_t *)1;
    size_t bn = 7;
    int rc = lsm_block_decompress(type, p, n, &back, &bn);
    if (rc == KV_OK)
        kvt_own(back, sst_kv_free_owned); /* a wrong answer's buffer */
    cr_assert_eq(rc, KV_ECORRUPT, "%s (type %u): %d, want KV_ECORRUPT", what, type, rc);
    cr_assert_null(back, "%s: no output on failure", what);
}

Test(codec, corrupt_frames_are_corrupt)
{
    uint8_t raw[4096], bad[8192];
    fill_text(raw, sizeof raw);
    for (size_t c = 1; c < 3; c++) {
        static lsm_bytes out; /* owned: static */
        bool used;
        kvt_own(&out, sst_bytes_free_owned);
        OK(lsm_block_compress(codecs[c], raw, sizeof raw, &out, &used));
        cr_assert(used);
        uint32_t rawn = 0;
        const uint8_t *body = lsm_get_varint32(out.p, out.p + out.n, &rawn);
        cr_assert_eq(rawn, sizeof raw);
        size_t h = (size_t)(body - out.p), bn = out.n - h;
        /* the frame cut short, by one byte and by half */
        refused(codecs[c], out.p, out.n - 1, "frame cut by one byte");
        refused(codecs[c], out.p, h + bn / 2, "frame cut in half");
        refused(codecs[c], out.p, h, "no frame at all");
        refused(codecs[c], out.p, 0, "an empty block");
        /* the raw size off by one either way, or beyond the limit */
        for (int d = -1; d <= 1; d += 2) {
            size_t k = lsm_put_varint32(bad, (uint32_t)((int)rawn + d));
            memcpy(bad + k, body, bn);
            refused(codecs[c], bad, k + bn, d < 0 ? "raw size one too small" : "raw size one too big");
        }
        size_t k = lsm_put_varint32(bad, LSM_BLOCK_MAX + 1);
        memcpy(bad + k, body, bn);
        refused(codecs[c], bad, k + bn, "raw size past 64 MiB");
        bad[0] = 0xff, bad[1] = 0xff, bad[2] = 0xff, bad[3] = 0xff, bad[4] = 0xff;
        refused(codecs[c], bad, 5, "a varint of 5 continuation bytes");
        /* garbage instead of the frame */
        k = lsm_put_varint32(bad, rawn);
        kvt_fill(bad + k, bn, 7);
        refused(codecs[c], bad, k + bn, "random bytes as the frame");
        kvt_drop(&out);
    }
    refused(3, raw, 100, "an unknown block type");
    refused(LSM_COMPRESS_NONE, raw, 100, "type none is not decompressed");
}

/* ---- whole tables ------------------------------------------------------------ */

static kv_env *env;

static void setup(void)
{
    env = kv_env_mem_new(); /* owned: the suite's .fini frees it, after the files */
    cr_assert_not_null(env);
}

SST_SUITE(compress, .init = setup);

#define NKEYS 2000

static size_t make_key(uint8_t *k, unsigned i)
{
    char u[17];
    snprintf(u, sizeof u, "user%012u", i);
    memcpy(k, u, 16);
    uint64_t tr = lsm_trailer(i + 1, LSM_TYPE_VALUE);
    for (int j = 0; j < 8; j++)
        k[16 + j] = (uint8_t)(tr >> (8 * j));
    return 24;
}

/* value i: 100 bytes, text when text, else random */
static void make_value(uint8_t *v, unsigned i, bool text)
{
    if (text) {
        fill_text(v, 100);
        snprintf((char *)v, 12, "v%010u", i);
    } else {
        kvt_fill(v, 100, i + 1);
    }
}

static uint64_t build(const char *path, lsm_compression c, bool text)
{
    kv_file *f;
    lsm_table_builder *b;
    uint64_t size;
    lsm_table_opts o = {.block_size = 4096, .restart_every = 16, .bloom_bits = 10,
                        .compression = c};
    OK(kv_env_open(env, path, KV_O_RDWR | KV_O_CREAT, &f));
    sst_own_file(f);
    OK(lsm_table_builder_new(f, &o, &b));
    sst_own_builder(b);
    for (unsigned i = 0; i < NKEYS; i++) {
        uint8_t k[24], v[100];
        make_value(v, i, text);
        OK(lsm_table_builder_add(b, k, make_key(k, i), v, sizeof v));
    }
    OK(lsm_table_builder_finish(b, &size));
    kvt_drop(b); /* lsm_table_builder_free() */
    kvt_disown(f);
    OK(kv_file_close(f));
    return size;
}

static lsm_table *open_at(const char *path)
{
    kv_file *f;
    uint64_t size;
    lsm_table *t;
    OK(kv_env_open(env, path, KV_O_RDONLY, &f));
    sst_own_file(f);
    OK(kv_file_size(f, &size));
    kvt_disown(f); /* the table's from here on, also on failure */
    OK(lsm_table_open(f, size, NULL, &t));
    return sst_own_table(t);
}

static void check_all(const char *path, bool text, const char *what)
{
    lsm_table *t = open_at(path);
    static kv_buf val; /* owned: static, as a failed assertion leaves this frame */
    kvt_own(&val, kvt_buf_free_owned);
    for (unsigned i = 0; i < NKEYS; i++) {
        uint8_t k[24], v[100];
        unsigned type;
        make_key(k, i);
        make_value(v, i, text);
        int rc = lsm_table_get(t, k, 16, LSM_MAX_SEQ, &type, &val);
        cr_assert_eq(rc, KV_OK, "%s: get %u: %d (%s)", what, i, rc, kv_last_error());
        cr_assert(val.len == 100 && memcmp(val.data, v, 100) == 0, "%s: value %u", what, i);
    }
    lsm_iter *it;
    OK(lsm_table_iter(t, &it));
    sst_own_iter(it);
    unsigned n = 0;
    for (it->ops->first(it); it->ops->valid(it); it->ops->next(it))
        n++;
    OK(it->ops->status(it));
    cr_assert_eq(n, NKEYS, "%s: a scan sees every entry", what);
    kvt_drop(it); /* closes it */
    kvt_drop(&val);
    kvt_drop(t); /* lsm_table_close() */
}

Test(compress, round_trip_each_codec)
{
    uint64_t size[3];
    for (size_t c = 0; c < 3; c++) {
        char path[32];
        snprintf(path, sizeof path, "/%s", codec_name[c]);
        size[c] = build(path, codecs[c], true);
        check_all(path, true, codec_name[c]);
    }
    cr_assert(size[1] < size[0] * 6 / 10, "lz4: %llu bytes vs %llu uncompressed",
              (unsigned long long)size[1], (unsigned long long)size[0]);
    cr_assert(size[2] < size[0] * 6 / 10, "zstd: %llu bytes vs %llu uncompressed",
              (unsigned long long)size[2], (unsigned long long)size[0]);
}

Test(compress, random_values_stored_raw)
{
    uint64_t none = build("/r0", LSM_COMPRESS_NONE, false);
    for (size_t c = 1; c < 3; c++) {
        char path[32];
        snprintf(path, sizeof path, "/r%zu", c);
        uint64_t size = build(path, codecs[c], false);
        /* the index block (text keys) may still compress; the data may not */
        cr_assert(size <= none && size > none - none / 20, "%s: %llu vs %llu", codec_name[c],
                  (unsigned long long)size, (unsigned long long)none);
        check_all(path, false, codec_name[c]);
    }
}

/* The first data block: it starts at 0; its stored length n is where a
 * valid trailer (type, CRC of contents and type) follows. */
static size_t first_block(const uint8_t *p, size_t size, unsigned type)
{
    for (size_t n = 1; n + LSM_BLOCK_TRAILER <= size; n++)
        if (p[n] == type && kv_crc32c(0, p, n + 1) == kv_load_le32(p + n + 1))
            return n;
    return 0;
}

/* Rewrite the file with fix applied to its first data block (and, when
 * recrc, the CRC recomputed), then every get is KV_OK or KV_ECORRUPT and
 * the keys of that block are KV_ECORRUPT. */
static void damage(const char *path, unsigned type, bool recrc, void (*fix)(uint8_t *, size_t *))
{
    kv_file *f;
    uint64_t size;
    size_t got;
    OK(kv_env_open(env, path, KV_O_RDWR, &f));
    sst_own_file(f);
    OK(kv_file_size(f, &size));
    uint8_t *p = kvt_own(kv_malloc((size_t)size), sst_kv_free_owned);
    cr_assert_not_null(p);
    OK(kv_file_pread(f, p, (size_t)size, 0, &got));
    size_t n = first_block(p, (size_t)size, type), n2 = n;
    cr_assert(n > 0, "the first data block is stored with type %u", type);
    fix(p, &n2); /* may change bytes, never the length */
    if (recrc)
        lsm_put_le32(p + n + 1, kv_crc32c(0, p, n + 1));
    OK(kv_file_pwrite(f, p, (size_t)size, 0));
    kvt_disown(f);
    OK(kv_file_close(f));
    kvt_drop(p); /* kv_free() */

    lsm_table *t = open_at(path);
    static kv_buf val; /* owned: static */
    kvt_own(&val, kvt_buf_free_owned);
    unsigned type_out;
    uint8_t k[24];
    make_key(k, 0);
    int rc = lsm_table_get(t, k, 16, LSM_MAX_SEQ, &type_out, &val);
    cr_assert_eq(rc, KV_ECORRUPT, "key 0 (first block, %s): %d", recrc ? "CRC fixed" : "CRC wrong",
                 rc);
    lsm_iter *it;
    OK(lsm_table_iter(t, &it));
    sst_own_iter(it);
    for (it->ops->first(it); it->ops->valid(it); it->ops->next(it))
        ;
    cr_assert_eq(it->ops->status(it), KV_ECORRUPT, "a scan stops with KV_ECORRUPT");
    kvt_drop(it);
    kvt_drop(&val);
    kvt_drop(t);
}

static void flip_middle(uint8_t *p, size_t *n)
{
    p[*n / 2] ^= 0x5a;
}

static void raw_size_plus_one(uint8_t *p, size_t *n)
{
    (void)n;
    uint32_t raw = 0;
    cr_assert_not_null(lsm_get_varint32(p, p + 5, &raw));
    /* same varint length: block raw sizes here are 4 KiB-ish, 2 bytes */
    cr_assert(raw >= 128 && raw + 1 < 16384);
    lsm_put_varint32(p, raw + 1);
}

static void frame_cut(uint8_t *p, size_t *n)
{
    /* zero the frame's last 8 bytes: the end of the compressed stream */
    memset(p + *n - 8, 0, 8);
}

Test(compress, corrupt_compressed_block_detected)
{
    for (size_t c = 1; c < 3; c++) {
        char path[32];
        snprintf(path, sizeof path, "/c%zu", c);
        build(path, codecs[c], true);
        damage(path, codecs[c], false, flip_middle); /* the CRC catches it */
        build(path, codecs[c], true);
        damage(path, codecs[c], true, raw_size_plus_one); /* the codec's length check */
        build(path, codecs[c], true);
        damage(path, codecs[c], true, frame_cut); /* the codec's own frame checks */
    }
}
