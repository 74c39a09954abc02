/*
 * ht_grade_bench.c — the workload behind sprint 2's performance score.
 *
 * What this is: a small, deterministic program over the engine `hash` (the
 * four collision strategies of ht_*.c through the kv.h front end) and the
 * dispatched hash functions of neon_hash*.c. The grader (`make grade`,
 * docs/grading.md) runs it under `valgrind --tool=callgrind` and compares
 * the number of instructions it executes with the reference solution's:
 * instruction counts do not depend on the machine's load, so the score does
 * not flake. lab.mk names it in GRADE_BENCH. Run it yourself with
 *
 *     make VARIANT=release && ../build/release/bin/sprint-2-hash-storage/ht_grade_bench 20000
 *     valgrind --tool=callgrind --callgrind-out-file=/dev/null \
 *         ../build/release/bin/sprint-2-hash-storage/ht_grade_bench 20000
 *
 * What it does, for each strategy, on a table that starts at 16 buckets
 * (so every shard grows many times, incrementally), with N (default 20000)
 * 16-byte keys and 8..71-byte values from a fixed xorshift sequence:
 * N puts of new keys, N hits, N/2 misses, N/2 deletes (every other key),
 * N/2 overwrites of the keys left, N/4 new keys (into the tombstones left
 * by the deletes), then a lookup of every key ever written. Then the hash
 * functions alone: CRC32C and XXH3 (with and without seed) over every
 * length 0..1024 at every alignment 0..7 of one buffer. Every value read
 * and every hash is folded into a checksum.
 *
 * What it rewards: short probe sequences (a good strategy and load limit),
 * resizing that moves each entry a bounded number of times, lookups that
 * compare the hash before the key, tombstones that are reused, and SIMD
 * hash paths (the long-input loops of CRC32C and XXH3).
 *
 * Output: one line `ht_grade_bench n=N checksum=HEX`, the same for every
 * correct solution (the grader compares it with the reference's; a wrong
 * checksum or a failing call scores 0). Exit status 1, with the failing
 * call named on stderr, when an operation that must succeed fails.
 */
#include "kvlabs/engine.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fixed pseudo-random sequence (xorshift64). */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint64_t next_u64(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The checksum: FNV-1a-style folding of every value read. */
static uint64_t checksum = 0xcbf29ce484222325u;

static void fold(uint64_t v)
{
    checksum = (checksum ^ v) * 0x100000001b3u;
}

static void fold_bytes(const void *p, size_t n)
{
    const unsigned char *b = p;
    fold(n);
    for (size_t i = 0; i < n; i++)
        fold(b[i]);
}

/* Stop at the first call that fails: a wrong answer has no score. */
static void must(int rc, int want, const char *what, long i)
{
    if (rc != want) {
        fprintf(stderr, "ht_grade_bench: %s (step %ld) returned %d (%s), expected %d\n", what,
                i, rc, kv_strerror(rc), want);
        exit(1);
    }
}

/* Key i: 16 bytes, a function of i alone, so any phase can rebuild it. */
static void make_key(long i, unsigned char key[16])
{
    uint64_t a = (uint64_t)i * 0x9e3779b97f4a7c15u, b = (uint64_t)i ^ 0x5bd1e995u;
    memcpy(key, &a, 8);
    memcpy(key + 8, &b, 8);
}

/* A value of 8..71 bytes from the sequence. */
static size_t make_value(unsigned char val[72])
{
    uint64_t r = next_u64();
    size_t len = 8 + (size_t)(r % 64);
    for (size_t j = 0; j < len; j += 8) {
        uint64_t w = next_u64();
        memcpy(val + j, &w, len - j < 8 ? len - j : 8);
    }
    return len;
}

static void put(kv_db *db, long i, const char *what)
{
    unsigned char key[16], val[72];
    size_t len = make_value(val);
    make_key(i, key);
    must(kv_put(db, key, 16, val, len), KV_OK, what, i);
}

/* Look key i up; fold the value, or a marker when it is absent. */
static void lookup(kv_db *db, kv_buf *buf, long i, int want, const char *what)
{
    unsigned char key[16];
    make_key(i, key);
    int rc = kv_get(db, key, 16, buf);
    must(rc, want, what, i);
    if (rc == KV_OK)
        fold_bytes(buf->data, buf->len);
    else
        fold(0xdead);
}

static void table_workload(const char *strategy, long n)
{
    char options[96];
    kv_db *db;
    kv_buf buf = {0};
    snprintf(options, sizeof options, "strategy=%s,buckets=16", strategy);
    must(kv_open("hash", "ht_grade_bench", options, &db), KV_OK, "kv_open", 0);
    for (long i = 0; i < n; i++)
        put(db, i, "put (new key)");
    for (long i = 0; i < n; i++)
        lookup(db, &buf, i, KV_OK, "get (hit)");
    for (long i = 0; i < n / 2; i++)
        lookup(db, &buf, n + n / 4 + i, KV_ENOTFOUND, "get (miss)");
    for (long i = 0; i < n; i += 2) {
        unsigned char key[16];
        make_key(i, key);
        must(kv_delete(db, key, 16), KV_OK, "delete", i);
    }
    for (long i = 1; i < n; i += 2)
        put(db, i, "put (overwrite)");
    for (long i = n; i < n + n / 4; i++)
        put(db, i, "put (after deletes)");
    for (long i = 0; i < n + n / 4; i++)
        lookup(db, &buf, i, (i < n && i % 2 == 0) ? KV_ENOTFOUND : KV_OK, "get (final)");
    kv_stats st;
    must(kv_db_stats(db, &st), KV_OK, "kv_db_stats", 0);
    fold(st.keys);
    kv_buf_free(&buf);
    must(kv_close(db), KV_OK, "kv_close", 0);
}

static void hash_workload(void)
{
    static unsigned char data[1024 + 8];
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)next_u64();
    for (size_t align = 0; align < 8; align++) {
        for (size_t len = 0; len <= 1024; len++) {
            fold(kv_crc32c(0, data + align, len));
            fold(kv_xxh3_64(data + align, len));
            fold(kv_xxh3_64_seed(data + align, len, len));
        }
    }
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    if (argc > 2 || n < 4 || n > 10000000) {
        fprintf(stderr, "usage: ht_grade_bench [N]   (4 <= N <= 10000000, default 20000)\n");
        return 2;
    }
    kv_registry_init(); /* install the SIMD hash paths before hashing alone */
    static const char *const strategies[] = {"chaining", "linear", "robinhood", "swiss"};
    for (size_t s = 0; s < sizeof strategies / sizeof strategies[0]; s++)
        table_workload(strategies[s], n);
    hash_workload();
    printf("ht_grade_bench n=%ld checksum=%016llx\n", n, (unsigned long long)checksum);
    return 0;
}
