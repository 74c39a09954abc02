/*
 * test_kvtest.c — the shared test kit's ownership table (kvtest.h's
 * kvt_own / kvt_disown / kvt_drop / kvt_release_owned).
 *
 * Every lab's tests lean on it to free what a failed assertion left, so it
 * is tested like course code: the objects are freed newest first even after
 * an older slot was emptied (a store made on an env must close before the
 * env is freed), a dropped or disowned object is never freed twice, and a
 * table filled to the end with holes in it closes them in order instead of
 * aborting.
 */
#include <criterion/criterion.h>

#include "kvtest.h"

/* the order in which release freed the objects, by their tag */
static int freed[KVT_OWN_MAX + 4];
static int n_freed;

static void note_free(void *p)
{
    freed[n_freed++] = *(int *)p;
}

static void reset(void)
{
    n_freed = 0;
}

TestSuite(own, .init = reset, .fini = kvt_release_owned);

Test(own, release_frees_newest_first_after_a_hole)
{
    static int a = 1, b = 2, c = 3;
    kvt_own(&a, note_free);
    kvt_own(&b, note_free);
    kvt_disown(&a); /* slot 0 is free again */
    kvt_own(&c, note_free); /* made after b: must be freed before b */
    kvt_release_owned();
    cr_assert_eq(n_freed, 2);
    cr_assert_eq(freed[0], 3, "newest (3) first, got %d", freed[0]);
    cr_assert_eq(freed[1], 2);
}

Test(own, drop_frees_once)
{
    static int a = 7;
    kvt_own(&a, note_free);
    cr_assert_eq(kvt_drop(&a), 1);
    cr_assert_eq(kvt_drop(&a), 0, "a second drop frees nothing");
    kvt_release_owned();
    cr_assert_eq(n_freed, 1);
}

Test(own, full_table_with_holes_compacts_in_order)
{
    static int tag[KVT_OWN_MAX + 1];
    for (int i = 0; i < KVT_OWN_MAX; i++) {
        tag[i] = i;
        kvt_own(&tag[i], note_free);
    }
    for (int i = 0; i < KVT_OWN_MAX; i += 2)
        kvt_disown(&tag[i]); /* the even ones are freed by the test itself */
    tag[KVT_OWN_MAX] = KVT_OWN_MAX;
    kvt_own(&tag[KVT_OWN_MAX], note_free); /* the last slot was taken: compacts */
    kvt_release_owned();
    cr_assert_eq(n_freed, KVT_OWN_MAX / 2 + 1);
    cr_assert_eq(freed[0], KVT_OWN_MAX, "the newest first");
    for (int i = 1; i < n_freed; i++)
        cr_assert(freed[i] < freed[i - 1], "freed in reverse order: %d after %d", freed[i],
                  freed[i - 1]);
}
