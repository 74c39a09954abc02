// SPDX-License-Identifier: MIT
/*
 * bpt_port_kernel.c - the kernel implementation of the B+ tree core's port
 * (include/bpt_port.h): memory and the reader-writer lock, for the module
 * behind /dev/kvbtree (kernel_btree.c). The user-space twin is
 * btree/btree_port_user.c; sprint 2's ht_port_kernel.c is the model.
 *
 * Memory. Every block comes from kvmalloc() (kmalloc for small blocks,
 * vmalloc when a large one cannot be found in contiguous pages) with a
 * 16-byte header in front recording what the block was charged. The port
 * contract says bpt_port_alloc_size() depends only on the requested size
 * (the tree adds it at allocation and subtracts it at free without asking
 * the allocator), so the charge is computed from the size alone:
 * kmalloc_size_roundup() of size plus header (the slab bucket it lands in)
 * up to KMALLOC_MAX_CACHE_SIZE, the page-rounded size above, and charged
 * before the block is made. The counter, the cap and the header are the
 * ones both labs' ports share (common/kernel/kvdev_mem.h). The charges of
 * all trees add up in one atomic counter, kvbtree_port_mem_used(); the
 * module parameter mem_cap (bytes, 0 = no cap, writable at run time under
 * /sys/module/kvbtree/parameters/) bounds it. An allocation that would pass
 * the cap is refused, so the core returns BPT_ENOMEM and leaves its tree
 * unchanged, exactly as when the kernel itself is out of memory. free
 * gives back the charge stored in the header, so the counter always
 * balances (the tests check it returns to its value after a close).
 *
 * Lock. A bpt_port_lock is a struct rw_semaphore: readers share it, a
 * writer excludes everyone, a holder may sleep (the core allocates with
 * GFP_KERNEL under the write lock). So the core must be called from process
 * context only (an ioctl), never from an interrupt or under a spinlock.
 * The lock itself is a plain kmalloc block, not charged: it is part of the
 * tree's fixed cost and must never fail because of the cap.
 *
 * Callers must not free a block of this port with kvfree() (the header
 * comes first), or pass a block of another allocator to bpt_port_free().
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/rwsem.h>
#include <linux/slab.h>

#include "bpt_port.h"
#include "bpt_port_kernel.h"

/* the module's memory counter, its mem_cap parameter, the block header */
#define KVDEV_MEM_STORES "trees"
#include "kvdev_mem.h"

/* The largest single request: the core never needs more (a record of
 * BPT_MAX_VALUE plus its key); the device allows far less.
 */
#define PORT_MAX_BLOCK (1UL << 31)

/* What a request of n bytes is charged: its header included, rounded up as
 * the allocator rounds it. Depends on n only (the port's contract).
 */
static size_t port_charge(size_t n)
{
	size_t total = n + sizeof(struct kvdev_mem_hdr);

	if (total <= KMALLOC_MAX_CACHE_SIZE)
		return kmalloc_size_roundup(total);
	return PAGE_ALIGN(total);
}

void *bpt_port_alloc(size_t n)
{
	struct kvdev_mem_hdr *h;
	size_t charge;

	if (n > PORT_MAX_BLOCK)
		return NULL;
	charge = port_charge(n);
	if (!kvdev_mem_charge(charge))
		return NULL;
	h = kvmalloc(n + sizeof(*h), GFP_KERNEL | __GFP_NOWARN);
	if (!h) {
		kvdev_mem_uncharge(charge);
		return NULL;
	}
	h->charged = charge;
	return h + 1;
}

/*
 * A starter kit's stubs call this (the reference never does): the kernel
 * has no error detail to set, so the stub's name goes to the log, and the
 * stub's own status (the _ENOTSUP code, or NULL) reaches the ioctl caller.
 */
void bpt_port_not_implemented(const char *fn)
{
	pr_warn_ratelimited("kvbtree: not implemented: %s\n", fn);
}

void bpt_port_free(void *p)
{
	kvdev_mem_free(p);
}

size_t bpt_port_alloc_size(size_t n)
{
	return port_charge(n);
}

unsigned long kvbtree_port_mem_used(void)
{
	return kvdev_mem_used();
}

unsigned long kvbtree_port_mem_cap(void)
{
	return kvdev_mem_cap();
}

struct bpt_port_lock {
	struct rw_semaphore rw;
};

bpt_port_lock *bpt_port_lock_create(void)
{
	bpt_port_lock *l = kmalloc(sizeof(*l), GFP_KERNEL);

	if (!l)
		return NULL;
	init_rwsem(&l->rw);
	return l;
}

void bpt_port_lock_destroy(bpt_port_lock *l)
{
	kfree(l);
}

void bpt_port_read_lock(bpt_port_lock *l)
{
	down_read(&l->rw);
}

void bpt_port_read_unlock(bpt_port_lock *l)
{
	up_read(&l->rw);
}

void bpt_port_write_lock(bpt_port_lock *l)
{
	down_write(&l->rw);
}

void bpt_port_write_unlock(bpt_port_lock *l)
{
	up_write(&l->rw);
}
