/* SPDX-License-Identifier: MIT */
/*
 * kvdev.h - what the kvlabs character devices share (sprint 2's /dev/kvhash,
 * hash_device.c; sprint 3's /dev/kvbtree, kernel_btree.c): the user/kernel
 * copy-in of a key request and its length rules, a GET's copy-out, the
 * STATS request check, and the per-open state with its lock. Header-only
 * kernel code (static functions: each module gets its own copy).
 *
 * Why here. Both labs build their module alone (`make -C <lab> ktest`), so
 * the shared piece must sit below both, in a folder every starter kit ships:
 * common/ (kits copy common/ and scripts/ whole). scripts/ktest/ holds the
 * harness that builds and boots a module; this is code of the module itself,
 * so it lives in common/kernel/, next to the user-space library, and
 * scripts/ktest/module.mk puts it on the module's include path (Kbuild:
 * -I$(KV_KDEV_DIR)). kvdev_mem.h beside it is the memory cap of the ports.
 *
 * The request rules (the UAPI headers document them for user space; both
 * devices answer alike):
 *   - struct kvdev_req is the layout of struct kvhash_req and struct
 *     kvbtree_req (KVDEV_ASSERT_REQ_LAYOUT checks a device's struct at
 *     build time): size, flags, key and val addresses, klen, vlen;
 *   - an unreadable request, key or value: EFAULT; a size other than the
 *     struct's or non-zero flags: EINVAL; klen 0: EINVAL; klen above the
 *     device's longest key, or a PUT's vlen above max_value: E2BIG;
 *   - the core is never handed a user pointer: the key and value are copied
 *     into kernel buffers first (kvdev_read_req, kvdev_read_value);
 *   - a GET writes exactly the value's length to user space, never the
 *     user's buffer size (that would leak kernel memory); a buffer too
 *     small is ENOSPC with the needed length written back to vlen
 *     (kvdev_write_value).
 *
 * The per-open state (struct kvdev_file): one store (a table, a tree) and
 * the rw_semaphore that guards swapping it. Calls take it shared
 * (kvdev_file_get), CLEAR takes it exclusive to destroy the store and make
 * a new one; a store lost to a CLEAR that could not make a new one is
 * remade by the next call. With the module parameter shared=1 every opener
 * uses one kvdev_file (kvdev_open, kvdev_release).
 *
 * Callers must call these from process context (they sleep), must not hold
 * a kvdev_file's lock while touching user memory, and free what
 * kvdev_read_req and kvdev_read_value hand back (kfree and kvfree).
 */
#ifndef KVDEV_H
#define KVDEV_H

#include <linux/build_bug.h>
#include <linux/fs.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/stddef.h>
#include <linux/types.h>
#include <linux/uaccess.h>

/** struct kvdev_req - one key request (PUT, GET, DEL): the devices' layout. */
struct kvdev_req {
	__u32 size;  /* sizeof the struct: the version */
	__u32 flags; /* must be 0 */
	__u64 key;   /* user address of the key bytes */
	__u64 val;   /* user address of the value (PUT: source; GET: buffer) */
	__u32 klen;  /* key length, 1..the device's longest key */
	__u32 vlen;  /* PUT: value length; GET in: buffer size, out: value length */
};

/* The device's request struct T has kvdev_req's layout (a build error if not). */
#define KVDEV_ASSERT_REQ_LAYOUT(T)                                                       \
	static_assert(sizeof(T) == sizeof(struct kvdev_req) &&                           \
		      offsetof(T, flags) == offsetof(struct kvdev_req, flags) &&         \
		      offsetof(T, key) == offsetof(struct kvdev_req, key) &&             \
		      offsetof(T, val) == offsetof(struct kvdev_req, val) &&             \
		      offsetof(T, klen) == offsetof(struct kvdev_req, klen) &&           \
		      offsetof(T, vlen) == offsetof(struct kvdev_req, vlen),             \
		      #T " is not the layout of struct kvdev_req")

/**
 * kvdev_read_req() - copy and check a key request, then copy its key.
 * @uarg:    the ioctl's argument (a struct kvdev_req in user space).
 * @req:     the request, copied.
 * @max_key: the device's longest key.
 * @key:     the key, copied into a kmalloc'd buffer (the caller kfrees it).
 *
 * Return: 0, -EFAULT, -EINVAL, -E2BIG or -ENOMEM (nothing to free then).
 */
static int __maybe_unused kvdev_read_req(void __user *uarg, struct kvdev_req *req, u32 max_key,
					 void **key)
{
	void *k;

	if (copy_from_user(req, uarg, sizeof(*req)))
		return -EFAULT;
	if (req->size != sizeof(*req) || req->flags)
		return -EINVAL;
	if (req->klen == 0)
		return -EINVAL;
	if (req->klen > max_key)
		return -E2BIG;
	k = kmalloc(req->klen, GFP_KERNEL);
	if (!k)
		return -ENOMEM;
	if (copy_from_user(k, u64_to_user_ptr(req->key), req->klen)) {
		kfree(k);
		return -EFAULT;
	}
	*key = k;
	return 0;
}

/**
 * kvdev_read_value() - copy a PUT's value into the kernel.
 * @req:       the request (kvdev_read_req's).
 * @max_value: the longest value the device takes (its max_value parameter).
 * @val:       the value, in a kvmalloc'd buffer of at least one byte (the
 *             caller kvfrees it).
 *
 * Return: 0, -E2BIG, -ENOMEM or -EFAULT (nothing to free then).
 */
static int __maybe_unused kvdev_read_value(const struct kvdev_req *req, u32 max_value, void **val)
{
	void *v;

	if (req->vlen > max_value)
		return -E2BIG;
	v = kvmalloc(req->vlen ? req->vlen : 1, GFP_KERNEL);
	if (!v)
		return -ENOMEM;
	if (copy_from_user(v, u64_to_user_ptr(req->val), req->vlen)) {
		kvfree(v);
		return -EFAULT;
	}
	*val = v;
	return 0;
}

/**
 * kvdev_write_value() - a GET's answer: the value to the user's buffer and
 * its length to the request's vlen.
 * @uarg: the ioctl's argument (the user's struct kvdev_req).
 * @req:  the request (kvdev_read_req's; req->vlen is the buffer's size).
 * @buf:  a kernel copy of the value (may be NULL when @len is 0 or does
 *        not fit).
 * @len:  the value's length.
 *
 * Writes exactly @len bytes, never the buffer's size. No lock may be held.
 * Return: 0, -ENOSPC (the buffer is too small: vlen says how much is
 * needed, the buffer is untouched) or -EFAULT.
 */
static int __maybe_unused kvdev_write_value(void __user *uarg, const struct kvdev_req *req,
					    const void *buf, u32 len)
{
	struct kvdev_req __user *ureq = uarg;

	if (len > req->vlen)
		return put_user(len, &ureq->vlen) ? -EFAULT : -ENOSPC;
	if (len && copy_to_user(u64_to_user_ptr(req->val), buf, len))
		return -EFAULT;
	return put_user(len, &ureq->vlen) ? -EFAULT : 0;
}

/**
 * kvdev_read_stats() - copy and check a STATS request (its size and flags:
 * the first two __u32 of every STATS struct).
 * @uarg: the ioctl's argument.
 * @out:  the device's STATS struct, copied (then zeroed by the caller and
 *        filled).
 * @size: its size.
 *
 * Return: 0, -EFAULT or -EINVAL.
 */
static int __maybe_unused kvdev_read_stats(void __user *uarg, void *out, u32 size)
{
	u32 hdr[2];

	if (get_user(hdr[0], (u32 __user *)uarg))
		return -EFAULT;
	if (hdr[0] != size)
		return -EINVAL;
	if (copy_from_user(out, uarg, size))
		return -EFAULT;
	memcpy(hdr, out, sizeof(hdr));
	return hdr[1] ? -EINVAL : 0;
}

/**
 * struct kvdev_ops - how a device makes and destroys its store.
 * @create:  make an empty store in *out; 0 or -ENOMEM.
 * @destroy: destroy a store (NULL: nothing).
 */
struct kvdev_ops {
	int (*create)(void **out);
	void (*destroy)(void *store);
};

/**
 * struct kvdev_file - one store and the lock that guards swapping it.
 * @lock:  taken shared by every call, exclusive by CLEAR.
 * @store: the table or tree; NULL after a CLEAR that could not make a new
 *         one.
 * @ops:   the device's kvdev_ops.
 */
struct kvdev_file {
	struct rw_semaphore lock;
	void *store;
	const struct kvdev_ops *ops;
};

/* A new kvdev_file with an empty store, or NULL. */
static struct kvdev_file *__maybe_unused kvdev_file_new(const struct kvdev_ops *ops)
{
	struct kvdev_file *kf = kzalloc(sizeof(*kf), GFP_KERNEL);

	if (!kf)
		return NULL;
	init_rwsem(&kf->lock);
	kf->ops = ops;
	if (ops->create(&kf->store)) {
		kfree(kf);
		return NULL;
	}
	return kf;
}

/* Destroy a kvdev_file and its store (NULL: nothing). */
static void __maybe_unused kvdev_file_free(struct kvdev_file *kf)
{
	if (!kf)
		return;
	kf->ops->destroy(kf->store);
	kfree(kf);
}

/**
 * kvdev_file_get() - take the store shared (up_read(&kf->lock) releases
 * it); a store lost to a failed CLEAR is remade first.
 * @kf: the open file's state.
 *
 * Return: 0 with the lock held, or -ENOMEM without it.
 */
static int __maybe_unused kvdev_file_get(struct kvdev_file *kf)
{
	int err = 0;

	down_read(&kf->lock);
	if (likely(kf->store))
		return 0;
	up_read(&kf->lock);
	down_write(&kf->lock);
	if (!kf->store)
		err = kf->ops->create(&kf->store);
	downgrade_write(&kf->lock);
	if (err)
		up_read(&kf->lock);
	return err;
}

/**
 * kvdev_open() - the device's open(): a fresh store per open file, or the
 * module's one shared kvdev_file.
 * @file:   the file being opened.
 * @shared: the module's one kvdev_file when shared=1, else NULL.
 * @ops:    the device's kvdev_ops.
 *
 * Return: 0 or -ENOMEM.
 */
static int __maybe_unused kvdev_open(struct file *file, struct kvdev_file *shared,
				     const struct kvdev_ops *ops)
{
	if (shared) {
		file->private_data = shared;
		return 0;
	}
	file->private_data = kvdev_file_new(ops);
	return file->private_data ? 0 : -ENOMEM;
}

/**
 * kvdev_release() - the device's release(): a store of its own is
 * destroyed with the file, the shared one stays until unload.
 * @file:   the file being released.
 * @shared: the module's one kvdev_file, or NULL.
 */
static void __maybe_unused kvdev_release(struct file *file, struct kvdev_file *shared)
{
	if (file->private_data != shared)
		kvdev_file_free(file->private_data);
}

#endif /* KVDEV_H */
