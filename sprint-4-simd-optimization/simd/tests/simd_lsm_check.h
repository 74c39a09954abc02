/*
 * simd_lsm_check.h — the checks of the simd part's tests, shared by the
 * plain test (simd_lsm_tests.c, also run under qemu) and the Criterion
 * test (test_lsm_simd.c, what the grader runs against the mutants).
 *
 * Each function runs one path over many inputs and returns a summary
 * (how many answers differ from the scalar reference, and where the
 * first one was); the callers turn that into a check or an assertion.
 * Inputs come from a fixed-seed splitmix64 (slc_rng), so a failure
 * reproduces. Each key of the comparison checks ends at the end of its
 * own allocation, so a path that reads past a key is caught by ASan.
 *
 * Callers must not share one slc_rng state between threads.
 */
#ifndef LSM_SIMD_LSM_CHECK_H
#define LSM_SIMD_LSM_CHECK_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lsm_simd.h"

static uint64_t slc_state = 0x5eed;

static inline uint64_t slc_rng(void)
{
    uint64_t z = (slc_state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* What one check run found. */
typedef struct slc_result {
    size_t total;   /* answers compared */
    size_t bad;     /* answers that differ from the scalar one (or from the truth) */
    size_t yes;     /* probes: "maybe" answers of the scalar code; cmp: differences in the tail */
    size_t bad2;    /* probes: false "maybe" with one bit clear */
    bool oom;       /* ran out of memory (a failure) */
    char first[160];/* the first difference */
} slc_result;

/* Random filters of 1..67 lines, three densities, at an odd address:
 * 100000 random hashes, each answer compared with the scalar probe's. */
static inline slc_result slc_probe_random(lsm_simd_probe_fn probe)
{
    static const unsigned density[] = {1, 8, 15}; /* each bit set with probability d/16 */
    slc_result r = {0};
    uint8_t *mem = malloc(67 * LSM_SIMD_BLOOM_LINE + 1);
    if (!mem) {
        r.oom = true;
        return r;
    }
    uint8_t *filter = mem + 1;
    for (size_t lines = 1; lines <= 67; lines += 11) {
        for (size_t d = 0; d < 3; d++) {
            size_t size = lines * LSM_SIMD_BLOOM_LINE;
            for (size_t i = 0; i < size; i++) {
                uint8_t b = 0;
                for (int k = 0; k < 8; k++)
                    b |= (uint8_t)(((slc_rng() & 15) < density[d]) << k);
                filter[i] = b;
            }
            for (int i = 0; i < 100000 / 18; i++) {
                uint64_t h = slc_rng();
                bool got = probe(filter, size, h);
                bool want = lsm_simd_bloom_probe_scalar(filter, size, h);
                if (got != want && !r.bad)
                    snprintf(r.first, sizeof r.first, "; first: hash %#llx, %zu lines",
                             (unsigned long long)h, lines);
                r.bad += got != want;
                r.yes += want;
                r.total++;
            }
        }
    }
    free(mem);
    return r;
}

/* For 4000 hashes: a filter holding only the key's eight bits must answer
 * "maybe" (bad counts false "no"); a full filter with exactly one of the
 * eight bits clear must answer "no" (bad2 counts false "maybe"). A lane
 * mask wrong for one lane or one half of the line fails here. */
static inline slc_result slc_probe_bits(lsm_simd_probe_fn probe)
{
    slc_result r = {0};
    uint8_t *filter = malloc(5 * LSM_SIMD_BLOOM_LINE);
    if (!filter) {
        r.oom = true;
        return r;
    }
    for (int i = 0; i < 4000; i++) {
        uint64_t h = slc_rng();
        size_t lines = 1 + (size_t)(slc_rng() % 5), size = lines * LSM_SIMD_BLOOM_LINE;
        uint32_t bits[LSM_SIMD_BLOOM_PROBES];
        size_t line = lsm_simd_bloom_positions(h, lines, bits);
        uint8_t *l = filter + line * LSM_SIMD_BLOOM_LINE;
        memset(filter, 0, size);
        for (unsigned p = 0; p < LSM_SIMD_BLOOM_PROBES; p++)
            l[bits[p] >> 3] |= (uint8_t)(1u << (bits[p] & 7));
        r.bad += !probe(filter, size, h);
        r.total++;
        for (unsigned p = 0; p < LSM_SIMD_BLOOM_PROBES; p++) {
            bool shared = false; /* another probe of the key sets the same bit */
            for (unsigned q = 0; q < LSM_SIMD_BLOOM_PROBES; q++)
                shared |= q != p && bits[q] == bits[p];
            if (shared)
                continue;
            memset(filter, 0xff, size);
            l[bits[p] >> 3] &= (uint8_t) ~(1u << (bits[p] & 7));
            r.bad2 += probe(filter, size, h);
            r.total++;
        }
    }
    free(filter);
    return r;
}

/* A copy of p[0..n) that ends where its allocation ends. */
static inline uint8_t *slc_tight(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (q && n)
        memcpy(q, p, n);
    return q;
}

/* Every pair of a ladder of lengths 0..80: keys equal over the common
 * length, and differing at every position both ways with 0x7f/0x80 (a
 * signed compare fails) and random bytes; each result must be exactly the
 * scalar one, and the swapped call its negation. r.yes counts the
 * differences found within the last 15 bytes of the common length. */
static inline slc_result slc_cmp(lsm_simd_cmp_fn cmp)
{
    static const size_t lens[] = {0, 1, 2, 7, 8, 15, 16, 17, 24, 31, 32, 33, 47, 48, 63, 64, 65, 80};
    enum { NL = sizeof lens / sizeof lens[0] };
    slc_result r = {0};
    uint8_t a[96], b[96];

    for (size_t i = 0; i < NL; i++) {
        for (size_t j = 0; j < NL; j++) {
            size_t na = lens[i], nb = lens[j], m = na < nb ? na : nb;
            for (size_t k = 0; k < 96; k++)
                a[k] = (uint8_t)slc_rng();
            /* pos == m: equal over the common length (the lengths decide) */
            for (size_t pos = 0; pos <= m; pos++) {
                for (int kind = 0; kind < 3 && (pos < m || kind == 0); kind++) {
                    memcpy(b, a, sizeof a);
                    if (pos < m && kind == 0) {
                        a[pos] = 0x7f;
                        b[pos] = 0x80;
                    } else if (pos < m && kind == 1) {
                        a[pos] = 0x80;
                        b[pos] = 0x7f;
                    } else if (pos < m) {
                        do
                            b[pos] = (uint8_t)slc_rng();
                        while (b[pos] == a[pos]);
                    }
                    uint8_t *ta = slc_tight(a, na), *tb = slc_tight(b, nb);
                    if (!ta || !tb) {
                        free(ta);
                        free(tb);
                        r.oom = true;
                        return r;
                    }
                    int want = lsm_simd_key_cmp_scalar(ta, na, tb, nb);
                    int got = cmp(ta, na, tb, nb), back = cmp(tb, nb, ta, na);
                    r.total += 2;
                    if (got != want || back != -want) {
                        if (!r.bad)
                            snprintf(r.first, sizeof r.first,
                                     "; first: lengths %zu/%zu differing at %zu: %d, want %d", na,
                                     nb, pos, got, want);
                        r.bad++;
                        r.yes += m - pos < 16;
                    }
                    free(ta);
                    free(tb);
                }
            }
        }
    }
    return r;
}

#endif /* LSM_SIMD_LSM_CHECK_H */
