/**
 * @file padding.h
 * @brief Sprint 1, exercise 3: memory alignment and struct padding.
 *
 * The compiler lays a struct out by one rule (the ABI's, here the LP64
 * System V rule used on x86_64 and aarch64 Linux):
 *  1. each member is placed at the next offset that is a multiple of its
 *     alignment (padding bytes are inserted before it if needed);
 *  2. the struct's alignment is the largest alignment of its members;
 *  3. the struct's size is rounded up to a multiple of its alignment
 *     (tail padding), so that every element of an array of it is aligned.
 *
 * This module declares example structs that show the rule at work, a table
 * describing their real layout as the compiler computed it (offsetof,
 * sizeof, alignof: pad_layouts()), and the exercises: implement the rule
 * yourself (pad_align_up(), pad_compute_layout()), count the padding
 * (pad_padding_bytes()) and find the size a reordering would give
 * (pad_sorted_size()). The tests check your answers against the compiler.
 * padding_demo prints the tables.
 *
 * **Thread safety.** Every function is reentrant; the layout table is
 * read-only.
 */
#ifndef SPRINT1_PADDING_H
#define SPRINT1_PADDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @brief Fields in declaration order that waste space: 32 bytes on LP64. */
struct pad_bad {
    char c1;  /**< offset 0, then 7 bytes of padding */
    double d; /**< offset 8 */
    char c2;  /**< offset 16, then 3 bytes of padding */
    int i;    /**< offset 20 */
    short s;  /**< offset 24, then 6 bytes of tail padding */
};

/** @brief The same fields sorted by decreasing alignment: 16 bytes on LP64. */
struct pad_good {
    double d; /**< offset 0 */
    int i;    /**< offset 8 */
    short s;  /**< offset 12 */
    char c1;  /**< offset 14 */
    char c2;  /**< offset 15; no padding at all */
};

/** @brief A char then a double: 7 padding bytes for 1 byte of data. */
struct pad_char_double {
    char c;   /**< offset 0 */
    double d; /**< offset 8 */
};

/** @brief Tail padding: the size is rounded up to the alignment (8, not 5). */
struct pad_tail {
    int i;  /**< offset 0 */
    char c; /**< offset 4, then 3 bytes of tail padding */
};

/** @brief A struct inside a struct is aligned like its strictest member. */
struct pad_nested {
    char tag;                     /**< offset 0 */
    struct pad_char_double inner; /**< offset 8: its alignment is alignof(double) */
};

/**
 * @brief A flexible array member: a header followed by a variable-length
 *        payload in the same allocation.
 *
 * `data` starts at offset 5, but sizeof is 8 (tail padding to the
 * alignment of `len`). Allocate `offsetof(struct pad_flex, data) + n`
 * bytes (rounded up to at least sizeof), not `sizeof + n`.
 */
struct pad_flex {
    uint32_t len; /**< payload length; offset 0 */
    uint8_t tag;  /**< offset 4 */
    char data[];  /**< the payload; offset 5, size not counted in sizeof */
};

/**
 * @brief Bitfields: three flags share one `unsigned` storage unit.
 *
 * Their bit positions are implementation-defined (the ABI fixes them: from
 * the least significant bit on x86_64 and aarch64); offsetof and the
 * address-of operator do not apply to them. pad_bitfield_probe() finds the
 * positions at run time.
 */
struct pad_bits {
    unsigned a : 3;     /**< bits 0..2 */
    unsigned b : 5;     /**< bits 3..7 */
    unsigned c : 1;     /**< bit 8 */
    unsigned char tail; /**< offset 2: the next free byte */
};

/**
 * @brief The GCC/Clang attribute that removes all padding from a struct
 *        (a macro, so that the attribute is spelt in one place).
 */
#define PAD_PACKED __attribute__((packed))

/**
 * @brief A packed struct (GCC/Clang attribute): no padding at all, 13 bytes,
 *        alignment 1.
 *
 * The cost: `d` and `i` are misaligned. The compiler must access them with
 * unaligned (or byte-by-byte) loads, which are slower, and may straddle two
 * cache lines; `&p->d` is a `double *` that is not suitably aligned, and
 * dereferencing it elsewhere is undefined behaviour (GCC warns:
 * -Waddress-of-packed-member); atomic operations on such members are not
 * possible. Use packing for wire and disk formats, copying fields out with
 * memcpy, never for hot in-memory structs.
 */
struct PAD_PACKED pad_packed {
    char c;   /**< offset 0 */
    double d; /**< offset 1: misaligned */
    int i;    /**< offset 9: misaligned */
};

/** @brief One member of a described struct, as the compiler laid it out. */
typedef struct pad_field {
    const char *name;   /**< the member's name */
    size_t offset;      /**< offsetof; 0 for a bitfield (see pad_bitfield_probe()) */
    size_t size;        /**< sizeof the member; 0 for a flexible array member or a bitfield */
    size_t align;       /**< alignof the member's type (its natural alignment, even when packed) */
    unsigned bit_width; /**< bitfields: width in bits; 0 for an ordinary member */
} pad_field;

/** @brief The real layout of one example struct. */
typedef struct pad_layout {
    const char *name;        /**< e.g. "struct pad_bad" */
    const char *lesson;      /**< one line: what this struct shows */
    size_t size;             /**< sizeof */
    size_t align;            /**< alignof */
    bool packed;             /**< declared with __attribute__((packed)): members are aligned to 1 */
    size_t nfields;          /**< number of entries in fields */
    const pad_field *fields; /**< the members in declaration order */
} pad_layout;

/** @brief A member reduced to what the layout rule needs. */
typedef struct pad_member {
    size_t size;  /**< bytes */
    size_t align; /**< alignment, a power of two */
} pad_member;

/** @brief Most members pad_sorted_size() accepts. */
#define PAD_MAX_MEMBERS 32

/**
 * @brief The table of example structs, with the layout the compiler gave them.
 * @param[out] count  receives the number of entries; may be NULL.
 * @return a static, read-only array (not owned by the caller).
 */
const pad_layout *pad_layouts(size_t *count);

/**
 * @brief Look an example struct up by name.
 * @param[in] name  e.g. "struct pad_bad"; not NULL.
 * @return its entry in the static table, or NULL when there is none.
 */
const pad_layout *pad_find_layout(const char *name);

/**
 * @brief The ordinary members of a layout as pad_member values (sizes and
 *        alignments; alignment 1 for every member of a packed struct).
 * @param[in]  l    a layout; not NULL.
 * @param[out] out  receives up to @p max members; may be NULL when @p max is 0.
 * @param[in]  max  capacity of @p out.
 * @return the number of ordinary members (bitfields are skipped), which
 *         may exceed @p max: then only @p max were written.
 */
size_t pad_members_of(const pad_layout *l, pad_member *out, size_t max);

/**
 * @brief Find where the compiler put a bitfield of struct pad_bits.
 *
 * Sets the member to all ones in a zeroed struct and looks at which bits of
 * the object representation changed (bit k is bit k%8 of byte k/8).
 * @param[in]  member     "a", "b" or "c"; not NULL.
 * @param[out] first_bit  receives the lowest bit number; not NULL.
 * @param[out] width      receives the number of bits; not NULL.
 * @return 0; -ENOENT for another name (the outputs are untouched).
 */
int pad_bitfield_probe(const char *member, unsigned *first_bit, unsigned *width);

/**
 * @brief Round @p n up to a multiple of @p align.
 * @param[in] n      a byte count, at most `SIZE_MAX - align + 1`.
 * @param[in] align  a power of two (1, 2, 4, 8, 16, ...).
 * @return the smallest multiple of @p align that is >= @p n (0 for 0).
 */
size_t pad_align_up(size_t n, size_t align);

/**
 * @brief Lay members out by the C rule (see the file comment) and return
 *        the struct's size.
 * @param[in]  m          the members in declaration order; may be NULL when @p n is 0.
 * @param[in]  n          number of members.
 * @param[out] offsets    receives the @p n offsets; may be NULL.
 * @param[out] align_out  receives the struct's alignment; may be NULL.
 * @return the size, tail padding included (0 for no members, where C would
 *         not even allow the struct).
 */
size_t pad_compute_layout(const pad_member *m, size_t n, size_t *offsets, size_t *align_out);

/**
 * @brief Padding in a layout: bytes occupied by no member.
 *
 * `size - (sum of member sizes) - ceil(total bitfield bits / 8)`.
 * @param[in] l  a layout; not NULL.
 * @return the number of padding bytes.
 */
size_t pad_padding_bytes(const pad_layout *l);

/**
 * @brief The size the members would take if sorted by decreasing alignment
 *        (what reordering the fields by hand achieves).
 * @param[in] m  the members; may be NULL when @p n is 0.
 * @param[in] n  number of members, at most PAD_MAX_MEMBERS.
 * @return the size after sorting; 0 when @p n is 0 or exceeds PAD_MAX_MEMBERS.
 */
size_t pad_sorted_size(const pad_member *m, size_t n);

#ifdef __cplusplus
}
#endif
#endif /* SPRINT1_PADDING_H */
