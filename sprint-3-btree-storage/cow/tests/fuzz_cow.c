/*
 * fuzz_cow.c — the libFuzzer target of cowbtree's decoders (page, meta
 * page, commit record), and a deterministic driver of the same target for
 * make test.
 *
 * What it checks. Every byte the engine reads from a file goes through
 * one of three gates before it is trusted: cow_page_check() (a tree page),
 * cow_meta_decode() (a meta page) and cow_rec_decode() with
 * cow_log_decode_ops() (a commit record). Whatever the bytes, a gate must
 * return a status and never read outside its input; what it accepts must
 * be safe to use: every cell of an accepted page lies inside the page, in
 * strictly ascending key order, and cow_page_search() finds each key at
 * its own slot (and cow_page_find(), over the page's search index, agrees
 * with it for each key and the probes around it); an accepted meta re-encodes to a meta that decodes to the
 * same fields; an accepted record re-encodes, op by op, to exactly the
 * bytes it came from (the encoding has a single form).
 *
 * The input's first byte picks the gate and whether the harness seals the
 * input first (a fuzzer rarely forges a CRC32C, so the checks behind the
 * CRC get their own way in, as sprint 5's fuzz_frame.c does):
 *   0 page as is      1 page, CRC and own pgno fixed up
 *   2 meta as is      3 meta, CRC fixed up
 *   4 log bytes as is, decoded record after record as replay does
 *   5 one record, both CRCs, length and trailer fixed up
 * The page is 4096 bytes (the input, zero-padded or cut), in a buffer of
 * exactly that size so that AddressSanitizer sees a read past its end.
 *
 *   make -C sprint-3-btree-storage fuzz [FUZZ_SECONDS=600]  (clang, libFuzzer, long)
 *   cow/tests/fuzz_cow.sh                                   (make test: a short bounded run
 *                                                            over the seeded corpus)
 *   fuzz_cow [ITERATIONS]       the deterministic driver: valid pages, metas and
 *                               records, truncated, bit-flipped and spliced
 *   fuzz_cow --write-corpus DIR writes the seed inputs (cow/tests/fuzz-corpus/)
 *
 * What callers must not do: link it into the engine (it is a test).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/hash.h"
#include "cow_int.h"

enum { FZ_PSIZE = 4096, FZ_MODES = 6 };

static int failures;

static void fail(const char *what)
{
    if (failures++ < 10)
        fprintf(stderr, "fuzz_cow: %s\n", what);
#ifdef KVLABS_LIBFUZZER
    abort(); /* libFuzzer keeps the input that got here */
#endif
}

/* An accepted page: every cell inside it, keys ascending, each found at its slot. */
static void page_accepted(const unsigned char *p)
{
    unsigned type = cow_pg_type(p), n = cow_pg_n(p);
    cow_cell c, prev = {0};

    if (cow_page_used(p, FZ_PSIZE) > FZ_PSIZE)
        fail("an accepted page uses more bytes than it has");
    for (unsigned i = 0; i < n; i++) {
        bool exact = false;
        cow_page_cell(p, i, &c);
        if (c.k < p + COW_PAGE_HDR || c.k + c.kl > p + FZ_PSIZE ||
            (type == COW_PT_LEAF && c.v + c.vl > p + FZ_PSIZE))
            fail("an accepted page has a cell outside the page");
        if (c.kl == 0 || (i > 0 && cow_key_cmp(prev.k, prev.kl, c.k, c.kl) >= 0))
            fail("an accepted page has keys out of order");
        if (cow_page_search(p, c.k, c.kl, &exact) != i || !exact)
            fail("cow_page_search does not find a key of an accepted page at its slot");
        if (type == COW_PT_INNER && cow_inner_child(p, i + 1) != c.child)
            fail("an inner cell's child is not the child of its index");
        prev = c;
    }
}

/* The same page with its in-memory search index (cow_page_index) finds
 * what the plain search finds, for each key and for probes around it: the
 * key cut short, extended by a 0 byte, and with its last byte raised. */
static void index_agrees(const unsigned char *p)
{
    unsigned char *x = malloc(FZ_PSIZE + cow_pidx_size(FZ_PSIZE)), probe[1100];
    unsigned n = cow_pg_n(p);
    cow_cell c;

    if (!x)
        return;
    memcpy(x, p, FZ_PSIZE);
    cow_page_index(x, FZ_PSIZE);
    for (unsigned i = 0; i < n; i++) {
        cow_page_cell(p, i, &c);
        if (c.kl + 1u > sizeof(probe))
            continue;
        memcpy(probe, c.k, c.kl);
        probe[c.kl] = 0;
        size_t lens[4] = {c.kl, c.kl - 1u, c.kl + 1u, c.kl};
        for (unsigned j = 0; j < 4; j++) {
            bool e1 = false, e2 = false;
            if (j == 3)
                probe[c.kl - 1]++;
            if (cow_page_find(x, FZ_PSIZE, probe, lens[j], &e1) !=
                    cow_page_search(p, probe, lens[j], &e2) ||
                e1 != e2)
                fail("cow_page_find with the search index disagrees with cow_page_search");
        }
    }
    free(x);
}

static void fuzz_page(const unsigned char *data, size_t size, bool seal)
{
    unsigned char *p = calloc(1, FZ_PSIZE);
    if (!p)
        return;
    memcpy(p, data, size < FZ_PSIZE ? size : FZ_PSIZE);
    if (seal)
        cow_page_seal(p, FZ_PSIZE);
    if (cow_page_check(p, FZ_PSIZE, cow_pg_no(p)) == KV_OK) {
        page_accepted(p);
        index_agrees(p);
    }
    free(p);
}

static void fuzz_meta(const unsigned char *data, size_t size, bool seal)
{
    unsigned char *b = malloc(size ? size : 1), again[COW_META_LEN];
    cow_meta m, m2;

    if (!b)
        return;
    if (size)
        memcpy(b, data, size);
    if (seal && size >= COW_META_LEN)
        cow_st32(b, kv_crc32c(0, b + 4, COW_META_LEN - 4));
    if (cow_meta_decode(b, size, &m) == KV_OK) {
        cow_meta_encode(&m, again);
        if (cow_meta_decode(again, sizeof(again), &m2) != KV_OK || m.page_size != m2.page_size ||
            m.txnid != m2.txnid || m.root != m2.root || m.next_pgno != m2.next_pgno ||
            m.log_gen != m2.log_gen || m.log_pos != m2.log_pos || m.keys != m2.keys ||
            m.bytes != m2.bytes)
            fail("an accepted meta does not survive encode and decode");
    }
    free(b);
}

/* An accepted record with valid ops: rebuilt from its ops, byte for byte. */
static void record_accepted(const unsigned char *buf, size_t n, const cow_rec *r)
{
    /* room for the trailer from the start: a record may hold no op */
    unsigned char *out = malloc(COW_REC_HDR + COW_REC_TRL);
    size_t len = COW_REC_HDR, cap = COW_REC_HDR + COW_REC_TRL, pos = 0;
    cow_op op;

    if (!out)
        return;
    for (uint32_t i = 0; i < r->nops; i++) {
        if (cow_op_next(r, &pos, &op) != KV_OK) {
            fail("cow_op_next fails on a record cow_log_decode_ops accepted");
            goto out_free;
        }
        if (cow_rec_op_append(&out, &len, &cap, op.kind, op.k, op.kl, op.v, op.vl) != KV_OK)
            goto out_free; /* out of memory: not a finding */
    }
    cow_rec_frame(out, len - COW_REC_HDR, r->gen, r->txnid, r->nops);
    if (len + COW_REC_TRL != n || memcmp(out, buf, n) != 0)
        fail("an accepted record does not re-encode to its bytes");
out_free:
    free(out);
}

static void fuzz_log(const unsigned char *data, size_t size, bool seal)
{
    unsigned char *b = malloc(size ? size : 1);
    size_t off = 0;

    if (!b)
        return;
    if (size)
        memcpy(b, data, size);
    if (seal && size >= COW_REC_HDR + COW_REC_TRL) {
        /* one record: the payload is whatever lies between header and trailer */
        size_t plen = size - COW_REC_HDR - COW_REC_TRL;
        cow_rec_frame(b, plen, cow_ld64(b + 8), cow_ld64(b + 16), cow_ld32(b + 28));
    }
    while (off < size) {
        cow_rec r;
        size_t n = cow_rec_decode(b + off, size - off, &r);
        if (n == 0) {
            (void)cow_rec_damaged(b + off, size - off);
            break;
        }
        if (n > size - off || r.plen != n - COW_REC_HDR - COW_REC_TRL)
            fail("cow_rec_decode returns a length beyond its input");
        if (cow_log_decode_ops(&r, 0xffff, UINT32_MAX) == KV_OK)
            record_accepted(b + off, n, &r);
        off += n;
    }
    free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned mode = data[0] % FZ_MODES;
    data++;
    size--;
    if (mode < 2)
        fuzz_page(data, size, mode == 1);
    else if (mode < 4)
        fuzz_meta(data, size, mode == 3);
    else
        fuzz_log(data, size, mode == 5);
    return 0;
}

#ifndef KVLABS_LIBFUZZER
/* ---- the deterministic driver: seeds, then mutations of them ---- */

enum { SEED_MAX = 1 + FZ_PSIZE };

typedef struct seed {
    unsigned char b[SEED_MAX];
    size_t n;
} seed;

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

/* A leaf or inner page of nkeys keys "k0000".., sealed; mode byte first. */
static void seed_page(seed *s, unsigned type, unsigned nkeys, size_t vlen)
{
    unsigned char keys[64][8], val[256];
    cow_cell cells[64];

    memset(val, 'v', sizeof(val));
    for (unsigned i = 0; i < nkeys; i++) {
        snprintf((char *)keys[i], sizeof(keys[i]), "k%04u", i * 3);
        cells[i] = (cow_cell){.k = keys[i], .kl = 5, .v = val, .vl = (uint32_t)vlen,
                              .child = 10 + i};
    }
    s->b[0] = 0;
    if (!cow_page_build(s->b + 1, FZ_PSIZE, type, 7, 3, type == COW_PT_INNER ? 9 : 0, cells, nkeys))
        abort();
    cow_page_seal(s->b + 1, FZ_PSIZE);
    s->n = 1 + FZ_PSIZE;
}

static void seed_meta(seed *s)
{
    cow_meta m = {.page_size = 4096, .txnid = 42, .root = 5, .next_pgno = 9, .log_gen = 3,
                  .log_pos = COW_LOG_HDR + 100, .keys = 17, .bytes = 900};
    s->b[0] = 2;
    memset(s->b + 1, 0, COW_META_LEN);
    cow_meta_encode(&m, s->b + 1);
    s->n = 1 + COW_META_LEN;
}

/* two records back to back: puts and a delete */
static void seed_log(seed *s)
{
    unsigned char *buf = malloc(COW_REC_HDR);
    size_t len = COW_REC_HDR, cap = COW_REC_HDR, first;

    if (!buf)
        abort();
    cow_rec_op_append(&buf, &len, &cap, COW_OP_PUT, "alpha", 5, "one", 3);
    cow_rec_op_append(&buf, &len, &cap, COW_OP_PUT, "beta", 4, "", 0);
    cow_rec_frame(buf, len - COW_REC_HDR, 2, 11, 2);
    first = len + COW_REC_TRL;
    s->b[0] = 4;
    memcpy(s->b + 1, buf, first);
    len = COW_REC_HDR;
    cow_rec_op_append(&buf, &len, &cap, COW_OP_DEL, "alpha", 5, NULL, 0);
    cow_rec_frame(buf, len - COW_REC_HDR, 2, 12, 1);
    memcpy(s->b + 1 + first, buf, len + COW_REC_TRL);
    s->n = 1 + first + len + COW_REC_TRL;
    free(buf);
}

static size_t make_seeds(seed *s)
{
    size_t n = 0;
    seed_page(&s[n++], COW_PT_LEAF, 12, 40);
    seed_page(&s[n++], COW_PT_LEAF, 1, 0);
    seed_page(&s[n++], COW_PT_INNER, 30, 0);
    seed_page(&s[n++], COW_PT_LEAF, 0, 0);
    seed_meta(&s[n++]);
    seed_log(&s[n++]);
    return n;
}

/* the seeds must pass their gates: else the driver would test nothing */
static void check_seeds(const seed *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const unsigned char *b = s[i].b + 1;
        cow_meta m;
        cow_rec r;
        if (s[i].b[0] == 0 && cow_page_check(b, FZ_PSIZE, 7) != KV_OK)
            fail("a seed page is rejected");
        if (s[i].b[0] == 2 && cow_meta_decode(b, s[i].n - 1, &m) != KV_OK)
            fail("the seed meta is rejected");
        if (s[i].b[0] == 4 && cow_rec_decode(b, s[i].n - 1, &r) == 0)
            fail("the seed record is rejected");
    }
}

/* the bytes of whole records at the start of buf, as replay reads them */
static size_t decoded_bytes(const unsigned char *buf, size_t len)
{
    size_t off = 0, n;
    cow_rec r;
    while (off < len && (n = cow_rec_decode(buf + off, len - off, &r)) != 0)
        off += n;
    return off;
}

/* one flipped bit anywhere in a seed's covered bytes: every gate must say no */
static void check_flips(const seed *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = s[i].n - 1, covered = s[i].b[0] == 2 ? COW_META_LEN : len;
        for (size_t at = 0; at < covered; at += 1 + at / 64) {
            unsigned char *b = malloc(len);
            cow_meta m;
            if (!b)
                abort();
            memcpy(b, s[i].b + 1, len);
            b[at] ^= (unsigned char)(1u << (at % 8));
            if (s[i].b[0] == 0 && cow_page_check(b, FZ_PSIZE, 7) == KV_OK)
                fail("a page with a flipped bit is accepted");
            if (s[i].b[0] == 2 && cow_meta_decode(b, len, &m) == KV_OK)
                fail("a meta with a flipped bit is accepted");
            if (s[i].b[0] == 4 && decoded_bytes(b, len) == decoded_bytes(s[i].b + 1, len))
                fail("a record with a flipped bit is accepted whole");
            free(b);
        }
    }
}

static int write_corpus(const char *dir)
{
    seed s[8];
    size_t n = make_seeds(s);
    for (size_t i = 0; i < n; i++) {
        char path[4096];
        FILE *f;
        snprintf(path, sizeof(path), "%s/seed-%02zu-mode%u", dir, i, (unsigned)s[i].b[0]);
        f = fopen(path, "wb");
        if (!f || fwrite(s[i].b, 1, s[i].n, f) != s[i].n || fclose(f) != 0) {
            fprintf(stderr, "fuzz_cow: cannot write %s: %s\n", path, strerror(errno));
            return 1;
        }
    }
    printf("fuzz_cow: %zu seeds written to %s\n", n, dir);
    return 0;
}

int main(int argc, char **argv)
{
    seed s[8], m;
    size_t nseeds, iters = 20000;

    if (argc == 3 && strcmp(argv[1], "--write-corpus") == 0)
        return write_corpus(argv[2]);
    if (argc > 1)
        iters = strtoull(argv[1], NULL, 10);
    nseeds = make_seeds(s);
    check_seeds(s, nseeds);
    check_flips(s, nseeds);
    for (size_t i = 0; i < nseeds; i++) /* each seed through every gate, as is */
        for (unsigned mode = 0; mode < FZ_MODES; mode++) {
            m = s[i];
            m.b[0] = (unsigned char)mode;
            LLVMFuzzerTestOneInput(m.b, m.n);
        }
    for (size_t it = 0; it < iters; it++) {
        m = s[rnd() % nseeds];
        if (rnd() % 4 == 0)
            m.b[0] = (unsigned char)(m.b[0] + 1); /* the sealed variant of its gate */
        switch (rnd() % 4) {
        case 0: /* truncate */
            m.n = 1 + rnd() % m.n;
            break;
        case 1: /* a few bit flips, in the first 256 bytes most of the time */
            for (int f = 1 + (int)(rnd() % 3); f > 0; f--) {
                size_t at = 1 + rnd() % ((rnd() & 1) && m.n > 257 ? 256 : m.n - 1);
                m.b[at] ^= (unsigned char)(1u << (rnd() % 8));
            }
            break;
        case 2: /* a random 16-bit or 32-bit field */
        {
            size_t at = 1 + rnd() % (m.n > 5 ? m.n - 5 : 1);
            uint32_t v = (uint32_t)rnd();
            memcpy(m.b + at, &v, m.n - at >= 4 ? 4 : m.n - at);
            break;
        }
        default: /* splice the tail of another seed */
        {
            const seed *o = &s[rnd() % nseeds];
            size_t cut = 1 + rnd() % m.n, from = 1 + rnd() % o->n, k = o->n - from;
            if (cut + k > SEED_MAX)
                k = SEED_MAX - cut;
            memcpy(m.b + cut, o->b + from, k);
            m.n = cut + k;
        }
        }
        LLVMFuzzerTestOneInput(m.b, m.n);
    }
    printf("fuzz_cow: %zu seeds, %zu mutated inputs\n", nseeds, iters);
    printf("%d passed, %d failed\n", failures ? 0 : 1, failures ? 1 : 0);
    return failures ? 1 : 0;
}
#endif
