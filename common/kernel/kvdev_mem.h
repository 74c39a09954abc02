/* SPDX-License-Identifier: MIT */
/*
 * kvdev_mem.h - the memory cap of a kvlabs device module, shared by the
 * kernel ports of sprint 2 (ht_port_kernel.c) and sprint 3
 * (bpt_port_kernel.c): one counter of the bytes all the module's stores
 * hold, the module parameter mem_cap that bounds it, and the header in front
 * of every block that records what the block was charged. Header-only
 * kernel code (see kvdev.h for why it lives in common/kernel/).
 *
 * How it works. A port allocates a block with kvmalloc() and a struct
 * kvdev_mem_hdr in front, decides the block's charge (its own rule: what
 * the allocator really gave, or a function of the size alone), stores it in
 * the header and calls kvdev_mem_charge(): the charge is added to the
 * module's atomic counter, and when the sum passes mem_cap (bytes, 0 = no
 * cap, writable at run time under /sys/module/<module>/parameters/) it is
 * taken back and the allocation refused, so the core reports out of memory
 * and leaves its store unchanged, exactly as when the kernel itself is out
 * of memory. kvdev_mem_free() gives back the charge stored in the header,
 * so the counter always balances.
 *
 * Include it in exactly ONE file of a module (the port): it defines the
 * module's counter and its mem_cap parameter. Before including it, define
 * KVDEV_MEM_STORES, the word for the module's stores in the parameter's
 * description ("tables"). Callers must not kvfree() a block of the port
 * (the header comes first) or pass another allocator's block to
 * kvdev_mem_free().
 */
#ifndef KVDEV_MEM_H
#define KVDEV_MEM_H

#include <linux/atomic.h>
#include <linux/compiler.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>

#ifndef KVDEV_MEM_STORES
#error "define KVDEV_MEM_STORES (\"tables\", \"trees\") before including kvdev_mem.h"
#endif

static atomic_long_t kvdev_mem = ATOMIC_LONG_INIT(0);

static unsigned long mem_cap = 64UL << 20;
module_param(mem_cap, ulong, 0644);
MODULE_PARM_DESC(mem_cap, "bytes all " KVDEV_MEM_STORES " together may hold (0: no cap; default 64 MiB)");

/**
 * struct kvdev_mem_hdr - the header in front of every block: its charge,
 * padded to 16 bytes so the block stays aligned for any object.
 */
struct kvdev_mem_hdr {
	size_t charged;
	size_t pad;
};

/**
 * kvdev_mem_charge() - add a block's charge to the module's counter.
 * @charge: bytes.
 *
 * Return: true, or false (nothing charged) when the sum would pass mem_cap.
 */
static bool __maybe_unused kvdev_mem_charge(size_t charge)
{
	unsigned long cap = READ_ONCE(mem_cap);
	long used = atomic_long_add_return((long)charge, &kvdev_mem);

	if (cap && (unsigned long)used > cap) {
		atomic_long_sub((long)charge, &kvdev_mem);
		return false;
	}
	return true;
}

/**
 * kvdev_mem_uncharge() - give a charge back (a block freed, or never made).
 * @charge: what kvdev_mem_charge() added.
 */
static void __maybe_unused kvdev_mem_uncharge(size_t charge)
{
	atomic_long_sub((long)charge, &kvdev_mem);
}

/**
 * kvdev_mem_free() - free a block of the port and give back its charge.
 * @p: what the port returned (the byte after the header), or NULL.
 */
static void __maybe_unused kvdev_mem_free(void *p)
{
	struct kvdev_mem_hdr *h;

	if (!p)
		return;
	h = (struct kvdev_mem_hdr *)p - 1;
	kvdev_mem_uncharge(h->charged);
	kvfree(h);
}

/** kvdev_mem_used() - bytes all stores of the module hold now. */
static unsigned long __maybe_unused kvdev_mem_used(void)
{
	long v = atomic_long_read(&kvdev_mem);

	return v > 0 ? (unsigned long)v : 0;
}

/** kvdev_mem_cap() - the mem_cap parameter (0: no cap). */
static unsigned long __maybe_unused kvdev_mem_cap(void)
{
	return READ_ONCE(mem_cap);
}

#endif /* KVDEV_MEM_H */
