/*
 * kvdev_client.h - the user-space side of the kvlabs character devices: the
 * kv.h engine calls over their key ioctls, shared by sprint 2's engine
 * `kdev` (kernel/kdev_engine.c, /dev/kvhash) and sprint 3's engine `kbtree`
 * (kernel/kbtree_engine.c, /dev/kvbtree). Header-only (static functions:
 * each engine file gets its own copy); it lives beside the devices' kernel
 * side (kvdev.h, whose request rules it speaks) in common/kernel/, and
 * scripts/ktest/module.mk puts that folder on the engine files' include
 * path.
 *
 * What it does. An engine describes its device once (struct kvdev_client:
 * its name for messages, its node, the environment variable that names
 * another node, its module, its PUT/GET/DEL commands) and its kv.h
 * callbacks call these:
 *   - kvdev_client_open(): opens the device; the module gives every open
 *     file descriptor a store of its own, so each kv_open is a fresh,
 *     empty store (unless the module was loaded with shared=1). The path
 *     is ignored; the node is the device's, or the file the environment
 *     variable names (a test hook, e.g. a node created elsewhere);
 *   - kvdev_client_put/get/del(): one ioctl each (struct kvdev_ureq, the
 *     layout of the devices' request structs: KVDEV_CLIENT_ASSERT_REQ
 *     checks one at build time). A get passes the caller's kv_buf as the
 *     buffer; when the device answers ENOSPC (with the length it needs)
 *     the buffer grows to that length and the GET is repeated (a
 *     concurrent writer may have made the value longer again: then once
 *     more, up to 8 tries);
 *   - kvdev_client_status(): the kernel's errno as a kv status: ENOENT ->
 *     KV_ENOTFOUND, E2BIG -> KV_ETOOBIG, ENOMEM -> KV_ENOMEM, EINVAL and
 *     EFAULT -> KV_EINVAL, anything else KV_EIO.
 * STATS, SCAN and the engine table stay in each engine's file.
 *
 * Thread safety: the device locks; a handle keeps no state besides its
 * descriptor. Callers must not use a handle after a fork() that closed its
 * descriptor, or include this in kernel code.
 */
#ifndef KVDEV_CLIENT_H
#define KVDEV_CLIENT_H

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kvlabs/alloc.h"
#include "kvlabs/engine.h"
#include "kvlabs/error.h"

/* A device, as its engine sees it. */
struct kvdev_client {
    const char *engine;   /* the engine's name: the prefix of its messages */
    const char *node;     /* the device node ("/dev/kvhash") */
    const char *env;      /* the variable naming another node ("KVLABS_KDEV") */
    const char *module;   /* the module to load ("kvhash.ko"), for messages */
    unsigned long put, get, del; /* the key ioctls */
};

/* An open store: the device descriptor of its table or tree. */
struct kvdev_db {
    kv_db base;
    int fd;
};

/* One key request: the layout of struct kvhash_req and struct kvbtree_req. */
struct kvdev_ureq {
    uint32_t size;
    uint32_t flags;
    uint64_t key;
    uint64_t val;
    uint32_t klen;
    uint32_t vlen;
};

/* The device's request struct T has kvdev_ureq's layout (a build error if not). */
#define KVDEV_CLIENT_ASSERT_REQ(T)                                                       \
    _Static_assert(sizeof(T) == sizeof(struct kvdev_ureq) &&                             \
                   offsetof(T, flags) == offsetof(struct kvdev_ureq, flags) &&           \
                   offsetof(T, key) == offsetof(struct kvdev_ureq, key) &&               \
                   offsetof(T, val) == offsetof(struct kvdev_ureq, val) &&               \
                   offsetof(T, klen) == offsetof(struct kvdev_ureq, klen) &&             \
                   offsetof(T, vlen) == offsetof(struct kvdev_ureq, vlen),               \
                   #T " is not the layout of struct kvdev_ureq")

#define KVDEV_CLIENT_UNUSED __attribute__((unused))

/* The descriptor of an open store. */
static KVDEV_CLIENT_UNUSED int kvdev_client_fd(const kv_db *db)
{
    return ((const struct kvdev_db *)db)->fd;
}

/* The device's errno err, answered to operation op, as a kv status. */
static KVDEV_CLIENT_UNUSED int kvdev_client_status(const struct kvdev_client *c, int err,
                                                   const char *op)
{
    switch (err) {
    case ENOENT: return kv_fail(KV_ENOTFOUND, "%s: key not found", c->engine);
    case E2BIG:
        return kv_fail(KV_ETOOBIG, "%s: %s: key or value above the device's limit", c->engine, op);
    case ENOMEM:
        return kv_fail(KV_ENOMEM, "%s: %s: device out of memory (or at mem_cap)", c->engine, op);
    case EINVAL:
    case EFAULT:
        return kv_fail(KV_EINVAL, "%s: %s: the device refused the request (%s)", c->engine, op,
                       strerror(err));
    default: return kv_fail(KV_EIO, "%s: %s: ioctl failed: %s", c->engine, op, strerror(err));
    }
}

/* kv_open: a fresh store (a descriptor of the device). */
static KVDEV_CLIENT_UNUSED int kvdev_client_open(const struct kvdev_client *c, kv_db **out)
{
    const char *dev = getenv(c->env);
    struct kvdev_db *d;
    int fd;

    if (!dev || !*dev)
        dev = c->node;
    fd = open(dev, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return kv_fail(errno == ENOMEM ? KV_ENOMEM : KV_EIO, "%s: cannot open %s: %s (is %s loaded?)",
                       c->engine, dev, strerror(errno), c->module);
    d = kv_calloc(1, sizeof(*d));
    if (!d) {
        close(fd);
        return kv_fail(KV_ENOMEM, "%s: out of memory", c->engine);
    }
    d->fd = fd;
    *out = &d->base;
    return KV_OK;
}

/* kv_close: the descriptor closed (the module destroys its store). */
static KVDEV_CLIENT_UNUSED int kvdev_client_close(const struct kvdev_client *c, kv_db *db)
{
    struct kvdev_db *d = (struct kvdev_db *)db;
    int rc = close(d->fd) == 0 ? KV_OK : kv_fail(KV_EIO, "%s: close: %s", c->engine, strerror(errno));

    kv_free(d);
    return rc;
}

/* One key request; returns 0 or the errno. *vlen in and out (may be NULL). */
static KVDEV_CLIENT_UNUSED int kvdev_client_ioctl(int fd, unsigned long cmd, const void *key,
                                                  size_t klen, const void *val, uint32_t *vlen)
{
    struct kvdev_ureq r;

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

static KVDEV_CLIENT_UNUSED int kvdev_client_put(const struct kvdev_client *c, kv_db *db,
                                                const void *key, size_t klen, const void *val,
                                                size_t vlen)
{
    uint32_t n = vlen > UINT32_MAX ? UINT32_MAX : (uint32_t)vlen;
    int err = kvdev_client_ioctl(kvdev_client_fd(db), c->put, key, klen, val, &n);

    return err ? kvdev_client_status(c, err, "put") : KV_OK;
}

static KVDEV_CLIENT_UNUSED int kvdev_client_get(const struct kvdev_client *c, kv_db *db,
                                                const void *key, size_t klen, kv_buf *val)
{
    int fd = kvdev_client_fd(db);

    for (int tries = 0; tries < 8; tries++) {
        uint32_t n = 0;
        void *buf = NULL;
        int err;

        if (val && val->cap > 1) {
            n = val->cap - 1 > UINT32_MAX ? UINT32_MAX : (uint32_t)(val->cap - 1);
            buf = val->data;
        }
        err = kvdev_client_ioctl(fd, c->get, key, klen, buf, &n);
        if (err == ENOSPC && !val)
            return KV_OK; /* existence test: the key is there */
        if (err == ENOSPC) {
            void *p = kv_realloc(val->data, (size_t)n + 1);

            if (!p) {
                val->len = 0;
                return kv_fail(KV_ENOMEM, "%s: out of memory for a %u-byte value", c->engine, n);
            }
            val->data = p;
            val->cap = (size_t)n + 1;
            continue;
        }
        if (err) {
            if (val)
                val->len = 0;
            return kvdev_client_status(c, err, "get");
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
    return kv_fail(KV_EIO, "%s: get: the value kept growing under a concurrent writer", c->engine);
}

static KVDEV_CLIENT_UNUSED int kvdev_client_del(const struct kvdev_client *c, kv_db *db,
                                                const void *key, size_t klen)
{
    int err = kvdev_client_ioctl(kvdev_client_fd(db), c->del, key, klen, NULL, NULL);

    return err ? kvdev_client_status(c, err, "delete") : KV_OK;
}

#endif /* KVDEV_CLIENT_H */
