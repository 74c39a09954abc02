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
 * The open, close, PUT, GET and DEL calls and the errno mapping are the
 * ones sprint 3's engine `kbtree` makes over /dev/kvbtree: the shared
 * client of common/kernel/kvdev_client.h, to which this file describes its
 * device; STATS and the engine table are this file's.
 *
 * Thread safety: the device locks (hash_device.c); this file keeps no
 * state besides the descriptor. Callers must not use a kdev handle after a
 * fork() that closed its descriptor.
 */
#include <string.h>
#include <sys/ioctl.h>

#include "kvdev_client.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"
#include "uapi/kvhash.h"

KVDEV_CLIENT_ASSERT_REQ(struct kvhash_req);

static const struct kvdev_client kdev_dev = {
    .engine = "kdev",
    .node = "/dev/" KVHASH_DEVICE_NAME,
    .env = "KVLABS_KDEV",
    .module = "kvhash.ko",
    .put = KVHASH_IOC_PUT,
    .get = KVHASH_IOC_GET,
    .del = KVHASH_IOC_DEL,
};

static int kdev_open(const kv_open_args *a, kv_db **out)
{
    (void)a;
    return kvdev_client_open(&kdev_dev, out);
}

static int kdev_close(kv_db *db)
{
    return kvdev_client_close(&kdev_dev, db);
}

static int kdev_put(kv_db *db, const void *key, size_t klen, const void *val, size_t vlen)
{
    return kvdev_client_put(&kdev_dev, db, key, klen, val, vlen);
}

static int kdev_get(kv_db *db, const void *key, size_t klen, kv_buf *val)
{
    return kvdev_client_get(&kdev_dev, db, key, klen, val);
}

static int kdev_del(kv_db *db, const void *key, size_t klen)
{
    return kvdev_client_del(&kdev_dev, db, key, klen);
}

static int kdev_stats(kv_db *db, kv_stats *out)
{
    struct kvhash_stats st;

    memset(&st, 0, sizeof(st));
    st.size = sizeof(st);
    if (ioctl(kvdev_client_fd(db), KVHASH_IOC_STATS, &st) != 0)
        return kvdev_client_status(&kdev_dev, errno, "stats");
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
