/*
 * conf_util.c — the conformance suite's shared helpers (no tests here).
 *
 * The configuration (KV_CONF_ENGINE, KV_CONF_SCALE), the per-test temporary
 * directory, opening helpers that report the engine's detail on failure,
 * generated keys and values that say which write they came from, and the
 * write history behind the crash rule. See conf.h for the suite itself.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "conf.h"

/* ---- configuration ------------------------------------------------------ */

const char *conf_engine(void)
{
    const char *e = getenv("KV_CONF_ENGINE");

    return e && *e ? e : "model";
}

const char *conf_engine_name(void)
{
    static char name[128];
    const char *e = conf_engine(), *colon = strchr(e, ':');
    size_t n = colon ? (size_t)(colon - e) : strlen(e);

    if (n >= sizeof(name))
        n = sizeof(name) - 1;
    memcpy(name, e, n);
    name[n] = '\0';
    return name;
}

bool conf_valgrind(void)
{
    const char *s = getenv("KV_CONF_SCALE");

    return s && !strcmp(s, "valgrind");
}

size_t conf_scale(size_t n)
{
    if (!conf_valgrind())
        return n;
    return n / 10 ? n / 10 : 1;
}

uint64_t conf_seed(uint64_t def)
{
    const char *s = getenv("KV_CONF_SEED");

    return s && *s ? strtoull(s, NULL, 0) : def;
}

/* ---- fixture and paths -------------------------------------------------- */

static char tmp_dir[256];
static char path_buf[4][512];

/*
 * Criterion 2.4.1 runs .fini only after a test that passed, not after a
 * failed assertion or cr_skip_test(); the test's process still exits
 * through exit(), so an atexit handler removes the directory in every case.
 * (The kill -9 case's forked writers leave by _exit() or SIGKILL: they
 * never run it.)
 */
static void remove_tmp_dir(void)
{
    conf_teardown();
}

void conf_setup(void)
{
    static bool registered;

    const char *base = getenv("TMPDIR");

    snprintf(tmp_dir, sizeof(tmp_dir), "%s/kvconf-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmp_dir))
        cr_assert_fail("mkdtemp: %s", strerror(errno));
    if (!registered)
        atexit(remove_tmp_dir);
    registered = true;
}

void conf_teardown(void)
{
    if (tmp_dir[0])
        kvt_rmrf(tmp_dir);
    tmp_dir[0] = '\0';
}

const char *conf_dir(void)
{
    cr_assert(tmp_dir[0], "conf_dir: no fixture (suite without conf_setup)");
    return tmp_dir;
}

const char *conf_path(int slot, const char *leaf)
{
    cr_assert(slot >= 0 && slot < 4);
    snprintf(path_buf[slot], sizeof(path_buf[slot]), "%s/%s", conf_dir(), leaf);
    return path_buf[slot];
}

/* ---- opening ------------------------------------------------------------ */

int conf_open_at(const char *path, const char *options, kv_db **out)
{
    return kv_open(conf_engine(), path, options, out);
}

kv_db *conf_open(const char *options)
{
    kv_db *db = NULL;
    int rc = conf_open_at(conf_path(0, "db"), options, &db);

    cr_assert_eq(rc, KV_OK, "kv_open(\"%s\", <tmp>/db, \"%s\"): %d (%s): %s", conf_engine(),
                 options ? options : "", rc, kv_strerror(rc), kv_last_error());
    cr_assert_not_null(db);
    return db;
}

void conf_close(kv_db *db)
{
    int rc = kv_close(db);

    cr_assert_eq(rc, KV_OK, "kv_close: %d (%s): %s", rc, kv_strerror(rc), kv_last_error());
}

int conf_open_env(const kv_env *env, const char *path, const char *options, kv_db **out)
{
    int rc = kv_open_env(conf_engine(), path, options, env, out);

    if (rc == KV_ENOTSUP)
        cr_skip_test("engine '%s' cannot run on the in-memory fault env: %s", conf_engine(),
                     kv_last_error());
    return rc;
}

unsigned conf_caps(void)
{
    static bool known;
    static unsigned caps;
    kv_db *db = NULL;
    const char *probe;
    int rc;

    if (known)
        return caps;
    probe = conf_path(3, "probe");
    rc = conf_open_at(probe, NULL, &db);
    cr_assert_eq(rc, KV_OK, "probe kv_open(\"%s\"): %d (%s): %s", conf_engine(), rc,
                 kv_strerror(rc), kv_last_error());
    caps = kv_caps(db);
    conf_close(db);
    kvt_rmrf(probe);
    known = true;
    return caps;
}

void conf_need(unsigned caps)
{
    unsigned have = conf_caps();

    if ((caps & KV_CAP_ORDERED) && !(have & KV_CAP_ORDERED))
        cr_skip_test("%s is not ordered (no KV_CAP_ORDERED)", conf_engine());
    if ((caps & KV_CAP_DURABLE) && !(have & KV_CAP_DURABLE))
        cr_skip_test("%s is not durable (no KV_CAP_DURABLE)", conf_engine());
    if ((caps & have) != caps)
        cr_skip_test("%s lacks capabilities 0x%x", conf_engine(), caps & ~have);
}

void conf_need_local(const char *what)
{
    if (conf_caps() & KV_CAP_REMOTE)
        cr_skip_test("%s keeps its data in other processes (KV_CAP_REMOTE): no files under the "
                     "path and no I/O through the env, so %s cannot apply", conf_engine(), what);
}

/* ---- keys and values ---------------------------------------------------- */

uint64_t conf_mix(uint64_t a, uint64_t b)
{
    uint64_t z = a * 0x9e3779b97f4a7c15ULL + b + 0x632be59bd9b4e019ULL;

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

size_t conf_key(uint32_t id, unsigned char *buf)
{
    static const unsigned char tail[4] = {0x00, 0xff, 0x00, 0x7f};
    size_t n = 5, extra = id % 5;

    buf[0] = 'k';
    buf[1] = (unsigned char)(id >> 24);
    buf[2] = (unsigned char)(id >> 16);
    buf[3] = (unsigned char)(id >> 8);
    buf[4] = (unsigned char)id;
    for (size_t i = 0; i < extra; i++)
        buf[n++] = tail[(id + i) % 4];
    return n;
}

int64_t conf_key_id(const void *key, size_t klen)
{
    const unsigned char *k = key;
    unsigned char want[CONF_KEY_MAX];
    uint32_t id;

    if (klen < 5 || klen > CONF_KEY_MAX || k[0] != 'k')
        return -1;
    id = (uint32_t)k[1] << 24 | (uint32_t)k[2] << 16 | (uint32_t)k[3] << 8 | k[4];
    if (conf_key(id, want) != klen || memcmp(want, key, klen))
        return -1;
    return id;
}

static void put_le64(unsigned char *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--)
        v = v << 8 | p[i];
    return v;
}

size_t conf_val(uint32_t id, uint64_t ver, unsigned char *buf)
{
    uint64_t h = conf_mix(id, ver);
    size_t body = (size_t)(h % (CONF_VAL_MAX - 16 + 1));

    put_le64(buf, id);
    put_le64(buf + 8, ver);
    for (size_t i = 0; i < body; i++)
        buf[16 + i] = (unsigned char)(conf_mix(h, i / 8) >> (8 * (i % 8)));
    return 16 + body;
}

bool conf_val_check(uint32_t id, const void *v, size_t vlen, uint64_t *ver)
{
    unsigned char want[CONF_VAL_MAX];
    size_t n;

    if (vlen < 16 || vlen > CONF_VAL_MAX || get_le64(v) != id)
        return false;
    *ver = get_le64((const unsigned char *)v + 8);
    n = conf_val(id, *ver, want);
    return n == vlen && !memcmp(want, v, n);
}

/* ---- histories ---------------------------------------------------------- */

void conf_hist_init(conf_hist *h, size_t nkeys)
{
    h->nkeys = nkeys;
    h->k = calloc(nkeys, sizeof(*h->k));
    cr_assert_not_null(h->k);
}

void conf_hist_free(conf_hist *h)
{
    for (size_t i = 0; i < h->nkeys; i++)
        free(h->k[i].ops);
    free(h->k);
    h->k = NULL;
    h->nkeys = 0;
}

void conf_hist_add(conf_hist *h, uint32_t key, uint64_t ver, bool del)
{
    conf_key_hist *k = &h->k[key];

    cr_assert_lt(key, h->nkeys);
    if (k->n == k->cap) {
        k->cap = k->cap ? 2 * k->cap : 8;
        k->ops = realloc(k->ops, k->cap * sizeof(*k->ops));
        cr_assert_not_null(k->ops);
    }
    k->ops[k->n++] = (conf_op){.ver = ver, .del = del};
}

void conf_hist_sync(conf_hist *h)
{
    for (size_t i = 0; i < h->nkeys; i++)
        h->k[i].synced = h->k[i].n;
}

bool conf_hist_present(const conf_hist *h, uint32_t key, uint64_t *ver)
{
    const conf_key_hist *k = &h->k[key];

    if (k->n == 0 || k->ops[k->n - 1].del)
        return false;
    if (ver)
        *ver = k->ops[k->n - 1].ver;
    return true;
}

/* "absent, v12, del, v40" — the states allowed for a key, for messages. */
static void describe(const conf_key_hist *k, size_t lo, bool from_absent, char *out, size_t n)
{
    size_t off = 0;

    out[0] = '\0';
    if (from_absent)
        off += (size_t)snprintf(out + off, n - off, "absent(never synced)");
    for (size_t i = lo; i < k->n && off + 32 < n; i++) {
        if (k->ops[i].del)
            off += (size_t)snprintf(out + off, n - off, "%sdelete", off ? ", " : "");
        else
            off += (size_t)snprintf(out + off, n - off, "%sv%llu", off ? ", " : "",
                                    (unsigned long long)k->ops[i].ver);
    }
    if (off + 32 >= n)
        snprintf(out + off, n - off, ", ...");
}

void conf_hist_check(kv_db *db, const conf_hist *h, bool exact)
{
    unsigned char key[CONF_KEY_MAX];
    kv_buf v = {0};
    uint64_t present = 0, bytes = 0;
    char allowed[512];
    kv_stats st;

    for (uint32_t id = 0; id < h->nkeys + 8; id++) {
        size_t klen = conf_key(id, key);
        int rc = kv_get(db, key, klen, &v);
        const conf_key_hist *k = id < h->nkeys ? &h->k[id] : NULL;
        /* Allowed states: ops[lo..n), plus "absent" when from_absent. */
        size_t lo = 0;
        bool from_absent = true, ok = false;
        uint64_t ver = 0;

        if (k) {
            if (exact && k->n) {
                lo = k->n - 1;
                from_absent = false;
            } else if (!exact && k->synced) {
                lo = k->synced - 1;
                from_absent = false;
            }
        }
        if (rc == KV_OK) {
            bool wf = conf_val_check(id, v.data, v.len, &ver);
            for (size_t i = lo; k && wf && i < k->n && !ok; i++)
                ok = !k->ops[i].del && k->ops[i].ver == ver;
            if (k)
                describe(k, lo, from_absent, allowed, sizeof(allowed));
            cr_assert(ok, "key %u reads back %s%llu (%zu bytes); allowed states: %s", id,
                      wf ? "a state that is not allowed: v" : "a value never written to it ",
                      (unsigned long long)(wf ? ver : 0), v.len,
                      k ? allowed : "absent (never written)");
            present++;
            bytes += klen + v.len;
        } else if (rc == KV_ENOTFOUND) {
            ok = from_absent;
            for (size_t i = lo; k && i < k->n && !ok; i++)
                ok = k->ops[i].del;
            if (k)
                describe(k, lo, from_absent, allowed, sizeof(allowed));
            cr_assert(ok, "key %u is missing; allowed states: %s", id, k ? allowed : "-");
        } else {
            cr_assert_fail("kv_get of key %u: %d (%s): %s", id, rc, kv_strerror(rc),
                           kv_last_error());
        }
    }

    OK(kv_db_stats(db, &st));
    cr_assert_eq(st.keys, present, "stats.keys %llu, but %llu keys are present",
                 (unsigned long long)st.keys, (unsigned long long)present);
    cr_assert_eq(st.bytes, bytes, "stats.bytes %llu, but the present keys and values hold %llu",
                 (unsigned long long)st.bytes, (unsigned long long)bytes);

    if (kv_caps(db) & KV_CAP_ORDERED) {
        kv_iter *it;
        unsigned char prev[CONF_KEY_MAX];
        size_t prevlen = 0;
        uint64_t seen = 0;

        OK(kv_iter_open(db, &it));
        for (kv_iter_first(it); kv_iter_valid(it); kv_iter_next(it)) {
            const void *k, *val;
            size_t kl, vl;
            int64_t id;

            kv_iter_key(it, &k, &kl);
            kv_iter_value(it, &val, &vl);
            id = conf_key_id(k, kl);
            cr_assert(id >= 0 && (uint64_t)id < h->nkeys,
                      "iteration returns a key (%zu bytes) that was never written", kl);
            cr_assert(!seen || conf_key_cmp(prev, prevlen, k, kl) < 0,
                      "iteration out of order (or repeated) at key %lld", (long long)id);
            memcpy(prev, k, kl);
            prevlen = kl;
            seen++;
            {
                unsigned char kb[CONF_KEY_MAX];
                size_t kbl = conf_key((uint32_t)id, kb);
                int rc = kv_get(db, kb, kbl, &v);
                cr_assert(rc == KV_OK && v.len == vl && (vl == 0 || !memcmp(v.data, val, vl)),
                          "key %lld: iteration and kv_get disagree (get: %s)", (long long)id,
                          kv_strerror(rc));
            }
        }
        cr_assert_eq(kv_iter_status(it), KV_OK, "iteration status %d: %s", kv_iter_status(it),
                     kv_last_error());
        kv_iter_close(it);
        cr_assert_eq(seen, present, "iteration returns %llu keys, kv_get finds %llu",
                     (unsigned long long)seen, (unsigned long long)present);
    }
    kv_buf_free(&v);
}

/* ---- misc --------------------------------------------------------------- */

int conf_key_cmp(const void *a, size_t na, const void *b, size_t nb)
{
    const unsigned char *x = a, *y = b;
    size_t n = na < nb ? na : nb;

    for (size_t i = 0; i < n; i++)
        if (x[i] != y[i])
            return x[i] < y[i] ? -1 : 1;
    return na < nb ? -1 : na > nb ? 1 : 0;
}

uint64_t conf_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void conf_sleep_ms(uint64_t ms)
{
    struct timespec ts = {.tv_sec = (time_t)(ms / 1000), .tv_nsec = (long)(ms % 1000) * 1000000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

void conf_expect_buf(const kv_buf *b, const void *want, size_t wlen, const char *what)
{
    cr_assert_eq(b->len, wlen, "%s: value of %zu bytes, want %zu", what, b->len, wlen);
    if (wlen)
        cr_assert(!memcmp(b->data, want, wlen), "%s: value bytes differ", what);
}
