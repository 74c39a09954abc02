/*
 * alloc.c — kv_malloc and friends, with the fail-the-Nth-allocation hook.
 *
 * How it works: `counter` counts every allocation request (kv_malloc,
 * kv_calloc, kv_realloc, whatever the size; not kv_free, and not a
 * kv_calloc refused for overflowing n*size). `fail_at` holds the counter
 * value at which the armed failure fires (0 = disarmed). The check is one
 * relaxed atomic load on the fast path. With `sticky`, every allocation
 * from that point on fails too, which models a process that has truly run
 * out of memory rather than one unlucky request.
 *
 * kv_alloc_hook_suspend() exempts one thread's allocations (a thread-local
 * depth, checked first): they are not counted, so a failure armed at call N
 * still lands on the Nth allocation made outside the exemption.
 *
 * kv_alloc_fail_loop() is the malloc-failure loop: run the body with the
 * failure at allocation 1, 2, 3, ... until a run finishes without reaching
 * it. Each run exercises one more failure path; the body checks that the
 * failure surfaced as KV_ENOMEM and that nothing changed.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "kvlabs/alloc.h"

static atomic_uint_fast64_t counter;
static atomic_uint_fast64_t fail_at;
static atomic_bool fail_sticky;
static atomic_bool fail_hit;
static _Thread_local unsigned suspended; /* kv_alloc_hook_suspend() depth */

static bool should_fail(void)
{
    if (suspended)
        return false;
    uint_fast64_t n = atomic_fetch_add_explicit(&counter, 1, memory_order_relaxed) + 1;
    uint_fast64_t at = atomic_load_explicit(&fail_at, memory_order_relaxed);

    if (at == 0)
        return false;
    if (n == at || (n > at && atomic_load_explicit(&fail_sticky, memory_order_relaxed))) {
        atomic_store(&fail_hit, true);
        return true;
    }
    return false;
}

void *kv_malloc(size_t size)
{
    if (should_fail())
        return NULL;
    return malloc(size ? size : 1);
}

void *kv_calloc(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    if (should_fail())
        return NULL;
    return calloc(n ? n : 1, size ? size : 1);
}

void *kv_realloc(void *p, size_t size)
{
    if (should_fail())
        return NULL;
    return realloc(p, size ? size : 1);
}

void kv_free(void *p)
{
    free(p);
}

void *kv_memdup(const void *p, size_t n)
{
    char *q = kv_malloc(n + 1);

    if (!q)
        return NULL;
    if (n)
        memcpy(q, p, n);
    q[n] = '\0';
    return q;
}

char *kv_strdup(const char *s)
{
    return kv_memdup(s, strlen(s));
}

void kv_alloc_fail_at(uint64_t nth, bool sticky)
{
    atomic_store(&fail_hit, false);
    atomic_store(&fail_sticky, sticky);
    atomic_store(&fail_at, nth ? atomic_load(&counter) + nth : 0);
}

void kv_alloc_hook_suspend(void)
{
    suspended++;
}

void kv_alloc_hook_resume(void)
{
    if (suspended)
        suspended--;
}

bool kv_alloc_fail_hit(void)
{
    return atomic_load(&fail_hit);
}

uint64_t kv_alloc_count(void)
{
    return atomic_load(&counter);
}

int kv_alloc_fail_loop(int (*body)(void *arg, uint64_t n), void *arg, uint64_t max_runs,
                       uint64_t *runs)
{
    uint64_t n;
    int rc = 0;

    if (max_runs == 0)
        max_runs = 100000;
    for (n = 1; n <= max_runs; n++) {
        bool hit;

        kv_alloc_fail_at(n, false);
        rc = body(arg, n);
        hit = kv_alloc_fail_hit();
        kv_alloc_fail_at(0, false);
        if (rc != 0 || !hit)
            break;
    }
    if (runs)
        *runs = n > max_runs ? max_runs : n;
    return rc;
}
