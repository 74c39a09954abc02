/*
 * padding.c — sprint 1, exercise 3: the layout facts of the example structs,
 * and the layout rule re-implemented by hand.
 *
 * What this is. The first half (given) describes the example structs of
 * include/padding.h as the compiler laid them out: every number in the
 * table comes from offsetof, sizeof and alignof, so it is true on whatever
 * ABI compiles it. The second half (the exercise) computes layouts from
 * member sizes and alignments alone; the tests compare both halves.
 *
 * How the rule works (pad_compute_layout()):
 *
 *     offset = 0; align = 1
 *     for each member m, in declaration order:
 *         offset = align_up(offset, m.align)     padding before m
 *         record offset; offset += m.size
 *         align = max(align, m.align)
 *     size = align_up(offset, align)             tail padding
 *
 * align_up(n, a) for a power of two a is `(n + a - 1) & ~(a - 1)`: adding
 * a - 1 carries n past the next multiple unless it already is one, and the
 * mask clears the low bits.
 *
 * Why sorting by decreasing alignment minimises padding: when every member
 * is at least as aligned as the ones after it, each offset is a sum of
 * sizes that are multiples of the next member's alignment, so no padding
 * is ever needed between members; only tail padding remains.
 * (pad_sorted_size(); struct pad_bad → struct pad_good goes from 32 to 16.)
 *
 * Bitfields are outside that rule (their placement is implementation-
 * defined), so pad_bitfield_probe() observes them instead of computing them.
 */
#include "padding.h"

#include <errno.h>
#include <stdalign.h>
#include <string.h>

/* One ordinary member: name, offset, size and natural alignment. */
#define PAD_FIELD(type, member, mtype)                                                             \
    {                                                                                              \
        .name = #member, .offset = offsetof(type, member), .size = sizeof(((type *)0)->member),    \
        .align = alignof(mtype), .bit_width = 0                                                    \
    }

/* A bitfield: no offset or size, only its declared width. */
#define PAD_BITFIELD(member, width)                                                                \
    {                                                                                              \
        .name = #member, .offset = 0, .size = 0, .align = alignof(unsigned), .bit_width = width    \
    }

/* One struct: its name as a string, its size and alignment, its field table. */
#define PAD_LAYOUT(type, why, is_packed, table)                                                    \
    {                                                                                              \
        .name = #type, .lesson = why, .size = sizeof(type), .align = alignof(type),                \
        .packed = is_packed, .nfields = sizeof(table) / sizeof(table[0]), .fields = table          \
    }

static const pad_field bad_fields[] = {
    PAD_FIELD(struct pad_bad, c1, char), PAD_FIELD(struct pad_bad, d, double),
    PAD_FIELD(struct pad_bad, c2, char), PAD_FIELD(struct pad_bad, i, int),
    PAD_FIELD(struct pad_bad, s, short),
};

static const pad_field good_fields[] = {
    PAD_FIELD(struct pad_good, d, double), PAD_FIELD(struct pad_good, i, int),
    PAD_FIELD(struct pad_good, s, short),  PAD_FIELD(struct pad_good, c1, char),
    PAD_FIELD(struct pad_good, c2, char),
};

static const pad_field char_double_fields[] = {
    PAD_FIELD(struct pad_char_double, c, char),
    PAD_FIELD(struct pad_char_double, d, double),
};

static const pad_field tail_fields[] = {
    PAD_FIELD(struct pad_tail, i, int),
    PAD_FIELD(struct pad_tail, c, char),
};

static const pad_field nested_fields[] = {
    PAD_FIELD(struct pad_nested, tag, char),
    PAD_FIELD(struct pad_nested, inner, struct pad_char_double),
};

static const pad_field flex_fields[] = {
    PAD_FIELD(struct pad_flex, len, uint32_t),
    PAD_FIELD(struct pad_flex, tag, uint8_t),
    {"data", offsetof(struct pad_flex, data), 0, alignof(char), 0},
};

static const pad_field bits_fields[] = {
    PAD_BITFIELD(a, 3),
    PAD_BITFIELD(b, 5),
    PAD_BITFIELD(c, 1),
    PAD_FIELD(struct pad_bits, tail, unsigned char),
};

static const pad_field packed_fields[] = {
    PAD_FIELD(struct pad_packed, c, char),
    PAD_FIELD(struct pad_packed, d, double),
    PAD_FIELD(struct pad_packed, i, int),
};

static const pad_layout layouts[] = {
    PAD_LAYOUT(struct pad_bad, "fields in a careless order", false, bad_fields),
    PAD_LAYOUT(struct pad_good, "the same fields by decreasing alignment", false, good_fields),
    PAD_LAYOUT(struct pad_char_double, "a char then a double", false, char_double_fields),
    PAD_LAYOUT(struct pad_tail, "tail padding keeps arrays aligned", false, tail_fields),
    PAD_LAYOUT(struct pad_nested, "a struct member aligns like its strictest member", false,
               nested_fields),
    PAD_LAYOUT(struct pad_flex, "flexible array member: data may start inside sizeof", false,
               flex_fields),
    PAD_LAYOUT(struct pad_bits, "bitfields share one storage unit", false, bits_fields),
    PAD_LAYOUT(struct pad_packed, "packed: no padding, misaligned members", true, packed_fields),
};

const pad_layout *pad_layouts(size_t *count)
{
    if (count)
        *count = sizeof layouts / sizeof layouts[0];
    return layouts;
}

const pad_layout *pad_find_layout(const char *name)
{
    for (size_t i = 0; i < sizeof layouts / sizeof layouts[0]; i++)
        if (strcmp(layouts[i].name, name) == 0)
            return &layouts[i];
    return NULL;
}

size_t pad_members_of(const pad_layout *l, pad_member *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < l->nfields; i++) {
        const pad_field *f = &l->fields[i];
        if (f->bit_width != 0)
            continue;
        if (n < max)
            out[n] = (pad_member){f->size, l->packed ? 1 : f->align};
        n++;
    }
    return n;
}

/* Set one bitfield of a zeroed struct pad_bits to all ones; -ENOENT for another name. */
static int set_bitfield(struct pad_bits *s, const char *member)
{
    /* Decrementing a zero unsigned field wraps modulo 2^width: all ones. */
    if (strcmp(member, "a") == 0)
        s->a--;
    else if (strcmp(member, "b") == 0)
        s->b--;
    else if (strcmp(member, "c") == 0)
        s->c--;
    else
        return -ENOENT;
    return 0;
}

int pad_bitfield_probe(const char *member, unsigned *first_bit, unsigned *width)
{
    struct pad_bits s;
    unsigned char bytes[sizeof s];
    memset(&s, 0, sizeof s);
    if (set_bitfield(&s, member) != 0)
        return -ENOENT;
    memcpy(bytes, &s, sizeof s);
    unsigned first = 0, count = 0;
    for (unsigned k = 0; k < 8 * sizeof s; k++) {
        if (!(bytes[k / 8] >> (k % 8) & 1u))
            continue;
        if (count++ == 0)
            first = k;
    }
    *first_bit = first;
    *width = count;
    return 0;
}

size_t pad_align_up(size_t n, size_t align)
{
    /* STUB: (void)align; return n; */
    /* BEGIN SOLUTION */
    return (n + align - 1) & ~(align - 1);
    /* END SOLUTION */
}

size_t pad_compute_layout(const pad_member *m, size_t n, size_t *offsets, size_t *align_out)
{
    /* STUB: (void)m; (void)n; (void)offsets; (void)align_out; return 0; */
    /* BEGIN SOLUTION */
    size_t offset = 0, align = 1;
    if (n == 0) {
        if (align_out)
            *align_out = 1;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        offset = pad_align_up(offset, m[i].align);
        if (offsets)
            offsets[i] = offset;
        offset += m[i].size;
        if (m[i].align > align)
            align = m[i].align;
    }
    if (align_out)
        *align_out = align;
    return pad_align_up(offset, align);
    /* END SOLUTION */
}

size_t pad_padding_bytes(const pad_layout *l)
{
    /* STUB: (void)l; return 0; */
    /* BEGIN SOLUTION */
    size_t used = 0, bits = 0;
    for (size_t i = 0; i < l->nfields; i++) {
        used += l->fields[i].size;
        bits += l->fields[i].bit_width;
    }
    return l->size - used - (bits + 7) / 8;
    /* END SOLUTION */
}

size_t pad_sorted_size(const pad_member *m, size_t n)
{
    /* STUB: (void)m; (void)n; return 0; */
    /* BEGIN SOLUTION */
    pad_member sorted[PAD_MAX_MEMBERS];
    if (n == 0 || n > PAD_MAX_MEMBERS)
        return 0;
    /* insertion sort by decreasing alignment; stable, n is small */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && sorted[j - 1].align < m[i].align) {
            sorted[j] = sorted[j - 1];
            j--;
        }
        sorted[j] = m[i];
    }
    return pad_compute_layout(sorted, n, NULL, NULL);
    /* END SOLUTION */
}
