/*
 * alloc_fail.c — the allocation wrappers of sprint 1's tests (alloc_fail.h).
 *
 * What this is: the definitions of __wrap_malloc, __wrap_calloc,
 * __wrap_realloc, __wrap_aligned_alloc, __wrap_posix_memalign,
 * __wrap_strdup, __wrap_strndup and __wrap_free. The lab's Makefile links
 * every test binary with `-Wl,--wrap=SYMBOL` for each of them, so the
 * linker sends each call the lab's code and the tests make to SYMBOL to
 * __wrap_SYMBOL, and __real_SYMBOL reaches the C library's (or, under
 * AddressSanitizer or Valgrind, their replacement). Only the objects of the
 * test binary are rewired: Criterion and the C library keep their own
 * calls, whose blocks the table never sees.
 *
 * How it works. Every allocating call first goes through counted(): the
 * counter moves on, the requested size is remembered, and when the counter
 * reaches the armed call the wrapper returns NULL with errno ENOMEM without
 * calling the real allocator (for realloc the old block stays the caller's,
 * as the C standard says). A successful call records the block and its size
 * in an open-addressing table keyed by address (linear probing, deletion by
 * backward shift, so no tombstones); free and realloc remove it. A pointer
 * the table does not know (a block from inside the C library) is passed to
 * the real free untouched.
 *
 * Callers must not call the wrappers from several threads: nothing here is
 * locked, sprint 1's tests are single-threaded. Every test binary that links
 * this file must be linked with all the --wrap options and vice versa.
 */
#include "alloc_fail.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);
void *__real_aligned_alloc(size_t align, size_t size);
int __real_posix_memalign(void **out, size_t align, size_t size);
char *__real_strdup(const char *s);
char *__real_strndup(const char *s, size_t n);
void __real_free(void *p);

void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
void *__wrap_realloc(void *p, size_t size);
void *__wrap_aligned_alloc(size_t align, size_t size);
int __wrap_posix_memalign(void **out, size_t align, size_t size);
char *__wrap_strdup(const char *s);
char *__wrap_strndup(const char *s, size_t n);
void __wrap_free(void *p);

/* Table size: a power of two, twice AF_MAX_LIVE so probes stay short. */
#define SLOTS (2 * AF_MAX_LIVE)

static struct slot {
    const void *p; /* NULL: empty */
    size_t size;
} table[SLOTS];
static size_t live;       /* occupied slots */
static bool overflowed;   /* a block could not be recorded */
static uint64_t calls;    /* counted allocation calls */
static uint64_t fail_at;  /* the call that fails; 0: disarmed */
static bool hit;          /* the armed call has failed */
static size_t last_size;  /* the latest request */

static size_t home(const void *p)
{
    uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15u;
    return (size_t)(h >> 32) & (SLOTS - 1);
}

static void track(const void *p, size_t size)
{
    if (live >= AF_MAX_LIVE) {
        overflowed = true;
        return;
    }
    size_t i = home(p);
    while (table[i].p && table[i].p != p)
        i = (i + 1) & (SLOTS - 1);
    if (!table[i].p)
        live++;
    table[i].p = p;
    table[i].size = size;
}

/* Index of p's slot, or SLOTS when p is not recorded. */
static size_t find(const void *p)
{
    if (!p)
        return SLOTS;
    for (size_t i = home(p);; i = (i + 1) & (SLOTS - 1)) {
        if (table[i].p == p)
            return i;
        if (!table[i].p)
            return SLOTS;
    }
}

static void untrack(const void *p)
{
    size_t i = find(p);
    if (i == SLOTS)
        return;
    /* Backward-shift deletion: move later entries of the run into the hole
     * when their home slot does not lie strictly between the hole and them. */
    size_t j = i;
    for (;;) {
        table[i].p = NULL;
        for (;;) {
            j = (j + 1) & (SLOTS - 1);
            if (!table[j].p) {
                live--;
                return;
            }
            size_t k = home(table[j].p);
            if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
                continue; /* j is still reachable from its home */
            break;
        }
        table[i] = table[j];
        i = j;
    }
}

/* Count one allocation call of `size` bytes; true when it must fail. */
static bool counted(size_t size)
{
    calls++;
    last_size = size;
    if (fail_at != 0 && calls == fail_at) {
        hit = true;
        errno = ENOMEM;
        return true;
    }
    return false;
}

void *__wrap_malloc(size_t size)
{
    if (counted(size))
        return NULL;
    void *p = __real_malloc(size);
    if (p)
        track(p, size);
    return p;
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (counted(size != 0 && n > SIZE_MAX / size ? SIZE_MAX : n * size))
        return NULL;
    void *p = __real_calloc(n, size);
    if (p)
        track(p, n * size);
    return p;
}

void *__wrap_realloc(void *p, size_t size)
{
    if (counted(size))
        return NULL; /* p is untouched and still the caller's */
    void *q = __real_realloc(p, size);
    if (q) {
        untrack(p);
        track(q, size);
    } else if (p && size == 0) {
        untrack(p); /* glibc: realloc(p, 0) frees p and returns NULL */
    }
    return q;
}

void *__wrap_aligned_alloc(size_t align, size_t size)
{
    if (counted(size))
        return NULL;
    void *p = __real_aligned_alloc(align, size);
    if (p)
        track(p, size);
    return p;
}

int __wrap_posix_memalign(void **out, size_t align, size_t size)
{
    if (counted(size))
        return ENOMEM;
    int rc = __real_posix_memalign(out, align, size);
    if (rc == 0)
        track(*out, size);
    return rc;
}

char *__wrap_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    if (counted(n))
        return NULL;
    char *p = __real_strdup(s);
    if (p)
        track(p, n);
    return p;
}

char *__wrap_strndup(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    if (counted(n + 1))
        return NULL;
    char *p = __real_strndup(s, max);
    if (p)
        track(p, n + 1);
    return p;
}

void __wrap_free(void *p)
{
    untrack(p);
    __real_free(p);
}

void af_fail_at(uint64_t nth)
{
    fail_at = nth ? calls + nth : 0;
    hit = false;
}

bool af_hit(void)
{
    return hit;
}

uint64_t af_count(void)
{
    return calls;
}

size_t af_live(void)
{
    return overflowed ? AF_UNTRACKED : live;
}

size_t af_size_of(const void *p)
{
    size_t i = find(p);
    return i == SLOTS ? SIZE_MAX : table[i].size;
}

size_t af_last_size(void)
{
    return last_size;
}

int af_fail_loop(int (*body)(void *arg, uint64_t n), void *arg, uint64_t max_runs,
                 uint64_t *runs)
{
    int rc = 0;
    uint64_t n = 0;
    while (n < max_runs) {
        n++;
        af_fail_at(n);
        rc = body(arg, n);
        bool reached = af_hit();
        af_fail_at(0);
        if (rc != 0 || !reached)
            break;
    }
    if (runs)
        *runs = n;
    return rc;
}
