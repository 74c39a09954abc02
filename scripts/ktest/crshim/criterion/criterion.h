/**
 * @file criterion.h
 * @brief A Criterion-compatible shim: the subset of Criterion's API the
 *        conformance suite uses, as a plain runner (crshim.c), for the test
 *        VM of scripts/ktest/.
 *
 * **Why.** Inside the VM's initramfs, Criterion 2.4's runner did not report
 * (its workers ran, but no result and no closing "Synthesis" line came
 * back; the run hung until the VM's timeout). The suite's sources only
 * need Test(), TestSuite() with .init/.fini/.timeout, the cr_assert family,
 * cr_skip_test() and cr_log_info(). Put this directory on the include path
 * before the system's (-I scripts/ktest/crshim) and link crshim.c instead
 * of -lcriterion: the same sources build into a plain program that prints
 * "[PASS]/[FAIL]/[SKIP] suite/name" per case and the closing line
 * "N passed, N failed, N skipped".
 *
 * **How it works.** Test() and TestSuite() register themselves from a
 * constructor into the runner's tables. The runner forks one process per
 * case (as Criterion does: a crash or a failed assertion ends only that
 * case), arms alarm() with the timeout, runs the suite's .init, the case
 * and .fini. A failed assertion prints file, line, the expression and the
 * message, runs .fini and exits 1; cr_skip_test() exits 77.
 *
 * **Callers must not** rely on anything else of Criterion (parameterized
 * tests, theories, redirections, .signal/.exit_code expectations): they
 * are not here, and a suite using them fails to compile with this shim.
 */
#ifndef KVLABS_CRSHIM_CRITERION_H
#define KVLABS_CRSHIM_CRITERION_H

#include <stdbool.h>
#include <string.h>

/** @brief A case's or suite's options (the designated initialisers Criterion takes). */
struct crshim_opts {
    void (*init)(void);      /**< run before the case, in its process */
    void (*fini)(void);      /**< run after it, also after a failed assertion */
    double timeout;          /**< seconds (0: the runner's default) */
    bool disabled;           /**< registered but not run */
    const char *description; /**< ignored */
};

/** @brief One registered case. */
struct crshim_test {
    const char *suite;        /**< suite name */
    const char *name;         /**< case name */
    void (*fn)(void);         /**< the body */
    struct crshim_opts opts;  /**< its own options */
};

/** @brief One registered suite's options. */
struct crshim_suite {
    const char *name;        /**< suite name */
    struct crshim_opts opts; /**< applies to every case of the suite */
};

/** @brief Register a case (called from Test()'s constructor). */
void crshim_register(const struct crshim_test *t);
/** @brief Register a suite's options (TestSuite()'s constructor). */
void crshim_register_suite(const struct crshim_suite *s);
/** @brief Report a failed assertion and end the case (never returns). */
__attribute__((noreturn, format(printf, 4, 5))) void crshim_fail(const char *file, int line,
                                                                 const char *expr,
                                                                 const char *fmt, ...);
/** @brief Skip the case (never returns). */
__attribute__((noreturn, format(printf, 1, 2))) void crshim_skip(const char *fmt, ...);
/** @brief Print an informational message of the case. */
__attribute__((format(printf, 1, 2))) void crshim_log(const char *fmt, ...);

/** @brief Define a case (Criterion's Test(suite, name, .opt = ...)). */
#define Test(suite, name, ...)                                                                   \
    static void suite##_##name##_impl(void);                                                     \
    static const struct crshim_test suite##_##name##_crt = {#suite, #name,                       \
                                                            suite##_##name##_impl,               \
                                                            {__VA_ARGS__}};                      \
    __attribute__((constructor)) static void suite##_##name##_crreg(void)                        \
    {                                                                                            \
        crshim_register(&suite##_##name##_crt);                                                  \
    }                                                                                            \
    static void suite##_##name##_impl(void)

/** @brief Set the options of every case of a suite. */
#define TestSuite(name, ...)                                                                     \
    static const struct crshim_suite name##_crsuite = {#name, {__VA_ARGS__}};                    \
    __attribute__((constructor)) static void name##_crsuite_reg(void)                            \
    {                                                                                            \
        crshim_register_suite(&name##_crsuite);                                                  \
    }                                                                                            \
    struct crshim_suite_semicolon_##name

/** @brief Fail the case unless @p cond holds (optional printf-style message). */
#define cr_assert(cond, ...)                                                                     \
    do {                                                                                         \
        if (!(cond))                                                                             \
            crshim_fail(__FILE__, __LINE__, #cond, " " __VA_ARGS__);                             \
    } while (0)
/** @brief Fail the case when @p cond holds. */
#define cr_assert_not(cond, ...) cr_assert(!(cond), __VA_ARGS__)
/** @brief Fail the case unconditionally. */
#define cr_assert_fail(...) crshim_fail(__FILE__, __LINE__, "cr_assert_fail", " " __VA_ARGS__)
/** @brief a == b. */
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b), __VA_ARGS__)
/** @brief a != b. */
#define cr_assert_neq(a, b, ...) cr_assert((a) != (b), __VA_ARGS__)
/** @brief a < b. */
#define cr_assert_lt(a, b, ...) cr_assert((a) < (b), __VA_ARGS__)
/** @brief a <= b. */
#define cr_assert_leq(a, b, ...) cr_assert((a) <= (b), __VA_ARGS__)
/** @brief a > b. */
#define cr_assert_gt(a, b, ...) cr_assert((a) > (b), __VA_ARGS__)
/** @brief a >= b. */
#define cr_assert_geq(a, b, ...) cr_assert((a) >= (b), __VA_ARGS__)
/** @brief p == NULL. */
#define cr_assert_null(p, ...) cr_assert((p) == NULL, __VA_ARGS__)
/** @brief p != NULL. */
#define cr_assert_not_null(p, ...) cr_assert((p) != NULL, __VA_ARGS__)
/** @brief Equal C strings. */
#define cr_assert_str_eq(a, b, ...) cr_assert(strcmp((a), (b)) == 0, __VA_ARGS__)
/** @brief Different C strings. */
#define cr_assert_str_neq(a, b, ...) cr_assert(strcmp((a), (b)) != 0, __VA_ARGS__)
/** @brief Skip the case with a message. */
#define cr_skip_test(...) crshim_skip(" " __VA_ARGS__)
/** @brief An informational message. */
#define cr_log_info(...) crshim_log(__VA_ARGS__)

#endif /* KVLABS_CRSHIM_CRITERION_H */
