/* SPDX-License-Identifier: MIT */
/*
 * ht_port_kernel.h - what the kernel port (ht_port_kernel.c) offers the
 * device beyond include/ht_port.h: the module-wide memory accounting and
 * the hash function the device gives its tables. Private to kernel/.
 */
#ifndef HT_PORT_KERNEL_H
#define HT_PORT_KERNEL_H

#include <linux/types.h>

/**
 * kvhash_port_mem_used() - bytes all tables of the module hold now
 * (allocator overhead included).
 */
unsigned long kvhash_port_mem_used(void);

/**
 * kvhash_port_mem_cap() - the mem_cap module parameter: the most
 * kvhash_port_mem_used() may reach (0: no cap).
 */
unsigned long kvhash_port_mem_cap(void);

/**
 * kvhash_port_hash() - the tables' hash function: xxh64, seed 0.
 * @key: the key bytes.
 * @len: its length.
 *
 * Return: 64 well-mixed bits.
 */
uint64_t kvhash_port_hash(const void *key, size_t len);

#endif /* HT_PORT_KERNEL_H */
