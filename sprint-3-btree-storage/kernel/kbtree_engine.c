/*
 * kbtree_engine.c - engine `kbtree`: the kv.h contract over the ioctls of
 * /dev/kvbtree (include/uapi/kvbtree.h), so the conformance suite and
 * kvbench run on the kernel module unchanged (inside the test VM:
 * scripts/ktest/). Sprint 2's kdev_engine.c is its unordered twin.
 *
 * How it works. kv_open opens the device: the module gives every open file
 * descriptor a tree of its own, so each kv_open is a fresh, empty store
 * (unless the module was loaded with shared=1). Every call is one ioctl;
 * the kernel's errno becomes a kv status: ENOENT -> KV_ENOTFOUND,
 * E2BIG -> KV_ETOOBIG, ENOMEM -> KV_ENOMEM, EINVAL and EFAULT -> KV_EINVAL,
 * anything else KV_EIO. A kv_get passes the caller's kv_buf as the buffer;
 * when the device answers ENOSPC (with the length it needs) the buffer
 * grows to that length and the GET is repeated.
 *
 * Iterators (KV_CAP_ORDERED) sit on SCAN. An iterator holds one batch: a
 * SCAN of at most ITER_COUNT entries into a buffer of ITER_BUF bytes at
 * first; kv_iter_next() walks the packed entries (the UAPI wire layout)
 * and, at the batch's end, scans again from the resume key the device gave
 * (inclusive: the first key not returned). A batch the first entry does not
 * fit in (ENOSPC) is retried with a buffer of the `needed` size. No state
 * is kept in the kernel between calls, so every key present and unchanged
 * for the whole iteration is returned exactly once, in order; keys written
 * meanwhile may or may not appear (as with the user-space `btree` engine).
 *
 * Limits: keys up to KVBTREE_MAX_KEY (1024) bytes, values up to 1 MiB, the
 * module's default max_value. Not durable: a tree lives as long as its
 * descriptor. The path is ignored; the device is /dev/kvbtree, or the file
 * named by the environment variable KVLABS_KBTREE (a test hook).
 *
 * The open, close, PUT, GET and DEL calls and the errno mapping are the
 * ones sprint 2's engine `kdev` makes over /dev/kvhash: the shared client
 * of common/kernel/kvdev_client.h, to which this file describes its
 * device; STATS, the iterators and the engine table are this file's.
 *
 * Thread safety: the device locks (kernel_btree.c); a kbtree handle keeps
 * no state besides the descriptor, an iterator only its own batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvdev_client.h"
#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "uapi/kvbtree.h"

KVDEV_CLIENT_ASSERT_REQ(struct kvbtree_req);

/* An iterator's first batch: entries and buffer bytes per SCAN. */
#define ITER_COUNT 128u
#define ITER_BUF (64u << 10)

/** @brief An iterator: one SCAN batch and where the next one starts. */
struct kbtree_iter {
    kv_iter base;
    struct kvbtree_scan s; /* the last SCAN: its resume key starts the next */
    uint8_t *buf;          /* the batch, cap bytes, s.used of them filled */
    size_t cap;
    size_t pos;            /* the current entry's offset in buf */
    int status;            /* KV_OK or the error that ended the iteration */
};

static const struct kvdev_client kbtree_dev = {
    .engine = "kbtree",
    .node = "/dev/" KVBTREE_DEVICE_NAME,
    .env = "KVLABS_KBTREE",
    .module = "kvbtree.ko",
    .put = KVBTREE_IOC_PUT,
    .get = KVBTREE_IOC_GET,
    .del = KVBTREE_IOC_DEL,
};

static int kbtree_status(int err, const char *op)
{
    return kvdev_client_status(&kbtree_dev, err, op);
}

static int kbtree_open(const kv_open_args *a, kv_db **out)
{
    (void)a;
    return kvdev_client_open(&kbtree_dev, out);
}

static int kbtree_close(kv_db *db)
{
    return kvdev_client_close(&kbtree_dev, db);
}

static int kbtree_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return kvdev_client_put(&kbtree_dev, db, key, klen, val, vlen);
}

static int kbtree_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    return kvdev_client_get(&kbtree_dev, db, key, klen, val);
}

static int kbtree_del(kv_db *db, const void *key, size_t klen)
{
    return kvdev_client_del(&kbtree_dev, db, key, klen);
}

static int kbtree_stats(kv_db *db, kv_stats *out)
{
    struct kvbtree_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (ioctl(kvdev_client_fd(db), KVBTREE_IOC_STATS, &st) != 0)
        return kbtree_status(errno, "stats");
    out->keys = st.keys;
    out->bytes = st.bytes;
    out->mem_bytes = st.mem_bytes;
    kv_stats_add_extra(out, "leaves", (double)st.leaves);
    kv_stats_add_extra(out, "inners", (double)st.inners);
    kv_stats_add_extra(out, "height", (double)st.height);
    kv_stats_add_extra(out, "order", (double)st.order);
    kv_stats_add_extra(out, "module_mem", (double)st.module_mem);
    kv_stats_add_extra(out, "mem_cap", (double)st.mem_cap);
    return KV_OK;
}

/* ---- iterators over SCAN --------------------------------------------------------- */

static int kbtree_iter_open(kv_db *db, kv_iter **out)
{
    struct kbtree_iter *it = kv_calloc(1, sizeof(*it));

    (void)db;
    if (!it)
        return kv_fail(KV_ENOMEM, "kbtree: out of memory for an iterator");
    *out = &it->base;
    return KV_OK;
}

/* Fetch the batch starting at key (inclusive); klen 0: from the first key.
 * key may point into it->s.rkey (the previous resume key). */
static void refill(struct kbtree_iter *it, const void *key, size_t klen)
{
    int fd = kvdev_client_fd(it->base.db);
    uint8_t start[KVBTREE_MAX_KEY];

    if (klen > sizeof(start)) {
        it->status = kv_fail(KV_EINVAL, "kbtree: seek key above %u bytes", KVBTREE_MAX_KEY);
        return;
    }
    if (klen)
        memcpy(start, key, klen);
    it->pos = 0;
    for (;;) {
        if (!it->buf) {
            it->buf = kv_malloc(ITER_BUF);
            if (!it->buf) {
                it->status = kv_fail(KV_ENOMEM, "kbtree: out of memory for an iterator batch");
                return;
            }
            it->cap = ITER_BUF;
        }
        memset(&it->s, 0, sizeof(it->s));
        it->s.size = sizeof(it->s);
        it->s.key = (uint64_t)(uintptr_t)start;
        it->s.klen = (uint32_t)klen;
        it->s.count = ITER_COUNT;
        it->s.buf = (uint64_t)(uintptr_t)it->buf;
        it->s.buflen = it->cap > UINT32_MAX ? UINT32_MAX : (uint32_t)it->cap;
        if (ioctl(fd, KVBTREE_IOC_SCAN, &it->s) == 0)
            break;
        if (errno != ENOSPC) {
            it->s.used = 0;
            it->status = kbtree_status(errno, "scan");
            return;
        }
        /* the first entry is bigger than the buffer: make room for it */
        kv_free(it->buf);
        it->buf = kv_malloc(it->s.needed);
        if (!it->buf) {
            it->s.used = 0;
            it->status = kv_fail(KV_ENOMEM, "kbtree: out of memory for a %u-byte entry",
                                 it->s.needed);
            return;
        }
        it->cap = it->s.needed;
    }
}

static void kbtree_iter_seek(kv_iter *base, const void *key, size_t klen)
{
    struct kbtree_iter *it = (struct kbtree_iter *)base;

    it->status = KV_OK;
    refill(it, key, klen);
}

static void kbtree_iter_first(kv_iter *base)
{
    kbtree_iter_seek(base, NULL, 0);
}

static bool kbtree_iter_valid(const kv_iter *base)
{
    const struct kbtree_iter *it = (const struct kbtree_iter *)base;

    return it->status == KV_OK && it->pos < it->s.used;
}

static struct kvbtree_entry entry_at(const struct kbtree_iter *it)
{
    struct kvbtree_entry e;

    memcpy(&e, it->buf + it->pos, sizeof(e));
    return e;
}

static void kbtree_iter_next(kv_iter *base)
{
    struct kbtree_iter *it = (struct kbtree_iter *)base;
    struct kvbtree_entry e = entry_at(it);

    it->pos += (size_t)KVBTREE_ENTRY_SIZE(e.klen, e.vlen);
    if (it->pos < it->s.used || it->s.rklen == 0)
        return;
    /* the batch is used up: scan on from the first key it did not hold */
    refill(it, it->s.rkey, it->s.rklen);
}

static void kbtree_iter_key(const kv_iter *base, const void **k, size_t *n)
{
    const struct kbtree_iter *it = (const struct kbtree_iter *)base;
    struct kvbtree_entry e = entry_at(it);

    *k = it->buf + it->pos + sizeof(e);
    *n = e.klen;
}

static void kbtree_iter_value(const kv_iter *base, const void **v, size_t *n)
{
    const struct kbtree_iter *it = (const struct kbtree_iter *)base;
    struct kvbtree_entry e = entry_at(it);

    *v = it->buf + it->pos + sizeof(e) + e.klen;
    *n = e.vlen;
}

static int kbtree_iter_status(const kv_iter *base)
{
    return ((const struct kbtree_iter *)base)->status;
}

static void kbtree_iter_close(kv_iter *base)
{
    struct kbtree_iter *it = (struct kbtree_iter *)base;

    kv_free(it->buf);
    kv_free(it);
}

const kv_engine_ops kv_engine_kbtree = {
    .name = "kbtree",
    .summary = "the B+ tree in the kernel: ioctls on /dev/kvbtree, ordered via SCAN (sprint 3, kernel part)",
    .caps = KV_CAP_ORDERED,
    .options = NULL,
    .default_max_key = KVBTREE_MAX_KEY,
    .limit_max_key = KVBTREE_MAX_KEY,
    .default_max_value = 1u << 20,
    .limit_max_value = 1u << 20,
    .open = kbtree_open,
    .close = kbtree_close,
    .put = kbtree_put,
    .get = kbtree_get,
    .del = kbtree_del,
    .stats = kbtree_stats,
    .iter_open = kbtree_iter_open,
    .iter_first = kbtree_iter_first,
    .iter_seek = kbtree_iter_seek,
    .iter_valid = kbtree_iter_valid,
    .iter_next = kbtree_iter_next,
    .iter_key = kbtree_iter_key,
    .iter_value = kbtree_iter_value,
    .iter_status = kbtree_iter_status,
    .iter_close = kbtree_iter_close,
};
