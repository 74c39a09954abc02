/*
 * test_hash.c — unit tests of kvlabs/hash.h (Criterion).
 *
 * What is tested: the known vectors of each hash (FNV-1a from its
 * specification, CRC32C from RFC 3720 appendix B.4), CRC32C against an
 * independent bitwise implementation (including every entry of the
 * slice-by-8 tables) and its extend property, XXH64 and XXH3-64 (plain and
 * seeded) against libxxhash on every length from 0 to 4096 at varied
 * alignments, the key comparisons' edge cases, and the dispatch table's
 * install and restore rules. Both the dispatched functions (kv_xxh3_64) and
 * the exported portable references (kv_xxh3_64_portable) are checked, since
 * sprint 2 tests its SIMD paths against the latter.
 *
 * How: inputs come from a fixed-seed splitmix64 generator, so a failure
 * names a length and offset that reproduce. Each Criterion test runs in its
 * own process, so a test that installs a table cannot affect another.
 * Build: cc ... test_hash.c hash_*.c -lcriterion -lxxhash.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <xxhash.h>

#include "kvlabs/hash.h"
#include "kvtest.h"

#define MAX_LEN 4096
#define MAX_OFF 16

static unsigned char pool[MAX_LEN + MAX_OFF + 64];

static uint64_t rng_state;

static uint64_t rng(void)
{
    return kv_splitmix64(&rng_state);
}

static void fill_pool(uint64_t seed)
{
    rng_state = seed;
    for (size_t i = 0; i < sizeof pool; i++)
        pool[i] = (unsigned char)rng();
}

/* Bitwise CRC32C straight from the definition (kvtest.h): the independent reference. */
#define crc_bitwise kvt_crc32c_ref

/* ---- byte-order helpers ---------------------------------------------- */

Test(load, little_endian_at_any_alignment)
{
    unsigned char b[16];

    for (size_t i = 0; i < sizeof b; i++)
        b[i] = (unsigned char)(0x10 + i);
    for (size_t o = 0; o < 8; o++) {
        uint32_t w32 = (uint32_t)(0x10 + o) | (uint32_t)(0x11 + o) << 8 |
                       (uint32_t)(0x12 + o) << 16 | (uint32_t)(0x13 + o) << 24;
        uint64_t w64 = (uint64_t)kv_load_le32(b + o + 4) << 32 | w32;

        cr_assert_eq(kv_load_le32(b + o), w32, "le32 at offset %zu", o);
        cr_assert_eq(kv_load_le64(b + o), w64, "le64 at offset %zu", o);
    }
    cr_assert_eq(kv_load_le64(b), UINT64_C(0x1716151413121110));
}

/* ---- FNV-1a ------------------------------------------------------------ */

Test(fnv, known_vectors)
{
    cr_assert_eq(kv_fnv1a32("", 0), 0x811C9DC5u);
    cr_assert_eq(kv_fnv1a32(NULL, 0), 0x811C9DC5u);
    cr_assert_eq(kv_fnv1a32("a", 1), 0xE40C292Cu);
    cr_assert_eq(kv_fnv1a32("foobar", 6), 0xBF9CF968u);
    cr_assert_eq(kv_fnv1a64("", 0), UINT64_C(0xCBF29CE484222325));
    cr_assert_eq(kv_fnv1a64("a", 1), UINT64_C(0xAF63DC4C8601EC8C));
    cr_assert_eq(kv_fnv1a64("foobar", 6), UINT64_C(0x85944171F73967E8));
    cr_assert_eq(kv_fnv1a32_portable("foobar", 6), 0xBF9CF968u);
    cr_assert_eq(kv_fnv1a64_portable("foobar", 6), UINT64_C(0x85944171F73967E8));
}

/* ---- CRC32C ------------------------------------------------------------ */

Test(crc32c, check_value)
{
    cr_assert_eq(kv_crc32c(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(kv_crc32c_portable(0, "123456789", 9), 0xE3069283u);
    cr_assert_eq(kv_crc32c(0, NULL, 0), 0u);
    cr_assert_eq(kv_crc32c(0xE3069283u, "x", 0), 0xE3069283u);
}

Test(crc32c, rfc3720_b4_vectors)
{
    static const unsigned char pdu[48] = {
        0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    };
    unsigned char b[32];

    memset(b, 0x00, sizeof b);
    cr_assert_eq(kv_crc32c(0, b, 32), 0x8A9136AAu);
    memset(b, 0xFF, sizeof b);
    cr_assert_eq(kv_crc32c(0, b, 32), 0x62A8AB43u);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)i;
    cr_assert_eq(kv_crc32c(0, b, 32), 0x46DD794Eu);
    for (int i = 0; i < 32; i++)
        b[i] = (unsigned char)(31 - i);
    cr_assert_eq(kv_crc32c(0, b, 32), 0x113FDB5Cu);
    cr_assert_eq(kv_crc32c(0, pdu, sizeof pdu), 0xD9963A56u);
}

/* Byte value v alone at position k of an 8-byte word reaches table entry
 * T(7-k)[v ^ ...] exactly once: together, all 2048 entries are checked. */
Test(crc32c, every_table_entry)
{
    unsigned char w[8];

    for (int k = 0; k < 8; k++) {
        for (int v = 0; v < 256; v++) {
            memset(w, 0, sizeof w);
            w[k] = (unsigned char)v;
            cr_assert_eq(kv_crc32c_portable(0, w, 8), crc_bitwise(0, w, 8),
                         "byte %d at position %d", v, k);
            cr_assert_eq(kv_crc32c_portable(0xFFFFFFFFu, w, 8), crc_bitwise(0xFFFFFFFFu, w, 8),
                         "byte %d at position %d, crc ~0", v, k);
        }
    }
}

Test(crc32c, matches_bitwise_reference)
{
    fill_pool(1);
    for (size_t n = 0; n <= 1100; n++) {
        size_t off = rng() % MAX_OFF;
        uint32_t start = (uint32_t)rng();

        cr_assert_eq(kv_crc32c(start, pool + off, n), crc_bitwise(start, pool + off, n),
                     "n=%zu off=%zu", n, off);
    }
}

Test(crc32c, extend_on_random_splits)
{
    fill_pool(2);
    for (int t = 0; t < 2000; t++) {
        size_t n = rng() % (MAX_LEN + 1), off = rng() % MAX_OFF;
        size_t a = n ? rng() % (n + 1) : 0, b = a + (n - a ? rng() % (n - a + 1) : 0);
        const unsigned char *p = pool + off;
        uint32_t whole = kv_crc32c(0, p, n);
        uint32_t two = kv_crc32c(kv_crc32c(0, p, a), p + a, n - a);
        uint32_t three = kv_crc32c(kv_crc32c(kv_crc32c(0, p, a), p + a, b - a), p + b, n - b);

        cr_assert_eq(two, whole, "n=%zu split at %zu", n, a);
        cr_assert_eq(three, whole, "n=%zu split at %zu and %zu", n, a, b);
    }
}

/* ---- XXH64 and XXH3 against libxxhash ---------------------------------- */

static const uint64_t seeds[] = {0, 1, UINT64_C(0x9E3779B97F4A7C15), UINT64_C(0xFFFFFFFF00000001)};
#define NSEEDS (sizeof seeds / sizeof seeds[0])

/* Every function against libxxhash on n bytes at pool + off. */
static void check_xxh(size_t n, size_t off)
{
    const unsigned char *p = pool + off;
    uint64_t want = XXH3_64bits(p, n);

    cr_assert_eq(kv_xxh3_64(p, n), want, "xxh3 n=%zu off=%zu", n, off);
    cr_assert_eq(kv_xxh3_64_portable(p, n), want, "xxh3 portable n=%zu off=%zu", n, off);
    for (size_t s = 0; s < NSEEDS; s++) {
        want = XXH64(p, n, seeds[s]);
        cr_assert_eq(kv_xxh64(p, n, seeds[s]), want, "xxh64 n=%zu off=%zu seed=%zu", n, off, s);
        cr_assert_eq(kv_xxh64_portable(p, n, seeds[s]), want, "xxh64 portable n=%zu", n);
        want = XXH3_64bits_withSeed(p, n, seeds[s]);
        cr_assert_eq(kv_xxh3_64_seed(p, n, seeds[s]), want, "xxh3 seed n=%zu off=%zu seed=%zu", n,
                     off, s);
        cr_assert_eq(kv_xxh3_64_seed_portable(p, n, seeds[s]), want, "xxh3 seed portable n=%zu", n);
    }
}

Test(xxh, known_vectors)
{
    cr_assert_eq(kv_xxh64(NULL, 0, 0), UINT64_C(0xEF46DB3751D8E999));
    cr_assert_eq(kv_xxh3_64(NULL, 0), UINT64_C(0x2D06800538D394C2));
    cr_assert_eq(kv_xxh3_64_seed(NULL, 0, 0), UINT64_C(0x2D06800538D394C2));
}

Test(xxh, every_length_to_4096_random_alignment)
{
    fill_pool(3);
    for (size_t n = 0; n <= MAX_LEN; n++)
        check_xxh(n, rng() % MAX_OFF);
}

/* Each length-class boundary at each of the 16 offsets. */
Test(xxh, class_boundaries_every_alignment)
{
    static const size_t edges[] = {0,    1,    3,    4,    8,    9,    16,  17,  32,
                                   33,   64,   65,   96,   97,   128,  129, 240, 241,
                                   1024, 1025, 2048, 2049, 3072, 3073, 4096};

    fill_pool(4);
    for (size_t e = 0; e < sizeof edges / sizeof edges[0]; e++) {
        for (size_t d = 0; d < 3; d++) {
            size_t n = edges[e] + d;

            for (size_t off = 0; off < MAX_OFF && n <= MAX_LEN; off++)
                check_xxh(n, off);
        }
    }
}

/* Seeded and unseeded must differ for a non-zero seed in every class. */
Test(xxh, seed_changes_every_class)
{
    static const size_t lens[] = {0, 2, 6, 12, 100, 200, 1000, 4096};

    fill_pool(5);
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        cr_assert_neq(kv_xxh3_64_seed(pool, lens[i], 42), kv_xxh3_64(pool, lens[i]), "n=%zu",
                      lens[i]);
        cr_assert_neq(kv_xxh64(pool, lens[i], 42), kv_xxh64(pool, lens[i], 0), "n=%zu", lens[i]);
    }
}

/* ---- key comparison ------------------------------------------------------ */

static int sign(int v)
{
    return (v > 0) - (v < 0);
}

/* The contract, written the obvious way. */
static int cmp_ref(const unsigned char *a, size_t na, const unsigned char *b, size_t nb)
{
    size_t n = na < nb ? na : nb;
    int c = n ? sign(memcmp(a, b, n)) : 0;

    return c ? c : (na > nb) - (na < nb);
}

Test(key, eq_edge_cases)
{
    unsigned char a[80], b[80];

    cr_assert(kv_key_eq(NULL, NULL, 0));
    cr_assert(kv_key_eq("x", "y", 0));
    fill_pool(6);
    for (size_t n = 1; n <= 64; n++) {
        memcpy(a + 3, pool, n);
        memcpy(b + 5, pool, n); /* different alignments */
        cr_assert(kv_key_eq(a + 3, b + 5, n), "n=%zu", n);
        for (size_t i = 0; i < n; i++) {
            b[5 + i] ^= 0x80;
            cr_assert_not(kv_key_eq(a + 3, b + 5, n), "n=%zu, byte %zu differs", n, i);
            cr_assert_not(kv_key_eq_portable(b + 5, a + 3, n), "n=%zu, byte %zu", n, i);
            b[5 + i] ^= 0x80;
        }
    }
}

Test(key, cmp_edge_cases)
{
    cr_assert_eq(kv_key_cmp(NULL, 0, NULL, 0), 0);
    cr_assert_eq(kv_key_cmp(NULL, 0, "a", 1), -1);
    cr_assert_eq(kv_key_cmp("a", 1, NULL, 0), 1);
    cr_assert_eq(kv_key_cmp("abc", 3, "abc", 3), 0);
    cr_assert_eq(kv_key_cmp("ab", 2, "abc", 3), -1, "a prefix sorts first");
    cr_assert_eq(kv_key_cmp("abc", 3, "ab", 2), 1);
    cr_assert_eq(kv_key_cmp("abd", 3, "abcz", 4), 1, "bytes decide before lengths");
    cr_assert_eq(kv_key_cmp("\x80", 1, "\x7f", 1), 1, "bytes compare unsigned");
    cr_assert_eq(kv_key_cmp("\x00", 1, "", 0), 1, "a NUL byte is a byte");
    cr_assert_eq(kv_key_cmp("12345678\x01", 9, "12345678\x02", 9), -1, "past the first word");
    cr_assert_eq(kv_key_cmp("1234567\x02z", 9, "1234567\x01y", 9), 1, "last byte of a word");
    cr_assert_eq(kv_key_cmp("12345678", 8, "123456789", 9), -1);
    cr_assert_eq(kv_key_cmp_portable("a\xff", 2, "b\x00", 2), -1);
}

Test(key, cmp_matches_memcmp_order)
{
    unsigned char a[40], b[40];

    rng_state = 7;
    for (int t = 0; t < 20000; t++) {
        size_t na = rng() % 40, nb = rng() % 40;
        size_t same = rng() % 41;

        for (size_t i = 0; i < 40; i++)
            a[i] = b[i] = (unsigned char)(rng() & 3 ? 'k' : rng());
        for (size_t i = same; i < 40; i++)
            b[i] = (unsigned char)rng();
        cr_assert_eq(kv_key_cmp(a, na, b, nb), cmp_ref(a, na, b, nb), "t=%d", t);
        cr_assert_eq(kv_key_cmp(b, nb, a, na), -cmp_ref(a, na, b, nb), "t=%d reversed", t);
        if (na == nb)
            cr_assert_eq(kv_key_eq(a, b, na), cmp_ref(a, na, b, nb) == 0, "t=%d", t);
    }
}

/* ---- dispatch ------------------------------------------------------------ */

static uint32_t stub_crc(uint32_t crc, const void *p, size_t n)
{
    (void)crc, (void)p, (void)n;
    return 0xDEADBEEFu;
}

static uint64_t stub_xxh3(const void *p, size_t n)
{
    (void)p, (void)n;
    return 42;
}

static uint32_t stub_fnv32(const void *p, size_t n)
{
    (void)p, (void)n;
    return 1;
}

static uint64_t stub_fnv64(const void *p, size_t n)
{
    (void)p, (void)n;
    return 2;
}

static uint64_t stub_xxh64(const void *p, size_t n, uint64_t seed)
{
    (void)p, (void)n, (void)seed;
    return 3;
}

static uint64_t stub_xxh3_seed(const void *p, size_t n, uint64_t seed)
{
    (void)p, (void)n, (void)seed;
    return 4;
}

static bool stub_eq(const void *a, const void *b, size_t n)
{
    (void)a, (void)b, (void)n;
    return false;
}

static int stub_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    (void)a, (void)na, (void)b, (void)nb;
    return 7;
}

static const kv_hash_impl stubs = {
    .name = "stubs",
    .fnv1a32 = stub_fnv32,
    .fnv1a64 = stub_fnv64,
    .crc32c = stub_crc,
    .xxh64 = stub_xxh64,
    .xxh3_64 = stub_xxh3,
    .xxh3_64_seed = stub_xxh3_seed,
    .key_eq = stub_eq,
    .key_cmp = stub_cmp,
};

static void assert_is_portable(const kv_hash_impl *t)
{
    cr_assert_str_eq(t->name, "portable");
    cr_assert(t->fnv1a32 == kv_fnv1a32_portable);
    cr_assert(t->fnv1a64 == kv_fnv1a64_portable);
    cr_assert(t->crc32c == kv_crc32c_portable);
    cr_assert(t->xxh64 == kv_xxh64_portable);
    cr_assert(t->xxh3_64 == kv_xxh3_64_portable);
    cr_assert(t->xxh3_64_seed == kv_xxh3_64_seed_portable);
    cr_assert(t->key_eq == kv_key_eq_portable);
    cr_assert(t->key_cmp == kv_key_cmp_portable);
}

Test(dispatch, starts_portable)
{
    assert_is_portable(kv_hash_active());
    assert_is_portable(&kv_hash_portable);
}

Test(dispatch, partial_install_replaces_only_non_null)
{
    kv_hash_impl crc_only = {.name = "stub", .crc32c = stub_crc};
    kv_hash_impl xxh3_only = {.xxh3_64 = stub_xxh3};
    const kv_hash_impl *t;

    kv_hash_install(&crc_only);
    t = kv_hash_active();
    cr_assert_str_eq(t->name, "stub");
    cr_assert(t->crc32c == stub_crc);
    cr_assert(t->xxh3_64 == kv_xxh3_64_portable && t->key_cmp == kv_key_cmp_portable);
    cr_assert_eq(kv_crc32c(0, "123456789", 9), 0xDEADBEEFu, "public call goes through the table");
    cr_assert_eq(kv_xxh3_64(NULL, 0), UINT64_C(0x2D06800538D394C2));

    kv_hash_install(&xxh3_only); /* stacks; a NULL name keeps "stub" */
    t = kv_hash_active();
    cr_assert_str_eq(t->name, "stub");
    cr_assert(t->crc32c == stub_crc && t->xxh3_64 == stub_xxh3);
    cr_assert(t->xxh64 == kv_xxh64_portable && t->fnv1a32 == kv_fnv1a32_portable);
    cr_assert_eq(kv_xxh3_64("abc", 3), 42u);
    cr_assert_eq(kv_fnv1a32("a", 1), 0xE40C292Cu);

    kv_hash_install(NULL); /* no-op */
    cr_assert(kv_hash_active() == t);
}

Test(dispatch, restore_portable)
{
    kv_hash_impl crc_only = {.name = "stub", .crc32c = stub_crc};

    kv_hash_install(&crc_only);
    kv_hash_install(&crc_only); /* both slots used once */
    kv_hash_install(&kv_hash_portable);
    assert_is_portable(kv_hash_active());
    cr_assert_eq(kv_crc32c(0, "123456789", 9), 0xE3069283u);
    kv_hash_install(&crc_only);
    kv_hash_install(&kv_hash_portable);
    assert_is_portable(kv_hash_active());
    assert_is_portable(&kv_hash_portable); /* the reference itself is never edited */
}

/* A full table replaces every member, and every public function calls it. */
Test(dispatch, every_member_dispatches)
{
    kv_hash_install(&stubs);
    cr_assert_str_eq(kv_hash_active()->name, "stubs");
    cr_assert_eq(kv_fnv1a32("a", 1), 1u);
    cr_assert_eq(kv_fnv1a64("a", 1), 2u);
    cr_assert_eq(kv_crc32c(0, "a", 1), 0xDEADBEEFu);
    cr_assert_eq(kv_xxh64("a", 1, 0), 3u);
    cr_assert_eq(kv_xxh3_64("a", 1), 42u);
    cr_assert_eq(kv_xxh3_64_seed("a", 1, 9), 4u);
    cr_assert_not(kv_key_eq("a", "a", 1));
    cr_assert_eq(kv_key_cmp("a", 1, "a", 1), 7);
    kv_hash_install(&kv_hash_portable);
    assert_is_portable(kv_hash_active());
    cr_assert(kv_key_eq("a", "a", 1));
    cr_assert_eq(kv_key_cmp("a", 1, "a", 1), 0);
}

/* The documented promise: a table from kv_hash_active() stays unchanged
 * across the next install (callers may still be using it). */
Test(dispatch, previous_table_unchanged_by_next_install)
{
    kv_hash_impl crc_only = {.name = "stub", .crc32c = stub_crc};
    const kv_hash_impl *before;

    kv_hash_install(&crc_only);
    before = kv_hash_active();
    kv_hash_install(&stubs);
    cr_assert(kv_hash_active() != before);
    cr_assert_str_eq(before->name, "stub");
    cr_assert(before->crc32c == stub_crc && before->xxh64 == kv_xxh64_portable);
    cr_assert(before->key_cmp == kv_key_cmp_portable && before->fnv1a32 == kv_fnv1a32_portable);
}
