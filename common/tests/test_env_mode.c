/*
 * test_env_mode.c — unit tests of the env's creation modes (env.h, "Modes"):
 * kv_env_open_mode(), kv_env_mkdir_mode(), kv_env_mkdir_durable_mode(),
 * kv_env_stat_mode() and kv_mode_dir_of(), on the posix, mem and fault envs.
 *
 * What a student could get wrong, and the test that catches it:
 * - the calls without a mode must stay private (0600 files, 0700
 *   directories), not the old 0666/0777: checked on posix under umask(0),
 *   where nothing but the mode passed to open(2)/mkdir(2) decides;
 * - the mode given must be the one recorded (mem, fault) or applied
 *   (posix), also for kv_env_mkdir_durable_mode();
 * - an existing file or directory keeps its mode (O_CREAT|O_TRUNC on an
 *   existing file must not change it), and the umask still narrows on posix;
 * - bits outside 0777 are KV_EINVAL before anything is created;
 * - a node keeps its mode across rename, crash and reboot (fault env).
 * Posix tests work in a mkdtemp directory under /tmp, removed afterwards;
 * every test sets umask(0) (Criterion runs each in its own process). The
 * loop over the envs is the shared fixture's (env_fixture.h, ENV_TEST).
 */
#include <criterion/criterion.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kvlabs/env.h"

/* the shared env fixture (env_fixture.h): posix in the mkdtemp root itself,
 * mem and fault in their root ("/"), umask(0) in every test */
#define ENV_FX_TAG "kvlabs-mode"
#define ENV_FX_SUBDIR ""
#define ENV_FX_UMASK0 1
#define ENV_FX_SEED 7
#include "env_fixture.h"
#include "kvtest.h"

/* The mode of @p path through the env; on posix also checked against stat(2). */
static unsigned mode_of(const char *path)
{
    unsigned m = 12345;
    struct stat st;

    OK(kv_env_stat_mode(fx.env, path, &m));
    if (fx.env == kv_env_posix()) {
        cr_assert_eq(stat(path, &st), 0);
        cr_assert_eq(m, (unsigned)(st.st_mode & 07777), "kv_env_stat_mode 0%o, stat 0%o", m,
                     (unsigned)(st.st_mode & 07777));
    }
    return m;
}

static void create(const char *path, unsigned mode)
{
    kv_file *f = NULL;

    OK(kv_env_open_mode(fx.env, path, KV_O_RDWR | KV_O_CREAT, mode, &f));
    OK(kv_file_pwrite(f, "x", 1, 0));
    OK(kv_file_close(f));
}

#define EXPECT_MODE(path, want)                                                                  \
    do {                                                                                         \
        unsigned got_ = mode_of(path);                                                           \
        cr_assert_eq(got_, (unsigned)(want), "%s: mode 0%o, want 0%o", path, got_,               \
                     (unsigned)(want));                                                          \
    } while (0)

/* ---- defaults ------------------------------------------------------------ */

ENV_TEST(defaults_are_private)
{
    kv_file *f = NULL;

    OK(kv_env_mkdir(fx.env, P("d")));
    EXPECT_MODE(P("d"), 0700);
    OK(kv_env_mkdir_durable(fx.env, P("dd")));
    EXPECT_MODE(P("dd"), 0700);
    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_close(f));
    EXPECT_MODE(P("f"), 0600);
    OK(kv_env_open(fx.env, P("x"), KV_O_RDWR | KV_O_CREAT | KV_O_EXCL | KV_O_TRUNC, &f));
    OK(kv_file_close(f));
    EXPECT_MODE(P("x"), 0600);
    cr_assert_eq(KV_MODE_FILE, 0600);
    cr_assert_eq(KV_MODE_DIR, 0700);
}

/* ---- explicit modes ------------------------------------------------------ */

ENV_TEST(given_modes_are_used)
{
    static const unsigned modes[] = {0600, 0640, 0644, 0660, 0666, 0777, 0400, 0};

    for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
        char leaf[32];
        kv_file *f = NULL;

        snprintf(leaf, sizeof(leaf), "f%zu", i);
        OK(kv_env_open_mode(fx.env, P(leaf), KV_O_RDWR | KV_O_CREAT, modes[i], &f));
        OK(kv_file_pwrite(f, "abc", 3, 0)); /* the handle works whatever the mode */
        OK(kv_file_close(f));
        EXPECT_MODE(P(leaf), modes[i]);
        snprintf(leaf, sizeof(leaf), "d%zu", i);
        OK(kv_env_mkdir_mode(fx.env, P(leaf), modes[i] | 0700));
        EXPECT_MODE(P(leaf), modes[i] | 0700);
        snprintf(leaf, sizeof(leaf), "s%zu", i);
        OK(kv_env_mkdir_durable_mode(fx.env, P(leaf), kv_mode_dir_of(modes[i] | 0600)));
        EXPECT_MODE(P(leaf), kv_mode_dir_of(modes[i] | 0600));
    }
}

ENV_TEST(existing_paths_keep_their_mode)
{
    kv_file *f = NULL;

    create(P("f"), 0640);
    OK(kv_env_open_mode(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT | KV_O_TRUNC, 0600, &f));
    OK(kv_file_close(f));
    EXPECT_MODE(P("f"), 0640);
    OK(kv_env_open(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, &f));
    OK(kv_file_close(f));
    EXPECT_MODE(P("f"), 0640);
    OK(kv_env_mkdir_mode(fx.env, P("d"), 0750));
    OK(kv_env_mkdir_mode(fx.env, P("d"), 0700));
    OK(kv_env_mkdir(fx.env, P("d")));
    OK(kv_env_mkdir_durable_mode(fx.env, P("d"), 0711));
    EXPECT_MODE(P("d"), 0750);
    /* A failed exclusive create leaves the existing file as it was. */
    RC(kv_env_open_mode(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT | KV_O_EXCL, 0600, &f), KV_EBUSY);
    EXPECT_MODE(P("f"), 0640);
}

ENV_TEST(rename_keeps_the_mode)
{
    create(P("a.tmp"), 0644);
    create(P("a"), 0600);
    OK(kv_env_rename(fx.env, P("a.tmp"), P("a")));
    EXPECT_MODE(P("a"), 0644);
}

/* ---- errors --------------------------------------------------------------- */

ENV_TEST(bits_outside_0777_are_einval)
{
    static const unsigned bad[] = {01000, 02600, 04600, 07777, 010000, 0x10000, UINT_MAX};
    uint64_t size = 0;
    unsigned m = 1;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        kv_file *f = (kv_file *)&m;

        RC(kv_env_open_mode(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, bad[i], &f), KV_EINVAL);
        DETAIL_HAS("bits outside 0777");
        cr_assert_null(f, "*out must be NULL on failure");
        RC(kv_env_stat(fx.env, P("f"), &size, NULL), KV_ENOTFOUND);
        RC(kv_env_mkdir_mode(fx.env, P("d"), bad[i]), KV_EINVAL);
        DETAIL_HAS("kv_env_mkdir");
        RC(kv_env_mkdir_durable_mode(fx.env, P("d"), bad[i]), KV_EINVAL);
        DETAIL_HAS("kv_env_mkdir_durable");
        RC(kv_env_stat(fx.env, P("d"), &size, NULL), KV_ENOTFOUND);
    }
    /* Checked even when nothing would be created. */
    create(P("e"), 0600);
    kv_file *f = NULL;
    RC(kv_env_open_mode(fx.env, P("e"), KV_O_RDONLY, 01600, &f), KV_EINVAL);
    OK(kv_env_mkdir(fx.env, P("x")));
    RC(kv_env_mkdir_durable_mode(fx.env, P("x"), 01700), KV_EINVAL);
}

ENV_TEST(stat_mode_arguments)
{
    unsigned m = 99;

    RC(kv_env_stat_mode(fx.env, P("x"), NULL), KV_EINVAL);
    RC(kv_env_stat_mode(NULL, P("x"), &m), KV_EINVAL);
    cr_assert_eq(m, 0, "mode not zeroed on failure");
    m = 99;
    RC(kv_env_stat_mode(fx.env, "", &m), KV_EINVAL);
    cr_assert_eq(m, 0);
    m = 99;
    RC(kv_env_stat_mode(fx.env, P("missing"), &m), KV_ENOTFOUND);
    cr_assert_eq(m, 0);
}

/* ---- per env --------------------------------------------------------------- */

/* On posix the umask still takes bits away (open(2) and mkdir(2) semantics). */
Test(posix, umask_narrows_the_mode, .init = init_posix, .fini = fini_fx)
{
    kv_file *f = NULL;

    umask(077);
    OK(kv_env_open_mode(fx.env, P("f"), KV_O_RDWR | KV_O_CREAT, 0644, &f));
    OK(kv_file_close(f));
    EXPECT_MODE(P("f"), 0600);
    OK(kv_env_mkdir_mode(fx.env, P("d"), 0755));
    EXPECT_MODE(P("d"), 0700);
    umask(0);
}

/* The mem and fault envs record the mode as given, whatever the umask; the root is 0755. */
Test(mem, no_umask_and_root_mode, .init = init_mem, .fini = fini_fx)
{
    umask(077);
    create("/f", 0644);
    EXPECT_MODE("/f", 0644);
    EXPECT_MODE("/", 0755);
}

/* A mode is part of the node: a crash and reboot bring back the durable file with it. */
Test(fault, mode_survives_crash_and_reboot, .init = init_fault, .fini = fini_fx)
{
    kv_env *env = fx.owned;
    kv_file *f = NULL;

    OK(kv_env_mkdir_mode(env, "/db", 0750));
    OK(kv_env_open_mode(env, "/db/f", KV_O_RDWR | KV_O_CREAT, 0640, &f));
    OK(kv_file_pwrite(f, "abc", 3, 0));
    OK(kv_file_sync(f));
    OK(kv_env_sync_dir(env, "/db"));
    OK(kv_file_close(f));
    kv_env_fault_crash(env, KV_CRASH_DROP);
    kv_env_fault_reboot(env);
    EXPECT_MODE("/db", 0750);
    EXPECT_MODE("/db/f", 0640);
}

/* ---- kv_mode_dir_of ------------------------------------------------------------ */

Test(mode, dir_of_adds_x_where_r)
{
    static const unsigned cases[][2] = {
        {0600, 0700}, {0640, 0750}, {0644, 0755}, {0660, 0770}, {0620, 0720}, {0606, 0707},
        {0666, 0777}, {0777, 0777}, {0604, 0705}, {0700, 0700}, {0, 0},       {0400, 0500},
        {01640, 0750}, {0100644, 0755},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        cr_assert_eq(kv_mode_dir_of(cases[i][0]), cases[i][1], "kv_mode_dir_of(0%o) = 0%o, want 0%o",
                     cases[i][0], kv_mode_dir_of(cases[i][0]), cases[i][1]);
}
