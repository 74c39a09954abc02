/*
 * test_dispatch.c — Criterion tests of the dispatcher and of the ops-table
 * engines (dispatch.h).
 *
 * Suites "dispatch" (named handlers) and "set_ops" (the two string-set
 * engines behind one front end). The set tests run the same scenario on
 * every engine of the registry, which is how common/'s conformance suite
 * runs one set of cases on every kv engine.
 *
 * The test allocator (alloc_fail.h) fails the Nth allocation on demand:
 * set_open() and set_add() run with each of their allocations failing in
 * turn, on every engine, and must return -ENOMEM with the set unchanged
 * and no block leaked (af_live()).
 */
#include <criterion/criterion.h>
#include "kv_assert.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc_fail.h"
#include "dispatch.h"

/* --- handlers for the dispatcher tests: ctx is a struct calc --- */

struct calc {
    long value;
    int calls;
    char last_arg[32];
};

static int h_add(void *ctx, const char *arg)
{
    struct calc *c = ctx;
    c->value += atol(arg);
    c->calls++;
    snprintf(c->last_arg, sizeof c->last_arg, "%s", arg);
    return 0;
}

static int h_neg(void *ctx, const char *arg)
{
    struct calc *c = ctx;
    c->value = -c->value;
    c->calls++;
    snprintf(c->last_arg, sizeof c->last_arg, "%s", arg);
    return 7; /* a handler's own status, handed back through result */
}

static int h_dummy(void *ctx, const char *arg)
{
    (void)ctx;
    (void)arg;
    return 0;
}

Test(dispatch, register_and_dispatch)
{
    disp_table t;
    disp_init(&t);
    cr_assert_eq(disp_register(&t, "add", h_add), 0);
    cr_assert_eq(disp_register(&t, "neg", h_neg), 0);
    cr_assert_eq(t.count, 2);
    struct calc c = {0, 0, ""};
    int result = -1;
    cr_assert_eq(disp_dispatch(&t, "add", &c, "40", &result), 0);
    cr_assert_eq(result, 0);
    cr_assert_eq(c.value, 40);
    cr_assert_eq(disp_dispatch(&t, "neg", &c, NULL, &result), 0);
    cr_assert_eq(result, 7, "the handler's return value comes back in result");
    cr_assert_eq(c.value, -40);
    cr_assert_str_eq(c.last_arg, "", "a NULL arg reaches the handler as \"\"");
    cr_assert_eq(c.calls, 2);
    cr_assert_eq(disp_dispatch(&t, "add", &c, "2", NULL), 0, "result may be NULL");
    cr_assert_eq(c.value, -38);
}

Test(dispatch, unknown_name_is_clear_error)
{
    disp_table t;
    disp_init(&t);
    cr_assert_eq(disp_register(&t, "push", h_dummy), 0);
    cr_assert_eq(disp_register(&t, "pop", h_dummy), 0);
    int result = 99;
    cr_assert_eq(disp_dispatch(&t, "psh", NULL, "", &result), -ENOENT);
    cr_assert_eq(result, 99, "no handler ran");
    char msg[128];
    size_t n = disp_format_error(&t, -ENOENT, "psh", msg, sizeof msg);
    cr_assert_str_eq(msg, "unknown command 'psh' (known: push, pop)");
    cr_assert_eq(n, strlen(msg));
    cr_assert_eq(disp_dispatch(&t, "", NULL, "", NULL), -ENOENT);
    cr_assert_eq(disp_dispatch(&t, "Push", NULL, "", NULL), -ENOENT, "names are case-sensitive");
    cr_assert_eq(disp_dispatch(NULL, "push", NULL, "", NULL), -EINVAL);
    cr_assert_eq(disp_dispatch(&t, NULL, NULL, "", NULL), -EINVAL);
}

Test(dispatch, register_errors_leave_table_unchanged)
{
    disp_table t;
    disp_init(&t);
    cr_assert_eq(disp_register(&t, "a", h_dummy), 0);
    cr_assert_eq(disp_register(&t, "a", h_add), -EEXIST);
    cr_assert_eq(disp_register(&t, NULL, h_dummy), -EINVAL);
    cr_assert_eq(disp_register(&t, "", h_dummy), -EINVAL);
    cr_assert_eq(disp_register(&t, "two words", h_dummy), -EINVAL);
    cr_assert_eq(disp_register(&t, "b", NULL), -EINVAL);
    cr_assert_eq(disp_register(NULL, "b", h_dummy), -EINVAL);
    char longname[DISP_NAME_MAX + 2];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cr_assert_eq(disp_register(&t, longname, h_dummy), -EINVAL);
    longname[DISP_NAME_MAX] = '\0'; /* exactly DISP_NAME_MAX is fine */
    cr_assert_eq(disp_register(&t, longname, h_dummy), 0);
    cr_assert_eq(t.count, 2);
    const struct disp_ops *op = disp_find(&t, "a");
    cr_assert_not_null(op);
    cr_assert_eq(op->handler, h_dummy, "the duplicate did not replace the first");
}

Test(dispatch, table_full)
{
    static char names[DISP_MAX + 1][16];
    disp_table t;
    disp_init(&t);
    for (int i = 0; i < DISP_MAX; i++) {
        snprintf(names[i], sizeof names[i], "c%d", i);
        cr_assert_eq(disp_register(&t, names[i], h_dummy), 0, "entry %d", i);
    }
    snprintf(names[DISP_MAX], sizeof names[DISP_MAX], "extra");
    cr_assert_eq(disp_register(&t, names[DISP_MAX], h_dummy), -ENOSPC);
    cr_assert_eq(t.count, DISP_MAX);
    cr_assert_not_null(disp_find(&t, "c31"));
    cr_assert_null(disp_find(&t, "extra"));
}

Test(dispatch, register_all_is_atomic)
{
    static const struct disp_ops good[] = {{"add", h_add}, {"neg", h_neg}, {NULL, NULL}};
    static const struct disp_ops bad[] = {{"x", h_dummy}, {"add", h_dummy}, {NULL, NULL}};
    disp_table t;
    disp_init(&t);
    cr_assert_eq(disp_register_all(&t, good), 0);
    cr_assert_eq(t.count, 2);
    cr_assert_eq(disp_register_all(&t, bad), -EEXIST, "\"add\" is a duplicate");
    cr_assert_eq(t.count, 2, "\"x\" was rolled back");
    cr_assert_null(disp_find(&t, "x"));
}

Test(dispatch, run_line_splits_name_and_argument)
{
    static const struct disp_ops cmds[] = {{"add", h_add}, {"neg", h_neg}, {NULL, NULL}};
    disp_table t;
    disp_init(&t);
    cr_assert_eq(disp_register_all(&t, cmds), 0);
    struct calc c = {0, 0, ""};
    int result = -1;
    cr_assert_eq(disp_run_line(&t, &c, "add 5", &result), 0);
    cr_assert_eq(c.value, 5);
    cr_assert_eq(disp_run_line(&t, &c, "   add    10 trailing words", &result), 0);
    cr_assert_str_eq(c.last_arg, "10 trailing words");
    cr_assert_eq(c.value, 15);
    cr_assert_eq(disp_run_line(&t, &c, "neg", &result), 0);
    cr_assert_eq(result, 7);
    cr_assert_str_eq(c.last_arg, "");
    cr_assert_eq(c.value, -15);
    cr_assert_eq(disp_run_line(&t, &c, "mul 3", &result), -ENOENT);
    cr_assert_eq(disp_run_line(&t, &c, "    ", &result), -EINVAL);
    cr_assert_eq(disp_run_line(&t, &c, "addddddddddddddddddddddddddddddddddddddd 1", NULL),
                 -ENOENT);
    cr_assert_eq(c.calls, 3);
}

Test(dispatch, run_line_name_of_maximum_length)
{
    /* A name of exactly DISP_NAME_MAX characters is valid: it registers
     * (register_errors_leave_table_unchanged) and it must also dispatch from
     * a command line, where one character more is already "unknown". */
    char name[DISP_NAME_MAX + 1], line[DISP_NAME_MAX + 8];
    memset(name, 'm', DISP_NAME_MAX);
    name[DISP_NAME_MAX] = '\0';
    disp_table t;
    disp_init(&t);
    cr_assert_eq(disp_register(&t, name, h_add), 0);
    struct calc c = {0, 0, ""};
    int result = -1;
    snprintf(line, sizeof line, "%s 7", name);
    cr_assert_eq(disp_run_line(&t, &c, line, &result), 0, "a name of DISP_NAME_MAX characters");
    cr_assert_eq(result, 0);
    cr_assert_eq(c.value, 7);
    snprintf(line, sizeof line, "%sm 7", name);
    cr_assert_eq(disp_run_line(&t, &c, line, &result), -ENOENT, "one character longer");
    cr_assert_eq(c.calls, 1);
    /* and one character shorter: a prefix of the longest name (a registered
     * name is borrowed, so it gets a buffer of its own) */
    char shorter[DISP_NAME_MAX];
    memset(shorter, 'm', DISP_NAME_MAX - 1);
    shorter[DISP_NAME_MAX - 1] = '\0';
    cr_assert_eq(disp_register(&t, shorter, h_add), 0, "DISP_NAME_MAX - 1 characters");
    snprintf(line, sizeof line, "%s 5", shorter);
    cr_assert_eq(disp_run_line(&t, &c, line, &result), 0);
    cr_assert_eq(c.value, 12);
    cr_assert_eq(c.calls, 2);
}

/* --- the ops table: the same scenario on every engine --- */

/* Exercise one engine through the front end. */
static void scenario(const char *engine)
{
    set_db *s = NULL;
    cr_assert_eq(set_open(engine, &s), 0, "open %s", engine);
    cr_assert_not_null(s);
    cr_assert_str_eq(set_engine(s), engine);
    cr_assert_eq(set_size(s), 0);
    cr_assert_eq(set_add(s, "apple"), 1, "%s: added", engine);
    cr_assert_eq(set_add(s, "pear"), 1);
    cr_assert_eq(set_add(s, "apple"), 0, "%s: already present", engine);
    cr_assert_eq(set_size(s), 2);
    cr_assert_eq(set_contains(s, "pear"), 1);
    cr_assert_eq(set_contains(s, "plum"), 0);
    cr_assert_eq(set_remove(s, "plum"), -ENOENT);
    cr_assert_eq(set_remove(s, "apple"), 0);
    cr_assert_eq(set_contains(s, "apple"), 0);
    cr_assert_eq(set_size(s), 1);
    char word[16];
    for (int i = 0; i < 200; i++) {
        snprintf(word, sizeof word, "w%d", i);
        cr_assert_eq(set_add(s, word), 1);
    }
    cr_assert_eq(set_size(s), 201);
    for (int i = 0; i < 200; i += 2) {
        snprintf(word, sizeof word, "w%d", i);
        cr_assert_eq(set_remove(s, word), 0);
    }
    cr_assert_eq(set_size(s), 101);
    cr_assert_eq(set_contains(s, "w3"), 1);
    cr_assert_eq(set_contains(s, "w4"), 0);
    set_close(s); /* frees every string: checked by make memcheck */
}

Test(set_ops, array_engine_through_front_end)
{
    scenario("array");
}

Test(set_ops, list_engine_through_front_end)
{
    scenario("list");
}

Test(set_ops, every_registered_engine)
{
    const char *const *names = set_engine_names();
    const struct set_ops *const *engines = set_engines();
    size_t n = 0;
    for (; names[n]; n++) {
        cr_assert_not_null(engines[n]);
        cr_assert_str_eq(engines[n]->name, names[n]);
        scenario(names[n]);
    }
    cr_assert_eq(n, 2);
    cr_assert_null(engines[n]);
}

Test(set_ops, front_end_checks_arguments_once)
{
    set_db *s = NULL;
    cr_assert_eq(set_open("btree", &s), -EINVAL, "unknown engine");
    cr_assert_null(s);
    cr_assert_eq(set_open(NULL, &s), -EINVAL);
    cr_assert_eq(set_open("list", NULL), -EINVAL);
    cr_assert_eq(set_open("list", &s), 0);
    cr_assert_eq(set_add(s, NULL), -EINVAL);
    cr_assert_eq(set_add(NULL, "x"), -EINVAL);
    cr_assert_eq(set_contains(s, NULL), -EINVAL);
    cr_assert_eq(set_remove(s, NULL), -EINVAL);
    cr_assert_eq(set_size(NULL), 0);
    cr_assert_eq(set_size(s), 0);
    set_close(s);
    set_close(NULL);
}

/* list_engine_direct's engine state, destroyed by its .fini even when an
 * assertion stops the test half-way (an untouched starter must not leak
 * the course's own list_create allocation). */
static void *direct_self;

static void destroy_direct(void)
{
    if (direct_self)
        set_engine_list.destroy(direct_self);
    direct_self = NULL;
}

Test(set_ops, list_engine_direct, .fini = destroy_direct)
{
    /* the ops table can be used without the front end, as the front end does */
    const struct set_ops *ops = &set_engine_list;
    void *self = NULL;
    cr_assert_eq(ops->create(&self), 0);
    direct_self = self;
    cr_assert_eq(ops->add(self, "a"), 1);
    cr_assert_eq(ops->add(self, "b"), 1);
    cr_assert_eq(ops->add(self, "a"), 0);
    cr_assert_eq(ops->contains(self, "b"), 1);
    cr_assert_eq(ops->size(self), 2);
    cr_assert_eq(ops->remove(self, "a"), 0, "the tail (first added)");
    cr_assert_eq(ops->remove(self, "a"), -ENOENT);
    cr_assert_eq(ops->remove(self, "b"), 0, "the head");
    cr_assert_eq(ops->size(self), 0);
    direct_self = NULL;
    ops->destroy(self);
}

Test(set_ops, strings_are_copied)
{
    set_db *s;
    cr_assert_eq(set_open("array", &s), 0);
    char buf[8] = "temp";
    cr_assert_eq(set_add(s, buf), 1);
    strcpy(buf, "changed");
    cr_assert_eq(set_contains(s, "temp"), 1, "the set kept its own copy");
    cr_assert_eq(set_contains(s, "changed"), 0);
    set_close(s);
}

Test(dispatch, register_all_fills_table_exactly)
{
    static char names[DISP_MAX + 1][16];
    for (int i = 0; i <= DISP_MAX; i++)
        snprintf(names[i], sizeof names[i], "c%d", i);
    const struct disp_ops last3[] = {{names[DISP_MAX - 3], h_dummy},
                                     {names[DISP_MAX - 2], h_dummy},
                                     {names[DISP_MAX - 1], h_dummy},
                                     {NULL, NULL}};
    disp_table t;
    disp_init(&t);
    for (int i = 0; i < DISP_MAX - 3; i++)
        cr_assert_eq(disp_register(&t, names[i], h_dummy), 0);
    cr_assert_eq(disp_register_all(&t, last3), 0, "three entries fill the table to DISP_MAX");
    cr_assert_eq(t.count, DISP_MAX);
    cr_assert_not_null(disp_find(&t, names[DISP_MAX - 1]));
    const struct disp_ops one[] = {{names[DISP_MAX], h_dummy}, {NULL, NULL}};
    cr_assert_eq(disp_register_all(&t, one), -ENOSPC, "one past DISP_MAX");
    cr_assert_eq(t.count, DISP_MAX);

    /* One entry too many: nothing of the three stays. */
    disp_init(&t);
    for (int i = 0; i < DISP_MAX - 2; i++)
        cr_assert_eq(disp_register(&t, names[i + 3], h_dummy), 0);
    const struct disp_ops first3[] = {
        {names[0], h_dummy}, {names[1], h_dummy}, {names[2], h_dummy}, {NULL, NULL}};
    cr_assert_eq(disp_register_all(&t, first3), -ENOSPC, "the third entry does not fit");
    cr_assert_eq(t.count, DISP_MAX - 2, "rolled back");
    for (int i = 0; i < 3; i++)
        cr_assert_null(disp_find(&t, names[i]), "%s was rolled back", names[i]);
    cr_assert_eq(disp_register(&t, names[0], h_dummy), 0, "DISP_MAX - 1 entries");
    cr_assert_eq(disp_register(&t, names[1], h_dummy), 0, "DISP_MAX entries");
    cr_assert_eq(disp_register(&t, names[2], h_dummy), -ENOSPC);
}

Test(dispatch, format_error_buffer_boundaries)
{
    /* The message is 40 bytes; buffers of 39, 40 (the NUL one past the
     * end), 41 (exact fit), 42 bytes, and 0 and 1: truncated, terminated,
     * never written past size, always returning the full length. */
    const char *full = "unknown command 'psh' (known: push, pop)";
    size_t len = strlen(full);
    disp_table t;
    disp_init(&t);
    cr_assert_eq(disp_register(&t, "push", h_dummy), 0);
    cr_assert_eq(disp_register(&t, "pop", h_dummy), 0);
    size_t sizes[] = {0, 1, len - 1, len, len + 1, len + 2};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t size = sizes[k];
        char buf[64];
        memset(buf, '#', sizeof buf);
        size_t n = disp_format_error(&t, -ENOENT, "psh", buf, size);
        cr_assert_eq(n, len, "size %zu: returned %zu, want the full length %zu", size, n, len);
        if (size > 0) {
            size_t kept = len < size ? len : size - 1;
            cr_assert(strncmp(buf, full, kept) == 0 && buf[kept] == '\0',
                      "size %zu: want the first %zu bytes and a NUL", size, kept);
        }
        for (size_t i = size; i < sizeof buf; i++)
            cr_assert_eq(buf[i], '#', "size %zu: byte %zu, past the buffer, written", size, i);
    }
}

/* --- allocation failure in the ops-table engines --- */

struct open_case {
    const char *engine;
    char msg[160];
};

/* One set_open under the failure loop: -ENOMEM, *out untouched, no leak; or a set. */
static int open_body(void *arg, uint64_t n)
{
    struct open_case *c = arg;
    static set_db *const sentinel = (set_db *)&sentinel;
    set_db *s = sentinel;
    size_t live = af_live();
    int rc = set_open(c->engine, &s);
    bool hit = af_hit();
    const char *bad = NULL;
    if (rc == 0) {
        set_close(s);
        bad = hit ? "returned 0 although an allocation failed" : NULL;
    } else if (rc != -ENOMEM || !hit) {
        bad = "did not return -ENOMEM for the failed allocation";
    } else if (s != sentinel) {
        bad = "changed *out although it failed";
    } else if (af_live() != live) {
        bad = "leaked what it had allocated before the failure";
    }
    if (!bad)
        return 0;
    snprintf(c->msg, sizeof c->msg, "set_open(\"%s\") with allocation %llu failing: %d, %s",
             c->engine, (unsigned long long)n, rc, bad);
    return 1;
}

Test(set_ops, open_allocation_failure_loop)
{
    for (const char *const *e = set_engine_names(); *e; e++) {
        struct open_case c = {*e, ""};
        size_t live = af_live();
        uint64_t runs = 0;
        cr_assert_eq(af_fail_loop(open_body, &c, 10, &runs), 0, "%s", c.msg);
        cr_assert_geq(runs, 3, "%s: the handle and the engine's state are two allocations", *e);
        cr_assert_eq(af_live(), live);
    }
    NO_LEAKS();
}

struct add_case {
    set_db *s;
    const char *engine;
    char word[16];
    unsigned failures;
    char msg[200];
};

/* One set_add under the failure loop: -ENOMEM with the set unchanged, or added. */
static int add_body(void *arg, uint64_t n)
{
    struct add_case *c = arg;
    size_t size = set_size(c->s);
    int rc = set_add(c->s, c->word);
    bool hit = af_hit();
    const char *bad = NULL;
    if (rc == 1)
        bad = hit ? "added although an allocation failed" : NULL;
    else if (rc != -ENOMEM || !hit)
        bad = "did not return -ENOMEM for the failed allocation";
    else if (set_size(c->s) != size)
        bad = "changed the size although it failed";
    else if (set_contains(c->s, c->word) != 0)
        bad = "holds the string although it failed";
    else
        c->failures++;
    if (!bad)
        return 0;
    snprintf(c->msg, sizeof c->msg, "%s: add \"%s\" to %zu strings, allocation %llu failing: %d, %s",
             c->engine, c->word, size, (unsigned long long)n, rc, bad);
    return 1;
}

Test(set_ops, add_allocation_failure_loop)
{
    /* 20 adds on each engine: the array engine's array grows at 0, 4, 8 and
     * 16 strings, and every add copies its string. Leaks show after
     * set_close(): every block the engine made must be gone. */
    for (const char *const *e = set_engine_names(); *e; e++) {
        size_t live = af_live();
        struct add_case c = {.engine = *e};
        cr_assert_eq(set_open(*e, &c.s), 0);
        for (int i = 0; i < 20; i++) {
            snprintf(c.word, sizeof c.word, "w%d", i);
            uint64_t runs = 0;
            cr_assert_eq(af_fail_loop(add_body, &c, 10, &runs), 0, "%s", c.msg);
            cr_assert_geq(runs, 2, "%s: an add allocates at least the copy", *e);
            cr_assert_eq(set_size(c.s), (size_t)i + 1);
        }
        cr_assert_geq(c.failures, 24, "%s: failed adds: %u", *e, c.failures);
        for (int i = 0; i < 20; i++) {
            snprintf(c.word, sizeof c.word, "w%d", i);
            cr_assert_eq(set_contains(c.s, c.word), 1, "%s: %s", *e, c.word);
        }
        set_close(c.s);
        cr_assert_eq(af_live(), live, "%s: %zu blocks leaked by failed adds", *e,
                     af_live() - live);
    }
    NO_LEAKS();
}
