// SPDX-License-Identifier: MIT
/*
 * ht_port_kernel.c - the kernel implementation of the hash core's port
 * (include/ht_port.h): memory, reader-writer locks, RCU read sections and
 * grace periods, and the hash function,
 * for the module behind /dev/kvhash (hash_device.c).
 *
 * Memory. Every block the core asks for comes from kvmalloc() (kmalloc for
 * small blocks, vmalloc when a large shard array cannot be found in
 * physically contiguous pages) with a 16-byte header in front that records
 * what the block was charged: ksize() of a kmalloc block, the page-rounded
 * size of a vmalloc one. The counter, the cap and the header are the ones
 * both labs' ports share (common/kernel/kvdev_mem.h). The charges of all
 * tables of the module add up in one atomic counter,
 * kvhash_port_mem_used(); the module parameter mem_cap
 * (bytes, 0 = no cap, writable at run time under
 * /sys/module/kvhash/parameters/) bounds it. An allocation that would pass
 * the cap is refused, so the core returns HT_ENOMEM and leaves its table
 * unchanged, exactly as when the kernel itself is out of memory. The charge
 * in the header is what ht_port_alloc_size() reports and what
 * ht_port_free() gives back, so adding and subtracting always balance.
 *
 * Locks. An ht_lock is a struct rw_semaphore: readers share it, a writer
 * excludes everyone, and a holder may sleep (the device allocates and
 * copies while a shard is locked). So the core must only be called from
 * process context (an ioctl), never from an interrupt or under a spinlock.
 *
 * Optimistic reads. The core's sequence counters are seqcount_t and its
 * barriers smp_*() (include/ht_port.h maps them inline); a read section
 * is an RCU read-side critical section, and a grace period is RCU's:
 * ht_port_grace_start() starts one and returns its cookie
 * (start_poll_synchronize_rcu()), ht_port_grace_done() polls it, and
 * ht_port_grace_wait() sleeps until it is over (cond_synchronize_rcu()).
 * The core frees a retired array or entry only after its cookie is done,
 * so no reader in a section can still be looking at it. Sections never
 * sleep: the core copies the value inside one and calls its callback
 * (which may allocate) after leaving it.
 *
 * Hash. The kernel's xxh64() (lib/xxhash.c, built in on Debian's kernels:
 * CONFIG_XXHASH=y), seed 0. crc32c() would need libcrc32c and the crypto
 * modules loaded first; xxh64 gives the 64 well-mixed bits the core wants
 * without any module dependency.
 *
 * Callers must not free a block of this port with kvfree() (the header
 * comes first), or pass a block of another allocator to ht_port_free().
 */
#include <linux/atomic.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/overflow.h>
#include <linux/printk.h>
#include <linux/rcupdate.h>
#include <linux/rwsem.h>
#include <linux/slab.h>
#include <linux/xxhash.h>

#include "ht_port.h"
#include "ht_port_kernel.h"

/* the module's memory counter, its mem_cap parameter, the block header */
#define KVDEV_MEM_STORES "tables"
#include "kvdev_mem.h"

/* The largest single request: the core never needs more (HT_MAX_VALUE). */
#define PORT_MAX_BLOCK (1UL << 30)

static void *port_alloc(size_t n, gfp_t gfp)
{
	struct kvdev_mem_hdr *h;
	size_t total;

	if (n > PORT_MAX_BLOCK || check_add_overflow(n, sizeof(*h), &total))
		return NULL;
	h = kvmalloc(total, gfp | __GFP_NOWARN);
	if (!h)
		return NULL;
	h->charged = is_vmalloc_addr(h) ? PAGE_ALIGN(total) : ksize(h);
	if (!kvdev_mem_charge(h->charged)) {
		kvfree(h);
		return NULL;
	}
	return h + 1;
}

void *ht_port_alloc(size_t n)
{
	return port_alloc(n, GFP_KERNEL);
}

void *ht_port_zalloc(size_t n)
{
	return port_alloc(n, GFP_KERNEL | __GFP_ZERO);
}

/*
 * A starter kit's stubs call this (the reference never does): the kernel
 * has no error detail to set, so the stub's name goes to the log, and the
 * stub's own status (the _ENOTSUP code, or NULL) reaches the ioctl caller.
 */
void ht_port_not_implemented(const char *fn)
{
	pr_warn_ratelimited("kvhash: not implemented: %s\n", fn);
}

void ht_port_free(void *p)
{
	kvdev_mem_free(p);
}

size_t ht_port_alloc_size(const void *p, size_t n)
{
	const struct kvdev_mem_hdr *h = (const struct kvdev_mem_hdr *)p - 1;

	return h->charged > n ? h->charged : n;
}

unsigned long kvhash_port_mem_used(void)
{
	return kvdev_mem_used();
}

unsigned long kvhash_port_mem_cap(void)
{
	return kvdev_mem_cap();
}

uint64_t kvhash_port_hash(const void *key, size_t len)
{
	return xxh64(key, len, 0);
}

struct ht_lock {
	struct rw_semaphore rw;
};

ht_lock *ht_port_lock_create(size_t *mem)
{
	ht_lock *l = ht_port_alloc(sizeof(*l));

	if (!l)
		return NULL;
	init_rwsem(&l->rw);
	if (mem)
		*mem = ht_port_alloc_size(l, sizeof(*l));
	return l;
}

void ht_port_lock_destroy(ht_lock *l)
{
	ht_port_free(l);
}

void ht_port_read_lock(ht_lock *l)
{
	down_read(&l->rw);
}

void ht_port_read_unlock(ht_lock *l)
{
	up_read(&l->rw);
}

void ht_port_write_lock(ht_lock *l)
{
	down_write(&l->rw);
}

void ht_port_write_unlock(ht_lock *l)
{
	up_write(&l->rw);
}

bool ht_port_read_enter(void)
{
	rcu_read_lock();
	return true;
}

void ht_port_read_exit(void)
{
	rcu_read_unlock();
}

uint64_t ht_port_grace_start(void)
{
	return start_poll_synchronize_rcu();
}

bool ht_port_grace_done(uint64_t cookie)
{
	return poll_state_synchronize_rcu((unsigned long)cookie);
}

void ht_port_grace_wait(uint64_t cookie)
{
	cond_synchronize_rcu((unsigned long)cookie);
}
