/*
 * shm_test_util.h — helpers shared by the shm engine's Criterion tests
 * (header-only: each test program includes it once).
 *
 * Every test gets a fresh directory (under /dev/shm when it exists, so the
 * segment is real shared memory; else under $TMPDIR or /tmp), removed when
 * the test's process exits. Forked children leave with _exit() and never
 * remove it. tu_open() opens engine "shm" on "<dir>/<leaf>" and asserts.
 * Under Valgrind (detected by its preloaded library, or KVSHM_TEST_SCALE=
 * valgrind, or KV_CONF_SCALE=valgrind) the big loop counts are divided by
 * ten (tu_scale).
 */
#ifndef SHM_TEST_UTIL_H
#define SHM_TEST_UTIL_H

#include <criterion/criterion.h>
#include "kv_assert.h"
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/hash.h"
#include "kvlabs/kv.h"
#ifndef KVT_OWN_STORES
#define KVT_OWN_STORES /* every store a test opens is owned: tu_teardown closes the rest */
#endif
#include "kvtest.h"
#include "shm.h"


static char tu_dir[256];
static char tu_buf[4][512];

static pid_t tu_owner;

static inline void tu_cleanup(void)
{
    if (tu_dir[0] && getpid() == tu_owner)
        kvt_rmrf(tu_dir);
}

static inline void tu_setup(void)
{
    struct stat st;
    const char *base = getenv("TMPDIR");

    if (stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0)
        base = "/dev/shm";
    snprintf(tu_dir, sizeof(tu_dir), "%s/kvshm-test-XXXXXX", base && *base ? base : "/tmp");
    cr_assert_not_null(mkdtemp(tu_dir), "mkdtemp: %s", strerror(errno));
    tu_owner = getpid();
    atexit(tu_cleanup);
}

static inline void tu_teardown(void)
{
    kvt_release_owned(); /* what a failed assertion left open (kvtest.h) */
    tu_cleanup();
}

/* "<tmp>/<leaf>" in a static buffer (slots 0..3). */
static inline const char *tu_path(int slot, const char *leaf)
{
    snprintf(tu_buf[slot], sizeof(tu_buf[slot]), "%s/%s", tu_dir, leaf);
    return tu_buf[slot];
}

static inline kv_db *tu_open_at(const char *path, const char *opts)
{
    kv_db *db = NULL;
    int rc = kv_open("shm", path, opts, &db);

    cr_assert_eq(rc, KV_OK, "kv_open(shm, %s, %s): %d (%s): %s", path, opts ? opts : "", rc,
                 kv_strerror(rc), kv_last_error());
    return db;
}

static inline kv_db *tu_open(const char *opts)
{
    return tu_open_at(tu_path(0, "db"), opts);
}

static inline size_t tu_scale(size_t n)
{
    const char *a = getenv("KVSHM_TEST_SCALE"), *b = getenv("KV_CONF_SCALE");
    const char *pre = getenv("LD_PRELOAD"); /* Valgrind preloads its vgpreload_*.so */

    if ((a && !strcmp(a, "valgrind")) || (b && !strcmp(b, "valgrind")) ||
        (pre && strstr(pre, "vgpreload")))
        return n / 10 ? n / 10 : 1;
    return n;
}

/* Key "k<id>" padded with id-derived bytes; value derived from (id, ver). */
static inline size_t tu_key(uint64_t id, char *buf)
{
    return (size_t)snprintf(buf, 32, "k%llu", (unsigned long long)id);
}

static inline size_t tu_val(uint64_t id, uint64_t ver, unsigned char *buf, size_t len)
{
    memcpy(buf, &id, 8);
    memcpy(buf + 8, &ver, 8);
    for (size_t i = 16; i < len; i++)
        buf[i] = (unsigned char)(id * 31 + ver * 7 + i);
    return len;
}

/* Whether v is tu_val(id, ver, ., len) for some ver; returns ver (or UINT64_MAX). */
static inline uint64_t tu_val_ver(uint64_t id, const kv_buf *v)
{
    unsigned char want[4096];
    uint64_t got_id, ver;

    if (v->len < 16 || v->len > sizeof(want))
        return UINT64_MAX;
    memcpy(&got_id, v->data, 8);
    memcpy(&ver, (unsigned char *)v->data + 8, 8);
    if (got_id != id)
        return UINT64_MAX;
    tu_val(id, ver, want, v->len);
    return memcmp(want, v->data, v->len) ? UINT64_MAX : ver;
}

static inline uint64_t tu_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Size of the store's segment file. */
static inline uint64_t tu_seg_size(const char *dir)
{
    char p[600];
    struct stat st;

    snprintf(p, sizeof(p), "%s/%s", dir, KVSHM_SEG_FILE);
    return stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
}

/* Run kvshm_check and assert it found nothing. */
static inline void tu_check(kv_db *db)
{
    kvshm_check_report r;

    OK(kvshm_check(&kvshm_from(db)->seg, &r));
    cr_assert_eq(r.problems, 0, "consistency check: %llu problems, first: %s",
                 (unsigned long long)r.problems, r.first);
}

/* Wait up to ms for a byte on fd; true when one came. */
static inline bool tu_wait_byte(int fd, int ms)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    char c;

    return poll(&p, 1, ms) == 1 && read(fd, &c, 1) == 1;
}

/* waitpid with a deadline; returns the status, or -1 after killing it on timeout. */
static inline int tu_wait_child(pid_t pid, int ms)
{
    uint64_t t0 = tu_now_ms();
    int st;

    for (;;) {
        pid_t r = waitpid(pid, &st, WNOHANG);
        if (r == pid)
            return st;
        if (tu_now_ms() - t0 > (uint64_t)ms) {
            kill(pid, SIGKILL);
            waitpid(pid, &st, 0);
            return -1;
        }
        usleep(2000);
    }
}

/* A MAP_SHARED anonymous region for coordinating forked test processes. */
static inline void *tu_shared(size_t n)
{
    void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

    cr_assert_neq(p, MAP_FAILED);
    memset(p, 0, n);
    return p;
}

#endif /* SHM_TEST_UTIL_H */
