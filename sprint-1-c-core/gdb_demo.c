/*
 * gdb_demo.c — a program to practise debugging with the lab's .gdbinit.
 *
 * What this is: `make gdb` starts this program under gdb with the lab's
 * .gdbinit loaded. main() fills two dynamic arrays — the squares 0..99 as
 * ints, and five `struct gdb_point` values — then calls
 * gdb_demo_checkpoint(), a function that exists to be a breakpoint:
 *
 *     (gdb) break gdb_demo_checkpoint
 *     (gdb) run
 *     (gdb) da_info squares
 *     (gdb) da_print squares int
 *     (gdb) da_print points struct gdb_point
 *     (gdb) da_print pts struct gdb_point      (the parameter: a pointer)
 *
 * How it works: the arrays are file-scope statics, so gdb finds them by
 * name in every frame and at every optimisation level; the checkpoint
 * receives pointers to them too, to show that the commands accept a
 * da_array or a pointer to one. The checkpoint is noinline and has a side
 * effect (it prints a checksum), so the optimiser keeps it as a real call.
 * Exit status 0 when the checksum is right.
 */
#include "dynarray.h"

#include <stdio.h>

/** A small struct element, to print with `da_print points struct gdb_point`. */
struct gdb_point {
    int x;
    int y;
};

static da_array squares = DA_INIT(int);
static da_array points = DA_INIT(struct gdb_point);

/* The breakpoint target: sums both arrays so its arguments stay alive. */
__attribute__((noinline)) long gdb_demo_checkpoint(const da_array *sq, const da_array *pts);

__attribute__((noinline)) long gdb_demo_checkpoint(const da_array *sq, const da_array *pts)
{
    long sum = 0;
    const int *v = sq->data;
    const struct gdb_point *p = pts->data;
    for (size_t i = 0; i < sq->len; i++)
        sum += v[i];
    for (size_t i = 0; i < pts->len; i++)
        sum += p[i].x * p[i].y;
    printf("gdb_demo: %zu squares, %zu points, checksum %ld\n", sq->len, pts->len, sum);
    return sum;
}

/* Fill both arrays; 0 or a da_* error code. */
static int fill(void)
{
    for (int i = 0; i < 100; i++) {
        int sq = i * i;
        int rc = da_push(&squares, &sq);
        if (rc != 0)
            return rc;
    }
    for (int i = 1; i <= 5; i++) {
        struct gdb_point p = {i, -10 * i};
        int rc = da_push(&points, &p);
        if (rc != 0)
            return rc;
    }
    return 0;
}

int main(void)
{
    int rc = fill();
    if (rc != 0) {
        fprintf(stderr, "gdb_demo: filling the arrays failed (%d)\n", rc);
        da_free(&squares);
        da_free(&points);
        return 1;
    }
    long sum = gdb_demo_checkpoint(&squares, &points);
    da_free(&squares);
    da_free(&points);
    /* sum of i*i for i < 100 is 328350; sum of i * -10i for i = 1..5 is -550 */
    return sum == 328350 - 550 ? 0 : 1;
}
