/*
 * da_bench.c — the workload behind sprint 1's performance score.
 *
 * What this is: a small, deterministic program over the dynamic array of
 * exercise 2 (include/dynarray.h). The grader (`make grade`, see
 * docs/grading.md) runs it under `valgrind --tool=callgrind` and compares
 * the number of instructions it executes with the reference solution's:
 * instruction counts do not depend on the machine's load, so the score
 * does not flake. lab.mk names it in GRADE_BENCH; run it yourself with
 *
 *     make VARIANT=release && ../build/release/bin/sprint-1-c-core/da_bench 20000
 *     valgrind --tool=callgrind --callgrind-out-file=/dev/null ../build/release/bin/sprint-1-c-core/da_bench 20000
 *
 * What it does, for N (default 20000) 32-bit values from a fixed xorshift
 * sequence: N pushes (growth), a read of every element, N/64 inserts and
 * N/64 removes at pseudo-random positions (memmove of the tail), a write of
 * every third element, 4N alternating pops and pushes at a capacity
 * boundary (a shrink policy without hysteresis reallocates on every one),
 * N pops (shrinking), then N/4 24-byte records pushed, walked through
 * da_at(), N/1024 of them removed from the
 * front. Every value read is folded into a
 * checksum. What it rewards: geometric growth, a shrink with hysteresis,
 * memmove/memcpy rather than element-by-element loops, no work repeated.
 *
 * Output: one line `da_bench n=N checksum=HEX`, the same for every correct
 * solution (the grader compares it with the reference's; a wrong checksum
 * or a failing call scores 0). Exit status 1, with the failing call named
 * on stderr, when an operation that must succeed returns an error.
 */
#include "dynarray.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* The fixed pseudo-random sequence (xorshift64). */
static uint64_t rng = 0x9e3779b97f4a7c15u;

static uint32_t next_u32(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* The checksum: FNV-1a-style folding of every value read. */
static uint64_t checksum = 0xcbf29ce484222325u;

static void fold(uint64_t v)
{
    checksum = (checksum ^ v) * 0x100000001b3u;
}

/* Stop at the first call that fails: a wrong answer has no score. */
static void must(int rc, const char *what, long i)
{
    if (rc != 0) {
        fprintf(stderr, "da_bench: %s (step %ld) returned %d\n", what, i, rc);
        exit(1);
    }
}

struct record {
    uint32_t id;
    uint32_t flags;
    uint64_t key;
    double score;
};

/* Phases 1-6 on an array of uint32_t. */
static void values(long n)
{
    da_array a = DA_INIT(uint32_t);
    uint32_t v;
    for (long i = 0; i < n; i++) {
        v = next_u32();
        must(da_push(&a, &v), "da_push", i);
    }
    for (long i = 0; i < n; i++) {
        must(da_get(&a, (size_t)i, &v), "da_get", i);
        fold(v);
    }
    for (long i = 0; i < n / 256; i++) {
        v = next_u32();
        must(da_insert(&a, next_u32() % (da_len(&a) + 1), &v), "da_insert", i);
        must(da_remove(&a, next_u32() % da_len(&a), &v), "da_remove", i);
        fold(v);
    }
    for (long i = 0; i < n; i += 3) {
        v = (uint32_t)i;
        must(da_set(&a, (size_t)i, &v), "da_set", i);
    }
    /* Alternate at the boundary where the last push grew the array. */
    size_t boundary = 1;
    while (boundary * 2 <= (size_t)n)
        boundary *= 2;
    while (da_len(&a) > boundary) {
        must(da_pop(&a, &v), "da_pop", 0);
        fold(v);
    }
    for (long i = 0; i < 4 * n; i++) {
        if (i % 2 == 0) {
            v = next_u32();
            must(da_push(&a, &v), "da_push", i);
        } else {
            must(da_pop(&a, &v), "da_pop", i);
            fold(v);
        }
    }
    for (long i = 0; da_len(&a) > 0; i++) {
        must(da_pop(&a, &v), "da_pop", i);
        fold(v);
    }
    fold(da_cap(&a));
    da_free(&a);
}

/* Phase 7 on an array of 24-byte records. */
static void records(long n)
{
    da_array r;
    must(da_init(&r, sizeof(struct record)), "da_init", 0);
    for (long i = 0; i < n; i++) {
        struct record rec = {(uint32_t)i, next_u32() & 7, next_u32(), (double)i / 4};
        must(da_push(&r, &rec), "da_push record", i);
    }
    for (long i = 0; i < n; i++) {
        const struct record *p = da_at(&r, (size_t)i);
        if (!p)
            must(-1, "da_at", i);
        fold(p->key + p->flags);
    }
    for (long i = 0; i < n / 256; i++) {
        struct record out;
        must(da_remove(&r, 0, &out), "da_remove record", i);
        fold(out.id);
    }
    must(da_reserve(&r, (size_t)n), "da_reserve", 0);
    must(da_set_capacity(&r, da_len(&r)), "da_set_capacity", 0);
    fold(da_len(&r));
    da_free(&r);
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
    if (n < 64 || n > 10000000) {
        fprintf(stderr, "usage: da_bench [N]   (64 <= N <= 10000000, default 20000)\n");
        return 2;
    }
    values(n);
    records(n / 4);
    printf("da_bench n=%ld checksum=%016llx\n", n, (unsigned long long)checksum);
    return 0;
}
