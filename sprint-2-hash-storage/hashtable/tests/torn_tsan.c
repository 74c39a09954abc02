/*
 * torn_tsan.c — the lookup-safety tests (tests/torn.h) as a plain program:
 * torn reads, reused arena cells, resizes under readers, and the lock-free
 * fast path, for every strategy through the core API and for two strategies
 * through the `hash` engine.
 *
 * It runs twice: as an ordinary plain test of `make test` (under
 * AddressSanitizer, which sees a reader touching a freed entry or array),
 * and built with -fsanitize=thread by tests/tsan_stress.sh (after
 * stress_tsan), where any data race stops the run. A wrong value, a lost
 * key or a broken invariant is a failed case. Prints one line per case
 * (with its time) and "N passed, N failed"; exits non-zero on a failure.
 *
 * Environment: TORN_OPS, the writes per writer (default 20000, small enough
 * for TSan's slowdown); TORN_SECS, the wall-clock cap of one case (default
 * 10; reaching it ends the case early, and its line says so); TORN_ONLY,
 * run only the cases whose name contains it (to look at one case, or one
 * mutant of the core at a time).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "torn.h"

static int passed, failed;

/* Whether to run the case named what (TORN_ONLY). */
static bool wanted(const char *what)
{
    const char *only = getenv("TORN_ONLY");

    return !only || strstr(what, only);
}

static void report(const char *fail, const char *what, const char *detail, double t0)
{
    printf("%s %s (%.1f s)%s%s\n", fail ? "FAIL" : "ok  ", what, tn_now() - t0, *detail ? ": " : "",
           detail);
    fflush(stdout);
    fail ? failed++ : passed++;
}

int main(void)
{
    static const char *engine_opts[] = {"strategy=swiss,buckets=64,shards=2",
                                        "strategy=chaining,buckets=64,shards=2",
                                        "strategy=swiss,buckets=64,shards=2,resize=all"};
    static const char *case_name[] = {"torn reads", "arena reuse", "resize under readers"};
    const char *env = getenv("TORN_OPS"), *senv = getenv("TORN_SECS");
    unsigned ops = env ? (unsigned)strtoul(env, NULL, 10) : 20000;
    double secs = senv ? strtod(senv, NULL) : 10;
    char what[160], detail[256];

    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_strategy st = tt_all[s];
        for (int c = TN_TORN; c <= TN_RESIZE; c++) {
            for (int m = HT_RESIZE_INCREMENTAL; m <= (c == TN_RESIZE ? HT_RESIZE_ALL : 0); m++) {
                double t0 = tn_now();
                snprintf(what, sizeof(what), "core %s %s%s", ht_strategy_name(st), case_name[c],
                         m == HT_RESIZE_ALL ? " (resize=all)" : "");
                if (!wanted(what))
                    continue;
                ht_table *t = tt_new(st, 64, 2, (ht_resize_mode)m, NULL);
                const char *fail = t ? tn_run((struct tn_target){.t = t}, (enum tn_case)c, ops,
                                              secs, detail, sizeof(detail))
                                     : "cannot create the table";
                report(fail, what, t ? detail : fail, t0);
                tt_free(t);
            }
        }
        double t0 = tn_now();
        snprintf(what, sizeof(what), "core %s fast path", ht_strategy_name(st));
        if (!wanted(what))
            continue;
        ht_table *t = tt_new(st, 64, 2, HT_RESIZE_INCREMENTAL, NULL);
        const char *fail =
            t ? tn_fastpath(t, 1000, detail, sizeof(detail)) : "cannot create the table";
        report(fail, what, t ? detail : fail, t0);
        tt_free(t);
    }
    for (size_t i = 0; i < sizeof(engine_opts) / sizeof(engine_opts[0]); i++) {
        for (int c = i == 2 ? TN_RESIZE : TN_TORN; c <= TN_RESIZE; c++) {
            double t0 = tn_now();
            kv_db *db = NULL;
            snprintf(what, sizeof(what), "engine %s %s", engine_opts[i], case_name[c]);
            if (!wanted(what))
                continue;
            const char *fail = kv_open("hash", NULL, engine_opts[i], &db) != KV_OK
                                   ? "cannot open the engine"
                                   : tn_run((struct tn_target){.db = db}, (enum tn_case)c, ops,
                                            secs, detail, sizeof(detail));
            report(fail, what, db ? detail : fail, t0);
            kv_close(db);
        }
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
