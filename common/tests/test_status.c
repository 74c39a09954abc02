/*
 * test_status.c — unit tests of the status module (status.c: kv.h's status
 * codes and kv_strerror(), error.h's thread-local detail).
 *
 * What is checked: the code values are the contract's; every code has its
 * own message and any other value is "unknown status"; kv_fail() returns
 * its status unchanged, formats printf-style (copies a format without a
 * conversion) and cuts the detail at KV_ERROR_MAX - 1 bytes; kv_clear_error() empties it; the detail is per
 * thread (two threads failing at once keep their own text); kv_fail_errno()
 * names the call and the errno's text, or the bare number for an errno
 * without one; kv_status_from_errno() maps each documented errno.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/kv.h"

static const int codes[] = {KV_OK,  KV_ENOTFOUND, KV_EINVAL, KV_ETOOBIG, KV_ENOMEM,
                            KV_EIO, KV_ECORRUPT,  KV_EBUSY,  KV_EFULL,   KV_ENOTSUP};
#define NCODES (sizeof(codes) / sizeof(codes[0]))

/* The values are part of the contract (DESIGN.md §2): graders and the kernel engine rely on them.
 */
Test(status, code_values_fixed)
{
    for (size_t i = 0; i < NCODES; i++)
        cr_assert_eq(codes[i], -(int)i, "code %zu is %d", i, codes[i]);
}

Test(status, strerror_each_code_distinct)
{
    for (size_t i = 0; i < NCODES; i++) {
        const char *m = kv_strerror(codes[i]);
        cr_assert_not_null(m);
        cr_assert_gt(strlen(m), 0, "empty message for %d", codes[i]);
        cr_assert_str_neq(m, "unknown status", "code %d has no message of its own", codes[i]);
        for (size_t j = 0; j < i; j++)
            cr_assert_str_neq(m, kv_strerror(codes[j]), "codes %d and %d share '%s'", codes[i],
                              codes[j], m);
    }
    cr_assert_str_eq(kv_strerror(KV_OK), "success");
    cr_assert_str_eq(kv_strerror(KV_ENOTFOUND), "key not found");
    cr_assert_str_eq(kv_strerror(KV_ENOMEM), "out of memory");
}

Test(status, strerror_unknown_codes)
{
    static const int others[] = {1, 2, -10, -11, -99, -100, INT_MIN, INT_MAX};

    for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++)
        cr_assert_str_eq(kv_strerror(others[i]), "unknown status", "status %d", others[i]);
}

Test(status, last_error_starts_empty)
{
    cr_assert_not_null(kv_last_error());
    cr_assert_str_eq(kv_last_error(), "");
}

Test(status, fail_returns_status_and_formats)
{
    cr_assert_eq(kv_fail(KV_EIO, "read %s at %d: %zu bytes", "/db/log", 17, (size_t)4), KV_EIO);
    cr_assert_str_eq(kv_last_error(), "read /db/log at 17: 4 bytes");
    /* Any int goes through unchanged, also non-codes. */
    cr_assert_eq(kv_fail(42, "x"), 42);
    cr_assert_eq(kv_fail(INT_MIN, "y"), INT_MIN);
    cr_assert_str_eq(kv_last_error(), "y");
    /* A later failure replaces the detail; it does not append. */
    cr_assert_eq(kv_fail(KV_EINVAL, "%s", "second"), KV_EINVAL);
    cr_assert_str_eq(kv_last_error(), "second");
    kv_clear_error();
    cr_assert_str_eq(kv_last_error(), "");
}

Test(status, fail_truncates_at_error_max)
{
    char big[3 * KV_ERROR_MAX];
    char exact[KV_ERROR_MAX];

    big[sizeof(big) - 1] = '\0';
    for (size_t i = 0; i < sizeof(big) - 1; i++)
        big[i] = (char)('a' + i % 26);
    cr_assert_eq(kv_fail(KV_EIO, "%s", big), KV_EIO);
    cr_assert_eq(strlen(kv_last_error()), KV_ERROR_MAX - 1);
    cr_assert_eq(strncmp(kv_last_error(), big, KV_ERROR_MAX - 1), 0, "the cut keeps the start");

    /* Exactly KV_ERROR_MAX - 1 bytes fit whole; one more is cut. */
    memcpy(exact, big, KV_ERROR_MAX - 1);
    exact[KV_ERROR_MAX - 1] = '\0';
    kv_fail(KV_EIO, "%s", exact);
    cr_assert_str_eq(kv_last_error(), exact);
    kv_fail(KV_EIO, "%s!", exact);
    cr_assert_str_eq(kv_last_error(), exact, "the '!' past the limit is dropped");
}

/* A format without a conversion is copied, not formatted (status.c's fast
 * path): it must still replace the detail whole, cut at the limit, and a
 * "%%" must still go through the formatter. */
#define Z16 "zzzzzzzzzzzzzzzz"
#define Z256 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16 Z16
_Static_assert(KV_ERROR_MAX == 256, "Z256 \"z\" is longer than the detail buffer holds");

Test(status, fail_literal_detail)
{
    static const char big[] = Z256 "z";

    kv_fail(KV_EIO, "%s", "a much longer earlier detail");
    cr_assert_eq(kv_fail(KV_ENOTFOUND, "short"), KV_ENOTFOUND);
    cr_assert_str_eq(kv_last_error(), "short", "no tail of the earlier detail left");
    cr_assert_eq(kv_fail(KV_EIO, "x"), KV_EIO);
    cr_assert_str_eq(kv_last_error(), "x");
    kv_fail(KV_EIO, "100%% sure");
    cr_assert_str_eq(kv_last_error(), "100% sure", "%%%% is a conversion");
    kv_fail(KV_EIO, Z256 "z");
    cr_assert_eq(strlen(kv_last_error()), KV_ERROR_MAX - 1);
    cr_assert_eq(strncmp(kv_last_error(), big, KV_ERROR_MAX - 1), 0);
}

/* ---- thread-local detail ------------------------------------------------ */

static pthread_barrier_t barrier;

struct thread_arg {
    const char *text;
    char seen_at_start[KV_ERROR_MAX];
    char seen_after[KV_ERROR_MAX];
};

static void *failer(void *p)
{
    struct thread_arg *a = p;

    snprintf(a->seen_at_start, sizeof(a->seen_at_start), "%s", kv_last_error());
    kv_fail(KV_EIO, "%s", a->text);
    pthread_barrier_wait(&barrier); /* every thread has failed */
    pthread_barrier_wait(&barrier); /* the main thread has failed too */
    snprintf(a->seen_after, sizeof(a->seen_after), "%s", kv_last_error());
    return NULL;
}

Test(status, last_error_is_thread_local)
{
    struct thread_arg a = {.text = "failure of thread A"}, b = {.text = "failure of thread B"};
    pthread_t ta, tb;

    kv_fail(KV_EINVAL, "failure of the main thread");
    cr_assert_eq(pthread_barrier_init(&barrier, NULL, 3), 0);
    cr_assert_eq(pthread_create(&ta, NULL, failer, &a), 0);
    cr_assert_eq(pthread_create(&tb, NULL, failer, &b), 0);
    pthread_barrier_wait(&barrier);
    cr_assert_str_eq(kv_last_error(), "failure of the main thread");
    kv_fail(KV_EINVAL, "main again");
    pthread_barrier_wait(&barrier);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&barrier);

    cr_assert_str_eq(a.seen_at_start, "", "a new thread starts with no detail");
    cr_assert_str_eq(b.seen_at_start, "");
    cr_assert_str_eq(a.seen_after, "failure of thread A");
    cr_assert_str_eq(b.seen_after, "failure of thread B");
    cr_assert_str_eq(kv_last_error(), "main again");
}

/* ---- errno -------------------------------------------------------------- */

Test(status, fail_errno_names_call_and_errno)
{
    char want[KV_ERROR_MAX];

    cr_assert_eq(kv_fail_errno(KV_ENOTFOUND, ENOENT, "open /db/log"), KV_ENOTFOUND);
    snprintf(want, sizeof(want), "open /db/log: %s", strerror(ENOENT));
    cr_assert_str_eq(kv_last_error(), want);

    cr_assert_eq(kv_fail_errno(KV_EIO, EIO, "fsync x"), KV_EIO);
    snprintf(want, sizeof(want), "fsync x: %s", strerror(EIO));
    cr_assert_str_eq(kv_last_error(), want);
}

Test(status, fail_errno_unknown_errno_gives_number)
{
    cr_assert_eq(kv_fail_errno(KV_EIO, 123456, "pread f"), KV_EIO);
    cr_assert_str_eq(kv_last_error(), "pread f: errno 123456");
    cr_assert_eq(kv_fail_errno(KV_EIO, -3, "x"), KV_EIO);
    cr_assert_str_eq(kv_last_error(), "x: errno -3");
}

Test(status, fail_errno_long_what_is_cut)
{
    char what[2 * KV_ERROR_MAX];

    memset(what, 'w', sizeof(what) - 1);
    what[sizeof(what) - 1] = '\0';
    cr_assert_eq(kv_fail_errno(KV_EIO, EIO, what), KV_EIO);
    cr_assert_eq(strlen(kv_last_error()), KV_ERROR_MAX - 1);
    cr_assert_eq(strspn(kv_last_error(), "w"), KV_ERROR_MAX - 1);
}

Test(status, status_from_errno_mapping)
{
    static const struct {
        int err, want;
    } map[] = {
        {ENOENT, KV_ENOTFOUND},  {ENOSPC, KV_EFULL}, {EDQUOT, KV_EFULL},  {ENOMEM, KV_ENOMEM},
        {EWOULDBLOCK, KV_EBUSY}, {EEXIST, KV_EBUSY}, {EINVAL, KV_EINVAL}, {EISDIR, KV_EIO},
        {EIO, KV_EIO},           {EACCES, KV_EIO},   {EPERM, KV_EIO},     {EBADF, KV_EIO},
        {ENOTDIR, KV_EIO},       {0, KV_EIO},        {123456, KV_EIO},    {-1, KV_EIO},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        cr_assert_eq(kv_status_from_errno(map[i].err), map[i].want, "errno %d -> %d, want %d",
                     map[i].err, kv_status_from_errno(map[i].err), map[i].want);
}
