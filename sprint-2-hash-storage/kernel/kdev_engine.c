/*
 * kdev_engine.c - engine `kdev`: the kv.h contract over the ioctls of
 * /dev/kvhash (include/uapi/kvhash.h), so the conformance suite and kvbench
 * run on the kernel module unchanged (inside the test VM: scripts/ktest/).
 *
 * How it works. kv_open opens the device: the module gives every open file
 * descriptor a table of its own, so each kv_open is a fresh, empty store
 * (unless the module was loaded with shared=1). Every call is one ioctl;
 * the kernel's errno becomes a kv status: ENOENT -> KV_ENOTFOUND,
 * E2BIG -> KV_ETOOBIG, ENOMEM -> KV_ENOMEM, EINVAL and EFAULT -> KV_EINVAL,
 * anything else KV_EIO. A kv_get passes the caller's kv_buf as the buffer;
 * when the device answers ENOSPC (with the length it needs) the buffer
 * grows to that length and the GET is repeated (a concurrent writer may
 * have made the value longer again: then once more).
 *
 * Limits: keys up to KVHASH_MAX_KEY (1024) bytes, values up to 1 MiB, the
 * module's default max_value. Not ordered, not durable (caps 0): a table
 * lives as long as its descriptor. The path is ignored; the device is
 * /dev/kvhash, or the file named by the environment variable KVLABS_KDEV
 * (a test hook, e.g. a device node created elsewhere).
 *
 * Thread safety: the device locks (hash_device.c); this file keeps no
 * state besides the descriptor. Callers must not use a kdev handle after a
 * fork() that closed its descriptor.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "uapi/kvhash.h"

/** @brief An open kdev store: the device descriptor of its table. */
struct kdev_db {
    kv_db base;
    int fd;
};

static int kdev_status(int err, const char *op)
{
    switch (err) {
    case ENOENT: return kv_fail(KV_ENOTFOUND, "kdev: key not found");
    case E2BIG: return kv_fail(KV_ETOOBIG, "kdev: %s: key or value above the device's limit", op);
    case ENOMEM: return kv_fail(KV_ENOMEM, "kdev: %s: device out of memory (or at mem_cap)", op);
    case EINVAL:
    case EFAULT: return kv_fail(KV_EINVAL, "kdev: %s: the device refused the request (%s)", op,
                                strerror(err));
    default: return kv_fail(KV_EIO, "kdev: %s: ioctl failed: %s", op, strerror(err));
    }
}

static int kdev_open(const kv_open_args *a, kv_db **out)
{
    const char *dev = getenv("KVLABS_KDEV");
    struct kdev_db *d;
    int fd;

    (void)a;
    if (!dev || !*dev)
        dev = "/dev/" KVHASH_DEVICE_NAME;
    fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return kv_fail(errno == ENOMEM ? KV_ENOMEM : KV_EIO,
                       "kdev: cannot open %s: %s (is kvhash.ko loaded?)", dev, strerror(errno));
    d = kv_calloc(1, sizeof(*d));
    if (!d) {
        close(fd);
        return kv_fail(KV_ENOMEM, "kdev: out of memory");
    }
    d->fd = fd;
    d->base.caps = 0;
    *out = &d->base;
    return KV_OK;
}

static int kdev_close(kv_db *db)
{
    struct kdev_db *d = (struct kdev_db *)db;
    int rc = close(d->fd) == 0 ? KV_OK : kv_fail(KV_EIO, "kdev: close: %s", strerror(errno));

    kv_free(d);
    return rc;
}

/* One request; returns 0 or the errno. */
static int kdev_ioctl(int fd, unsigned long cmd, const void *key, size_t klen, const void *val,
                      uint32_t *vlen)
{
    struct kvhash_req r;

    memset(&r, 0, sizeof(r));
    r.size = sizeof(r);
    r.key = (uint64_t)(uintptr_t)key;
    r.val = (uint64_t)(uintptr_t)val;
    r.klen = klen > UINT32_MAX ? UINT32_MAX : (uint32_t)klen;
    r.vlen = vlen ? *vlen : 0;
    int err = ioctl(fd, cmd, &r) == 0 ? 0 : errno;

    if (vlen)
        *vlen = r.vlen; /* also on failure: ENOSPC writes the length needed */
    return err;
}

static int kdev_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    uint32_t n = vlen > UINT32_MAX ? UINT32_MAX : (uint32_t)vlen;
    int err = kdev_ioctl(((struct kdev_db *)db)->fd, KVHASH_IOC_PUT, key, klen, val, &n);

    return err ? kdev_status(err, "put") : KV_OK;
}

static int kdev_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    int fd = ((struct kdev_db *)db)->fd;

    for (int tries = 0; tries < 8; tries++) {
        uint32_t n = 0;
        void *buf = NULL;
        int err;

        if (val && val->cap > 1) {
            n = val->cap - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(val->cap - 1);
            buf = val->data;
        }
        err = kdev_ioctl(fd, KVHASH_IOC_GET, key, klen, buf, &n);
        if (err == ENOSPC && !val)
            return KV_OK; /* existence test: the key is there */
        if (err == ENOSPC) {
            void *p = kv_realloc(val->data, (size_t)n + 1);

            if (!p) {
                val->len = 0;
                return kv_fail(KV_ENOMEM, "kdev: out of memory for a %u-byte value", n);
            }
            val->data = p;
            val->cap = (size_t)n + 1;
            continue;
        }
        if (err) {
            if (val)
                val->len = 0;
            return kdev_status(err, "get");
        }
        if (!val)
            return KV_OK;
        if (!buf)
            return kv_buf_set(val, NULL, 0);
        val->len = n;
        ((char *)val->data)[n] = 0;
        return KV_OK;
    }
    val->len = 0;
    return kv_fail(KV_EIO, "kdev: get: the value kept growing under a concurrent writer");
}

static int kdev_del(kv_db *db, const void *key, size_t klen)
{
    int err = kdev_ioctl(((struct kdev_db *)db)->fd, KVHASH_IOC_DEL, key, klen, NULL, NULL);

    return err ? kdev_status(err, "delete") : KV_OK;
}

static int kdev_stats(kv_db *db, kv_stats *out)
{
    struct kvhash_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (ioctl(((struct kdev_db *)db)->fd, KVHASH_IOC_STATS, &st) != 0)
        return kdev_status(errno, "stats");
    out->keys = st.keys;
    out->bytes = st.bytes;
    out->mem_bytes = st.mem_bytes;
    kv_stats_add_extra(out, "capacity", (double)st.capacity);
    kv_stats_add_extra(out, "resizes", (double)st.resizes);
    kv_stats_add_extra(out, "module_mem", (double)st.module_mem);
    kv_stats_add_extra(out, "mem_cap", (double)st.mem_cap);
    return KV_OK;
}

const kv_engine_ops kv_engine_kdev = {
    .name = "kdev",
    .summary = "the hash table in the kernel: ioctls on /dev/kvhash (sprint 2, kernel part)",
    .caps = 0,
    .options = NULL,
    .default_max_key = KVHASH_MAX_KEY,
    .limit_max_key = KVHASH_MAX_KEY,
    .default_max_value = 1u << 20,
    .limit_max_value = 1u << 20,
    .open = kdev_open,
    .close = kdev_close,
    .put = kdev_put,
    .get = kdev_get,
    .del = kdev_del,
    .stats = kdev_stats,
};
