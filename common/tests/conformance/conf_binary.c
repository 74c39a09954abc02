/*
 * conf_binary.c — keys and values are bytes, not C strings: NUL bytes
 * anywhere, every byte value, and keys that are prefixes of each other are
 * all distinct keys. (A strlen, a strcmp or a signed-char comparison in an
 * engine shows up here.)
 */
#include <string.h>

#include "conf.h"

CONF_SUITE(conf_binary);

struct bkey {
    const char *k;
    size_t n;
};

#define BK(s)                                                                                      \
    {                                                                                              \
        s, sizeof(s) - 1                                                                           \
    }

/* Prefix families, NULs at both ends and inside, 0xff and 0x80 bytes. */
static const struct bkey family[] = {
    BK("a"),    BK("a\0"),    BK("aa"),       BK("a\xff"), BK("a\0\0"),    BK("a\0a"),   BK("\0"),
    BK("\0\0"), BK("\0a"),    BK("\0\0\0\0"), BK("\xff"),  BK("\xff\xff"), BK("\xff\0"), BK("\x80"),
    BK("\x7f"), BK("ab\0cd"), BK("ab\0ce"),   BK("ab"),    BK("abc"),      BK("ab\0"),
};
#define NFAM (sizeof(family) / sizeof(family[0]))

static size_t fam_val(size_t i, unsigned char *out)
{
    size_t n = 3 + i % 5;

    for (size_t j = 0; j < n; j++)
        out[j] = (unsigned char)(i * 16 + j); /* includes 0x00 for i == 0 */
    return n;
}

Test(conf_binary, prefix_and_nul_keys_distinct)
{
    kv_db *db = conf_open(NULL);
    unsigned char val[16];
    kv_buf v = {0};
    kv_stats st;

    for (size_t i = 0; i < NFAM; i++) {
        size_t n = fam_val(i, val);
        OK(kv_put(db, family[i].k, family[i].n, val, n));
    }
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, NFAM, "%zu distinct keys stored as %llu", NFAM,
                 (unsigned long long)st.keys);
    for (size_t i = 0; i < NFAM; i++) {
        size_t n = fam_val(i, val);
        int rc = kv_get(db, family[i].k, family[i].n, &v);
        cr_assert_eq(rc, KV_OK, "family key %zu: %d", i, rc);
        conf_expect_buf(&v, val, n, "family key");
    }
    /* delete every other one: the neighbours and prefixes are untouched */
    for (size_t i = 0; i < NFAM; i += 2)
        OK(kv_delete(db, family[i].k, family[i].n));
    for (size_t i = 0; i < NFAM; i++) {
        size_t n = fam_val(i, val);
        int rc = kv_get(db, family[i].k, family[i].n, &v);
        if (i % 2 == 0) {
            cr_assert_eq(rc, KV_ENOTFOUND, "deleted family key %zu: %d", i, rc);
        } else {
            cr_assert_eq(rc, KV_OK, "family key %zu after deleting its neighbours: %d", i, rc);
            conf_expect_buf(&v, val, n, "family key after deletes");
        }
    }
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_binary, every_byte_value)
{
    kv_db *db = conf_open(NULL);
    unsigned char k2[2], val[4];
    kv_buf v = {0};
    kv_stats st;

    for (unsigned b = 0; b < 256; b++) {
        unsigned char k1 = (unsigned char)b;
        val[0] = (unsigned char)b;
        val[1] = 0;
        val[2] = (unsigned char)~b;
        OK(kv_put(db, &k1, 1, val, 3));
        k2[0] = (unsigned char)b;
        k2[1] = (unsigned char)(255 - b);
        OK(kv_put(db, k2, 2, val, 1));
    }
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 512, "512 distinct keys stored as %llu", (unsigned long long)st.keys);
    for (unsigned b = 0; b < 256; b++) {
        unsigned char k1 = (unsigned char)b;
        val[0] = (unsigned char)b;
        val[1] = 0;
        val[2] = (unsigned char)~b;
        OK(kv_get(db, &k1, 1, &v));
        conf_expect_buf(&v, val, 3, "one-byte key");
        k2[0] = (unsigned char)b;
        k2[1] = (unsigned char)(255 - b);
        OK(kv_get(db, k2, 2, &v));
        conf_expect_buf(&v, val, 1, "two-byte key");
        k2[1] = (unsigned char)(254 - b); /* a neighbour that was never written */
        RC(kv_get(db, k2, 2, NULL), KV_ENOTFOUND);
    }
    kv_buf_free(&v);
    conf_close(db);
}

Test(conf_binary, values_with_nuls)
{
    kv_db *db = conf_open(NULL);
    unsigned char zeros[300] = {0}, all[256], mixed[5] = {'a', 0, 'b', 0, 0};
    kv_buf v = {0};

    for (unsigned i = 0; i < 256; i++)
        all[i] = (unsigned char)i;
    OK(kv_put(db, "zeros", 5, zeros, sizeof(zeros)));
    OK(kv_put(db, "one0", 4, zeros, 1));
    OK(kv_put(db, "all", 3, all, sizeof(all)));
    OK(kv_put(db, "mixed", 5, mixed, sizeof(mixed)));
    OK(kv_get(db, "zeros", 5, &v));
    conf_expect_buf(&v, zeros, sizeof(zeros), "300 zero bytes");
    OK(kv_get(db, "one0", 4, &v));
    conf_expect_buf(&v, zeros, 1, "one zero byte");
    OK(kv_get(db, "all", 3, &v));
    conf_expect_buf(&v, all, sizeof(all), "every byte value");
    OK(kv_get(db, "mixed", 5, &v));
    conf_expect_buf(&v, mixed, sizeof(mixed), "NULs inside and at the end");
    kv_buf_free(&v);
    conf_close(db);
}

/* Keys equal up to a late byte, and long runs of 0x00 and 0xff. */
Test(conf_binary, long_binary_keys)
{
    kv_db *db = conf_open(NULL);
    unsigned char key[64], val[8];
    kv_buf v = {0};

    for (unsigned i = 0; i < 64; i++) {
        memset(key, i % 2 ? 0xff : 0x00, sizeof(key));
        key[i] = (unsigned char)(0x80 + i);
        memcpy(val, &i, sizeof(i));
        OK(kv_put(db, key, 64, val, sizeof(i)));
        if (i < 63) /* its prefix of i + 1 bytes */
            OK(kv_put(db, key, i + 1, val, 1));
    }
    for (unsigned i = 0; i < 64; i++) {
        memset(key, i % 2 ? 0xff : 0x00, sizeof(key));
        key[i] = (unsigned char)(0x80 + i);
        memcpy(val, &i, sizeof(i));
        OK(kv_get(db, key, 64, &v));
        conf_expect_buf(&v, val, sizeof(i), "64-byte key");
        if (i < 63) {
            OK(kv_get(db, key, i + 1, &v));
            conf_expect_buf(&v, val, 1, "its prefix");
        }
    }
    kv_buf_free(&v);
    conf_close(db);
}
