/*
 * padding_demo.c — print the layout of the sprint-1 example structs.
 *
 * What this is: a program (`build/.../padding_demo`) that prints, for every
 * struct of include/padding.h, a table of its members with offset, size,
 * alignment and the padding the compiler inserted before each, then the
 * struct's size, alignment, total padding and the size a reordering by
 * decreasing alignment would give. The handout (README.md) shows its
 * output for LP64 (x86_64 and aarch64).
 *
 * How it works: the numbers come from the library's table (pad_layouts(),
 * filled with offsetof/sizeof/alignof) and from the exercise functions
 * (pad_padding_bytes(), pad_sorted_size()), so with unfinished exercises
 * the last columns are wrong — run it again when the tests pass.
 * Bitfields have no offset; their bit positions are probed at run time.
 */
#include "padding.h"

#include <stdio.h>

/* Print one ordinary member; *end is the first byte after the previous one. */
static void print_field(const pad_field *f, int packed, size_t *end)
{
    size_t before = f->offset - *end;
    printf("  %-8s %6zu %5zu %5zu%s %10zu\n", f->name, f->offset, f->size, f->align,
           packed ? "*" : " ", before);
    *end = f->offset + f->size;
}

/* Print one bitfield of struct pad_bits with its probed bit range. */
static void print_bitfield(const pad_field *f)
{
    unsigned first = 0, width = 0;
    if (pad_bitfield_probe(f->name, &first, &width) != 0)
        return;
    printf("  %-8s   bits %u..%u (width %u, declared %u)\n", f->name, first, first + width - 1,
           width, f->bit_width);
}

/* Print the table of one struct. */
static void print_layout(const pad_layout *l)
{
    pad_member m[PAD_MAX_MEMBERS];
    size_t n = pad_members_of(l, m, PAD_MAX_MEMBERS);
    size_t end = 0, bitfield_end = 0;

    printf("%s — %s\n", l->name, l->lesson);
    printf("  %-8s %6s %5s %5s  %10s\n", "member", "offset", "size", "align", "pad-before");
    for (size_t i = 0; i < l->nfields; i++) {
        const pad_field *f = &l->fields[i];
        if (f->bit_width) {
            print_bitfield(f);
            bitfield_end += f->bit_width;
            end = (bitfield_end + 7) / 8;
        } else {
            print_field(f, l->packed, &end);
        }
    }
    printf("  sizeof %zu, alignof %zu, tail padding %zu, total padding %zu", l->size, l->align,
           l->size - end, pad_padding_bytes(l));
    if (n == l->nfields && n <= PAD_MAX_MEMBERS)
        printf(", sorted by alignment: %zu", pad_sorted_size(m, n));
    printf("\n%s\n", l->packed ? "  (* packed: every member is aligned to 1)\n" : "");
}

int main(void)
{
    size_t count;
    const pad_layout *l = pad_layouts(&count);
    printf("Struct layouts on this machine (sizeof(void *) = %zu)\n\n", sizeof(void *));
    for (size_t i = 0; i < count; i++)
        print_layout(&l[i]);
    return 0;
}
