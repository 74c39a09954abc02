/*
 * bench_timer.c - the two clocks of kvlabs benchmarks.
 *
 * kv_now_ns() reads CLOCK_MONOTONIC: it never jumps when NTP or an
 * administrator sets the time, so differences are true durations. It is
 * what latencies and elapsed times are measured with. (On Linux it is read
 * through the vDSO, about 20 ns, cheap enough to call around every
 * operation.) kv_cpu_ns() reads CLOCK_PROCESS_CPUTIME_ID, the CPU time of
 * all the process's threads; comparing it with wall time tells a CPU-bound
 * run from one that waits on I/O or locks.
 *
 * Both clocks are mandatory in POSIX.1-2008, so clock_gettime() cannot fail
 * with a valid clock id and a valid pointer; a failure would be a broken
 * platform, and the assert says so in debug builds.
 */
#include <assert.h>
#include <time.h>

#include "kvlabs/bench.h"

/* Read a clock as nanoseconds. */
static uint64_t clock_ns(clockid_t id)
{
    struct timespec ts;
    int rc = clock_gettime(id, &ts);
    assert(rc == 0);
    (void)rc;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t kv_now_ns(void)
{
    return clock_ns(CLOCK_MONOTONIC);
}

uint64_t kv_cpu_ns(void)
{
    return clock_ns(CLOCK_PROCESS_CPUTIME_ID);
}
