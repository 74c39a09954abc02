// SPDX-License-Identifier: MIT
/*
 * hash_device.c - the sprint-2 hash table as a character device,
 * /dev/kvhash, driven by the ioctls of include/uapi/kvhash.h.
 *
 * What it is. The module is built from the same core files as the
 * user-space `hash` engine (ht_core.c, ht_resize.c and the four strategy
 * files, found through KV_HT_CORE_DIR in kernel/Kbuild), with the kernel
 * port of ht_port_kernel.c under them. This file is the layer above: a misc
 * device whose ioctls copy keys and values between user space and the
 * kernel, checking every length, and call the core.
 *
 * State. Each open file descriptor gets a table of its own, made at open()
 * and destroyed at the last close, so every kv_open of the `kdev` engine is
 * a fresh store. With the module parameter shared=1 every opener uses one
 * table, made at load and destroyed at unload: several processes on one
 * device.
 *
 * How a call goes. PUT, GET and DEL first copy the struct kvhash_req
 * (EFAULT if user space cannot be read), check its size and flags
 * (EINVAL), its key length (EINVAL for 0, E2BIG above KVHASH_MAX_KEY) and a
 * PUT's value length (E2BIG above max_value), then copy the key (and a
 * PUT's value) into kernel buffers (EFAULT). The core is never handed a
 * user pointer. A GET copies the value out of the table into a kernel
 * buffer while the shard is locked, then, unlocked, copies exactly the
 * value's length to user space: never the user's buffer size, which would
 * leak kernel memory. A buffer too small is ENOSPC, with the length needed
 * written back to the request's vlen.
 *
 * Locking. Two levels, both rw_semaphores (sleeping locks: the port
 * allocates with GFP_KERNEL and the device copies from user space while
 * holding them):
 *   - kvhash_file.lock protects the table pointer: PUT, GET, DEL and STATS
 *     take it shared, CLEAR takes it exclusive to destroy the table and
 *     make a new one;
 *   - inside the core, one rw_semaphore per shard (ht_port_kernel.c):
 *     readers of a shard share it, a writer excludes them.
 * So calls on different shards run in parallel and only CLEAR stops the
 * world. No lock is ever taken in the other order, and no lock is held on
 * return to user space.
 *
 * Memory. The tables' memory is charged against the module parameter
 * mem_cap (ht_port_kernel.c); at the cap a PUT fails with ENOMEM and
 * leaves the table unchanged. The transient copy buffers of one call (at
 * most one key and one value) are not charged: they are freed before the
 * call returns.
 *
 * Callers must not call the core from atomic context or hand it a user
 * pointer; every exit path of an ioctl must release what it took (the
 * mutants in mutants/ check that the tests notice when one does not).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "ht.h"
#include "ht_port_kernel.h"
#include "uapi/kvhash.h"

static bool shared;
module_param(shared, bool, 0444);
MODULE_PARM_DESC(shared, "one table for every opener instead of one per open file (default 0)");

static uint strategy = HT_SWISS;
module_param(strategy, uint, 0444);
MODULE_PARM_DESC(strategy, "collision strategy: 0 chaining, 1 linear, 2 robinhood, 3 swiss (default)");

static uint max_value = 1U << 20;
module_param(max_value, uint, 0444);
MODULE_PARM_DESC(max_value, "largest value in bytes (default 1 MiB, at most 16 MiB)");

/* One table and the lock that guards swapping it (see Locking above). */
struct kvhash_file {
	struct rw_semaphore lock;
	ht_table *t; /* NULL after a CLEAR that could not make a new table */
};

static struct kvhash_file *shared_file;

static int table_create(ht_table **out)
{
	ht_config cfg = {
		.strategy = (ht_strategy)strategy,
		.buckets = 64,
		.shards = 16,
		.resize = HT_RESIZE_INCREMENTAL,
		.hash = kvhash_port_hash,
	};

	return ht_create(&cfg, out) == HT_OK ? 0 : -ENOMEM;
}

static struct kvhash_file *kvhash_file_new(void)
{
	struct kvhash_file *kf = kzalloc(sizeof(*kf), GFP_KERNEL);

	if (!kf)
		return NULL;
	init_rwsem(&kf->lock);
	if (table_create(&kf->t)) {
		kfree(kf);
		return NULL;
	}
	return kf;
}

static void kvhash_file_free(struct kvhash_file *kf)
{
	if (!kf)
		return;
	ht_destroy(kf->t);
	kfree(kf);
}

/* The core's status as an errno. */
static int __maybe_unused ht_errno(int rc)
{
	switch (rc) {
	case HT_OK:
		return 0;
	case HT_ENOTFOUND:
		return -ENOENT;
	case HT_ETOOBIG:
		return -E2BIG;
	case HT_ENOMEM:
	case HT_EFULL:
		return -ENOMEM;
	default:
		return -EINVAL;
	}
}

/* Copy and check a request, then copy its key into *key (kmalloc'd). */
static int __maybe_unused read_req(void __user *uarg, struct kvhash_req *req, void **key)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	void *k;

	if (copy_from_user(req, uarg, sizeof(*req)))
		return -EFAULT;
	if (req->size != sizeof(*req) || req->flags)
		return -EINVAL;
	if (req->klen == 0)
		return -EINVAL;
	if (req->klen > KVHASH_MAX_KEY)
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
	/* END SOLUTION */
}

/* Take the table shared; a table lost to a failed CLEAR is remade first. */
static int __maybe_unused table_get(struct kvhash_file *kf)
{
	int err = 0;

	down_read(&kf->lock);
	if (likely(kf->t))
		return 0;
	up_read(&kf->lock);
	down_write(&kf->lock);
	if (!kf->t)
		err = table_create(&kf->t);
	downgrade_write(&kf->lock);
	if (err)
		up_read(&kf->lock);
	return err;
}

static long do_put(struct kvhash_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvhash_req req;
	void *key, *val;
	int err = read_req(uarg, &req, &key);

	if (err)
		return err;
	if (req.vlen > max_value) {
		err = -E2BIG;
		goto out_free_key;
	}
	val = kvmalloc(req.vlen ? req.vlen : 1, GFP_KERNEL);
	if (!val) {
		err = -ENOMEM;
		goto out_free_key;
	}
	if (copy_from_user(val, u64_to_user_ptr(req.val), req.vlen)) {
		err = -EFAULT;
		goto out_free_val;
	}
	err = table_get(kf);
	if (err)
		goto out_free_val;
	err = ht_errno(ht_put(kf->t, key, req.klen, val, req.vlen));
	up_read(&kf->lock);
	pr_debug("kvhash: put klen=%u vlen=%u: %d\n", req.klen, req.vlen, err);
out_free_val:
	kvfree(val);
out_free_key:
	kfree(key);
	return err;
	/* END SOLUTION */
}

/* ht_get's callback: runs with the shard locked. */
struct get_ctx {
	u32 cap;   /* the user's buffer size */
	u32 len;   /* the value's length */
	void *buf; /* a copy of the value when it fits */
};

static int __maybe_unused get_copy(void *arg, const void *val, size_t vlen)
{
	/* STUB: return HT_OK; */
	/* BEGIN SOLUTION */
	struct get_ctx *c = arg;

	c->len = (u32)vlen;
	if (vlen > c->cap || vlen == 0)
		return HT_OK;
	c->buf = kvmalloc(vlen, GFP_KERNEL);
	if (!c->buf)
		return HT_ENOMEM;
	memcpy(c->buf, val, vlen);
	return HT_OK;
	/* END SOLUTION */
}

static long do_get(struct kvhash_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvhash_req __user *ureq = uarg;
	struct kvhash_req req;
	struct get_ctx c = { 0 };
	void *key;
	int err = read_req(uarg, &req, &key);

	if (err)
		return err;
	c.cap = req.vlen;
	err = table_get(kf);
	if (err)
		goto out_free_key;
	err = ht_errno(ht_get(kf->t, key, req.klen, get_copy, &c));
	up_read(&kf->lock);
	if (err)
		goto out_free_key;
	if (c.len > c.cap) {
		err = put_user(c.len, &ureq->vlen) ? -EFAULT : -ENOSPC;
		goto out_free_key;
	}
	if (c.len && copy_to_user(u64_to_user_ptr(req.val), c.buf, c.len)) {
		err = -EFAULT;
		goto out_free_buf;
	}
	if (put_user(c.len, &ureq->vlen))
		err = -EFAULT;
out_free_buf:
	kvfree(c.buf);
out_free_key:
	kfree(key);
	pr_debug("kvhash: get klen=%u cap=%u len=%u: %d\n", req.klen, c.cap, c.len, err);
	return err;
	/* END SOLUTION */
}

static long do_del(struct kvhash_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvhash_req req;
	void *key;
	int err = read_req(uarg, &req, &key);

	if (err)
		return err;
	err = table_get(kf);
	if (err)
		goto out_free_key;
	err = ht_errno(ht_delete(kf->t, key, req.klen));
	up_read(&kf->lock);
out_free_key:
	kfree(key);
	return err;
	/* END SOLUTION */
}

static long do_stats(struct kvhash_file *kf, void __user *uarg)
{
	struct kvhash_stats out;
	ht_stats st;
	u32 size;
	int err;

	if (get_user(size, (u32 __user *)uarg))
		return -EFAULT;
	if (size != sizeof(out))
		return -EINVAL;
	if (copy_from_user(&out, uarg, sizeof(out)))
		return -EFAULT;
	if (out.flags)
		return -EINVAL;
	err = table_get(kf);
	if (err)
		return err;
	ht_get_stats(kf->t, &st);
	up_read(&kf->lock);
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	out.keys = st.keys;
	out.bytes = st.bytes;
	out.mem_bytes = st.mem_bytes;
	out.capacity = st.capacity;
	out.resizes = st.resizes;
	out.module_mem = kvhash_port_mem_used();
	out.mem_cap = kvhash_port_mem_cap();
	return copy_to_user(uarg, &out, sizeof(out)) ? -EFAULT : 0;
}

/* Destroy the table first (so a CLEAR at the memory cap frees memory), then
 * make a new one; when that fails the next call tries again (table_get()).
 */
static long do_clear(struct kvhash_file *kf)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	int err;

	down_write(&kf->lock);
	ht_destroy(kf->t);
	kf->t = NULL;
	err = table_create(&kf->t);
	up_write(&kf->lock);
	return err;
	/* END SOLUTION */
}

static long kvhash_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kvhash_file *kf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KVHASH_IOC_PUT:
		return do_put(kf, uarg);
	case KVHASH_IOC_GET:
		return do_get(kf, uarg);
	case KVHASH_IOC_DEL:
		return do_del(kf, uarg);
	case KVHASH_IOC_STATS:
		return do_stats(kf, uarg);
	case KVHASH_IOC_CLEAR:
		return do_clear(kf);
	default:
		return -ENOTTY;
	}
}

static int kvhash_open(struct inode *inode, struct file *file)
{
	if (shared) {
		file->private_data = shared_file;
		return 0;
	}
	file->private_data = kvhash_file_new();
	return file->private_data ? 0 : -ENOMEM;
}

static int kvhash_release(struct inode *inode, struct file *file)
{
	if (!shared)
		kvhash_file_free(file->private_data);
	return 0;
}

static const struct file_operations kvhash_fops = {
	.owner = THIS_MODULE,
	.open = kvhash_open,
	.release = kvhash_release,
	.unlocked_ioctl = kvhash_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kvhash_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KVHASH_DEVICE_NAME,
	.fops = &kvhash_fops,
	.mode = 0666,
};

static int __init kvhash_init(void)
{
	int err;

	if (strategy >= HT_NSTRATEGIES || max_value > KVHASH_MAX_VALUE)
		return -EINVAL;
	if (shared) {
		shared_file = kvhash_file_new();
		if (!shared_file)
			return -ENOMEM;
	}
	err = misc_register(&kvhash_misc);
	if (err)
		goto out_free_shared;
	pr_info("kvhash: /dev/%s ready (%s, %s tables)\n", KVHASH_DEVICE_NAME,
		ht_strategy_name((ht_strategy)strategy), shared ? "one shared" : "per-open");
	return 0;

out_free_shared:
	kvhash_file_free(shared_file);
	shared_file = NULL;
	return err;
}

static void __exit kvhash_exit(void)
{
	misc_deregister(&kvhash_misc);
	kvhash_file_free(shared_file);
	shared_file = NULL;
}

module_init(kvhash_init);
module_exit(kvhash_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("kvlabs sprint 2: the hash table as a character device");
