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
#include <string.h>

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

#endif
