// SPDX-License-Identifier: MIT
/*
 * kernel_btree.c - the sprint-3 B+ tree as a character device,
 * /dev/kvbtree, driven by the ioctls of include/uapi/kvbtree.h.
 *
 * What it is. The module is built from the same core files as the
 * user-space `btree` engine (btree/btree_core.c, btree_operations.c,
 * btree_bulk.c, btree_check.c, btree_dot.c, found through KV_BPT_CORE_DIR
 * in kernel/Kbuild), with the kernel port of bpt_port_kernel.c under them.
 * This file is the layer above: a misc device whose ioctls copy keys,
 * values and scan batches between user space and the kernel, checking
 * every length, and call the core. It mirrors sprint 2's hash_device.c
 * rule for rule (the same request layout and errno rules) and adds SCAN.
 *
 * State. Each open file descriptor gets a tree of its own, made at open()
 * and destroyed at the last close, so every kv_open of the `kbtree` engine
 * is a fresh store. With the module parameter shared=1 every opener uses
 * one tree, made at load and destroyed at unload.
 *
 * How a call goes. PUT, GET and DEL first copy the struct kvbtree_req
 * (EFAULT if user space cannot be read), check its size and flags
 * (EINVAL), its key length (EINVAL for 0, E2BIG above KVBTREE_MAX_KEY) and
 * a PUT's value length (E2BIG above max_value), then copy the key (and a
 * PUT's value) into kernel buffers (EFAULT). The core is never handed a
 * user pointer. A GET copies the value into a kernel buffer under the
 * tree's read lock, then, unlocked, copies exactly the value's length to
 * user space: never the user's buffer size, which would leak kernel
 * memory. A buffer too small is ENOSPC, with the needed length written
 * back to the request's vlen. These copies and rules, the per-open state
 * with its lock, and open/release are the helpers both devices share
 * (common/kernel/kvdev.h: kvdev_read_req, kvdev_read_value,
 * kvdev_write_value, kvdev_read_stats, struct kvdev_file).
 *
 * SCAN. bpt_scan() visits entries in key order under the tree's read lock;
 * the visitor packs each one (the wire layout of the UAPI header: an
 * 8-byte header, key, value, zero padding to 8) into a kernel buffer that
 * grows by doubling up to min(buflen, KVBTREE_SCAN_MAX_BUF). It stops at
 * the first entry that does not fit or after `count` entries, and keeps
 * that entry's key as the resume key. Only after the locks are dropped is
 * the batch copied to user space: `used` bytes, never more, then the
 * struct with count, used, needed and the resume key.
 *
 * Locking. Two levels of rw_semaphore (sleeping locks: the port allocates
 * with GFP_KERNEL under them):
 *   - kvdev_file.lock protects the tree pointer: PUT, GET, DEL, STATS and
 *     SCAN take it shared, CLEAR takes it exclusive to destroy the tree and
 *     make a new one;
 *   - inside the core, one rw_semaphore per tree (bpt_port_kernel.c):
 *     GET, SCAN and STATS share it, PUT and DEL take it alone.
 * The order is always file lock, then tree lock; no lock is held while
 * user memory is touched, and none on return to user space.
 *
 * Memory. The trees' memory is charged against the module parameter
 * mem_cap (bpt_port_kernel.c, over common/kernel/kvdev_mem.h); at the cap a
 * PUT fails with ENOMEM and leaves the tree unchanged. The transient copy
 * buffers of one call (a key, a value, a scan batch) are not charged: they
 * are freed before the call returns.
 *
 * Callers must not call the core from atomic context or hand it a user
 * pointer; every exit path of an ioctl must release what it took (the
 * mutants in vm-mutants/ check that the tests notice when one does not).
 */
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "bpt.h"
#include "bpt_port_kernel.h"
#include "kvdev.h"
#include "uapi/kvbtree.h"

static bool shared;
module_param(shared, bool, 0444);
MODULE_PARM_DESC(shared, "one tree for every opener instead of one per open file (default 0)");

static uint order = 64;
module_param(order, uint, 0444);
MODULE_PARM_DESC(order, "branching factor of every tree, 3..1024 (default 64)");

static uint max_value = 1U << 20;
module_param(max_value, uint, 0444);
MODULE_PARM_DESC(max_value, "largest value in bytes (default 1 MiB, at most 16 MiB)");

/* The first size of a scan's kernel batch buffer (it doubles from there). */
#define SCAN_BUF_FIRST (64u << 10)

static struct kvdev_file *shared_file; /* the one tree of shared=1 */

static int tree_create(void **out)
{
	return bpt_create(order, (bpt_tree **)out) == BPT_OK ? 0 : -ENOMEM;
}

static void tree_destroy(void *t)
{
	bpt_destroy(t);
}

static const struct kvdev_ops tree_ops = { .create = tree_create, .destroy = tree_destroy };

KVDEV_ASSERT_REQ_LAYOUT(struct kvbtree_req);

/* The core's status as an errno. */
static int __maybe_unused bpt_errno(int rc)
{
	switch (rc) {
	case BPT_OK:
		return 0;
	case BPT_ENOTFOUND:
		return -ENOENT;
	case BPT_ETOOBIG:
		return -E2BIG;
	case BPT_ENOMEM:
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
	int err = kvdev_read_req(uarg, &req, KVBTREE_MAX_KEY, &key);

	if (err)
		return err;
	err = kvdev_read_value(&req, max_value, &val);
	if (err)
		goto out_free_key;
	err = kvdev_file_get(kf);
	if (err)
		goto out_free_val;
	err = bpt_errno(bpt_put(kf->store, key, req.klen, val, req.vlen));
	up_read(&kf->lock);
	pr_debug("kvbtree: put klen=%u vlen=%u: %d\n", req.klen, req.vlen, err);
out_free_val:
	kvfree(val);
out_free_key:
	kfree(key);
	return err;
	/* END SOLUTION */
}

/* bpt_get's callback: runs under the tree's read lock. */
struct get_ctx {
	u32 cap;   /* the user's buffer size */
	u32 len;   /* the value's length */
	void *buf; /* a copy of the value when it fits */
};

static int __maybe_unused get_copy(void *arg, const void *val, size_t vlen)
{
	/* STUB: return BPT_OK; */
	/* BEGIN SOLUTION */
	struct get_ctx *c = arg;

	c->len = (u32)vlen;
	if (vlen > c->cap || vlen == 0)
		return BPT_OK;
	c->buf = kvmalloc(vlen, GFP_KERNEL);
	if (!c->buf)
		return BPT_ENOMEM;
	memcpy(c->buf, val, vlen);
	return BPT_OK;
	/* END SOLUTION */
}

static long do_get(struct kvdev_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvdev_req req;
	struct get_ctx c = { 0 };
	void *key;
	int err = kvdev_read_req(uarg, &req, KVBTREE_MAX_KEY, &key);

	if (err)
		return err;
	c.cap = req.vlen;
	err = kvdev_file_get(kf);
	if (err)
		goto out_free_key;
	err = bpt_errno(bpt_get(kf->store, key, req.klen, get_copy, &c));
	up_read(&kf->lock);
	if (!err)
		err = kvdev_write_value(uarg, &req, c.buf, c.len);
	kvfree(c.buf);
out_free_key:
	kfree(key);
	pr_debug("kvbtree: get klen=%u cap=%u len=%u: %d\n", req.klen, c.cap, c.len, err);
	return err;
	/* END SOLUTION */
}

static long do_del(struct kvdev_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct kvdev_req req;
	void *key;
	int err = kvdev_read_req(uarg, &req, KVBTREE_MAX_KEY, &key);

	if (err)
		return err;
	err = kvdev_file_get(kf);
	if (err)
		goto out_free_key;
	err = bpt_errno(bpt_delete(kf->store, key, req.klen));
	up_read(&kf->lock);
out_free_key:
	kfree(key);
	return err;
	/* END SOLUTION */
}

/* bpt_scan's visitor state: the batch being packed (see SCAN above). */
struct scan_ctx {
	u8 *buf;     /* the kernel batch, bufcap bytes (kvmalloc) */
	u32 bufcap;
	u32 limit;   /* the most bytes the batch may hold: min(buflen, max) */
	u32 used;    /* bytes packed */
	u32 count;   /* entries packed */
	u32 want;    /* the most entries wanted */
	u32 needed;  /* the first entry's size when it did not fit */
	u32 rklen;   /* the resume key's length (0: the scan reached the end) */
	u8 *rkey;    /* where the resume key goes (KVBTREE_MAX_KEY bytes) */
};

/* Make room for n more bytes in the batch (n fits under c->limit). */
static int __maybe_unused scan_reserve(struct scan_ctx *c, u32 n)
{
	u32 cap = c->bufcap ? c->bufcap : min_t(u32, c->limit, SCAN_BUF_FIRST);
	u8 *nb;

	if (c->used + n <= c->bufcap)
		return 0;
	while (cap < c->used + n)
		cap = cap > c->limit / 2 ? c->limit : cap * 2;
	nb = kvmalloc(cap, GFP_KERNEL);
	if (!nb)
		return -ENOMEM;
	if (c->used)
		memcpy(nb, c->buf, c->used);
	kvfree(c->buf);
	c->buf = nb;
	c->bufcap = cap;
	return 0;
}

static int __maybe_unused scan_visit(void *arg, const void *key, size_t klen, const void *val,
				     size_t vlen)
{
	/* STUB: return 1; */
	/* BEGIN SOLUTION */
	struct scan_ctx *c = arg;
	u64 sz = KVBTREE_ENTRY_SIZE(klen, vlen);
	struct kvbtree_entry e = { .klen = (u32)klen, .vlen = (u32)vlen };
	u8 *p;

	if (c->count == c->want || c->used + sz > c->limit) {
		if (c->count == 0)
			c->needed = (u32)min_t(u64, sz, U32_MAX);
		c->rklen = (u32)min_t(size_t, klen, KVBTREE_MAX_KEY);
		memcpy(c->rkey, key, c->rklen);
		return 1;
	}
	if (scan_reserve(c, (u32)sz))
		return BPT_ENOMEM;
	p = c->buf + c->used;
	memcpy(p, &e, sizeof(e));
	memcpy(p + sizeof(e), key, klen);
	if (vlen)
		memcpy(p + sizeof(e) + klen, val, vlen);
	memset(p + sizeof(e) + klen + vlen, 0, sz - sizeof(e) - klen - vlen);
	c->used += (u32)sz;
	c->count++;
	return 0;
	/* END SOLUTION */
}

static long do_scan(struct kvdev_file *kf, void __user *uarg)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	struct scan_ctx c = { 0 };
	struct kvbtree_scan *s;
	void *key = NULL;
	u32 size;
	int err;

	if (get_user(size, (u32 __user *)uarg))
		return -EFAULT;
	if (size != sizeof(*s))
		return -EINVAL;
	s = kmalloc(sizeof(*s), GFP_KERNEL);
	if (!s)
		return -ENOMEM;
	if (copy_from_user(s, uarg, sizeof(*s))) {
		err = -EFAULT;
		goto out_free_req;
	}
	if ((s->flags & ~KVBTREE_SCAN_EXCLUSIVE) || s->count == 0) {
		err = -EINVAL;
		goto out_free_req;
	}
	if (s->klen > KVBTREE_MAX_KEY) {
		err = -E2BIG;
		goto out_free_req;
	}
	if (s->klen) {
		key = memdup_user(u64_to_user_ptr(s->key), s->klen);
		if (IS_ERR(key)) {
			err = PTR_ERR(key);
			key = NULL;
			goto out_free_req;
		}
	}
	c.limit = min_t(u32, s->buflen, KVBTREE_SCAN_MAX_BUF);
	c.want = s->count;
	c.rkey = s->rkey;
	err = kvdev_file_get(kf);
	if (err)
		goto out_free_key;
	err = bpt_errno(bpt_scan(kf->store, key, s->klen, s->klen && (s->flags & KVBTREE_SCAN_EXCLUSIVE),
				 scan_visit, &c));
	up_read(&kf->lock);
	if (err)
		goto out_free_batch;
	if (c.used && copy_to_user(u64_to_user_ptr(s->buf), c.buf, c.used)) {
		err = -EFAULT;
		goto out_free_batch;
	}
	s->count = c.count;
	s->used = c.used;
	s->needed = c.needed;
	s->rklen = c.rklen;
	if (copy_to_user(uarg, s, sizeof(*s)))
		err = -EFAULT;
	else if (c.needed)
		err = -ENOSPC;
	pr_debug("kvbtree: scan klen=%u count=%u used=%u rklen=%u: %d\n", s->klen, c.count,
		 c.used, c.rklen, err);
out_free_batch:
	kvfree(c.buf);
out_free_key:
	kfree(key);
out_free_req:
	kfree(s);
	return err;
	/* END SOLUTION */
}

static long do_stats(struct kvdev_file *kf, void __user *uarg)
{
	struct kvbtree_stats out;
	bpt_stats st;
	int err = kvdev_read_stats(uarg, &out, sizeof(out));

	if (err)
		return err;
	err = kvdev_file_get(kf);
	if (err)
		return err;
	bpt_stats_get(kf->store, &st);
	up_read(&kf->lock);
	memset(&out, 0, sizeof(out));
	out.size = sizeof(out);
	out.keys = st.keys;
	out.bytes = st.bytes;
	out.mem_bytes = st.mem_bytes;
	out.leaves = st.leaves;
	out.inners = st.inners;
	out.height = st.height;
	out.order = st.order;
	out.splits = st.splits;
	out.merges = st.merges;
	out.module_mem = kvbtree_port_mem_used();
	out.mem_cap = kvbtree_port_mem_cap();
	return copy_to_user(uarg, &out, sizeof(out)) ? -EFAULT : 0;
}

/* Destroy the tree first (so a CLEAR at the memory cap frees memory), then
 * make a new one; when that fails the next call tries again (kvdev_file_get()).
 */
static long do_clear(struct kvdev_file *kf)
{
	/* STUB: return -ENOSYS; */
	/* BEGIN SOLUTION */
	int err;

	down_write(&kf->lock);
	bpt_destroy(kf->store);
	kf->store = NULL;
	err = tree_create(&kf->store);
	up_write(&kf->lock);
	return err;
	/* END SOLUTION */
}

static long kvbtree_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct kvdev_file *kf = file->private_data;
	void __user *uarg = (void __user *)arg;

	switch (cmd) {
	case KVBTREE_IOC_PUT:
		return do_put(kf, uarg);
	case KVBTREE_IOC_GET:
		return do_get(kf, uarg);
	case KVBTREE_IOC_DEL:
		return do_del(kf, uarg);
	case KVBTREE_IOC_STATS:
		return do_stats(kf, uarg);
	case KVBTREE_IOC_CLEAR:
		return do_clear(kf);
	case KVBTREE_IOC_SCAN:
		return do_scan(kf, uarg);
	default:
		return -ENOTTY;
	}
}

static int kvbtree_open(struct inode *inode, struct file *file)
{
	return kvdev_open(file, shared_file, &tree_ops);
}

static int kvbtree_release(struct inode *inode, struct file *file)
{
	kvdev_release(file, shared_file);
	return 0;
}

static const struct file_operations kvbtree_fops = {
	.owner = THIS_MODULE,
	.open = kvbtree_open,
	.release = kvbtree_release,
	.unlocked_ioctl = kvbtree_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice kvbtree_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = KVBTREE_DEVICE_NAME,
	.fops = &kvbtree_fops,
	.mode = 0666,
};

static int __init kvbtree_init(void)
{
	int err;

	if (order < BPT_ORDER_MIN || order > BPT_ORDER_MAX || max_value > KVBTREE_MAX_VALUE)
		return -EINVAL;
	if (shared) {
		shared_file = kvdev_file_new(&tree_ops);
		if (!shared_file)
			return -ENOMEM;
	}
	err = misc_register(&kvbtree_misc);
	if (err)
		goto out_free_shared;
	pr_info("kvbtree: /dev/%s ready (order %u, %s trees)\n", KVBTREE_DEVICE_NAME, order,
		shared ? "one shared" : "per-open");
	return 0;

out_free_shared:
	kvdev_file_free(shared_file);
	shared_file = NULL;
	return err;
}

static void __exit kvbtree_exit(void)
{
	misc_deregister(&kvbtree_misc);
	kvdev_file_free(shared_file);
	shared_file = NULL;
}

module_init(kvbtree_init);
module_exit(kvbtree_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("kvlabs sprint 3: the B+ tree as a character device");
