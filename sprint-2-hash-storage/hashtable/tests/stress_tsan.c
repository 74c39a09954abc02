/*
 * stress_tsan.c — the concurrency stress test (tests/stress.h) as a plain
 * program, for ThreadSanitizer.
 *
 * TSan and Criterion do not get along (Criterion's runner re-executes
 * itself and forks per test), so tests/tsan_stress.sh builds this file and
 * the lab with -fsanitize=thread and runs it; it is also an ordinary plain
 * test of `make test` (under AddressSanitizer). Every strategy, through the
 * core API and through the engine. Any data race makes TSan print a report
 * and exit non-zero (tsan_stress.sh sets halt_on_error); a wrong result is
 * a failed case. Prints one line per case and "N passed, N failed".
 *
 * STRESS_OPS in the environment sets the operations per worker (default
 * 20000, small enough for TSan's ~10x slowdown).
 */
#include <stdio.h>
#include <stdlib.h>

#include "stress.h"

int main(void)
{
    static const char *engine_opts[] = {"strategy=chaining,buckets=64,shards=4",
                                        "strategy=robinhood,buckets=64,shards=4,resize=all",
                                        "strategy=swiss,buckets=64,shards=2,hash=fnv1a"};
    const char *env = getenv("STRESS_OPS");
    unsigned ops = env ? (unsigned)strtoul(env, NULL, 10) : 20000;
    int passed = 0, failed = 0;
    char detail[256];

    for (int s = 0; s < HT_NSTRATEGIES; s++) {
        ht_table *t = tt_new(tt_all[s], 64, 4, HT_RESIZE_INCREMENTAL, NULL);
        const char *fail = t ? stress_run((struct stress_target){.t = t}, ops, detail,
                                          sizeof(detail))
                             : "cannot create the table";
        printf("%s core %s%s%s\n", fail ? "FAIL" : "ok  ", ht_strategy_name(tt_all[s]),
               fail ? ": " : "", fail ? detail : "");
        fail ? failed++ : passed++;
        tt_free(t);
    }
    for (size_t i = 0; i < sizeof(engine_opts) / sizeof(engine_opts[0]); i++) {
        kv_db *db = NULL;
        const char *fail = kv_open("hash", NULL, engine_opts[i], &db) != KV_OK
                               ? "cannot open the engine"
                               : stress_run((struct stress_target){.db = db}, ops, detail,
                                            sizeof(detail));
        printf("%s engine %s%s%s\n", fail ? "FAIL" : "ok  ", engine_opts[i], fail ? ": " : "",
               fail ? detail : "");
        fail ? failed++ : passed++;
        kv_close(db);
    }
    printf("%d passed, %d failed\n", passed, failed);
    return failed != 0;
}
