/*
 * test_model.c — unit tests of the reference engine "model" (engine_model.c),
 * mostly of its durable log, on the fault env.
 *
 * The conformance suite already checks model's semantics from the outside
 * (it runs on "model" and "model:durable=true"); this file checks what only
 * the engine's own documentation promises: the byte layout of a log record,
 * replay, and recovery's line between a torn tail (cut back, then appended
 * to) and corruption (KV_ECORRUPT naming the offset, the file left as it
 * was), impossible lengths, the lock, a failed append leaving no half
 * record, the "broken" state after a failed cut, the three sync modes as
 * counted by the env, a full disk, the stats, and the iterator's KV_ENOMEM.
 *
 * Every test gets a fresh fault env (.init) with the store at "/db"; its
 * log is "/db/model.log", which the tests read, cut and damage through the
 * env. Records are built here independently from the format table at the
 * top of engine_model.c.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/env.h"
#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"

#include "test_util.h"

enum { HDR = 17, OP_PUT = 1, OP_DEL = 2 };
#define LIMIT           (1u << 30) /* model's largest key and value */
#define LOG             "/db/model.log"
#define REC(klen, vlen) ((uint64_t)HDR + (klen) + (vlen))

static kv_env *env;

static void setup(void)
{
    env = kv_env_fault_new(7);
    cr_assert_not_null(env);
}

static void teardown(void)
{
    kv_env_free(env);
    env = NULL;
}

TestSuite(model, .init = setup, .fini = teardown);

/* ---- helpers ---------------------------------------------------------------- */

static int open_rc(const char *options, kv_db **db)
{
    *db = NULL;
    return kv_open_env("model:durable=true", "/db", options, env, db);
}

static kv_db *open_db(const char *options)
{
    kv_db *db;

    OK(open_rc(options, &db));
    cr_assert_not_null(db);
    return db;
}

static uint64_t log_size(void)
{
    uint64_t size = 0;

    OK(kv_env_stat(env, LOG, &size, NULL));
    return size;
}

/* The whole log, malloc'd (free it). */
static unsigned char *read_log(uint64_t *size)
{
    kv_file *f;
    size_t got;
    unsigned char *buf;

    *size = log_size();
    buf = malloc(*size + 1);
    cr_assert_not_null(buf);
    OK(kv_env_open(env, LOG, KV_O_RDONLY, &f));
    OK(kv_file_pread(f, buf, (size_t)*size, 0, &got));
    cr_assert_eq(got, *size);
    OK(kv_file_close(f));
    return buf;
}

/* Cut @p n bytes off the end of the log. */
static void cut_log(uint64_t n)
{
    kv_file *f;
    uint64_t size = log_size();

    cr_assert_leq(n, size);
    OK(kv_env_open(env, LOG, KV_O_RDWR, &f));
    OK(kv_file_truncate(f, size - n));
    OK(kv_file_close(f));
}

/* Append raw bytes to the log. */
static void append_log(const void *p, size_t n)
{
    kv_file *f;
    uint64_t size = log_size();

    OK(kv_env_open(env, LOG, KV_O_RDWR, &f));
    OK(kv_file_pwrite(f, p, n, size));
    OK(kv_file_close(f));
}

static void put_le32(unsigned char *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* A record header with the given fields and a valid header checksum. */
static void make_header(unsigned char *h, int op, uint32_t klen, uint32_t vlen, uint32_t dcrc)
{
    h[4] = (unsigned char)op;
    put_le32(h + 5, klen);
    put_le32(h + 9, vlen);
    put_le32(h + 13, dcrc);
    put_le32(h, kv_crc32c(0, h + 4, HDR - 4));
}

/* Put @p key with @p val (NUL-terminated strings). */
static void put_s(kv_db *db, const char *key, const char *val)
{
    OK(kv_put(db, key, strlen(key), val, strlen(val)));
}

/* Assert @p key reads back as @p val (NULL: absent). */
static void expect_s(kv_db *db, const char *key, const char *val)
{
    kv_buf v = {0};
    int rc = kv_get(db, key, strlen(key), &v);

    if (!val) {
        cr_assert_eq(rc, KV_ENOTFOUND, "'%s' should be absent: %d", key, rc);
    } else {
        cr_assert_eq(rc, KV_OK, "'%s' should be present: %d (%s)", key, rc, kv_last_error());
        cr_assert(v.len == strlen(val) && !memcmp(v.data, val, v.len),
                  "'%s' reads '%.*s', want '%s'", key, (int)v.len, (char *)v.data, val);
    }
    kv_buf_free(&v);
}

struct pair {
    const void *k;
    size_t kl;
    const void *v;
    size_t vl;
};

/* The store holds exactly @p want (sorted), by iteration and by kv_get. */
static void expect_exactly(kv_db *db, const struct pair *want, size_t n)
{
    kv_iter *it;
    kv_buf v = {0};
    size_t i = 0;
    kv_stats st;
    uint64_t bytes = 0;

    OK(kv_iter_open(db, &it));
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it), i++) {
        const void *k, *val;
        size_t kl, vl;
        cr_assert_lt(i, n, "more keys than expected");
        kv_iter_key(it, &k, &kl);
        kv_iter_value(it, &val, &vl);
        cr_assert(kl == want[i].kl && !memcmp(k, want[i].k, kl), "key %zu differs", i);
        cr_assert(vl == want[i].vl && !memcmp(val, want[i].v, vl), "value %zu differs", i);
    }
    OK(kv_iter_status(it));
    kv_iter_close(it);
    cr_assert_eq(i, n, "%zu keys, want %zu", i, n);
    for (i = 0; i < n; i++) {
        OK(kv_get(db, want[i].k, want[i].kl, &v));
        cr_assert(v.len == want[i].vl && !memcmp(v.data, want[i].v, v.len), "get %zu", i);
        bytes += want[i].kl + want[i].vl;
    }
    kv_buf_free(&v);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, n);
    cr_assert_eq(st.bytes, bytes);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) != 0)
        ;
}

static uint64_t env_syncs(void)
{
    kv_env_counters c;

    kv_env_get_counters(env, &c);
    return c.syncs;
}

/* ---- options ------------------------------------------------------------------ */

Test(model, caps_and_durable_option)
{
    kv_db *db = NULL;
    kv_stats st;

    OK(kv_open_env("model", "/nodir", NULL, env, &db));
    cr_assert_eq(kv_caps(db), KV_CAP_ORDERED);
    put_s(db, "k", "v");
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.disk_bytes, 0);
    OK(kv_sync(db));
    OK(kv_close(db));
    RC(KV_ENOTFOUND, kv_env_stat(env, "/nodir", NULL, NULL)); /* the path is ignored */
    OK(kv_open_env("model:durable=false", "/nodir", NULL, env, &db));
    cr_assert_eq(kv_caps(db), KV_CAP_ORDERED);
    OK(kv_close(db));

    db = open_db(NULL);
    cr_assert_eq(kv_caps(db), KV_CAP_ORDERED | KV_CAP_DURABLE);
    cr_assert_eq(log_size(), 0, "an empty log is created");
    OK(kv_close(db));
}

Test(model, durable_needs_a_path)
{
    kv_db *db = NULL;

    RC(KV_EINVAL, kv_open_env("model:durable=true", NULL, NULL, env, &db));
    cr_assert_str_eq(kv_last_error(), "model: durable=true needs a directory path");
    RC(KV_EINVAL, kv_open_env("model:durable=true", "", NULL, env, &db));
    RC(KV_ENOTFOUND, kv_open_env("model:durable=true", "/no/such", NULL, env, &db));
    cr_assert_null(db);
    NO_LEAKS();
}

/* ---- the log format --------------------------------------------------------------- */

Test(model, log_record_layout)
{
    kv_db *db = open_db(NULL);
    unsigned char *log;
    uint64_t size;
    kv_stats st;

    put_s(db, "key", "value");
    OK(kv_delete(db, "key", 3));
    OK(kv_db_stats(db, &st));
    OK(kv_close(db));

    log = read_log(&size);
    cr_assert_eq(size, REC(3, 5) + REC(3, 0));
    cr_assert_eq(st.disk_bytes, size);
    /* The put. */
    cr_assert_eq(get_le32(log), kv_crc32c(0, log + 4, 13), "hcrc covers bytes 4..16");
    cr_assert_eq(log[4], OP_PUT);
    cr_assert_eq(get_le32(log + 5), 3);
    cr_assert_eq(get_le32(log + 9), 5);
    cr_assert_eq(get_le32(log + 13), kv_crc32c(0, "keyvalue", 8), "dcrc covers key || value");
    cr_assert_eq(memcmp(log + HDR, "keyvalue", 8), 0);
    /* The delete. */
    unsigned char *d = log + REC(3, 5);
    cr_assert_eq(get_le32(d), kv_crc32c(0, d + 4, 13));
    cr_assert_eq(d[4], OP_DEL);
    cr_assert_eq(get_le32(d + 5), 3);
    cr_assert_eq(get_le32(d + 9), 0);
    cr_assert_eq(get_le32(d + 13), kv_crc32c(0, "key", 3));
    cr_assert_eq(memcmp(d + HDR, "key", 3), 0);
    free(log);
}

Test(model, replay_restores_content)
{
    static const unsigned char bin[] = {0, 0xff, 'x', 0};
    kv_db *db = open_db(NULL);
    uint64_t size;
    kv_stats st;

    put_s(db, "b", "first");
    put_s(db, "a", "alpha");
    put_s(db, "b", "2nd");             /* shorter overwrite */
    OK(kv_put(db, bin, 4, bin, 4));    /* binary key and value */
    OK(kv_put(db, "empty", 5, "", 0)); /* empty value */
    put_s(db, "gone", "soon");
    OK(kv_delete(db, "gone", 4));
    put_s(db, "back", "1");
    OK(kv_delete(db, "back", 4));
    put_s(db, "back", "again"); /* re-put after a delete */
    RC(KV_ENOTFOUND, kv_delete(db, "never", 5));
    OK(kv_close(db));
    size = log_size();

    const struct pair want[] = {
        {bin, 4, bin, 4},        {"a", 1, "alpha", 5}, {"b", 1, "2nd", 3},
        {"back", 4, "again", 5}, {"empty", 5, "", 0},
    };
    for (int round = 0; round < 2; round++) {
        db = open_db(NULL);
        expect_exactly(db, want, sizeof(want) / sizeof(want[0]));
        OK(kv_db_stats(db, &st));
        cr_assert_eq(st.disk_bytes, size);
        OK(kv_close(db));
        cr_assert_eq(log_size(), size, "a clean reopen changes nothing");
    }
}

Test(model, delete_of_absent_key_writes_nothing)
{
    kv_db *db = open_db(NULL);

    put_s(db, "a", "1");
    RC(KV_ENOTFOUND, kv_delete(db, "b", 1));
    cr_assert_eq(log_size(), REC(1, 1));
    OK(kv_close(db));
}

/* ---- recovery: torn tail versus corruption ------------------------------------ */

/* Three records a, bb, ccc; returns their sizes. */
static void write_abc(uint64_t len[3])
{
    kv_db *db = open_db(NULL);

    put_s(db, "a", "1");
    put_s(db, "bb", "22");
    put_s(db, "ccc", "a longer value");
    OK(kv_close(db));
    len[0] = REC(1, 1);
    len[1] = REC(2, 2);
    len[2] = REC(3, 14);
    cr_assert_eq(log_size(), len[0] + len[1] + len[2]);
}

Test(model, torn_tail_every_cut)
{
    uint64_t len[3];

    /* Every cut into the last record, then into the one before. */
    for (uint64_t cut = 1; cut <= REC(3, 14) + REC(2, 2); cut++) {
        kv_db *db;
        bool into_c = cut <= REC(3, 14);
        uint64_t keep;

        teardown();
        setup();
        write_abc(len);
        cut_log(cut);
        keep = into_c ? len[0] + len[1] : len[0];

        db = open_db(NULL);
        expect_s(db, "a", "1");
        expect_s(db, "bb", into_c ? "22" : NULL);
        expect_s(db, "ccc", NULL);
        cr_assert_eq(log_size(), keep, "cut %llu: the torn tail is cut back to %llu bytes",
                     (unsigned long long)cut, (unsigned long long)keep);
        kv_stats st;
        OK(kv_db_stats(db, &st));
        cr_assert_eq(st.disk_bytes, keep);
        put_s(db, "d", "after");
        OK(kv_close(db));

        db = open_db(NULL);
        expect_s(db, "a", "1");
        expect_s(db, "bb", into_c ? "22" : NULL);
        expect_s(db, "ccc", NULL);
        expect_s(db, "d", "after");
        cr_assert_eq(log_size(), keep + REC(1, 5));
        OK(kv_close(db));
    }
}

Test(model, torn_tail_cut_failure_fails_open)
{
    uint64_t len[3], size;
    kv_db *db;

    write_abc(len);
    cut_log(3);
    size = log_size();
    kv_env_fault_fail(env, KV_FAULT_TRUNCATE, 1, 1, KV_EIO);
    RC(KV_EIO, open_rc(NULL, &db));
    cr_assert_null(db);
    cr_assert_eq(log_size(), size, "nothing was cut");
    db = open_db(NULL); /* the fault was one call */
    expect_s(db, "bb", "22");
    expect_s(db, "ccc", NULL);
    cr_assert_eq(log_size(), len[0] + len[1]);
    OK(kv_close(db));
    NO_LEAKS();
}

/* Flip one bit at @p off, expect KV_ECORRUPT naming @p rec_off, flip it back, expect a clean open.
 */
static void corrupt_at(uint64_t off, const char *what, uint64_t rec_off)
{
    char want[128];
    kv_db *db = NULL;
    uint64_t size = log_size();

    OK(kv_env_fault_flip(env, LOG, off, 3));
    RC(KV_ECORRUPT, open_rc(NULL, &db));
    cr_assert_null(db);
    snprintf(want, sizeof(want), "model: %s at log offset %llu", what, (unsigned long long)rec_off);
    cr_assert_str_eq(kv_last_error(), want, "flip at byte %llu", (unsigned long long)off);
    cr_assert_eq(log_size(), size, "corruption is not cut off as a torn tail");
    OK(kv_env_fault_flip(env, LOG, off, 3));
    db = open_db(NULL);
    expect_s(db, "a", "1");
    expect_s(db, "ccc", "a longer value");
    OK(kv_close(db));
}

Test(model, corrupt_header_is_ecorrupt)
{
    uint64_t len[3];

    write_abc(len);
    /* Every byte of the first record's header: hcrc, op, klen, vlen, dcrc. */
    for (uint64_t off = 0; off < HDR; off++)
        corrupt_at(off, "bad header checksum", 0);
    /* The middle record's, and the last record's (a whole record, so not a torn tail). */
    corrupt_at(len[0] + 5, "bad header checksum", len[0]);
    corrupt_at(len[0] + len[1] + 9, "bad header checksum", len[0] + len[1]);
    NO_LEAKS();
}

Test(model, corrupt_data_is_ecorrupt)
{
    uint64_t len[3];

    write_abc(len);
    corrupt_at(HDR, "bad data checksum", 0);     /* the first record's key */
    corrupt_at(HDR + 1, "bad data checksum", 0); /* ... its value */
    corrupt_at(len[0] + HDR + 3, "bad data checksum", len[0]);
    corrupt_at(len[0] + len[1] + len[2] - 1, "bad data checksum", len[0] + len[1]); /* last byte */
    NO_LEAKS();
}

Test(model, impossible_lengths_are_ecorrupt)
{
    static const struct {
        int op;
        uint32_t klen, vlen;
        const char *why;
    } bad[] = {
        {3, 1, 0, "unknown op"},
        {0, 1, 0, "op 0"},
        {OP_PUT, 0, 0, "empty key"},
        {OP_PUT, 0xffffffffu, 0, "4 GiB key"},
        {OP_PUT, LIMIT + 1, 0, "key past the limit"},
        {OP_PUT, 1, LIMIT + 1, "value past the limit"},
        {OP_PUT, 1, 0xffffffffu, "4 GiB value"},
        {OP_DEL, 1, 1, "delete with a value"},
    };
    uint64_t len[3], good;
    unsigned char h[HDR];

    write_abc(len);
    good = log_size();
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kv_db *db;
        char want[96];

        /* As the last bytes of the file, where a too-long record would pass for a torn tail. */
        make_header(h, bad[i].op, bad[i].klen, bad[i].vlen, 0);
        append_log(h, sizeof(h));
        RC(KV_ECORRUPT, open_rc(NULL, &db));
        snprintf(want, sizeof(want), "model: impossible record at log offset %llu",
                 (unsigned long long)good);
        cr_assert_str_eq(kv_last_error(), want, "%s", bad[i].why);
        cr_assert_eq(log_size(), good + HDR, "%s: the file was cut", bad[i].why);
        cut_log(HDR);
    }
    /* The largest possible lengths are a torn tail, not corruption: cut back. */
    make_header(h, OP_PUT, LIMIT, LIMIT, 0);
    append_log(h, sizeof(h));
    kv_db *db = open_db(NULL);
    cr_assert_eq(log_size(), good);
    expect_s(db, "ccc", "a longer value");
    OK(kv_close(db));
    NO_LEAKS();
}

Test(model, record_crafted_here_replays)
{
    unsigned char rec[HDR + 6];
    kv_db *db;

    db = open_db(NULL);
    OK(kv_close(db));
    memcpy(rec + HDR, "keyval", 6);
    make_header(rec, OP_PUT, 3, 3, kv_crc32c(0, "keyval", 6));
    append_log(rec, sizeof(rec));
    make_header(rec, OP_PUT, 3, 3, kv_crc32c(0, "keyval", 6) ^ 1); /* same, bad dcrc */
    db = open_db(NULL);
    expect_s(db, "key", "val");
    OK(kv_close(db));
    append_log(rec, sizeof(rec));
    RC(KV_ECORRUPT, open_rc(NULL, &db));
    DETAIL_HAS("bad data checksum at log offset 23");
}

Test(model, replayed_delete_of_absent_key_is_ignored)
{
    unsigned char rec[HDR + 1];
    kv_db *db = open_db(NULL);

    put_s(db, "a", "1");
    OK(kv_close(db));
    /* The model never logs such a delete, but replay must cope with it. */
    rec[HDR] = 'z';
    make_header(rec, OP_DEL, 1, 0, kv_crc32c(0, "z", 1));
    append_log(rec, sizeof(rec));
    db = open_db(NULL);
    const struct pair want[] = {{"a", 1, "1", 1}};
    expect_exactly(db, want, 1);
    cr_assert_eq(log_size(), REC(1, 1) + REC(1, 0), "a whole record: kept");
    OK(kv_close(db));
}

Test(model, relative_and_slash_terminated_paths)
{
    static const char *const paths[] = {"rel", "/trail/", "/trail/sub//"};

    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        kv_db *db = NULL;
        OK(kv_open_env("model:durable=true", paths[i], NULL, env, &db));
        put_s(db, "p", paths[i]);
        OK(kv_close(db));
        OK(kv_open_env("model:durable=true", paths[i], NULL, env, &db));
        expect_s(db, "p", paths[i]);
        OK(kv_close(db));
    }
}

/* ---- the lock -------------------------------------------------------------------- */

Test(model, second_open_is_busy)
{
    kv_db *a = open_db(NULL), *b = (kv_db *)&b;

    RC(KV_EBUSY, kv_open_env("model:durable=true", "/db", NULL, env, &b));
    cr_assert_eq(b, (kv_db *)&b, "out untouched");
    cr_assert_str_eq(kv_last_error(), "model: /db is open in another handle or process");
    put_s(a, "k", "v"); /* the first handle is unaffected */
    expect_s(a, "k", "v");
    OK(kv_close(a));
    b = open_db(NULL);
    expect_s(b, "k", "v");
    OK(kv_close(b));
    NO_LEAKS();
}

/* ---- write failures ------------------------------------------------------------- */

Test(model, failed_append_leaves_no_record)
{
    kv_db *db = open_db(NULL);
    kv_stats st;
    uint64_t size;

    put_s(db, "a", "1");
    put_s(db, "b", "old");
    size = log_size();

    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(KV_EIO, kv_put(db, "c", 1, "3", 1));
    DETAIL_HAS("model: log append failed: ");
    DETAIL_HAS("injected write fault");
    expect_s(db, "c", NULL);
    cr_assert_eq(log_size(), size);

    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(KV_EIO, kv_put(db, "b", 1, "new", 3));
    expect_s(db, "b", "old");

    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(KV_EIO, kv_delete(db, "a", 1));
    expect_s(db, "a", "1");
    cr_assert_eq(log_size(), size);

    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.puts, 2, "failed puts are not counted");
    cr_assert_eq(st.deletes, 0);
    cr_assert_eq(st.disk_bytes, size);
    cr_assert_eq(st.keys, 2);

    put_s(db, "d", "4"); /* the handle still works */
    OK(kv_close(db));

    db = open_db(NULL);
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "old", 3}, {"d", 1, "4", 1}};
    expect_exactly(db, want, 3);
    cr_assert_eq(log_size(), size + REC(1, 1));
    OK(kv_close(db));
}

Test(model, failed_cut_breaks_the_handle)
{
    kv_db *db = open_db(NULL);

    put_s(db, "a", "1");
    OK(kv_sync(db));
    put_s(db, "b", "2");
    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    kv_env_fault_fail(env, KV_FAULT_TRUNCATE, 1, 1, KV_EIO);
    RC(KV_EIO, kv_put(db, "c", 1, "3", 1));
    /* The env works again, but the handle refuses every write. */
    RC(KV_EIO, kv_put(db, "d", 1, "4", 1));
    DETAIL_HAS("unusable");
    RC(KV_EIO, kv_delete(db, "a", 1));
    RC(KV_EIO, kv_sync(db));
    DETAIL_HAS("unusable");
    expect_s(db, "a", "1"); /* reads still work */
    expect_s(db, "b", "2");
    expect_s(db, "c", NULL);
    expect_s(db, "d", NULL);
    /* Its writes since the last sync were never flushed: close reports it. */
    RC(KV_EIO, kv_close(db));

    db = open_db(NULL);
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "2", 1}};
    expect_exactly(db, want, 2);
    OK(kv_close(db));
    NO_LEAKS();
}

Test(model, full_disk_loses_nothing)
{
    kv_db *db = open_db(NULL);
    char big[256];
    uint64_t size;

    memset(big, 'B', sizeof(big));
    put_s(db, "a", "1");
    put_s(db, "b", "2");
    size = log_size();
    kv_env_fault_set_quota(env, size + REC(1, 8));
    RC(KV_EFULL, kv_put(db, "c", 1, big, sizeof(big)));
    DETAIL_HAS("log append failed");
    expect_s(db, "c", NULL);
    cr_assert_eq(log_size(), size);
    put_s(db, "d", "fits in!"); /* exactly up to the quota */
    RC(KV_EFULL, kv_put(db, "e", 1, "", 0));
    RC(KV_EFULL, kv_delete(db, "a", 1));
    expect_s(db, "a", "1");
    OK(kv_sync(db));
    OK(kv_close(db));

    db = open_db(NULL); /* still full: reading needs no space */
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "2", 1}, {"d", 1, "fits in!", 8}};
    expect_exactly(db, want, 3);
    kv_env_fault_set_quota(env, 0);
    put_s(db, "c", "now");
    OK(kv_close(db));
}

Test(model, close_sync_failure_is_reported)
{
    kv_db *db = open_db(NULL);

    put_s(db, "a", "1");
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(KV_EIO, kv_close(db)); /* the handle is freed all the same (leak check) */
    db = open_db(NULL);
    expect_s(db, "a", "1");
    OK(kv_close(db));
    NO_LEAKS();
}

Test(model, open_io_failures)
{
    kv_db *db;

    /* Creating the store syncs directories; a failing sync fails the open. */
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 0, KV_EIO);
    RC(KV_EIO, open_rc(NULL, &db));
    cr_assert_null(db);
    kv_env_fault_fail(env, KV_FAULT_SYNC, 0, 0, 0);
    db = open_db(NULL);
    put_s(db, "a", "1");
    OK(kv_close(db));
    /* Reading the log. */
    kv_env_fault_fail(env, KV_FAULT_READ, 1, 1, KV_EIO);
    RC(KV_EIO, open_rc(NULL, &db));
    DETAIL_HAS("injected read fault");
    cr_assert_null(db);
    db = open_db(NULL);
    expect_s(db, "a", "1");
    OK(kv_close(db));
    NO_LEAKS();
}

/* ---- sync modes ----------------------------------------------------------------- */

Test(model, sync_none_until_kv_sync)
{
    kv_db *db = open_db("sync=none");
    kv_stats st;
    uint64_t s0;

    for (int i = 0; i < 5; i++)
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    OK(kv_delete(db, "a", 1));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 0);
    OK(kv_sync(db));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 1);
    s0 = env_syncs();
    OK(kv_close(db));
    cr_assert_eq(env_syncs(), s0 + 1, "close syncs the log");
}

Test(model, sync_always_one_fsync_per_write)
{
    kv_db *db = open_db("sync=always");
    kv_stats st;

    for (int i = 0; i < 4; i++)
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 4);
    OK(kv_delete(db, "a", 1));
    RC(KV_ENOTFOUND, kv_delete(db, "a", 1));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 5, "a delete syncs too; a missing key writes nothing");
    kv_env_fault_fail(env, KV_FAULT_WRITE, 1, 1, KV_EIO);
    RC(KV_EIO, kv_put(db, "z", 1, "v", 1));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 5, "a failed write is not synced");
    OK(kv_close(db));
}

Test(model, sync_always_fsync_failure_undoes_the_write)
{
    kv_db *db = open_db("sync=always");
    uint64_t size;

    put_s(db, "a", "1");
    put_s(db, "b", "old");
    size = log_size();
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(KV_EIO, kv_put(db, "b", 1, "new", 3));
    expect_s(db, "b", "old");
    cr_assert_eq(log_size(), size, "the record of the failed put is cut off again");
    kv_env_fault_fail(env, KV_FAULT_SYNC, 1, 1, KV_EIO);
    RC(KV_EIO, kv_delete(db, "a", 1));
    expect_s(db, "a", "1");
    cr_assert_eq(log_size(), size);
    put_s(db, "c", "3"); /* not broken: the cut worked */
    OK(kv_close(db));

    /* A clean reopen agrees with what the handle showed. */
    db = open_db(NULL);
    const struct pair want[] = {{"a", 1, "1", 1}, {"b", 1, "old", 3}, {"c", 1, "3", 1}};
    expect_exactly(db, want, 3);
    OK(kv_close(db));
}

Test(model, sync_batch_long_interval)
{
    kv_db *db = open_db("sync=batch,sync_ms=60000");
    kv_stats st;

    for (int i = 0; i < 10; i++)
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 0, "no interval has passed");
    OK(kv_sync(db));
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 1);
    OK(kv_close(db));
}

Test(model, sync_batch_short_interval)
{
    kv_db *db = open_db("sync=batch,sync_ms=1");
    kv_stats st;

    for (int i = 0; i < 4; i++) {
        sleep_ms(3); /* more than sync_ms since the last sync (or the open) */
        put_s(db, (char[]){(char)('a' + i), 0}, "v");
    }
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.io_syncs, 4, "each write after the interval syncs");
    OK(kv_close(db));
}

/* ---- stats ----------------------------------------------------------------------- */

Test(model, stats_keys_bytes_disk)
{
    kv_db *db = open_db(NULL);
    kv_stats st;

    put_s(db, "k1", "12345");   /* 7 */
    put_s(db, "k2", "");        /* 2 */
    put_s(db, "k1", "1");       /* overwrite: 3 */
    put_s(db, "k3", "xyz");     /* 5 */
    OK(kv_delete(db, "k3", 2)); /* 0 */
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 2);
    cr_assert_eq(st.bytes, 5);
    cr_assert_geq(st.mem_bytes, st.bytes);
    cr_assert_eq(st.disk_bytes, REC(2, 5) + REC(2, 0) + REC(2, 1) + REC(2, 3) + REC(2, 0));
    cr_assert_eq(st.disk_bytes, log_size());
    cr_assert_eq(st.user_bytes_written, 7 + 2 + 3 + 5);
    OK(kv_close(db));

    db = open_db(NULL);
    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, 2);
    cr_assert_eq(st.bytes, 5);
    cr_assert_eq(st.disk_bytes, log_size());
    OK(kv_close(db));
}

/* ---- iterator out of memory ----------------------------------------------------- */

enum { NIT = 12 };

struct iter_loop {
    kv_db *db;
    unsigned full, partial, at_open;
};

static size_t val_len(int i)
{
    return (size_t)(1u << i) - 1; /* 0, 1, 3, ... 2047 bytes: the copies grow as it walks */
}

static int iterate_under_failure(void *arg, uint64_t n)
{
    struct iter_loop *l = arg;
    kv_iter *it = NULL;
    int rc = kv_iter_open(l->db, &it), i = 0;

    if (rc == KV_ENOMEM) {
        cr_assert_null(it);
        l->at_open++;
        return 0;
    }
    cr_assert_eq(rc, KV_OK);
    for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it), i++) {
        const void *k, *v;
        size_t kl, vl;
        char want[16];
        kv_iter_key(it, &k, &kl);
        kv_iter_value(it, &v, &vl);
        snprintf(want, sizeof(want), "k%02d", i);
        cr_assert(kl == 3 && !memcmp(k, want, 3), "run %llu: key %d", (unsigned long long)n, i);
        cr_assert_eq(vl, val_len(i), "run %llu: value %d", (unsigned long long)n, i);
    }
    if (kv_alloc_fail_hit()) {
        cr_assert_eq(kv_iter_status(it), KV_ENOMEM,
                     "run %llu: stopped after %d keys with status %d", (unsigned long long)n, i,
                     kv_iter_status(it));
        cr_assert_lt(i, NIT);
        l->partial++;
    } else {
        cr_assert_eq(kv_iter_status(it), KV_OK);
        cr_assert_eq(i, NIT, "run %llu: %d keys", (unsigned long long)n, i);
        l->full++;
    }
    kv_iter_close(it);
    return 0;
}

Test(model, iterator_enomem_status)
{
    struct iter_loop l = {0};
    char *val = calloc(1, 4096);
    uint64_t runs = 0;

    cr_assert_not_null(val);
    l.db = open_db(NULL);
    for (int i = 0; i < NIT; i++) {
        char key[16];
        snprintf(key, sizeof(key), "k%02d", i);
        OK(kv_put(l.db, key, 3, val, val_len(i)));
    }
    cr_assert_eq(kv_alloc_fail_loop(iterate_under_failure, &l, 0, &runs), 0);
    cr_assert_eq(l.at_open, 1, "the iterator itself is one allocation");
    cr_assert_eq(l.full, 1);
    cr_assert_geq(l.partial, 6, "the key and value copies grow along the walk");
    cr_assert_eq(l.at_open + l.partial + l.full, runs);
    OK(kv_close(l.db));
    free(val);
    NO_LEAKS();
}

Test(model, iterator_recovers_after_enomem)
{
    kv_db *db = open_db(NULL);
    kv_iter *it;
    const void *k;
    size_t kl;

    put_s(db, "a", "1");
    put_s(db, "b", "2");
    OK(kv_iter_open(db, &it));
    kv_alloc_fail_at(1, false);
    kv_iter_first(it); /* the key copy fails */
    kv_alloc_fail_at(0, false);
    cr_assert_not(kv_iter_valid(it));
    RC(KV_ENOMEM, kv_iter_status(it));
    /* Positioned past the last key, it is at the end: no error any more. */
    kv_iter_seek(it, "z", 1);
    cr_assert_not(kv_iter_valid(it));
    RC(KV_OK, kv_iter_status(it));
    /* A move that succeeds clears the error too. */
    kv_alloc_fail_at(1, false);
    kv_iter_seek(it, "b", 1);
    kv_alloc_fail_at(0, false);
    RC(KV_ENOMEM, kv_iter_status(it));
    kv_iter_first(it);
    cr_assert(kv_iter_valid(it));
    RC(KV_OK, kv_iter_status(it));
    kv_iter_key(it, &k, &kl);
    cr_assert(kl == 1 && !memcmp(k, "a", 1));
    kv_iter_close(it);
    OK(kv_close(db));
}
