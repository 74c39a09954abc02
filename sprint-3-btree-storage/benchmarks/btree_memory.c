/*
 * btree_memory.c — memory per entry of engine `btree`: after random
 * inserts and after a bulk load (the lab's memory targets: at most 1.6x
 * and 1.2x the raw key+value bytes).
 *
 *   btree_memory [-n N] [--order M]        (default N = 1000000, M = 64)
 *
 * Two phases, each on a fresh instance, 16-byte keys and 100-byte values
 * in kvbench's format (bench_keys.h):
 *   random   kv_put of keys 0..N-1 in a pseudo-random order (a
 *            multiplicative permutation modulo a prime >= N: no N-element
 *            array that would distort the resident-set figure);
 *   bulk     bpt_bulk_load of the same entries in key order.
 * For each it prints the engine's mem_bytes per entry (every block the
 * tree holds at glibc's real chunk size, see btree_port_user.c), the
 * growth of the resident set per entry (what the process paid, allocator
 * slack included), both as ratios to the 116 raw bytes, the height and the
 * leaf fill; and one JSON object per phase on a line starting with "json ".
 * Each phase runs in a child process of its own, so the second does not
 * reuse the heap the first freed (its resident-set growth would read 0).
 * A measurement, not a test: it never fails on a missed target.
 */
#define _DEFAULT_SOURCE /* fork, wait */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench_keys.h"
#include "bpt.h"
#include "btree.h"
#include "kvlabs/kv.h"

static uint64_t rss_bytes(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    if (fscanf(f, "%lu %lu", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return (uint64_t)resident * 4096u;
}

struct src {
    uint64_t i, n;
    uint8_t k[BK_KEY], v[BK_VALUE];
};

static int src_next(void *arg, const void **k, size_t *kl, const void **v, size_t *vl)
{
    struct src *s = arg;
    if (s->i == s->n)
        return 0;
    bk_key(s->k, s->i);
    bk_value(s->v, s->i);
    s->i++;
    *k = s->k;
    *kl = BK_KEY;
    *v = s->v;
    *vl = BK_VALUE;
    return 1;
}

static void report(const char *phase, kv_db *db, uint64_t n, uint64_t rss0, unsigned order)
{
    kv_stats st;
    bpt_stats bs;
    double raw = (double)n * (BK_KEY + BK_VALUE);
    uint64_t rss = rss_bytes();
    double grow = rss > rss0 ? (double)(rss - rss0) : 0;

    kv_db_stats(db, &st);
    bpt_stats_get(btree_engine_tree(db), &bs);
    printf("%-7s n=%llu order=%u: mem_bytes/entry %.1f (%.3fx raw), rss growth/entry %.1f "
           "(%.3fx raw), height %u, leaf fill %.3f\n",
           phase, (unsigned long long)n, order, (double)st.mem_bytes / (double)n,
           (double)st.mem_bytes / raw, grow / (double)n, grow / raw, bs.height,
           (double)bs.keys / (double)(bs.leaf_slots ? bs.leaf_slots : 1));
    printf("json {\"phase\":\"%s\",\"n\":%llu,\"order\":%u,\"mem_bytes\":%llu,\"rss_growth\":%.0f,"
           "\"mem_ratio\":%.4f,\"rss_ratio\":%.4f,\"height\":%u}\n",
           phase, (unsigned long long)n, order, (unsigned long long)st.mem_bytes, grow,
           (double)st.mem_bytes / raw, grow / raw, bs.height);
}

int main(int argc, char **argv)
{
    uint64_t n = 1000000, g = 2654435761u;
    unsigned order = 64;
    char opts[32];
    kv_db *db;
    uint64_t rss0;

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc)
            n = strtoull(argv[++i], NULL, 10);
        else if (!strcmp(argv[i], "--order") && i + 1 < argc)
            order = (unsigned)strtoul(argv[++i], NULL, 10);
        else {
            fprintf(stderr, "usage: btree_memory [-n N] [--order M]\n");
            return 2;
        }
    }
    if (n == 0)
        return 2;
    snprintf(opts, sizeof(opts), "order=%u", order);

    fflush(stdout);
    if (fork() != 0) {
        int st1 = 0, st2 = 0;
        wait(&st1);
        if (fork() != 0) {
            wait(&st2);
            return !(WIFEXITED(st1) && WEXITSTATUS(st1) == 0 && WIFEXITED(st2) &&
                     WEXITSTATUS(st2) == 0);
        }
        goto bulk; /* the second child */
    }
    rss0 = rss_bytes();
    if (kv_open("btree", NULL, opts, &db) != KV_OK) {
        fprintf(stderr, "btree_memory: %s\n", kv_last_error());
        return 1;
    }
    if (bk_load_random(db, n, g, "btree_memory")) /* random inserts */
        return 1;
    report("random", db, n, rss0, order);
    kv_close(db);
    return 0;

bulk:
    rss0 = rss_bytes();
    if (kv_open("btree", NULL, opts, &db) != KV_OK)
        return 1;
    {
        struct src s = {.n = n};
        if (bpt_bulk_load(btree_engine_tree(db), src_next, &s) != BPT_OK) {
            fprintf(stderr, "btree_memory: bulk load failed\n");
            return 1;
        }
    }
    report("bulk", db, n, rss0, order);
    kv_close(db);
    return 0;
}
