/*
 * stub.c — the starter kit's "not implemented" message (include/stub.h).
 *
 * What it is: given code, not an exercise. A starter kit's stub that
 * returns NULL or false calls stub_not_implemented(__func__), so its
 * failure names the function instead of looking like a wrong answer.
 *
 * How it works: the detail is a thread-local buffer (no allocation: the
 * tests count every malloc, tests/alloc_fail.h); the functions already
 * reported on stderr are remembered by their __func__ pointer, a handful at
 * most (one per stub a test reaches).
 *
 * What callers must not do: call it from the reference (only stubs do),
 * or keep stub_detail()'s pointer across another stub call of the thread.
 */
#include "stub.h"

#include <errno.h>
#include <stdio.h>

#define STUB_SAID_MAX 32

static _Thread_local char detail[96];
static const char *said[STUB_SAID_MAX];

void stub_not_implemented(const char *fn)
{
    size_t i;

    snprintf(detail, sizeof(detail), "not implemented: %s", fn);
    errno = ENOSYS;
    for (i = 0; i < STUB_SAID_MAX && said[i]; i++)
        if (said[i] == fn)
            return;
    if (i < STUB_SAID_MAX)
        said[i] = fn;
    fprintf(stderr, "%s\n", detail);
    errno = ENOSYS;
}

const char *stub_detail(void)
{
    return detail;
}
