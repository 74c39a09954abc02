/*
 * test_storage.c — a node's disk (raft_storage_*) on the fault env: round
 * trips, suffix replacement, the torn tail cut at open, corruption refused,
 * snapshots with their term and the log rewritten after them, and a crash
 * at every mutation of a scripted history (every fsync point): after each,
 * the reopened state holds everything acknowledged and nothing invented.
 *
 * Envs and open storages are owned by the test (kvtest.h's kvt_own): the
 * suite's .fini closes and frees what a failed assertion left, so a failing
 * test reports no leak. In this file raft_storage_close() and kv_env_free()
 * forget the owned object first; kv_env_fault_new() owns what it makes.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvtest.h"
#include "raft_node.h"

static void storage_close_owned(void *st)
{
    raft_storage_close(st);
}

static void env_free_owned(void *env)
{
    kv_env_free(env);
}

static void close_storage(raft_storage *st)
{
    kvt_disown(st);
    raft_storage_close(st);
}

static void free_env(kv_env *env)
{
    kvt_disown(env);
    kv_env_free(env);
}

#define raft_storage_close(st) close_storage(st)
#define kv_env_free(env) free_env(env)
#define kv_env_fault_new(n) ((kv_env *)kvt_own(kv_env_fault_new(n), env_free_owned))

TestSuite(storage, .fini = kvt_release_owned);

static raft_entry ent(uint64_t index, uint64_t term, const char *s)
{
    return (raft_entry){ .term = term, .index = index, .type = RAFT_ENTRY_NORMAL,
                         .len = (uint32_t)strlen(s), .data = (uint8_t *)s };
}

static kv_env *fresh(void)
{
    kv_env *env = kv_env_fault_new(1);
    cr_assert(env);
    return env;
}

static void reopen(kv_env *env, raft_storage **st, raft_boot *boot)
{
    if (*st)
        raft_storage_close(*st);
    *st = NULL;
    int rc = raft_storage_open(env, "/n", st, boot);
    cr_assert_eq(rc, KV_OK, "open: %s", kv_last_error());
    kvt_own(*st, storage_close_owned);
}

Test(storage, round_trip)
{
    kv_env *env = fresh();
    raft_storage *st = NULL;
    raft_boot boot;
    reopen(env, &st, &boot);
    cr_assert_eq(boot.hs.term, 0);
    cr_assert_eq(boot.hs.vote, RAFT_NONE);
    cr_assert_eq(boot.n_entries, 0);
    raft_boot_free(&boot);
    raft_hard_state hs = { .term = 3, .vote = 2, .commit = 1 };
    cr_assert_eq(raft_storage_save_hs(st, &hs), 0);
    hs.term = 4;
    hs.vote = RAFT_NONE;
    cr_assert_eq(raft_storage_save_hs(st, &hs), 0);
    raft_entry e[] = { ent(1, 1, "a"), ent(2, 1, "bb"), ent(3, 4, "") };
    cr_assert_eq(raft_storage_append(st, e, 3), 0);
    reopen(env, &st, &boot);
    cr_assert_eq(boot.hs.term, 4, "the newer hard-state slot wins");
    cr_assert_eq(boot.hs.vote, RAFT_NONE);
    cr_assert_eq(boot.n_entries, 3);
    cr_assert_eq(boot.entries[1].len, 2);
    cr_assert_eq(memcmp(boot.entries[1].data, "bb", 2), 0);
    cr_assert_eq(boot.entries[2].term, 4);
    raft_boot_free(&boot);
    raft_storage_close(st);
    kv_env_free(env);
}

Test(storage, append_replaces_the_suffix)
{
    kv_env *env = fresh();
    raft_storage *st = NULL;
    raft_boot boot;
    reopen(env, &st, &boot);
    raft_boot_free(&boot);
    raft_entry e[] = { ent(1, 1, "a"), ent(2, 1, "b"), ent(3, 1, "c") };
    cr_assert_eq(raft_storage_append(st, e, 3), 0);
    raft_entry f[] = { ent(2, 2, "X") };
    cr_assert_eq(raft_storage_append(st, f, 1), 0);
    raft_entry gap[] = { ent(5, 2, "g") };
    cr_assert_eq(raft_storage_append(st, gap, 1), KV_EINVAL);
    reopen(env, &st, &boot);
    cr_assert_eq(boot.n_entries, 2, "entry 3 must be gone");
    cr_assert_eq(boot.entries[1].term, 2);
    cr_assert_eq(boot.entries[1].data[0], 'X');
    raft_boot_free(&boot);
    raft_storage_close(st);
    kv_env_free(env);
}

Test(storage, torn_tail_is_cut)
{
    kv_env *env = fresh();
    raft_storage *st = NULL;
    raft_boot boot;
    reopen(env, &st, &boot);
    raft_boot_free(&boot);
    raft_entry e[] = { ent(1, 1, "a"), ent(2, 1, "b") };
    cr_assert_eq(raft_storage_append(st, e, 2), 0);
    raft_storage_close(st);
    st = NULL;
    /* Half a record at the end, as a crash in the middle of an append. */
    kv_file *f;
    uint64_t size;
    cr_assert_eq(kv_env_open(env, "/n/log", KV_O_RDWR, &f), 0);
    cr_assert_eq(kv_file_size(f, &size), 0);
    cr_assert_eq(kv_file_pwrite(f, "\x30\0\0\0\x11\x22", 6, size), 0);
    kv_file_close(f);
    reopen(env, &st, &boot);
    cr_assert_eq(boot.n_entries, 2);
    raft_boot_free(&boot);
    uint64_t after;
    bool dir;
    cr_assert_eq(kv_env_stat(env, "/n/log", &after, &dir), 0);
    cr_assert_eq(after, size, "the torn tail must be truncated away");
    raft_entry g[] = { ent(3, 1, "c") };
    cr_assert_eq(raft_storage_append(st, g, 1), 0);
    reopen(env, &st, &boot);
    cr_assert_eq(boot.n_entries, 3);
    raft_boot_free(&boot);
    raft_storage_close(st);
    kv_env_free(env);
}

Test(storage, corrupt_record_before_the_end_is_refused)
{
    kv_env *env = fresh();
    raft_storage *st = NULL;
    raft_boot boot;
    reopen(env, &st, &boot);
    raft_boot_free(&boot);
    raft_entry e[] = { ent(1, 1, "abc"), ent(2, 1, "def") };
    cr_assert_eq(raft_storage_append(st, e, 2), 0);
    raft_storage_close(st);
    cr_assert_eq(kv_env_fault_flip(env, "/n/log", 26, 0), 0); /* inside entry 1's data */
    st = NULL;
    cr_assert_eq(raft_storage_open(env, "/n", &st, &boot), KV_ECORRUPT);
    cr_assert_null(st);
    kv_env_free(env);
}

Test(storage, corrupt_last_record_is_a_torn_tail)
{
    kv_env *env = fresh();
    raft_storage *st = NULL;
    raft_boot boot;
    reopen(env, &st, &boot);
    raft_boot_free(&boot);
    raft_entry e[] = { ent(1, 1, "abc"), ent(2, 1, "def") };
    cr_assert_eq(raft_storage_append(st, e, 2), 0);
    raft_storage_close(st);
    cr_assert_eq(kv_env_fault_flip(env, "/n/log", 28 + 26, 3), 0); /* entry 2's data */
    st = NULL;
    reopen(env, &st, &boot);
    cr_assert_eq(boot.n_entries, 1);
    raft_boot_free(&boot);
    raft_storage_close(st);
    kv_env_free(env);
}

Test(storage, snapshot_keeps_its_term_and_the_log_after_it)
{
    kv_env *env = fresh();
    raft_storage *st = NULL;
    raft_boot boot;
    reopen(env, &st, &boot);
    raft_boot_free(&boot);
    raft_entry e[] = { ent(1, 1, "a"), ent(2, 2, "b"), ent(3, 2, "c"), ent(4, 3, "d") };
    cr_assert_eq(raft_storage_append(st, e, 4), 0);
    raft_snapshot snap = { .index = 3, .term = 2, .len = 5, .data = (uint8_t *)"STATE" };
    cr_assert_eq(raft_storage_save_snapshot(st, &snap, &e[3], 1), 0);
    raft_entry f[] = { ent(5, 3, "e") };
    cr_assert_eq(raft_storage_append(st, f, 1), 0);
    reopen(env, &st, &boot);
    cr_assert_eq(boot.snap.index, 3);
    cr_assert_eq(boot.snap.term, 2, "the snapshot forgot its last included term");
    cr_assert_eq(boot.snap.len, 5);
    cr_assert_eq(memcmp(boot.snap.data, "STATE", 5), 0);
    cr_assert_eq(boot.n_entries, 2);
    cr_assert_eq(boot.entries[0].index, 4);
    cr_assert_eq(boot.entries[1].index, 5);
    cr_assert_geq(boot.hs.commit, 3, "a snapshot is committed");
    raft_boot_free(&boot);
    /* A snapshot received from the leader replaces the whole log. */
    raft_snapshot snap2 = { .index = 9, .term = 4, .len = 1, .data = (uint8_t *)"Z" };
    cr_assert_eq(raft_storage_save_snapshot(st, &snap2, NULL, 0), 0);
    raft_entry g[] = { ent(10, 4, "g") };
    cr_assert_eq(raft_storage_append(st, g, 1), 0);
    reopen(env, &st, &boot);
    cr_assert_eq(boot.snap.index, 9);
    cr_assert_eq(boot.n_entries, 1);
    cr_assert_eq(boot.entries[0].index, 10);
    raft_boot_free(&boot);
    raft_storage_close(st);
    kv_env_free(env);
}

/* The scripted history: what is acknowledged after each step. */
typedef struct acked {
    uint64_t term;
    uint32_t vote;
    uint64_t snap_index;
    size_t n;           /* entries 1..n acknowledged (after the snapshot) */
    uint64_t terms[8];  /* their terms */
} acked;

static int script(raft_storage *st, acked *a)
{
    int rc;
    raft_hard_state hs = { .term = 1, .vote = 0 };
    if ((rc = raft_storage_save_hs(st, &hs)))
        return rc;
    a->term = 1;
    a->vote = 0;
    raft_entry e[] = { ent(1, 1, "one"), ent(2, 1, "two"), ent(3, 1, "three") };
    if ((rc = raft_storage_append(st, e, 3)))
        return rc;
    a->n = 3;
    a->terms[1] = a->terms[2] = a->terms[3] = 1;
    hs = (raft_hard_state){ .term = 2, .vote = 1, .commit = 1 };
    if ((rc = raft_storage_save_hs(st, &hs)))
        return rc;
    a->term = 2;
    a->vote = 1;
    raft_entry f[] = { ent(3, 2, "THREE"), ent(4, 2, "four") };
    /* Replacing entry 3 gives up the old one (a conflicting entry is never
     * committed): from here either may survive a crash, or neither. */
    a->n = 2;
    if ((rc = raft_storage_append(st, f, 2)))
        return rc;
    a->n = 4;
    a->terms[3] = a->terms[4] = 2;
    raft_snapshot snap = { .index = 2, .term = 1, .len = 3, .data = (uint8_t *)"S12" };
    if ((rc = raft_storage_save_snapshot(st, &snap, f, 2)))
        return rc;
    a->snap_index = 2;
    raft_entry g[] = { ent(5, 2, "five") };
    if ((rc = raft_storage_append(st, g, 1)))
        return rc;
    a->n = 5;
    a->terms[5] = 2;
    return 0;
}

Test(storage, crash_at_every_mutation)
{
    for (int mode = 0; mode < 2; mode++) {
        bool finished = false;
        for (uint64_t nth = 1; nth < 200 && !finished; nth++) {
            kv_env *env = kv_env_fault_new(nth);
            raft_storage *st = NULL;
            raft_boot boot;
            reopen(env, &st, &boot);
            raft_boot_free(&boot);
            kv_env_fault_crash_after(env, nth, mode ? KV_CRASH_TORN : KV_CRASH_DROP);
            acked a = { .vote = RAFT_NONE };
            finished = script(st, &a) == 0 && !kv_env_fault_crashed(env);
            if (finished) { /* power off after the last fsync: all of it must survive */
                kv_env_fault_crash_after(env, 0, KV_CRASH_DROP);
                kv_env_fault_crash(env, mode ? KV_CRASH_TORN : KV_CRASH_DROP);
            }
            raft_storage_close(st);
            st = NULL;
            if (kv_env_fault_crashed(env))
                kv_env_fault_reboot(env);
            reopen(env, &st, &boot);
            cr_assert_geq(boot.hs.term, a.term, "nth %llu: lost an acknowledged term",
                          (unsigned long long)nth);
            if (boot.hs.term == a.term)
                cr_assert_eq(boot.hs.vote, a.vote, "nth %llu: lost an acknowledged vote",
                             (unsigned long long)nth);
            cr_assert_geq(boot.snap.index, a.snap_index);
            uint64_t have = boot.snap.index + boot.n_entries;
            cr_assert_geq(have, a.snap_index + (a.n > a.snap_index ? a.n - a.snap_index : 0),
                          "nth %llu mode %d: lost an acknowledged entry (have %llu, acked %zu)",
                          (unsigned long long)nth, mode, (unsigned long long)have, a.n);
            for (size_t i = 0; i < boot.n_entries; i++) {
                uint64_t idx = boot.entries[i].index;
                cr_assert_eq(idx, boot.snap.index + 1 + i, "entries out of sequence");
                if (idx <= a.n)
                    cr_assert_eq(boot.entries[i].term, a.terms[idx],
                                 "nth %llu: index %llu has term %llu, acked %llu",
                                 (unsigned long long)nth, (unsigned long long)idx,
                                 (unsigned long long)boot.entries[i].term,
                                 (unsigned long long)a.terms[idx]);
            }
            raft_boot_free(&boot);
            raft_storage_close(st);
            kv_env_free(env);
        }
        cr_assert(finished, "the script never ran to completion");
    }
}
