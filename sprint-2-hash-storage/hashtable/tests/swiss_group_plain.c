/*
 * swiss_group_plain.c — the Swiss-table group match and the whole table
 * core, as a plain program for other CPUs and other group-match paths.
 *
 * tests/swiss_group_qemu.sh builds it three times: for AArch64 (NEON group
 * match) and runs it under qemu-aarch64; for this x86-64 host (SSE2); and
 * for this host with -DHT_PORT_FREESTANDING (the portable SWAR match that
 * the kernel build uses). It depends on nothing but the core, the user port
 * and kvlabs' allocator (common/src/alloc.c): no Criterion (its runner
 * escapes qemu) and no kvlabs hashing (a local splitmix-style hash).
 *
 * Checks: (1) the build's group match equals the reference loop and SWAR on
 * random and constructed groups, for every byte value; (2) for every
 * strategy, 30000 keys put, overwritten, half deleted and read back, with
 * the invariant checker, from a table that starts tiny and resizes
 * incrementally. The first line names the group-match path, which the
 * script compares with the one it meant to build.
 */
#include <stdio.h>
#include <string.h>

#include "ht.h"

static int passed, failed;

static void check(int ok, const char *what)
{
    printf("%s %s\n", ok ? "ok  " : "FAIL", what);
    ok ? passed++ : failed++;
}

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

static uint64_t hash(const void *p, size_t n)
{
    const unsigned char *b = p;
    uint64_t h = n;

    for (size_t i = 0; i < n; i++)
        h = mix(h ^ b[i]);
    return h;
}

static int group_ok(const uint8_t *g)
{
    for (unsigned b = 0; b < 256; b++) {
        ht_mask ref = ht_group_match_ref(g, (uint8_t)b);
        if (ht_group_match(g, (uint8_t)b) != ref || ht_group_match_swar(g, (uint8_t)b) != ref)
            return 0;
    }
    ht_mask fr = 0;
    for (unsigned i = 0; i < HT_GROUP; i++)
        fr |= (ht_mask)(g[i] >= 0x80) << i;
    return ht_group_match_free(g) == fr && ht_group_match_free_swar(g) == fr &&
           ht_group_match_empty(g) == ht_group_match_ref(g, HT_CTRL_EMPTY);
}

static void groups(void)
{
    static const uint8_t sp[] = {0x00, 0x01, 0x7F, 0x80, 0x81, 0xFE, 0xFF};
    uint8_t g[HT_GROUP + 8];
    uint64_t r = 99;
    int ok = 1;

    for (unsigned n = 0; n < 2000 && ok; n++) {
        unsigned off = n % 8;
        for (unsigned i = 0; i < HT_GROUP; i++) {
            r = mix(r);
            g[off + i] = (uint8_t)(r % 4 == 0 ? 0x80 : r % 4 == 1 ? 0xFE : r >> 8);
        }
        ok = group_ok(g + off);
    }
    check(ok, "group match = reference on random groups");
    ok = 1;
    for (size_t a = 0; a < sizeof(sp); a++)
        for (size_t b = 0; b < sizeof(sp); b++)
            for (unsigned pos = 0; pos < HT_GROUP; pos++) {
                memset(g, sp[a], HT_GROUP);
                g[pos] = sp[b];
                ok &= group_ok(g);
            }
    check(ok, "group match = reference on constructed groups");
}

static void table(ht_strategy s)
{
    ht_config c = {.strategy = s, .buckets = 8, .shards = 4, .hash = hash};
    ht_table *t = NULL;
    char key[32], val[64], what[96];
    int ok = ht_create(&c, &t) == HT_OK;
    const char *why = "";

    for (int i = 0; ok && i < 30000; i++) {
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        int vl = snprintf(val, sizeof(val), "value-%d-%d", i, i * 7);
        ok = ht_put(t, key, (size_t)kl, val, (size_t)vl) == HT_OK;
    }
    for (int i = 0; ok && i < 30000; i += 3) {
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        ok = ht_put(t, key, (size_t)kl, "new", 3) == HT_OK;
    }
    for (int i = 0; ok && i < 30000; i += 2) {
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        ok = ht_delete(t, key, (size_t)kl) == HT_OK;
    }
    for (int i = 0; ok && i < 30000; i++) {
        char got[64];
        size_t vl = 0;
        int kl = snprintf(key, sizeof(key), "key-%d", i);
        int want = snprintf(val, sizeof(val), "value-%d-%d", i, i * 7);
        int rc = ht_get_copy(t, key, (size_t)kl, got, sizeof(got), &vl);
        if (i % 2 == 0)
            ok = rc == HT_ENOTFOUND;
        else if (i % 3 == 0)
            ok = rc == HT_OK && vl == 3 && !memcmp(got, "new", 3);
        else
            ok = rc == HT_OK && vl == (size_t)want && !memcmp(got, val, vl);
    }
    if (ok) {
        ht_stats st;
        ht_get_stats(t, &st);
        ok = st.keys == 15000 && ht_check(t, &why) == 0;
    }
    snprintf(what, sizeof(what), "table %s (group match %s)%s%s", ht_strategy_name(s),
             ht_group_impl(), *why ? ": " : "", why);
    check(ok, what);
    ht_destroy(t);
}

int main(void)
{
    printf("group match: %s\n", ht_group_impl());
    groups();
    for (int s = 0; s < HT_NSTRATEGIES; s++)
        table((ht_strategy)s);
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
