/*
 * test_net.c — kvnode's wire (include/raft_net.h): frames refused for each
 * reason (version, reserved field, type, CRC, length above the limit decided
 * from the header alone), Raft messages and client requests round-tripped
 * and refused when truncated at every byte or when a count lies, limits on
 * keyspace, key and value, and the cluster file's syntax.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kvlabs/kv.h"
#include "raft_net.h"

static uint8_t *frame_of(uint8_t type, const void *payload, uint32_t len)
{
    uint8_t *b = malloc(KVN_HDR + len + 1);
    memcpy(b + KVN_HDR, payload, len);
    kvn_frame_seal(b, type, len);
    return b;
}

Test(frame, round_trip_and_need_more)
{
    uint8_t *b = frame_of(KVN_REQ, "hello", 5);
    kvn_frame f;
    size_t used = 0;
    for (size_t n = 0; n < KVN_HDR + 5; n++)
        cr_assert_eq(kvn_frame_parse(b, n, 1024, &f, &used), 0, "prefix of %zu bytes", n);
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR + 5, 1024, &f, &used), 1);
    cr_assert_eq(used, KVN_HDR + 5);
    cr_assert_eq(f.type, KVN_REQ);
    cr_assert_eq(f.len, 5);
    cr_assert(memcmp(f.payload, "hello", 5) == 0);
    free(b);
}

Test(frame, bad_header_fields)
{
    uint8_t *b = frame_of(KVN_RAFT, "abc", 3);
    kvn_frame f;
    size_t used;
    b[0] = 2; /* a version this node does not speak: refused from the first byte */
    cr_assert_eq(kvn_frame_parse(b, 1, 1024, &f, &used), KV_ECORRUPT);
    b[0] = KVN_VERSION;
    b[2] = 1; /* reserved */
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR + 3, 1024, &f, &used), KV_ECORRUPT);
    b[2] = 0;
    b[1] = 0; /* type */
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR + 3, 1024, &f, &used), KV_ECORRUPT);
    b[1] = KVN_ADMIN + 1; /* past the last type */
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR + 3, 1024, &f, &used), KV_ECORRUPT);
    free(b);
}

Test(frame, every_flipped_payload_bit_is_caught)
{
    uint8_t *b = frame_of(KVN_RAFT, "payload!", 8);
    kvn_frame f;
    size_t used;
    for (unsigned bit = 0; bit < 8 * 8; bit++) {
        b[KVN_HDR + bit / 8] ^= (uint8_t)(1u << (bit % 8));
        cr_assert_eq(kvn_frame_parse(b, KVN_HDR + 8, 1024, &f, &used), KV_ECORRUPT, "bit %u", bit);
        b[KVN_HDR + bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR + 8, 1024, &f, &used), 1);
    free(b);
}

Test(frame, oversized_length_refused_from_the_header_alone)
{
    uint8_t *b = frame_of(KVN_REQ, "x", 1);
    kvn_frame f;
    size_t used;
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR + 1, 1, &f, &used), 1, "at the limit: accepted");
    b[4] = 0xff; b[5] = 0xff; b[6] = 0xff; b[7] = 0xff; /* 4 GiB - 1: no payload follows */
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR, KVN_MAX_FRAME, &f, &used), KV_ETOOBIG);
    b[4] = 2; b[5] = 0; b[6] = 0; b[7] = 0; /* one above a limit of 1 */
    cr_assert_eq(kvn_frame_parse(b, KVN_HDR, 1, &f, &used), KV_ETOOBIG);
    free(b);
}

static raft_msg sample_msg(raft_entry *ents, uint8_t *chunk)
{
    static uint8_t d0[] = "first", d1[] = "";
    ents[0] = (raft_entry){ .term = 3, .index = 10, .type = RAFT_ENTRY_NORMAL, .len = 5, .data = d0 };
    ents[1] = (raft_entry){ .term = 4, .index = 11, .type = RAFT_ENTRY_NOOP, .len = 0, .data = d1 };
    return (raft_msg){ .type = RAFT_MSG_APPEND, .from = 1, .to = 2, .term = 4, .index = 9,
                       .log_term = 3, .commit = 8, .reject = true, .force = true,
                       .hint_index = 7, .hint_term = 2, .ctx = 99, .n_entries = 2, .entries = ents,
                       .snap_offset = 5, .snap_size = 100, .snap_len = 3, .snap_data = chunk };
}

Test(msg, round_trip)
{
    raft_entry ents[2];
    uint8_t chunk[3] = { 1, 2, 3 };
    raft_msg m = sample_msg(ents, chunk), d;
    size_t n = kvn_msg_size(&m);
    cr_assert_eq(n, raft_msg_size(&m));
    uint8_t *b = malloc(n);
    kvn_msg_encode(&m, b);
    cr_assert_eq(kvn_msg_decode(b, n, &d), KV_OK, "%s", kv_last_error());
    cr_assert(d.type == m.type && d.from == 1 && d.to == 2 && d.term == 4 && d.index == 9);
    cr_assert(d.log_term == 3 && d.commit == 8 && d.reject && d.force && d.hint_index == 7);
    cr_assert(d.hint_term == 2 && d.ctx == 99 && d.snap_offset == 5 && d.snap_size == 100);
    cr_assert_eq(d.n_entries, 2);
    cr_assert(d.entries[0].term == 3 && d.entries[0].index == 10 && d.entries[0].len == 5);
    cr_assert(memcmp(d.entries[0].data, "first", 5) == 0);
    cr_assert(d.entries[1].type == RAFT_ENTRY_NOOP && d.entries[1].len == 0);
    cr_assert(d.snap_len == 3 && memcmp(d.snap_data, chunk, 3) == 0);
    raft_msg_free(&d);
    free(b);
}

Test(msg, every_truncation_and_a_trailing_byte_refused)
{
    raft_entry ents[2];
    uint8_t chunk[3] = { 1, 2, 3 };
    raft_msg m = sample_msg(ents, chunk), d;
    size_t n = kvn_msg_size(&m);
    uint8_t *b = malloc(n + 1);
    kvn_msg_encode(&m, b);
    for (size_t k = 0; k < n; k++) {
        uint8_t *t = malloc(k ? k : 1); /* exact size: ASan sees any read past it */
        memcpy(t, b, k);
        cr_assert_eq(kvn_msg_decode(t, k, &d), KV_ECORRUPT, "truncated to %zu", k);
        free(t);
    }
    b[n] = 0;
    cr_assert_eq(kvn_msg_decode(b, n + 1, &d), KV_ECORRUPT);
    free(b);
}

Test(msg, lying_counts_and_types_refused)
{
    raft_msg m = { .type = RAFT_MSG_APPEND, .from = 0, .to = 1 }, d;
    size_t n = kvn_msg_size(&m);
    uint8_t *b = malloc(n);
    kvn_msg_encode(&m, b);
    cr_assert_eq(kvn_msg_decode(b, n, &d), KV_OK);
    raft_msg_free(&d);
    /* n_entries sits after 1+4+4+7*8+1 bytes: claim 2^32-1 entries */
    memset(b + 66, 0xff, 4);
    cr_assert_eq(kvn_msg_decode(b, n, &d), KV_ECORRUPT);
    memset(b + 66, 0, 4);
    b[0] = 0;
    cr_assert_eq(kvn_msg_decode(b, n, &d), KV_ECORRUPT, "type 0");
    b[0] = RAFT_MSG_TIMEOUT_NOW + 1;
    cr_assert_eq(kvn_msg_decode(b, n, &d), KV_ECORRUPT, "type past the last");
    b[0] = RAFT_MSG_APPEND;
    b[65] = 4; /* flags: only reject (1) and force (2) exist */
    cr_assert_eq(kvn_msg_decode(b, n, &d), KV_ECORRUPT);
    free(b);
}

Test(req, round_trip_and_limits)
{
    kvn_req q = { .op = KVN_PUT, .session = 7, .seq = 9, .ks = (const uint8_t *)"ks", .ks_len = 2,
                  .key = (const uint8_t *)"key", .klen = 3, .val = (const uint8_t *)"v", .vlen = 1 }, d;
    size_t n = kvn_req_size(&q);
    uint8_t *b = malloc(n + 1);
    kvn_req_encode(&q, b);
    cr_assert_eq(kvn_req_decode(b, n, &d), KV_OK);
    cr_assert(d.op == KVN_PUT && d.session == 7 && d.seq == 9 && d.ks_len == 2 && d.klen == 3);
    cr_assert(memcmp(d.key, "key", 3) == 0 && d.vlen == 1 && d.val[0] == 'v');
    for (size_t k = 0; k < n; k++)
        cr_assert_neq(kvn_req_decode(b, k, &d), KV_OK, "truncated to %zu", k);
    b[n] = 0;
    cr_assert_eq(kvn_req_decode(b, n + 1, &d), KV_ECORRUPT, "trailing byte");
    b[0] = 0;
    cr_assert_eq(kvn_req_decode(b, n, &d), KV_ECORRUPT, "op 0");
    free(b);

    /* a key one above the limit: KV_ETOOBIG before the bytes are even there */
    uint8_t h[1 + 8 + 8 + 4 + 4] = { KVN_GET };
    uint32_t big = KVN_MAX_KEY + 1;
    memcpy(h + 21, &big, 4);
    cr_assert_eq(kvn_req_decode(h, sizeof h, &d), KV_ETOOBIG);
    big = KVN_MAX_KEYSPACE + 1;
    memcpy(h + 17, &big, 4);
    cr_assert_eq(kvn_req_decode(h, 21, &d), KV_ETOOBIG);
}

Test(resp, round_trip_and_bad_kind)
{
    kvn_resp r = { .kind = KVN_NOTLEADER, .status = KV_ENOTFOUND, .leader = 2,
                   .val = (const uint8_t *)"xy", .vlen = 2 }, d;
    size_t n = kvn_resp_size(&r);
    uint8_t b[64];
    kvn_resp_encode(&r, b);
    cr_assert_eq(kvn_resp_decode(b, n, &d), KV_OK);
    cr_assert(d.kind == KVN_NOTLEADER && d.status == KV_ENOTFOUND && d.leader == 2 && d.vlen == 2);
    b[0] = KVN_RETRY + 1;
    cr_assert_eq(kvn_resp_decode(b, n, &d), KV_ECORRUPT);
    b[0] = KVN_DONE;
    b[1] = 1; /* status +1: not a KV status */
    b[2] = b[3] = b[4] = 0;
    cr_assert_eq(kvn_resp_decode(b, n, &d), KV_ECORRUPT);
}

Test(admin, round_trip_and_rejects)
{
    kvn_admin a = { .op = KVN_ADMIN_REMOVE, .node = RAFT_MAX_NODES - 1, .timeout_ms = 30000 }, d;
    uint8_t b[KVN_ADMIN_LEN + 1] = { 0 };
    kvn_admin_encode(&a, b);
    cr_assert_eq(kvn_admin_decode(b, KVN_ADMIN_LEN, &d), KV_OK);
    cr_assert(d.op == KVN_ADMIN_REMOVE && d.node == RAFT_MAX_NODES - 1 && d.timeout_ms == 30000);
    for (size_t k = 0; k < KVN_ADMIN_LEN; k++)
        cr_assert_eq(kvn_admin_decode(b, k, &d), KV_ECORRUPT, "truncated to %zu", k);
    cr_assert_eq(kvn_admin_decode(b, KVN_ADMIN_LEN + 1, &d), KV_ECORRUPT, "trailing byte");
    const kvn_admin bad[] = { { 0, 1, 100 }, { KVN_ADMIN_REMOVE + 1, 1, 100 },
                              { KVN_ADMIN_ADD, RAFT_MAX_NODES, 100 },
                              { KVN_ADMIN_ADD, UINT32_MAX, 100 }, { KVN_ADMIN_ADD, 1, 0 } };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kvn_admin_encode(&bad[i], b);
        cr_assert_eq(kvn_admin_decode(b, KVN_ADMIN_LEN, &d), KV_ECORRUPT, "bad request %zu", i);
    }
    /* an admin frame passes the frame gate like any other */
    kvn_admin_encode(&a, b);
    uint8_t *f = frame_of(KVN_ADMIN, b, KVN_ADMIN_LEN);
    kvn_frame fr;
    size_t used;
    cr_assert_eq(kvn_frame_parse(f, KVN_HDR + KVN_ADMIN_LEN, 1024, &fr, &used), 1);
    cr_assert(fr.type == KVN_ADMIN && fr.len == KVN_ADMIN_LEN);
    free(f);
}

static int cluster_file(const char *text, char addrs[RAFT_MAX_NODES][128], uint32_t *n)
{
    char path[] = "/tmp/kvl-clusterXXXXXX";
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    int rc = kvn_cluster_read(path, addrs, n);
    unlink(path);
    return rc;
}

Test(cluster, file_syntax)
{
    char a[RAFT_MAX_NODES][128];
    uint32_t n = 0;
    cr_assert_eq(cluster_file("# three nodes\n127.0.0.1:7001\n\n  127.0.0.1:7002 \n127.0.0.1:7003", a, &n), KV_OK);
    cr_assert_eq(n, 3);
    cr_assert_str_eq(a[1], "127.0.0.1:7002");
    cr_assert_str_eq(a[2], "127.0.0.1:7003");
    cr_assert_eq(cluster_file("# nothing\n\n", a, &n), KV_EINVAL);
    cr_assert_eq(cluster_file("127.0.0.1\n", a, &n), KV_EINVAL, "no port");
    cr_assert_eq(cluster_file("1:1\n1:2\n1:3\n1:4\n1:5\n1:6\n1:7\n1:8\n1:9\n1:10\n", a, &n), KV_EINVAL);
    cr_assert_eq(kvn_cluster_read("/nonexistent/cluster.conf", a, &n), KV_EIO);
}

Test(cluster, addresses)
{
    uint8_t sa[64];
    cr_assert_eq(kvn_addr_parse("127.0.0.1:7001", sa), KV_OK);
    cr_assert_eq(kvn_addr_parse("localhost:1", sa), KV_OK);
    cr_assert_eq(kvn_addr_parse("127.0.0.1:0", sa), KV_EINVAL);
    cr_assert_eq(kvn_addr_parse("127.0.0.1:65536", sa), KV_EINVAL);
    cr_assert_eq(kvn_addr_parse("127.0.0.1:80x", sa), KV_EINVAL);
    cr_assert_eq(kvn_addr_parse("example.org:80", sa), KV_EINVAL, "names are not resolved");
}
