/*
 * crshim.c - the runner of the Criterion-compatible shim
 * (criterion/criterion.h beside it explains why and what is supported).
 *
 * Usage: <binary> [--filter GLOB] [--jobs N] [--list] [--timeout S]
 *   --filter  run the cases whose "suite/name" matches GLOB (fnmatch);
 *   --jobs    cases run at once, each in a forked process (default 1);
 *   --timeout default seconds of a case without its own (default 60).
 * Other Criterion options are accepted and ignored. Prints one line per
 * case ([PASS], [FAIL] with the reason, [SKIP]) and closes with
 * "N passed, N failed, N skipped"; exits 1 when a case failed.
 *
 * A case's process: the suite's .init, the case's .init, the body, then
 * .fini (the case's, else the suite's); a failed assertion prints
 * "file:line: Assertion failed: expr: message", runs .fini and exits 1;
 * a skip exits 77; a signal (a crash, or SIGALRM at the timeout) fails the
 * case. Registration order is by constructor; cases run sorted by name.
 */
#define _GNU_SOURCE
#include <fnmatch.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "criterion/criterion.h"

#define MAX_TESTS 1024
#define MAX_SUITES 64
#define EXIT_SKIP 77

static const struct crshim_test *tests[MAX_TESTS];
static size_t n_tests;
static const struct crshim_suite *suites[MAX_SUITES];
static size_t n_suites;
static void (*cur_fini)(void);

void crshim_register(const struct crshim_test *t)
{
    if (n_tests < MAX_TESTS)
        tests[n_tests++] = t;
}

void crshim_register_suite(const struct crshim_suite *s)
{
    if (n_suites < MAX_SUITES)
        suites[n_suites++] = s;
}

static _Noreturn void end_case(int code)
{
    void (*fini)(void) = cur_fini;

    cur_fini = NULL; /* an assertion inside .fini must not loop */
    if (fini)
        fini();
    fflush(stdout);
    fflush(stderr);
    exit(code);
}

void crshim_fail(const char *file, int line, const char *expr, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "%s:%d: Assertion failed: %s:", file, line, expr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    end_case(1);
}

void crshim_skip(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "skipped:");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    end_case(EXIT_SKIP);
}

void crshim_log(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const struct crshim_opts *suite_opts(const char *name)
{
    static const struct crshim_opts none;

    for (size_t i = 0; i < n_suites; i++)
        if (!strcmp(suites[i]->name, name))
            return &suites[i]->opts;
    return &none;
}

static int by_name(const void *a, const void *b)
{
    const struct crshim_test *x = *(const struct crshim_test *const *)a;
    const struct crshim_test *y = *(const struct crshim_test *const *)b;
    int c = strcmp(x->suite, y->suite);

    return c ? c : strcmp(x->name, y->name);
}

static void run_case(const struct crshim_test *t, double def_timeout)
{
    const struct crshim_opts *so = suite_opts(t->suite);
    double to = t->opts.timeout > 0 ? t->opts.timeout : so->timeout > 0 ? so->timeout : def_timeout;

    alarm((unsigned)(to + 0.999));
    cur_fini = t->opts.fini ? t->opts.fini : so->fini;
    if (so->init)
        so->init();
    if (t->opts.init)
        t->opts.init();
    t->fn();
    end_case(0);
}

struct slot {
    pid_t pid;
    const struct crshim_test *t;
};

int main(int argc, char **argv)
{
    const char *filter = NULL;
    int jobs = 1, list = 0, passed = 0, failed = 0, skipped = 0;
    double def_timeout = 60;
    struct slot run[64] = {{0}};
    size_t next = 0;
    int busy = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--filter") && i + 1 < argc)
            filter = argv[++i];
        else if (!strncmp(a, "--filter=", 9))
            filter = a + 9;
        else if ((!strcmp(a, "--jobs") || !strcmp(a, "-j")) && i + 1 < argc)
            jobs = atoi(argv[++i]);
        else if (!strncmp(a, "--jobs=", 7))
            jobs = atoi(a + 7);
        else if (!strcmp(a, "--timeout") && i + 1 < argc)
            def_timeout = atof(argv[++i]);
        else if (!strcmp(a, "--list"))
            list = 1;
    }
    if (jobs < 1)
        jobs = 1;
    if (jobs > 64)
        jobs = 64;
    qsort(tests, n_tests, sizeof(tests[0]), by_name);
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (;;) {
        while (busy < jobs && next < n_tests) {
            const struct crshim_test *t = tests[next++];
            char full[256];
            int k;

            snprintf(full, sizeof(full), "%s/%s", t->suite, t->name);
            if (t->opts.disabled || (filter && fnmatch(filter, full, 0) != 0))
                continue;
            if (list) {
                printf("%s\n", full);
                continue;
            }
            fflush(stdout);
            fflush(stderr);
            for (k = 0; run[k].pid; k++)
                ;
            run[k].t = t;
            run[k].pid = fork();
            if (run[k].pid == 0)
                run_case(t, def_timeout);
            if (run[k].pid < 0) {
                printf("[FAIL] %s: fork failed\n", full);
                failed++;
                run[k].pid = 0;
                continue;
            }
            busy++;
        }
        if (!busy)
            break;
        int st;
        pid_t pid = wait(&st);
        if (pid < 0)
            break;
        for (int k = 0; k < 64; k++) {
            if (run[k].pid != pid)
                continue;
            const struct crshim_test *t = run[k].t;
            run[k].pid = 0;
            busy--;
            if (WIFEXITED(st) && WEXITSTATUS(st) == 0) {
                passed++;
                printf("[PASS] %s/%s\n", t->suite, t->name);
            } else if (WIFEXITED(st) && WEXITSTATUS(st) == EXIT_SKIP) {
                skipped++;
                printf("[SKIP] %s/%s\n", t->suite, t->name);
            } else {
                failed++;
                if (WIFSIGNALED(st))
                    printf("[FAIL] %s/%s: killed by signal %d%s\n", t->suite, t->name,
                           WTERMSIG(st), WTERMSIG(st) == SIGALRM ? " (timeout)" : "");
                else
                    printf("[FAIL] %s/%s: exit %d\n", t->suite, t->name, WEXITSTATUS(st));
            }
        }
    }
    if (!list)
        printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped);
    return failed ? 1 : 0;
}
