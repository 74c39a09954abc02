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
 * written back to the request's vlen. These copies and rules are the ones
 * sprint 3's /dev/kvbtree follows too: the helpers of common/kernel/kvdev.h
 * (kvdev_read_req, kvdev_read_value, kvdev_write_value, kvdev_read_stats),
 * with the per-open state, its lock and open/release (struct kvdev_file).
 *
 * Locking. Two levels, both rw_semaphores (sleeping locks: the port
 * allocates with GFP_KERNEL and the device copies from user space while
 * holding them):
 *   - kvdev_file.lock protects the table pointer: PUT, GET, DEL and STATS
 *     take it shared, CLEAR takes it exclusive to destroy the table and
 *     make a new one;
 *   - inside the core, one rw_semaphore per shard (ht_port_kernel.c):
 *     readers of a shard share it, a writer excludes them.
 * So calls on different shards run in parallel and only CLEAR stops the
 * world. No lock is ever taken in the other order, and no lock is held on
 * return to user space.
 *
 * Memory. The tables' memory is charged against the module parameter
 * mem_cap (ht_port_kernel.c, over common/kernel/kvdev_mem.h); at the cap a
 * PUT fails with ENOMEM and leaves the table unchanged. The transient copy
 * buffers of one call (at most one key and one value) are not charged: they
 * are freed before the call returns.
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
#include "kvdev.h"
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

static struct kvdev_file *shared_file; /* the one table of shared=1 */

static int table_create(void **out)
{
	ht_config cfg = {
		.strategy = (ht_strategy)strategy,
		.buckets = 64,
		.shards = 16,
		.resize = HT_RESIZE_INCREMENTAL,
		.hash = kvhash_port_hash,
	};

	return ht_create(&cfg, (ht_table **)out) == HT_OK ? 0 : -ENOMEM;
}

static void table_destroy(void *t)
{
	ht_destroy(t);
}

static const struct kvdev_ops table_ops = { .create = table_create, .destroy = table_destroy };

KVDEV_ASSERT_REQ_LAYOUT(struct kvhash_req);

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

static long do_put(struct kvdev_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvdev_req req;
	void *key, *val;
	int err = kvdev_read_req(uarg, &req, KVHASH_MAX_KEY, &key);

	if (err)
		return err;
	err = kvdev_read_value(&req, max_value, &val);
	if (err)
		goto out_free_key;
	err = kvdev_file_get(kf);
	if (err)
		goto out_free_val;
	err = ht_errno(ht_put(kf->store, key, req.klen, val, req.vlen));
	up_read(&kf->lock);
	pr_debug("kvhash: put klen=%u vlen=%u: %d\n", req.klen, req.vlen, err);
out_free_val:
	kvfree(val);
out_free_key:
	kfree(key);
	return err;
	/* END SOLUTION */
}

/* ht_get's callback: runs after the lookup, outside any RCU section (a value
 * above HT_INLINE_MAX: under the shard's read lock), so it may allocate. */
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

static long do_get(struct kvdev_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvdev_req req;
	struct get_ctx c = { 0 };
	void *key;
	int err = kvdev_read_req(uarg, &req, KVHASH_MAX_KEY, &key);

	if (err)
		return err;
	c.cap = req.vlen;
	err = kvdev_file_get(kf);
	if (err)
		goto out_free_key;
	err = ht_errno(ht_get(kf->store, key, req.klen, get_copy, &c));
	up_read(&kf->lock);
	if (!err)
		err = kvdev_write_value(uarg, &req, c.buf, c.len);
	kvfree(c.buf);
out_free_key:
	kfree(key);
	pr_debug("kvhash: get klen=%u cap=%u len=%u: %d\n", req.klen, c.cap, c.len, err);
	return err;
	/* END SOLUTION */
}

static long do_del(struct kvdev_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvdev_req req;
	void *key;
	int err = kvdev_read_req(uarg, &req, KVHASH_MAX_KEY, &key);

	if (err)
		return err;
	err = kvdev_file_get(kf);
	if (err)
		goto out_free_key;
	err = ht_errno(ht_delete(kf->store, key, req.klen));
	up_read(&kf->lock);
out_free_key:
	kfree(key);
	return err;
	/* END SOLUTION */
}

static long do_stats(struct kvdev_file *kf, void __user *uarg)
{
	struct kvhash_stats out;
	ht_stats st;
	int err = kvdev_read_stats(uarg, &out, sizeof(out));

	if (err)
		return err;
	err = kvdev_file_get(kf);
	if (err)
		return err;
	ht_get_stats(kf->store, &st);
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
 * make a new one; when that fails the next call tries again (kvdev_file_get()).
 */
static long do_clear(struct kvdev_file *kf)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	int err;

	down_write(&kf->lock);
	ht_destroy(kf->store);
	kf->store = NULL;
	err = table_create(&kf->store);
	up_write(&kf->lock);
	return err;
	/* END SOLUTION */
}

static long kvhash_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kvdev_file *kf = file->private_data;
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
	return kvdev_open(file, shared_file, &table_ops);
}

static int kvhash_release(struct inode *inode, struct file *file)
{
	kvdev_release(file, shared_file);
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
		shared_file = kvdev_file_new(&table_ops);
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
	kvdev_file_free(shared_file);
	shared_file = NULL;
	return err;
}

static void __exit kvhash_exit(void)
{
	misc_deregister(&kvhash_misc);
	kvdev_file_free(shared_file);
	shared_file = NULL;
}

module_init(kvhash_init);
module_exit(kvhash_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("kvlabs sprint 2: the hash table as a character device");
