/*
 * test_group.c — the Swiss-table group match of ht_port.h: the SIMD path of
 * this build (SSE2 on x86-64, NEON on AArch64) and the portable SWAR path
 * must return exactly what the reference loop returns, for every byte value
 * searched, on random groups and on groups built to be hard (all equal, all
 * but one equal, the special EMPTY/DELETED bytes, neighbours that differ in
 * one bit, values whose SWAR subtraction would borrow). The AArch64 NEON
 * path is checked the same way under qemu by tests/swiss_group_qemu.sh.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"

#include "ht_port.h"
#include "kvlabs/rng.h"

TestSuite(group, .timeout = 60);

static void check_group(const uint8_t *g)
{
    for (unsigned b = 0; b < 256; b++) {
        ht_mask ref = ht_group_match_ref(g, (uint8_t)b);
        cr_assert_eq(ht_group_match(g, (uint8_t)b), ref, "%s match of 0x%02x", ht_group_impl(), b);
        cr_assert_eq(ht_group_match_swar(g, (uint8_t)b), ref, "swar match of 0x%02x", b);
    }
    ht_mask free_ref = 0;
    for (unsigned i = 0; i < HT_GROUP; i++)
        free_ref |= (ht_mask)(g[i] >= 0x80) << i;
    cr_assert_eq(ht_group_match_free(g), free_ref, "%s free", ht_group_impl());
    cr_assert_eq(ht_group_match_free_swar(g), free_ref, "swar free");
    cr_assert_eq(ht_group_match_empty(g), ht_group_match_ref(g, HT_CTRL_EMPTY));
}

Test(group, random_groups)
{
    kv_rng r;
    uint8_t buf[HT_GROUP + 7];

    kv_rng_seed(&r, 1234);
    for (unsigned n = 0; n < 3000; n++) {
        unsigned off = n % 8; /* unaligned starts too */
        for (unsigned i = 0; i < HT_GROUP; i++) {
            uint64_t x = kv_rng_next(&r);
            /* mostly tags and special bytes, like a real table */
            buf[off + i] = (uint8_t)(x % 4 == 0   ? HT_CTRL_EMPTY
                                     : x % 4 == 1 ? HT_CTRL_DELETED
                                                  : x >> 8);
        }
        check_group(buf + off);
    }
}

Test(group, constructed_groups)
{
    uint8_t g[HT_GROUP];
    static const uint8_t specials[] = {0x00, 0x01, 0x7F, 0x80, 0x81, 0xFE, 0xFF};

    for (size_t a = 0; a < sizeof(specials); a++) {
        for (size_t b = 0; b < sizeof(specials); b++) {
            for (unsigned pos = 0; pos < HT_GROUP; pos++) {
                for (unsigned i = 0; i < HT_GROUP; i++)
                    g[i] = specials[a];
                g[pos] = specials[b];
                check_group(g);
            }
        }
    }
    for (unsigned i = 0; i < HT_GROUP; i++) /* bytes one apart: borrow chains */
        g[i] = (uint8_t)(i & 1 ? 0x01 : 0x00);
    check_group(g);
    for (unsigned i = 0; i < HT_GROUP; i++)
        g[i] = (uint8_t)(0x80 >> (i % 8));
    check_group(g);
}

Test(group, implementation_named)
{
    const char *impl = ht_group_impl();
#if defined(__SSE2__)
    cr_assert_str_eq(impl, "sse2", "x86-64 user space uses SSE2");
#elif defined(__ARM_NEON) && defined(__aarch64__)
    cr_assert_str_eq(impl, "neon");
#else
    cr_assert_str_eq(impl, "swar");
#endif
}
