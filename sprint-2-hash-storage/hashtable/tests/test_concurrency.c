/*
 * test_concurrency.c — the concurrency stress test (tests/stress.h) on every
 * strategy, through the core API and through the `hash` engine, under
 * AddressSanitizer (the `make test` variant). The same test runs under
 * ThreadSanitizer as a plain program (stress_tsan.c, tests/tsan_stress.sh):
 * Criterion's runner and TSan do not mix well, so it is built on its own.
 *
 * Below it, a short run of the lookup-safety cases (tests/torn.h: torn
 * reads, reused cells, resizes under readers, the lock-free fast path) on
 * every strategy and through the engine; torn_tsan.c runs the full set
 * (under ASan in `make test`, and under TSan).
 */
#include <criterion/criterion.h>
#include "kv_assert.h"

#define KVT_OWN_STORES /* the stores a test opens are closed by the suite's .fini (kvtest.h) */
#include "stress.h"
#include "torn.h"

TestSuite(concurrency, .timeout = 120, .fini = kvt_release_owned);

static void run_core(ht_strategy s, ht_resize_mode mode)
{
    ht_table *t = tt_new(s, 64, 4, mode, NULL);
    char detail[256];
    const char *fail;

    cr_assert_not_null(t);
    fail = stress_run((struct stress_target){.t = t}, 60000, detail, sizeof(detail));
    cr_assert_null(fail, "%s: %s", ht_strategy_name(s), detail);
    ht_stats st = tt_stats(t);
    cr_assert_gt(st.resizes, 4 * 5, "%s: the table should have grown under contention",
                 ht_strategy_name(s));
    tt_free(t);
}

Test(concurrency, core_chaining) { run_core(HT_CHAINING, HT_RESIZE_INCREMENTAL); }
Test(concurrency, core_linear) { run_core(HT_LINEAR, HT_RESIZE_INCREMENTAL); }
Test(concurrency, core_robinhood) { run_core(HT_ROBINHOOD, HT_RESIZE_INCREMENTAL); }
Test(concurrency, core_swiss) { run_core(HT_SWISS, HT_RESIZE_INCREMENTAL); }
Test(concurrency, core_swiss_resize_all) { run_core(HT_SWISS, HT_RESIZE_ALL); }

static void run_engine(const char *opts)
{
    kv_db *db = NULL;
    char detail[256];
    const char *fail;

    cr_assert_eq(kv_open("hash", NULL, opts, &db), KV_OK, "%s: %s", opts, kv_last_error());
    fail = stress_run((struct stress_target){.db = db}, 40000, detail, sizeof(detail));
    cr_assert_null(fail, "%s: %s", opts, detail);
    cr_assert_eq(kv_close(db), KV_OK);
}

Test(concurrency, engine_linear) { run_engine("strategy=linear,buckets=64,shards=4"); }
Test(concurrency, engine_swiss) { run_engine("strategy=swiss,buckets=64,shards=4,hash=crc32c"); }

/* The lookup-safety cases, short (5000 writes per writer), on a fresh table
 * of strategy s, or a fresh engine opened with opts when opts is set. */
static void run_torn(ht_strategy s, const char *opts)
{
    const char *name = opts ? opts : ht_strategy_name(s);
    char detail[256];

    for (int c = TN_TORN; c <= TN_RESIZE; c++) {
        ht_table *t = NULL;
        kv_db *db = NULL;
        const char *fail;
        if (opts)
            cr_assert_eq(kv_open("hash", NULL, opts, &db), KV_OK, "%s: %s", opts,
                         kv_last_error());
        else
            cr_assert_not_null(t = tt_new(s, 64, 2, HT_RESIZE_INCREMENTAL, NULL));
        fail = tn_run((struct tn_target){.t = t, .db = db}, (enum tn_case)c, 5000, 10, detail,
                      sizeof(detail));
        cr_assert_null(fail, "%s, case %d: %s", name, c, detail);
        tt_free(t);
        if (db)
            cr_assert_eq(kv_close(db), KV_OK);
    }
    if (!opts) {
        ht_table *t = tt_new(s, 64, 2, HT_RESIZE_INCREMENTAL, NULL);
        cr_assert_not_null(t);
        cr_assert_null(tn_fastpath(t, 500, detail, sizeof(detail)), "%s: %s", name, detail);
        tt_free(t);
    }
}

Test(concurrency, torn_chaining) { run_torn(HT_CHAINING, NULL); }
Test(concurrency, torn_linear) { run_torn(HT_LINEAR, NULL); }
Test(concurrency, torn_robinhood) { run_torn(HT_ROBINHOOD, NULL); }
Test(concurrency, torn_swiss) { run_torn(HT_SWISS, NULL); }
Test(concurrency, torn_engine_swiss) { run_torn(HT_SWISS, "strategy=swiss,buckets=64,shards=2"); }
Test(concurrency, torn_engine_chaining)
{
    run_torn(HT_CHAINING, "strategy=chaining,buckets=64,shards=2");
}
