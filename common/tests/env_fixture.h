/*
 * env_fixture.h — the env tests' fixture: one env and one directory per
 * test, and the macros that run one body on the posix, mem and fault envs.
 *
 * What it is: the set-up test_env.c, test_env_fault.c and test_env_mode.c
 * share (each used to carry its own copy of this loop over the envs).
 *
 *   ENV_TEST(name) { body }   the body as three Criterion tests:
 *                             posix/name, mem/name and fault/name
 *   MEM_TEST(name) { body }   the body on mem and fault only
 *   init_posix/init_mem/init_fault, fini_fx   the fixtures, for a Test()
 *                             on one env
 *   fx.env, fx.dir            the env under test and the test's directory
 *   P(leaf)                   "<fx.dir>/<leaf>" in rotating buffers
 *
 * How it works: posix tests work in a fresh mkdtemp directory under /tmp
 * (<ENV_FX_TAG>-XXXXXX), removed by fini_fx with the test kit's kvt_rmrf();
 * mem and fault tests get a new env each, freed by fini_fx. A test file
 * sets, before including this header:
 *   ENV_FX_TAG     the mkdtemp prefix (default "kvlabs-env")
 *   ENV_FX_SUBDIR  the test directory below the root, made by the fixture
 *                  (default "db"; "" works in the root itself)
 *   ENV_FX_UMASK0  1: every fixture sets umask(0) first (mode tests)
 *   ENV_FX_SEED    the fault env's seed (default 42)
 *
 * What callers must not do: include it in more than one file of a test
 * binary (the fixture is static state), or keep a P() result across eight
 * later calls.
 */
#ifndef KVLABS_ENV_FIXTURE_H
#define KVLABS_ENV_FIXTURE_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kvlabs/env.h"
#include "kvtest.h"

#ifndef ENV_FX_TAG
#define ENV_FX_TAG "kvlabs-env"
#endif
#ifndef ENV_FX_SUBDIR
#define ENV_FX_SUBDIR "db"
#endif
#ifndef ENV_FX_UMASK0
#define ENV_FX_UMASK0 0
#endif
#ifndef ENV_FX_SEED
#define ENV_FX_SEED 42
#endif

enum { ENV_FX_PATH_LEN = 512 };

static struct {
    kv_env *owned;     /* mem and fault: freed at fini */
    const kv_env *env; /* the env under test */
    char dir[128];     /* the test's directory */
    char root[64];     /* posix: the mkdtemp directory, removed at fini */
} fx;

static inline void init_posix(void)
{
    if (ENV_FX_UMASK0)
        umask(0);
    snprintf(fx.root, sizeof(fx.root), "/tmp/%s-XXXXXX", ENV_FX_TAG);
    cr_assert_not_null(mkdtemp(fx.root));
    fx.env = kv_env_posix();
    if (ENV_FX_SUBDIR[0]) {
        snprintf(fx.dir, sizeof(fx.dir), "%s/%s", fx.root, ENV_FX_SUBDIR);
        OK(kv_env_mkdir(fx.env, fx.dir));
    } else {
        snprintf(fx.dir, sizeof(fx.dir), "%s", fx.root);
    }
}

static inline void init_owned(kv_env *env)
{
    if (ENV_FX_UMASK0)
        umask(0);
    cr_assert_not_null(env);
    fx.owned = env;
    fx.env = env;
    if (ENV_FX_SUBDIR[0]) {
        snprintf(fx.dir, sizeof(fx.dir), "/%s", ENV_FX_SUBDIR);
        OK(kv_env_mkdir(fx.env, fx.dir));
    } else {
        fx.dir[0] = '\0';
    }
}

static inline void init_mem(void)
{
    init_owned(kv_env_mem_new());
}

static inline void init_fault(void)
{
    init_owned(kv_env_fault_new(ENV_FX_SEED));
}

static inline void fini_fx(void)
{
    kv_env_free(fx.owned);
    if (fx.root[0])
        kvt_rmrf(fx.root);
    memset(&fx, 0, sizeof(fx));
}

/* One test per env running the same body. */
#define ENV_TEST(name)                                                                             \
    static void body_##name(void);                                                                 \
    Test(posix, name, .init = init_posix, .fini = fini_fx) { body_##name(); }                      \
    Test(mem, name, .init = init_mem, .fini = fini_fx) { body_##name(); }                          \
    Test(fault, name, .init = init_fault, .fini = fini_fx) { body_##name(); }                      \
    static void body_##name(void)

#define MEM_TEST(name)                                                                             \
    static void body_##name(void);                                                                 \
    Test(mem, name, .init = init_mem, .fini = fini_fx) { body_##name(); }                          \
    Test(fault, name, .init = init_fault, .fini = fini_fx) { body_##name(); }                      \
    static void body_##name(void)

/* fx.dir/leaf, in one of a few rotating buffers. */
static inline const char *P(const char *leaf)
{
    static char bufs[8][ENV_FX_PATH_LEN];
    static unsigned next;
    char *b = bufs[next++ % 8];

    snprintf(b, ENV_FX_PATH_LEN, "%s/%s", fx.dir, leaf);
    return b;
}

#endif /* KVLABS_ENV_FIXTURE_H */
