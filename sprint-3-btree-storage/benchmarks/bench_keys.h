/*
 * bench_keys.h — the keys and values of the B+ tree benchmarks, in
 * kvbench's format (bench/kvbench_keys.c) so the figures compare with
 * kvbench's runs: a 16-byte key is 'k', the index as 8 big-endian bytes
 * (bytewise order = numeric order), 6 letters derived from the index, and
 * 'p'; a value is 100 bytes of a fixed pseudo-random pattern.
 */
#ifndef BENCH_KEYS_H
#define BENCH_KEYS_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "kvlabs/kv.h"
#include "kvlabs/rng.h"

#define BK_KEY 16
#define BK_VALUE 100

static inline void bk_key(uint8_t out[BK_KEY], uint64_t idx)
{
    uint64_t fill = idx;
    out[0] = 'k';
    for (int b = 0; b < 8; b++)
        out[1 + b] = (uint8_t)(idx >> (8 * (7 - b)));
    (void)kv_splitmix64(&fill);
    for (int b = 9; b < 15; b++)
        out[b] = (uint8_t)('a' + (fill >> (8 * (b - 9))) % 26);
    out[15] = 'p';
}

static inline void bk_value(uint8_t out[BK_VALUE], uint64_t idx)
{
    uint64_t s = idx * 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < BK_VALUE; i += 8) {
        uint64_t r = kv_splitmix64(&s);
        memcpy(out + i, &r, BK_VALUE - i < 8 ? (size_t)(BK_VALUE - i) : 8);
    }
}

static inline int bk_is_prime(uint64_t p)
{
    if (p < 2)
        return 0;
    for (uint64_t d = 2; d * d <= p; d++)
        if (p % d == 0)
            return 0;
    return 1;
}

/*
 * Put entries 0..n-1 into @p db in a pseudo-random order, the same order for
 * the same (n, g): index (i * g mod p) - 1 for i = 1, 2, ..., with p the
 * first prime above n, walks a permutation of 0..p-2, and indexes >= n are
 * skipped. Returns 0, or 1 after printing "<who>: put: <error>".
 */
static inline int bk_load_random(kv_db *db, uint64_t n, uint64_t g, const char *who)
{
    uint64_t p;
    for (p = n + 1; !bk_is_prime(p); p++)
        ;
    g %= p;
    if (g == 0)
        g = 3;
    for (uint64_t i = 1, done = 0; done < n; i++) {
        uint64_t idx = (uint64_t)((unsigned __int128)i * g % p) - 1;
        uint8_t k[BK_KEY], v[BK_VALUE];
        if (idx >= n)
            continue;
        bk_key(k, idx);
        bk_value(v, idx);
        if (kv_put(db, k, BK_KEY, v, BK_VALUE) != KV_OK) {
            fprintf(stderr, "%s: put: %s\n", who, kv_last_error());
            return 1;
        }
        done++;
    }
    return 0;
}

#endif
