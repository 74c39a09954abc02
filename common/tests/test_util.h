/*
 * test_util.h — assertion helpers shared by common/'s Criterion tests.
 *
 *   RC(want, call)   the call returns status `want`; on failure the message
 *                    names the call, both statuses and kv_last_error()
 *   OK(call)         RC(KV_OK, call)
 *   DETAIL_HAS(sub)  kv_last_error() contains `sub`
 *   NO_LEAKS()       under AddressSanitizer, fail the test now if memory
 *                    leaked (Criterion 2.4 does not fail a test whose
 *                    process leaks at exit); elsewhere nothing
 */
#ifndef KVLABS_COMMON_TEST_UTIL_H
#define KVLABS_COMMON_TEST_UTIL_H

#include <criterion/criterion.h>
#include "kv_assert.h"
#include <string.h>

#include "kvlabs/error.h"
#include "kvlabs/kv.h"

#if defined(__SANITIZE_ADDRESS__)
#define TEST_LSAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TEST_LSAN 1
#endif
#endif
#ifdef TEST_LSAN
#include <sanitizer/lsan_interface.h>
#define NO_LEAKS()                                                                                 \
    cr_assert_eq(__lsan_do_recoverable_leak_check(), 0,                                            \
                 "memory leaked (LeakSanitizer report above)")
#else
#define NO_LEAKS() ((void)0)
#endif

#define RC(want, call)                                                                             \
    do {                                                                                           \
        int rc_ = (call);                                                                          \
        cr_assert_eq(rc_, (want), "%s -> %d (%s), want %d (%s); detail: %s", #call, rc_,           \
                     kv_strerror(rc_), (want), kv_strerror(want), kv_last_error());                \
    } while (0)
#define OK(call) RC(KV_OK, call)

#define DETAIL_HAS(sub)                                                                            \
    cr_assert(strstr(kv_last_error(), (sub)) != NULL, "detail '%s' lacks '%s'", kv_last_error(),   \
              (sub))

#endif
