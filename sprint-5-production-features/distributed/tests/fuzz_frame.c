/*
 * fuzz_frame.c — the libFuzzer target of kvnode's wire decoders
 * (include/raft_net.h), and a deterministic driver of the same target for
 * make test.
 *
 * The input's first byte picks what the rest goes to: 0, a receive buffer
 * parsed frame after frame as kvnode_loop.c does (each good frame's
 * payload then decoded by its type); 1, 2, 3, 4 the Raft message, request,
 * response and admin request decoders directly (a fuzzer rarely forges a CRC, so the
 * decoders behind the CRC gate get their own way in). Whatever the bytes,
 * a decoder must return a status and never read outside its input or
 * leak; a message it accepts must re-encode to exactly the bytes it came
 * from (the encoding has a single form).
 *
 *   make -C sprint-5-production-features fuzz [FUZZ_SECONDS=60]   (clang, libFuzzer)
 *   fuzz_frame [ITERATIONS]     the deterministic driver: valid frames of every
 *                               type, truncated, bit-flipped and spliced
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/kv.h"
#include "raft_net.h"

static int failures;

static void decode_payload(uint8_t type, const uint8_t *p, size_t n)
{
    if (type == KVN_RAFT) {
        raft_msg m;
        if (kvn_msg_decode(p, n, &m) == KV_OK) {
            size_t len = kvn_msg_size(&m);
            uint8_t *b = malloc(len ? len : 1);
            kvn_msg_encode(&m, b);
            if (len != n || memcmp(b, p, n) != 0) {
                fprintf(stderr, "fuzz_frame: a Raft message does not re-encode to its bytes\n");
                failures++;
            }
            free(b);
            raft_msg_free(&m);
        }
    } else if (type == KVN_REQ) {
        kvn_req q;
        if (kvn_req_decode(p, n, &q) == KV_OK && kvn_req_size(&q) != n) {
            fprintf(stderr, "fuzz_frame: a request's size is not its bytes\n");
            failures++;
        }
    } else if (type == KVN_ADMIN) {
        kvn_admin a;
        uint8_t b[KVN_ADMIN_LEN];
        if (kvn_admin_decode(p, n, &a) == KV_OK) {
            kvn_admin_encode(&a, b);
            if (n != KVN_ADMIN_LEN || memcmp(b, p, n) != 0) {
                fprintf(stderr, "fuzz_frame: an admin request does not re-encode to its bytes\n");
                failures++;
            }
        }
    } else {
        kvn_resp r;
        if (kvn_resp_decode(p, n, &r) == KV_OK && kvn_resp_size(&r) != n) {
            fprintf(stderr, "fuzz_frame: a response's size is not its bytes\n");
            failures++;
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0] % 5;
    data++;
    size--;
    if (mode) {
        /* an exact-size copy, so that ASan sees a read past the end */
        uint8_t *p = malloc(size ? size : 1);
        if (size)
            memcpy(p, data, size);
        decode_payload(mode, p, size);
        free(p);
        return 0;
    }
    size_t off = 0;
    for (;;) {
        kvn_frame f;
        size_t used;
        int rc = kvn_frame_parse(data + off, size - off, 1u << 16, &f, &used);
        if (rc != 1)
            break;
        decode_payload(f.type, f.payload, f.len);
        off += used;
    }
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

/* A valid input of mode m into buf (at least 512 bytes); its length. */
static size_t seed_input(unsigned m, uint8_t *buf)
{
    static uint8_t d0[] = "entry", chunk[] = "snap";
    raft_entry e[2] = { { 2, 5, RAFT_ENTRY_NORMAL, 5, d0 }, { 2, 6, RAFT_ENTRY_NOOP, 0, chunk } };
    raft_msg msg = { .type = (uint8_t)(1 + next() % RAFT_MSG_TIMEOUT_NOW), .from = 1, .to = 0,
                     .term = 2, .n_entries = 2, .entries = e, .snap_len = 4, .snap_data = chunk };
    kvn_req q = { .op = KVN_PUT, .session = 1, .seq = 2, .ks = (const uint8_t *)"ks", .ks_len = 2,
                  .key = (const uint8_t *)"k", .klen = 1, .val = (const uint8_t *)"v", .vlen = 1 };
    kvn_resp r = { .kind = KVN_DONE, .status = KV_ENOTFOUND, .leader = 1,
                   .val = (const uint8_t *)"xyz", .vlen = 3 };
    kvn_admin a = { .op = (uint8_t)(1 + next() % 2), .node = (uint32_t)(next() % RAFT_MAX_NODES),
                    .timeout_ms = 30000 };
    buf[0] = (uint8_t)m;
    uint8_t type = m ? (uint8_t)m : (uint8_t)(1 + next() % 4);
    uint8_t *p = buf + 1 + (m ? 0 : KVN_HDR);
    size_t n = type == KVN_RAFT    ? kvn_msg_size(&msg)
               : type == KVN_REQ   ? kvn_req_size(&q)
               : type == KVN_ADMIN ? KVN_ADMIN_LEN
                                   : kvn_resp_size(&r);
    if (type == KVN_RAFT)
        kvn_msg_encode(&msg, p);
    else if (type == KVN_REQ)
        kvn_req_encode(&q, p);
    else if (type == KVN_ADMIN)
        kvn_admin_encode(&a, p);
    else
        kvn_resp_encode(&r, p);
    if (m == 0)
        kvn_frame_seal(buf + 1, type, (uint32_t)n);
    return 1 + (m ? 0 : KVN_HDR) + n;
}

int main(int argc, char **argv)
{
    unsigned long iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000;
    uint8_t buf[2048];
    for (unsigned long i = 0; i < iters; i++) {
        size_t n = seed_input((unsigned)(i % 5), buf);
        switch (next() % 4) {
        case 0: /* truncate */
            n = 1 + next() % n;
            break;
        case 1: /* flip bits */
            for (int k = (int)(1 + next() % 4); k > 0; k--)
                buf[1 + next() % (n - 1)] ^= (uint8_t)(1u << (next() % 8));
            break;
        case 2: /* overwrite a 4-byte field with an extreme */
            if (n > 5) {
                uint32_t v = next() % 2 ? 0xffffffffu : (uint32_t)next() % 70000;
                memcpy(buf + 1 + next() % (n - 5), &v, 4);
            }
            break;
        default: /* append random bytes */
            for (int k = (int)(next() % 64); k > 0 && n < sizeof buf; k--)
                buf[n++] = (uint8_t)next();
        }
        LLVMFuzzerTestOneInput(buf, n);
    }
    printf("fuzz_frame: %lu inputs\n%d passed, %d failed\n", iters, failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
#endif
