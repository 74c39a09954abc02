/*
 * kv_assert.h — Criterion's cr_assert_eq and cr_assert_neq, saying both values.
 *
 * What this is. Criterion's own cr_assert_eq(a, b) reports only "The
 * expression (a) == (b) is false.", so a student sees that
 * da_grow_capacity(0, 1) is wrong but not what it gave. Included after
 * <criterion/criterion.h>, this header redefines the two macros so that a
 * failure reads
 *
 *     da_grow_capacity(0, 1) gave 0, expected 8
 *     da_push(a, &i) gave -38, expected 0: push 0 of 100 onto an empty array
 *
 * with the test's own message, if any, after a colon. Every existing call
 * keeps compiling unchanged: (ACTUAL, EXPECTED[, FORMAT, ARGS...]).
 *
 * How it works. ACTUAL is evaluated once into a local (__auto_type, so
 * arrays decay as they would in ==) and compared with EXPECTED as written,
 * so the comparison, and the compiler's sign-compare checks on it, are the
 * same as Criterion's. A value is formatted by its type through _Generic:
 * integers in decimal (negative values as such; -ENOSYS and -9, what the
 * untouched stubs return in sprint 1 and in sprint 2 (KV_ENOTSUP,
 * HT_ENOTSUP), add "not implemented"), floating
 * point with %g,
 * anything else as a pointer (NULL by name). Only on failure is EXPECTED
 * evaluated a second time, to print it: callers must not give an EXPECTED
 * with side effects (none of the course's tests does).
 */
#ifndef KV_ASSERT_H
#define KV_ASSERT_H

#include <criterion/criterion.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define KVA_LEN 64

static inline void kva_fmt_ll(char *b, long long v)
{
    /* sprint 1's untouched stubs return -ENOSYS: say what it means */
    snprintf(b, KVA_LEN,
             v == -ENOSYS ? "%lld (-ENOSYS: not implemented)"
             : v == -9    ? "%lld (KV_ENOTSUP: not implemented, or not supported)"
                          : "%lld",
             v);
}
static inline void kva_fmt_ull(char *b, unsigned long long v) { snprintf(b, KVA_LEN, "%llu", v); }
static inline void kva_fmt_ld(char *b, long double v) { snprintf(b, KVA_LEN, "%Lg", v); }
static inline void kva_fmt_ptr(char *b, const volatile void *v)
{
    if (v)
        snprintf(b, KVA_LEN, "%p", (void *)(uintptr_t)v);
    else
        snprintf(b, KVA_LEN, "NULL");
}

/* Format x (any scalar) into b by its type. */
#define KVA_FMT(b, x)                                                                              \
    _Generic((x),                                                                                  \
        _Bool: kva_fmt_ull, char: kva_fmt_ll, signed char: kva_fmt_ll,                             \
        unsigned char: kva_fmt_ull, short: kva_fmt_ll, unsigned short: kva_fmt_ull,                \
        int: kva_fmt_ll, unsigned: kva_fmt_ull, long: kva_fmt_ll, unsigned long: kva_fmt_ull,      \
        long long: kva_fmt_ll, unsigned long long: kva_fmt_ull, float: kva_fmt_ld,                 \
        double: kva_fmt_ld, long double: kva_fmt_ld, default: kva_fmt_ptr)(b, x)

/* Write "ACTUAL gave VA, <rel> VB (EXPECTED)[: message]" into out. */
static inline void kva_message(char *out, size_t cap, const char *ea, const char *va,
                               const char *rel, const char *eb, const char *vb,
                               const char *fmt, ...)
{
    char user[512] = "";
    va_list ap;

    if (fmt && *fmt) {
        va_start(ap, fmt);
        vsnprintf(user, sizeof(user), fmt, ap);
        va_end(ap);
    }
    snprintf(out, cap, "%s gave %s, %s %s%s%s%s%s%s", ea, va, rel, vb,
             strcmp(eb, vb) ? " (" : "", strcmp(eb, vb) ? eb : "", strcmp(eb, vb) ? ")" : "",
             *user ? ": " : "", user);
}

/* The failure is raised here, in the test's own line, so Criterion names it. */
#define KVA_OP(op, rel, A, B, ...)                                                                 \
    do {                                                                                           \
        __auto_type kva_a_ = (A);                                                                  \
        if (!(kva_a_ op(B))) {                                                                     \
            __auto_type kva_b_ = (B);                                                              \
            char kva_va_[KVA_LEN], kva_vb_[KVA_LEN], kva_msg_[1024];                               \
            KVA_FMT(kva_va_, kva_a_);                                                              \
            KVA_FMT(kva_vb_, kva_b_);                                                              \
            kva_message(kva_msg_, sizeof(kva_msg_), #A, kva_va_, rel, #B, kva_vb_,                 \
                        "" __VA_ARGS__);                                                           \
            cr_assert_fail("%s", kva_msg_);                                                        \
        }                                                                                          \
    } while (0)

#undef cr_assert_eq
#undef cr_assert_neq
/** @brief Assert ACTUAL == EXPECTED; on failure print both values (and the message). */
#define cr_assert_eq(A, ...) KVA_OP(==, "expected", A, __VA_ARGS__)
/** @brief Assert ACTUAL != UNEXPECTED; on failure print the value. */
#define cr_assert_neq(A, ...) KVA_OP(!=, "expected anything but", A, __VA_ARGS__)

#endif /* KV_ASSERT_H */
