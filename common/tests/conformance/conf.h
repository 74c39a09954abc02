/*
 * conf.h — private header of the conformance suite every kvlabs engine runs.
 *
 * What the suite is. kv.h is a contract: the model engine, the hash tables,
 * Bitcask, the shared-memory store, the B+ trees, the LSM tree and the Raft
 * state machine all promise the same behaviour through the same functions.
 * This suite checks that promise from the outside, using nothing but kv.h
 * (plus env.h's fault env, which simulates crashes and media corruption,
 * and alloc.h's hook that fails the nth allocation).
 * It is one Criterion program per lab, made of one .c file per group of
 * cases; every case asserts values and every case can fail:
 *
 *   conf_basic    semantics of put/get/delete, kv_buf reuse, status codes and
 *                 messages, option parsing, the registry, stats counters,
 *                 KV_ENOMEM changing nothing
 *   conf_limits   max_key/max_value: exact limits, KV_ETOOBIG, no truncation
 *   conf_binary   keys and values are bytes: NULs, every byte, prefix keys
 *   conf_iter     (ordered) memcmp order, seek, and the iteration guarantee
 *                 under writes from the iterating thread
 *   conf_diff     random operations compared with the model engine (oracle)
 *   conf_threads  concurrent writers and readers with a checked outcome
 *   conf_durable  (durable) close/reopen keeps everything
 *   conf_crash    (durable) crashes of the fault env at every kind of point,
 *                 torn writes, and kill -9 of a forked writer
 *   conf_corrupt  (durable) bit flips and truncations of the engine's files:
 *                 KV_ECORRUPT or correct data, never a crash or a wrong value
 *   conf_mode     (engines with files) private by default: every file 0600,
 *                 every directory 0700 under umask 0; mode=0640 gives 0640/0750
 *
 * How the configuration is chosen. The binary tests one configuration per
 * run, named by the environment variable KV_CONF_ENGINE: an engine name,
 * optionally with options after a colon ("hash:strategy=swiss"). The whole
 * string goes to kv_open() as the engine (kv_open parses the suffix);
 * conf_engine_name() gives the bare name. `make test` runs the binary once
 * per entry of the lab's LAB_CONF_CONFIGS. Criterion runs each test in its
 * own process, so the variable is read inside the tests (conf_engine()),
 * never cached in main. Which cases apply follows from the capabilities of
 * an opened instance (kv_caps): a case that needs KV_CAP_ORDERED or
 * KV_CAP_DURABLE calls conf_need(), which skips it with the reason when the
 * configuration lacks the capability. An engine whose store lives in
 * other processes (KV_CAP_REMOTE: engine raft, a client of a kvnode
 * cluster) has no files under its path and does no I/O through the env:
 * the cases about files, their modes and damage, and the fault env's
 * crashes call conf_need_local(), which skips them with that reason (its
 * kill -9 of a forked writer still runs). KV_CONF_SCALE=valgrind (set by `make
 * memcheck`) divides the operation counts by about ten (conf_scale()).
 *
 * Randomised cases are seeded and repeatable; KV_CONF_SEED=<n> changes
 * every seed (to hunt for a failure, or to reproduce one).
 *
 * Paths. Every test runs in a fresh mkdtemp directory under $TMPDIR or
 * /tmp (the suites' .init fixture, conf_setup), removed recursively when
 * the test's process exits. Engines are opened on "<tmp>/db", which does
 * not exist yet, so durable engines are checked to create their directory.
 * The crash and corruption cases run on the in-memory fault env at "/db":
 * an engine must do all its I/O through the env it is given; one that
 * needs mmap (which the in-memory envs lack: KV_ENOTSUP) is skipped there.
 *
 * How a lab adds its engine. (1) Define `const kv_engine_ops
 * kv_engine_<name>` in the lab library and list the name in the lab's
 * lab.mk as LAB_ENGINES; the generated registry then links it into the
 * conformance binary (with `model`, the oracle). (2) List the
 * configurations to test in LAB_CONF_CONFIGS, e.g.
 *   LAB_CONF_CONFIGS := hash:strategy=linear hash:strategy=swiss
 * (3) `make test` builds this directory's *.c into build/<variant>/bin/<lab>/
 * conformance and runs it once per configuration. To run one case by hand:
 *   KV_CONF_ENGINE=hash:strategy=swiss build/asan/bin/<lab>/conformance
 *       --filter 'conf_iter/<case>'   (or a glob over the cases)
 * The suite assumes only that an engine's default limits admit keys of 64
 * bytes and values of 4096 bytes (conf_limits probes the real limits).
 * Nothing in the suite is engine-specific; an engine that cannot pass a
 * case is wrong, not the case (the suite's rules, where the contract leaves
 * room, are spelled out in the comment above each case).
 */
#ifndef KVLABS_CONF_H
#define KVLABS_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <criterion/criterion.h>
#include "kv_assert.h"

#include "kvlabs/env.h"
#include "kvlabs/kv.h"
#include "kvlabs/rng.h"
#include "kvtest.h"

/** Timeout of every case, in seconds (Criterion's .timeout). */
#define CONF_TIMEOUT 60

/** Declare a suite of the conformance suite: fixture and timeout. */
#define CONF_SUITE(name)                                                                           \
    TestSuite(name, .init = conf_setup, .fini = conf_teardown, .timeout = CONF_TIMEOUT)

/* The status assertions OK(call) and RC(call, want), NO_LEAKS() and
 * kvt_rmrf() are the shared test kit's (common/tests/include/kvtest.h). */

/* ---- configuration ------------------------------------------------------ */

/** The configuration under test: KV_CONF_ENGINE, or "model" when unset. */
const char *conf_engine(void);
/** The engine's bare name (before any ':'). */
const char *conf_engine_name(void);
/** Whether KV_CONF_SCALE=valgrind. */
bool conf_valgrind(void);
/** @p n, or about n/10 (at least 1) under Valgrind. */
size_t conf_scale(size_t n);
/** A seed for randomised cases: KV_CONF_SEED if set, else @p def. */
uint64_t conf_seed(uint64_t def);

/* ---- fixture, paths, opening -------------------------------------------- */

/** .init: make the test's temporary directory. */
void conf_setup(void);
/** .fini: remove it recursively. */
void conf_teardown(void);
/** The test's temporary directory. */
const char *conf_dir(void);
/** "<tmp>/<leaf>" in a static buffer of the calling test (one at a time per slot 0..3). */
const char *conf_path(int slot, const char *leaf);

/** Open the configuration at "<tmp>/db" with extra options; asserts success. */
kv_db *conf_open(const char *options);
/** Open the configuration at @p path; returns the status. */
int conf_open_at(const char *path, const char *options, kv_db **out);
/** Close, asserting success. */
void conf_close(kv_db *db);
/**
 * Open the configuration on @p env at @p path. KV_ENOTSUP from the engine
 * (e.g. it needs mmap, which the in-memory envs lack) skips the test.
 */
int conf_open_env(const kv_env *env, const char *path, const char *options, kv_db **out);
/** The capabilities of the configuration (from a probe instance, cached per process). */
unsigned conf_caps(void);
/** Skip the test unless the configuration has every capability in @p caps. */
void conf_need(unsigned caps);
/** Skip the test, with @p what in the reason, when the configuration keeps
 *  its data in other processes (KV_CAP_REMOTE): no files under its path, no
 *  I/O through the env, so file and env-fault cases cannot apply. */
void conf_need_local(const char *what);

/* ---- generated keys and values ------------------------------------------ */

/** Longest key conf_key() makes. */
#define CONF_KEY_MAX 16
/** Longest value conf_val() makes. */
#define CONF_VAL_MAX 232

/** A 64-bit mix of two values (splitmix-style), for deterministic content. */
uint64_t conf_mix(uint64_t a, uint64_t b);
/**
 * The key of id @p id: 'k', the id in 4 big-endian bytes, then 0..4 bytes
 * derived from the id (0x00 and 0xff among them). Keys sort by id.
 * @return its length (<= CONF_KEY_MAX).
 */
size_t conf_key(uint32_t id, unsigned char *buf);
/** The id of a key made by conf_key(), or -1 when it is not one. */
int64_t conf_key_id(const void *key, size_t klen);
/**
 * The value of version @p ver of key @p id: a 16-byte header (id, ver,
 * little-endian) then 0..216 bytes derived from both. Versions are unique
 * per test, so a value read back names exactly which write it came from.
 * @return its length (<= CONF_VAL_MAX).
 */
size_t conf_val(uint32_t id, uint64_t ver, unsigned char *buf);
/** Whether @p v is exactly conf_val(id, ver) for some ver; sets *ver. */
bool conf_val_check(uint32_t id, const void *v, size_t vlen, uint64_t *ver);

/* ---- write histories (the crash rule) ----------------------------------- */

/** One write to a key: a put of conf_val(key, ver), or a delete. */
typedef struct conf_op {
    uint64_t ver;
    bool del;
} conf_op;

/** The writes to one key, in order, and how many the last completed sync covers. */
typedef struct conf_key_hist {
    conf_op *ops;
    size_t n, cap;
    size_t synced;
} conf_key_hist;

/**
 * The write history of keys 0..nkeys-1 (initially absent). After a crash,
 * the rule of kv.h is: each key reads back as one of the states it had at
 * or after the last completed sync — the state set by its last synced
 * write (or absent if none), or the state of any later write, completed or
 * merely attempted — and never as anything else.
 */
typedef struct conf_hist {
    size_t nkeys;
    conf_key_hist *k;
} conf_hist;

void conf_hist_init(conf_hist *h, size_t nkeys);
void conf_hist_free(conf_hist *h);
/** Record a write (attempted or completed) to @p key. */
void conf_hist_add(conf_hist *h, uint32_t key, uint64_t ver, bool del);
/** A sync completed: every write recorded so far is durable. */
void conf_hist_sync(conf_hist *h);
/** Whether the key's newest recorded state is present (its last op a put). */
bool conf_hist_present(const conf_hist *h, uint32_t key, uint64_t *ver);
/**
 * Check @p db against the crash rule (exact: only the newest state allowed).
 * Also probes @p extra ids past nkeys, which must be absent, and for ordered
 * engines iterates everything: only keys of the history, each agreeing
 * with kv_get. Asserts (the message names the key and the states).
 */
void conf_hist_check(kv_db *db, const conf_hist *h, bool exact);

/* ---- misc --------------------------------------------------------------- */

/** kv.h's key order, written out independently: bytewise, shorter first on a tie. */
int conf_key_cmp(const void *a, size_t na, const void *b, size_t nb);
/** Monotonic milliseconds. */
uint64_t conf_now_ms(void);
/** Sleep @p ms milliseconds. */
void conf_sleep_ms(uint64_t ms);
/** Compare a kv_buf with expected bytes, asserting with a message. */
void conf_expect_buf(const kv_buf *b, const void *want, size_t wlen, const char *what);

#endif /* KVLABS_CONF_H */
