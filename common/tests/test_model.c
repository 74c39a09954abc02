/*
 * test_model.c — unit tests of the reference engine "model" (engine_model.c),
 * mostly of its durable log, on the fault env.
 *
 * The conformance suite already checks model's semantics from the outside
 * (it runs on "model" and "model:durable=true"); this file checks what only
 * the engine's own documentation promises: the byte layout of a log record,
 * replay, and recovery's line between a torn tail (cut back, then appended
 * to) and corruption (KV_ECORRUPT naming the offset, the file left as it
 * was), impossible lengths. The lock, a failed append leaving no half
 * record, the "broken" state after a failed cut, the three sync modes as
 * counted by the env, a full disk, the stats and the iterator's KV_ENOMEM
 * are in test_model_io.c; the fixture both use is model_fixture.h.
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
#include "kvlabs/kv.h"

#include "kvtest.h"
#include "model_fixture.h"

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
    RC(kv_env_stat(env, "/nodir", NULL, NULL), KV_ENOTFOUND); /* the path is ignored */
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

    RC(kv_open_env("model:durable=true", NULL, NULL, env, &db), KV_EINVAL);
    cr_assert_str_eq(kv_last_error(), "model: durable=true needs a directory path");
    RC(kv_open_env("model:durable=true", "", NULL, env, &db), KV_EINVAL);
    RC(kv_open_env("model:durable=true", "/no/such", NULL, env, &db), KV_ENOTFOUND);
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
    RC(kv_delete(db, "never", 5), KV_ENOTFOUND);
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
    RC(kv_delete(db, "b", 1), KV_ENOTFOUND);
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
    RC(open_rc(NULL, &db), KV_EIO);
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
    RC(open_rc(NULL, &db), KV_ECORRUPT);
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
        RC(open_rc(NULL, &db), KV_ECORRUPT);
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
    RC(open_rc(NULL, &db), KV_ECORRUPT);
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
