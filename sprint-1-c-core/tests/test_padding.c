/*
 * test_padding.c — struct layout facts and the layout-rule exercises (padding.h).
 *
 * Two kinds of checks. The _Static_asserts pin the LP64 System V values
 * (x86_64, aarch64) at compile time: if the build succeeds, the handout's
 * tables are true for this machine. The Criterion tests (suite "padding")
 * compare the exercise functions — pad_align_up(), pad_compute_layout(),
 * pad_padding_bytes(), pad_sorted_size() — with what the compiler did.
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <errno.h>
#include <stdalign.h>
#include <stddef.h>
#include <string.h>

#include "padding.h"

#if defined(__LP64__) && (defined(__x86_64__) || defined(__aarch64__))
_Static_assert(sizeof(struct pad_bad) == 32, "pad_bad is 32 bytes on LP64");
_Static_assert(offsetof(struct pad_bad, d) == 8, "d after 7 padding bytes");
_Static_assert(offsetof(struct pad_bad, c2) == 16, "c2 right after d");
_Static_assert(offsetof(struct pad_bad, i) == 20, "i after 3 padding bytes");
_Static_assert(offsetof(struct pad_bad, s) == 24, "s then 6 bytes of tail padding");
_Static_assert(sizeof(struct pad_good) == 16, "reordered: 16 bytes");
_Static_assert(offsetof(struct pad_good, c2) == 15, "no padding between members");
_Static_assert(sizeof(struct pad_char_double) == 16, "char then double: 16");
_Static_assert(offsetof(struct pad_char_double, d) == 8, "double aligned to 8");
_Static_assert(alignof(struct pad_char_double) == 8, "struct alignment = strictest member");
_Static_assert(sizeof(struct pad_tail) == 8, "tail padding to alignof(int)");
_Static_assert(offsetof(struct pad_nested, inner) == 8, "nested struct aligned to 8");
_Static_assert(sizeof(struct pad_nested) == 24, "1 + 7 + 16");
_Static_assert(offsetof(struct pad_flex, data) == 5, "flexible member right after tag");
_Static_assert(sizeof(struct pad_flex) == 8, "sizeof includes tail padding");
_Static_assert(sizeof(struct pad_bits) == 4, "three bitfields share an unsigned");
_Static_assert(offsetof(struct pad_bits, tail) == 2, "tail in the first free byte");
_Static_assert(sizeof(struct pad_packed) == 13, "packed: no padding");
_Static_assert(alignof(struct pad_packed) == 1, "packed: alignment 1");
_Static_assert(offsetof(struct pad_packed, i) == 9, "packed: i misaligned");
#endif

/* Compare the exercise's computed layout with the compiler's for one struct. */
static void check_computed(const char *name)
{
    const pad_layout *l = pad_find_layout(name);
    cr_assert_not_null(l, "%s is in the table", name);
    pad_member m[PAD_MAX_MEMBERS];
    size_t n = pad_members_of(l, m, PAD_MAX_MEMBERS);
    cr_assert_eq(n, l->nfields, "%s has only ordinary members", name);
    size_t offsets[PAD_MAX_MEMBERS], align = 0;
    size_t size = pad_compute_layout(m, n, offsets, &align);
    cr_assert_eq(size, l->size, "%s: computed size %zu, compiler %zu", name, size, l->size);
    cr_assert_eq(align, l->align, "%s: computed align %zu, compiler %zu", name, align, l->align);
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(offsets[i], l->fields[i].offset, "%s.%s: computed offset %zu, compiler %zu",
                     name, l->fields[i].name, offsets[i], l->fields[i].offset);
}

Test(padding, align_up)
{
    cr_assert_eq(pad_align_up(0, 8), 0);
    cr_assert_eq(pad_align_up(1, 8), 8);
    cr_assert_eq(pad_align_up(8, 8), 8);
    cr_assert_eq(pad_align_up(9, 8), 16);
    cr_assert_eq(pad_align_up(13, 1), 13);
    cr_assert_eq(pad_align_up(13, 4), 16);
    cr_assert_eq(pad_align_up(17, 16), 32);
}

Test(padding, bad_order_facts_and_rule)
{
    const pad_layout *l = pad_find_layout("struct pad_bad");
    cr_assert_not_null(l);
    cr_assert_eq(l->size, 32);
    cr_assert_eq(l->align, 8);
    cr_assert_eq(pad_padding_bytes(l), 16, "32 bytes for 16 bytes of data");
    check_computed("struct pad_bad");
}

Test(padding, reordering_saves_bytes)
{
    const pad_layout *bad = pad_find_layout("struct pad_bad");
    const pad_layout *good = pad_find_layout("struct pad_good");
    cr_assert(bad && good);
    pad_member m[PAD_MAX_MEMBERS];
    size_t n = pad_members_of(bad, m, PAD_MAX_MEMBERS);
    cr_assert_eq(n, 5);
    cr_assert_eq(pad_sorted_size(m, n), good->size, "sorting pad_bad gives pad_good's size");
    cr_assert_eq(good->size, 16);
    cr_assert_eq(pad_padding_bytes(good), 0);
    check_computed("struct pad_good");
    cr_assert_eq(pad_sorted_size(m, 0), 0);
    cr_assert_eq(pad_sorted_size(m, PAD_MAX_MEMBERS + 1), 0);
}

Test(padding, char_then_double)
{
    cr_assert_eq(offsetof(struct pad_char_double, d), 8);
    cr_assert_eq(sizeof(struct pad_char_double), 16);
    const pad_layout *l = pad_find_layout("struct pad_char_double");
    cr_assert_not_null(l);
    cr_assert_eq(pad_padding_bytes(l), 7);
    check_computed("struct pad_char_double");
}

Test(padding, tail_padding_keeps_arrays_aligned)
{
    struct pad_tail arr[3];
    cr_assert_eq(sizeof arr, 24);
    cr_assert_eq((char *)&arr[1].i - (char *)&arr[0].i, 8, "array stride is sizeof");
    const pad_layout *l = pad_find_layout("struct pad_tail");
    cr_assert_not_null(l);
    cr_assert_eq(pad_padding_bytes(l), 3);
    check_computed("struct pad_tail");
}

Test(padding, nested_struct)
{
    cr_assert_eq(offsetof(struct pad_nested, inner), 8);
    check_computed("struct pad_nested");
    const pad_layout *l = pad_find_layout("struct pad_nested");
    cr_assert_eq(pad_padding_bytes(l), 7, "only the padding of the outer struct counts");
}

Test(padding, flexible_array_member)
{
    cr_assert_eq(offsetof(struct pad_flex, data), 5);
    cr_assert_eq(sizeof(struct pad_flex), 8);
    check_computed("struct pad_flex");
    /* allocate a header with a 3-byte payload: offsetof + n, at least sizeof */
    size_t need = offsetof(struct pad_flex, data) + 3;
    cr_assert_eq(need, 8);
    cr_assert_eq(pad_align_up(need, alignof(struct pad_flex)), 8);
    cr_assert_eq(pad_align_up(offsetof(struct pad_flex, data) + 4, alignof(struct pad_flex)), 12);
}

Test(padding, bitfields)
{
    struct {
        const char *name;
        unsigned first, width;
    } want[] = {
        {"a", 0, 3},
        {"b", 3, 5},
        {"c", 8, 1},
    };
    for (size_t i = 0; i < 3; i++) {
        unsigned first = 99, width = 99;
        cr_assert_eq(pad_bitfield_probe(want[i].name, &first, &width), 0);
        cr_assert_eq(first, want[i].first, "%s starts at bit %u", want[i].name, first);
        cr_assert_eq(width, want[i].width);
    }
    unsigned f = 7, w = 7;
    cr_assert_eq(pad_bitfield_probe("tail", &f, &w), -ENOENT);
    cr_assert(f == 7 && w == 7);
    const pad_layout *l = pad_find_layout("struct pad_bits");
    cr_assert_not_null(l);
    cr_assert_eq(pad_padding_bytes(l), 1, "4 bytes - 1 (tail) - 2 (9 bits)");
}

Test(padding, packed_has_no_padding)
{
    const pad_layout *l = pad_find_layout("struct pad_packed");
    cr_assert_not_null(l);
    cr_assert(l->packed);
    cr_assert_eq(l->size, 13);
    cr_assert_eq(l->align, 1);
    cr_assert_eq(pad_padding_bytes(l), 0);
    check_computed("struct pad_packed"); /* members count with alignment 1 */
    /* reading a misaligned member safely: memcpy out of the bytes */
    struct pad_packed p = {'x', 2.5, 7};
    double d;
    memcpy(&d, (const char *)&p + offsetof(struct pad_packed, d), sizeof d);
    cr_assert_float_eq(d, 2.5, 0.0);
}

Test(padding, compute_layout_edge_cases)
{
    size_t align = 0;
    cr_assert_eq(pad_compute_layout(NULL, 0, NULL, &align), 0);
    cr_assert_eq(align, 1);
    pad_member one = {3, 1};
    cr_assert_eq(pad_compute_layout(&one, 1, NULL, NULL), 3);
    pad_member v[] = {{1, 1}, {16, 16}, {1, 1}}; /* like a char, an aligned vector, a char */
    size_t off[3];
    cr_assert_eq(pad_compute_layout(v, 3, off, &align), 48);
    cr_assert_eq(off[1], 16);
    cr_assert_eq(off[2], 32);
    cr_assert_eq(align, 16);
    cr_assert_eq(pad_sorted_size(v, 3), 32);
}

Test(padding, table_is_complete)
{
    size_t count = 0;
    const pad_layout *all = pad_layouts(&count);
    cr_assert_eq(count, 8);
    cr_assert_null(pad_find_layout("struct nope"));
    size_t total = 0;
    for (size_t i = 0; i < count; i++)
        total += pad_padding_bytes(&all[i]);
    cr_assert_eq(total, 16 + 0 + 7 + 3 + 7 + 3 + 1 + 0, "sum of every struct's padding");
}

Test(padding, member_count_boundaries)
{
    /* pad_sorted_size takes up to PAD_MAX_MEMBERS members: 31 and 32 work,
     * 33 is refused. Members of size == alignment (1, 2, 4, 8, repeating)
     * pack without any padding once sorted, so the answer is the sum of the
     * sizes (a multiple of 8 here). */
    pad_member m[PAD_MAX_MEMBERS + 1];
    size_t sum[PAD_MAX_MEMBERS + 2] = {0};
    for (size_t i = 0; i < PAD_MAX_MEMBERS + 1; i++) {
        size_t s = (size_t)1 << (i % 4);
        m[i] = (pad_member){s, s};
        sum[i + 1] = sum[i] + s;
    }
    cr_assert_eq(sum[PAD_MAX_MEMBERS - 1], 112);
    cr_assert_eq(pad_sorted_size(m, PAD_MAX_MEMBERS - 1), 112, "PAD_MAX_MEMBERS - 1 members");
    cr_assert_eq(pad_sorted_size(m, PAD_MAX_MEMBERS), 120, "exactly PAD_MAX_MEMBERS members");
    cr_assert_eq(pad_sorted_size(m, PAD_MAX_MEMBERS + 1), 0, "one more is refused");
    /* in declaration order the same 32 members need padding */
    size_t offsets[PAD_MAX_MEMBERS + 1], align = 0;
    cr_assert_eq(pad_compute_layout(m, PAD_MAX_MEMBERS + 1, offsets, &align), 136,
                 "33 members: pad_compute_layout has no limit (8 groups of 16 bytes, a char)");
    cr_assert_eq(offsets[PAD_MAX_MEMBERS], 128, "the 33rd member (a char) at 128");
    cr_assert_eq(align, 8);

    /* pad_members_of writes at most max members and returns how many there are. */
    const pad_layout *bad = pad_find_layout("struct pad_bad");
    cr_assert_not_null(bad);
    for (size_t max = bad->nfields - 1; max <= bad->nfields + 1; max++) {
        pad_member out[8];
        for (size_t i = 0; i < 8; i++)
            out[i] = (pad_member){99, 99};
        cr_assert_eq(pad_members_of(bad, out, max), bad->nfields, "max %zu", max);
        size_t written = max < bad->nfields ? max : bad->nfields;
        for (size_t i = 0; i < 8; i++) {
            if (i < written)
                cr_assert(out[i].size == bad->fields[i].size && out[i].align == bad->fields[i].align,
                          "max %zu: member %zu", max, i);
            else
                cr_assert(out[i].size == 99 && out[i].align == 99,
                          "max %zu: out[%zu], past what fits, was written", max, i);
        }
        if (written == bad->nfields)
            cr_assert_eq(pad_compute_layout(out, written, NULL, NULL), 32);
    }
}

Test(padding, align_up_at_the_top_of_size_t)
{
    /* The header allows n up to SIZE_MAX - align + 1: the result is then the
     * largest multiple of align, and no intermediate value may overflow or
     * lose precision (a double cannot hold SIZE_MAX - 7). */
    cr_assert_eq(pad_align_up(SIZE_MAX - 7, 8), SIZE_MAX - 7);
    cr_assert_eq(pad_align_up(SIZE_MAX - 8, 8), SIZE_MAX - 7);
    cr_assert_eq(pad_align_up(SIZE_MAX - 14, 8), SIZE_MAX - 7);
    cr_assert_eq(pad_align_up(SIZE_MAX - 15, 16), SIZE_MAX - 15);
    cr_assert_eq(pad_align_up(SIZE_MAX - 30, 16), SIZE_MAX - 15);
    cr_assert_eq(pad_align_up(SIZE_MAX, 1), SIZE_MAX);
    size_t half = (SIZE_MAX >> 1) + 1; /* the largest power of two */
    cr_assert_eq(pad_align_up(half, half), half);
    cr_assert_eq(pad_align_up(3, half), half);
}
